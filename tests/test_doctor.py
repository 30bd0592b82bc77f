"""`crosspost doctor`: channels checked with one read-only call each, the ledger's health, the
schedule's risks; exit 0 all well, 3 a person is needed, 1 invalid campaigns. Never writes."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.fakes.accounts import PAGE_EN, PAGE_KU, PAGES
from tests.publishing import all_secrets, wire

NOW = "2030-04-01T12:00:00Z"  # before everything of the conftest campaign


@pytest.fixture
def live(repo, fake_graph, fake_x):
    return wire(repo, fake_graph, fake_x, native=True)  # as channels are by default


def doctor(live, *args):
    """`crosspost doctor` at NOW in a subprocess, as a user runs it; no secret in its output."""
    result = live.cli("doctor", "--now", NOW, *args)
    for secret in all_secrets():
        assert secret not in result.output, "a secret in doctor's output"
    return result


def lines_about(output: str, subject: str) -> list[str]:
    return [line for line in output.splitlines() if f" {subject}:" in line]


def test_healthy_channels_exit_0_and_say_which_account_they_are(live):
    result = doctor(live)

    assert result.code == 0, result.output
    [en] = [line for line in lines_about(result.stdout, "facebook-en") if " ok " in line]
    assert f"Page 'Gamechangers' ({PAGE_EN})" in en
    [x] = lines_about(result.stdout, "x-en")
    assert " ok " in x and "@gamechangers_en" in x
    assert "all well" in result.stdout


def test_doctor_reminds_of_live_mode_for_every_facebook_channel(live):
    result = doctor(live)

    for channel in ("facebook-en", "facebook-tr"):
        assert any("Live mode" in line for line in lines_about(result.stdout, channel))
    assert not any("Live mode" in line for line in lines_about(result.stdout, "x-en"))


def _missing(live):
    live.env["FACEBOOK_EN_PAGE_TOKEN"] = ""


def _expired(live):
    live.graph.invalidate(PAGE_EN, 463)


def _invalidated(live):
    live.graph.invalidate(PAGE_EN, 467)


def _password_changed(live):
    live.graph.invalidate(PAGE_EN, 460)


def _no_page_role(live):
    live.graph.invalidate(PAGE_EN, 492)


def _wrong_page(live):
    live.env["FACEBOOK_EN_PAGE_TOKEN"] = PAGES[PAGE_KU][0]


@pytest.mark.parametrize(
    ("break_it", "words"),
    [
        (_missing, ["set the environment variable", "secrets"]),
        (_expired, ["expired", "new Page token"]),
        (_invalidated, ["invalid", "new Page token"]),
        (_password_changed, ["password", "new Page token"]),
        (_no_page_role, ["role", "Page role back"]),
        (_wrong_page, [f"not for Page {PAGE_EN}", PAGE_KU, "page_id"]),
    ],
)
def test_a_broken_page_token_exits_3_naming_the_variable_others_ok(live, break_it, words):
    break_it(live)

    result = doctor(live)

    assert result.code == 3, result.output
    about = lines_about(result.stdout, "facebook-en")
    [broken] = [line for line in about if "needs-person" in line]
    assert "FACEBOOK_EN_PAGE_TOKEN" in broken
    for word in words:
        assert word in broken, broken
    assert any(" ok " in line for line in lines_about(result.stdout, "facebook-tr"))
    assert any(" ok " in line for line in lines_about(result.stdout, "x-en"))


def test_an_x_401_exits_3_naming_the_x_variables(live):
    live.x.revoke()

    result = doctor(live)

    assert result.code == 3
    [x] = lines_about(result.stdout, "x-en")
    assert "needs-person" in x and "X_EN_ACCESS_TOKEN" in x and "X_EN_API_KEY" in x
    assert any(" ok " in line for line in lines_about(result.stdout, "facebook-en"))


def test_doctor_only_reads_from_platforms_and_writes_no_ledger(live):
    doctor(live)

    assert {r.method for r in live.graph.log} == {"GET"}
    assert [r.path for r in live.x.log] == ["/2/users/me"]
    assert len(live.graph.log) == 2, "one call per channel"
    assert live.facebook(PAGE_EN) == [] and live.tweets() == []
    assert not live.repo.ledger.exists()


def test_a_platform_that_cannot_be_reached_is_a_warning_not_an_alarm(live):
    live.x.fail_next("500", count=None, on="any")

    result = doctor(live)

    assert result.code == 0, result.output
    [x] = lines_about(result.stdout, "x-en")
    assert "warning" in x and "could not check" in x


def test_a_platform_without_a_credential_check_is_reported_gracefully(live, monkeypatch, cli):
    from pipeline.platforms.base import Adapter
    from pipeline.platforms.x import XAccount

    monkeypatch.setattr(XAccount, "check_credentials", Adapter.check_credentials)
    result = cli("doctor", "--root", live.repo.root, "--now", NOW, env=live.env)

    assert result.code == 0, result.output
    [x] = lines_about(result.stdout, "x-en")
    assert "no credential check" in x and "secrets present" in x


def _ledger(live, *records):
    live.repo.ledger.parent.mkdir(parents=True, exist_ok=True)
    with live.repo.ledger.open("w") as f:
        for r in records:
            f.write(r if isinstance(r, str) else json.dumps(r) + "\n")


def test_a_torn_line_and_a_post_in_doubt_are_reported_with_their_keys(live):
    key = "spring/first/announce/x-en"
    _ledger(
        live,
        {"ts": "2030-04-03T15:00:05Z", "key": key, "state": "sending", "part": 0, "parts": 1},
        '{"ts": "2030-04-03T15:00:06Z", "key": "spring/first/announce/facebook-tr", "sta\n',
    )
    before = live.repo.ledger.read_bytes()

    result = doctor(live)

    assert result.code == 3, result.output
    torn = next(line for line in result.stdout.splitlines() if "ledger.jsonl:2" in line)
    assert "spring/first/announce/facebook-tr" in torn and "not a complete record" in torn
    doubt = lines_about(result.stdout, key)
    assert doubt and "in doubt" in doubt[0]
    assert f"crosspost resolve {key} --published URL" in result.stdout
    assert live.repo.ledger.read_bytes() == before, "doctor never writes the ledger"


def test_failed_posts_need_a_person(live):
    key = "spring/first/announce/facebook-tr"
    _ledger(live, {"ts": "2030-04-03T15:00:06Z", "key": key, "state": "failed", "part": 0,
                   "parts": 1, "error": "rejected: (#368) blocked"})

    result = live.cli("doctor", "--now", "2030-04-03T16:00:00Z", "--json")

    assert result.code == 3
    findings = result.json()["findings"]
    [failed] = [f for f in findings if f.get("key") == key and f["section"] == "ledger"]
    assert failed["level"] == "needs-person" and "#368" in failed["message"]


def test_json_lists_every_finding(live):
    result = doctor(live, "--json")

    assert result.code == 0
    report = result.json()
    assert report["exit_code"] == 0 and report["needs_person"] == 0
    channels = {f["subject"]: f for f in report["findings"]
                if f["section"] == "channels" and f["level"] == "ok"}
    assert channels["x-en"]["account"] == "@gamechangers_en"
    assert channels["facebook-en"]["variables"] == ["FACEBOOK_EN_PAGE_TOKEN"]
    upcoming = [f for f in report["findings"] if f["message"].startswith("next:")]
    assert upcoming[0]["key"] == "spring/first/announce/facebook-en"


def test_short_windows_ahead_are_warned_about(live):
    result = doctor(live, "--json")

    short = [f for f in result.json()["findings"]
             if f["section"] == "schedule" and f["level"] == "warning"]
    assert [f["key"] for f in short] == ["spring/first/live/x-en"]
    assert "30m" in short[0]["message"]


def test_invalid_campaigns_exit_1(live):
    live.repo.write("templates/live/en.j2", "{{ nope }}")

    result = doctor(live)

    assert result.code == 1
    assert "nope" in result.stderr


def _git(root, *args, date: str):
    env = {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date,
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def test_the_60_day_rule_is_reported_for_an_old_last_commit(live):
    root = live.repo.root
    _git(root, "init", "-q", date="2030-01-01T00:00:00Z")
    _git(root, "add", ".", date="2030-01-01T00:00:00Z")
    _git(root, "commit", "-qm", "campaign", date="2030-02-05T00:00:00Z")

    # The live posts of 10 April come more than 60 days after 5 February; the announcements
    # of 3 April do not.
    result = doctor(live, "--json")
    [rule] = [f for f in result.json()["findings"] if f["subject"] == "60-day rule"]
    assert rule["level"] == "warning" and result.code == 0
    assert rule["deadline"] == "2030-04-06T00:00:00Z"
    assert "spring/first/live/x-en" in rule["posts"]
    assert "spring/first/announce/x-en" not in rule["posts"]
    assert "push a commit" in rule["message"]

    # Once the day has passed, scheduled runs have probably stopped: a person must act.
    later = live.cli("doctor", "--now", "2030-04-07T00:00:00Z")
    assert later.code == 3
    assert "gh workflow enable" in later.stdout

    # A recent commit clears it.
    _git(root, "commit", "-q", "--allow-empty", "-m", "more", date="2030-03-01T00:00:00Z")
    result = doctor(live, "--json")
    [rule] = [f for f in result.json()["findings"] if f["subject"] == "60-day rule"]
    assert rule["level"] == "ok"


def test_without_git_the_60_day_rule_is_skipped_with_a_note(live):
    result = doctor(live)

    assert "60-day rule" in result.stdout and "not a git repository" in result.stdout
