"""The command line as a user meets it: options, exit codes, outputs, and what it imports."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO, crosspost

PREVIEW_KEYS = {"key", "campaign", "event", "moment", "channel", "platform", "language",
                "due_at", "text", "parts", "length", "limit", "problems"}


def test_the_bundled_campaign_is_valid(cli):
    result = cli("validate", "--root", REPO)

    assert result.code == 0, result.output
    assert "ok: 42 post(s) in 1 campaign(s)" in result.stderr


def test_preview_json_lists_every_post_and_the_unscheduled_events(cli):
    result = cli("preview", "--root", REPO, "--format", "json")

    assert result.code == 0
    data = result.json()
    assert len(data["posts"]) == 42
    assert all(set(p) >= PREVIEW_KEYS for p in data["posts"])
    assert {p["language"] for p in data["posts"]} == {"en", "ku", "tr"}
    assert {(u["event"], u["reason"]) for u in data["unscheduled"]} == {
        ("grassroots-liberation", "no date yet"), ("zameen-prapti", "no date yet"),
        ("guerrilla-translation", "no date yet")}


def test_event_two_shows_london_and_istanbul_times(cli):
    result = cli("preview", "--root", REPO, "--format", "json", "--event", "aboriya-jin",
                 "--channel", "facebook-en")
    posts = {p["moment"]: p for p in result.json()["posts"]}

    assert posts["reminder"]["due_at"] == "2022-10-07T15:00:00Z"
    assert posts["live"]["due_at"] == "2022-10-08T14:45:00Z"
    # 16:00 BST = 18:00 in Istanbul (UTC+3) = 15:00 UTC
    assert "16:00\u2009–\u200918:00 GMT+1" in posts["reminder"]["text"]
    assert "18:00\u2009–\u200920:00 GMT+3" in posts["reminder"]["text"]


@pytest.mark.parametrize("where", ["before", "after"])
def test_global_options_are_accepted_before_or_after_the_command(cli, repo, where):
    opts = ["--root", str(repo.root), "--now", "2030-04-03T15:05Z"]
    args = [*opts, "run", "--dry-run"] if where == "before" else ["run", "--dry-run", *opts]

    result = cli(*args)

    assert result.code == 0, result.output
    assert result.stdout.count("would-publish") == 3


def test_now_from_the_environment(cli, repo):
    result = cli("run", "--dry-run", "--root", repo.root,
                 env={"CROSSPOST_NOW": "2030-04-10T14:50:00+00:00"})
    # The live posts on 3 channels; the announcements were superseded by them (would-miss).
    assert result.stdout.count("would-publish") == 3
    assert result.stdout.count("would-miss") == 3


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["frobnicate"], "No such command"),
        (["run", "--now", "next tuesday"], "is not an ISO-8601 time"),
        (["preview", "--format", "pdf"], "'pdf' is not one of"),
        (["--root", "/nonexistent/dir", "validate"], "is not a directory"),
        (["daemon", "--every", "soon"], "is not a duration"),
        (["diff"], "Missing option '--base'"),
        (["resolve", "a/b/c"], "say either --published"),
    ],
)
def test_wrong_usage_exits_2_with_a_message(cli, repo, args, fragment):
    result = cli(*args) if "--root" in args else cli(*args, "--root", repo.root)
    assert result.code == 2
    assert fragment in result.output
    assert "Traceback" not in result.output


def test_status_exits_0_whatever_the_states(cli, repo):
    result = cli("status", "--json", "--root", repo.root, "--now", "2031-01-01T00:00Z")

    assert result.code == 0
    assert {p["state"] for p in result.json()["posts"]} == {"missed"}


def test_validate_and_preview_never_import_a_platform_sdk():
    probe = ("import sys, runpy; sys.argv = ['crosspost', 'preview', '--format', 'json', "
             f"'--root', {str(REPO)!r}]\n"
             "try:\n    runpy.run_module('pipeline', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print('SDKS', sorted(m for m in ('tweepy', 'facebook', 'requests', 'mastodon') "
             "if m in sys.modules), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60)
    assert "SDKS []" in proc.stderr, proc.stderr[-500:]


def test_python_dash_m_pipeline_is_the_same_command():
    result = crosspost("validate", "--root", REPO)
    assert result.code == 0
    assert "ok: 42 post(s)" in result.stderr


def test_plan_json_shows_states(cli):
    result = cli("plan", "--root", REPO, "--format", "json", "--until", "2022-08-25",
                 "--now", "2022-08-25T09:30Z")

    states = {p["key"]: p["state"] for p in json.loads(result.stdout)["posts"]}
    assert states == {f"gamechangers-2022/launch/{ch}": "due"
                      for ch in ("facebook-en", "facebook-ku", "facebook-tr", "x-en", "mastodon-en",
                           "telegram-ku")}


def test_a_late_run_on_the_bundled_campaign_posts_only_starting_soon(cli, tmp_path):
    """10 minutes before event 2, after GitHub dropped the earlier runs: only the "starting
    soon" posts go out, not the announcement and the reminder beside them."""
    from tests.conftest import REPO

    result = cli("run", "--dry-run", "--root", REPO, "--ledger", tmp_path / "ledger.jsonl",
                 "--now", "2022-10-08T14:50Z")

    lines = result.stdout.splitlines()
    published = {line.split()[1] for line in lines if line.startswith("would-publish")}
    assert published, result.output
    assert all(key.startswith("gamechangers-2022/aboriya-jin/live/") for key in published)
    missed = {line.split()[1] for line in lines if line.startswith("would-miss")}
    for moment in ("announce", "reminder"):
        assert any(f"/aboriya-jin/{moment}/" in key for key in missed), moment
