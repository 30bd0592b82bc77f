"""Exactly once on Mastodon and Telegram, through the real CLI against their fakes.

Mastodon answers a repeated Idempotency-Key with the original status, so a run killed while the
instance holds the request is settled by sending the same request again, once it can no longer
be running, or by looking once the key may be forgotten. Telegram has neither a key nor a way to
look: such a post stays in doubt until a person says what happened.
"""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import CAMPAIGN, crosspost, spawn
from tests.fakes.accounts import MASTODON_EN, TELEGRAM_BOT, TELEGRAM_CHAT

ANNOUNCE_OPEN = "2030-04-03T15:05:00Z"
LATER = "2030-04-03T15:15:00Z"
MASTODON_KEY = "spring/first/announce/mastodon-en"
TELEGRAM_KEY = "spring/first/announce/telegram-tr"


class Social:
    def __init__(self, repo, mastodon, telegram, native=False):
        self.repo, self.mastodon, self.telegram = repo, mastodon, telegram
        # The direct path unless a test is about native scheduling.
        repo.write(
            "channels.yaml",
            f"""\
            mastodon-en: {{platform: mastodon, language: en, instance: "https://social.coop",
                           native_scheduling: {str(native).lower()},
                           api_base: "{mastodon.base_url}"}}
            telegram-tr: {{platform: telegram, language: tr, chat: "{TELEGRAM_CHAT}",
                           api_base: "{telegram.base_url}"}}
            """,
        )
        repo.write(
            "campaigns/spring.yaml",
            CAMPAIGN.replace(
                "channels: [facebook-en, facebook-tr, x-en]", "channels: [mastodon-en, telegram-tr]"
            ),
        )
        self.env = {
            **mastodon.env("MASTODON_EN"),
            **telegram.env("TELEGRAM_TR"),
            "CROSSPOST_HTTP_TIMEOUT": "5",
        }

    def run(self, *args, env=None):
        return crosspost("run", "--root", self.repo.root, *args, env={**self.env, **(env or {})})

    def start(self, *args):
        return spawn("run", "--root", self.repo.root, *args, env=self.env)

    def states(self, now=LATER) -> dict[str, dict]:
        result = crosspost("status", "--json", "--root", self.repo.root, "--now", now, env=self.env)
        assert result.code == 0, result.output
        return {p["key"]: p for p in result.json()["posts"]}

    def kill_while_held(self, fake) -> None:
        fake.fail_next("hold")
        proc = self.start("--now", ANNOUNCE_OPEN)
        try:
            assert fake.held.wait(30), "the request reached the platform"
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            fake.release()

    def age_sending(self, key: str, by: timedelta) -> None:
        """Pretend the interrupted send of `key` started `by` ago (the ledger's real time)."""
        lines = []
        for line in self.repo.ledger.read_text().splitlines():
            rec = json.loads(line)
            if rec["key"] == key and rec["state"] == "sending":
                when = datetime.now(UTC) - by
                rec["ts"] = when.isoformat(timespec="microseconds").replace("+00:00", "Z")
            lines.append(json.dumps(rec))
        self.repo.ledger.write_text(
            "\n".join(sorted(lines, key=lambda x: json.loads(x)["ts"])) + "\n"
        )


@pytest.fixture
def social(repo, fake_mastodon, fake_telegram):
    return Social(repo, fake_mastodon, fake_telegram)


def posts_to(fake) -> list:
    return fake.requests("publish")


def test_both_channels_publish_in_their_language_with_image_and_alt(social):
    result = social.run("--now", ANNOUNCE_OPEN)
    assert result.code == 0, result.output
    [status] = social.mastodon.statuses()
    assert status["language"] == "en" and status["media"][0]["description"] == "A seedling"
    [message] = social.telegram.messages()
    assert message["photo"] is not None and message["caption"].startswith("Değişimin tohumları")
    assert "parse_mode" not in message["options"]
    states = social.states(ANNOUNCE_OPEN)
    assert states[MASTODON_KEY]["url"] == f"https://social.coop/@sea_coop/{status['id']}"
    assert states[TELEGRAM_KEY]["url"] == f"https://t.me/sea_kurdi/{message['message_id']}"


def test_killing_run_during_a_held_mastodon_request_never_duplicates(social):
    social.telegram.fail_next("500", count=None)  # keep Telegram out of this story
    social.kill_while_held(social.mastodon)
    assert len(social.mastodon.statuses()) == 1, "the instance accepted it before the kill"

    # Right away, the first request may still be running on the instance: nothing is sent.
    soon = social.run("--now", LATER)
    assert soon.code == 3
    assert "may still be running" in soon.stdout
    assert len(posts_to(social.mastodon)) == 1
    assert social.states()[MASTODON_KEY]["state"] == "in-doubt"

    # Once it cannot be running any more, the same request with the same key settles it.
    settled = social.run("--now", LATER, env={"CROSSPOST_SETTLE_SECONDS": "0"})
    first, again = posts_to(social.mastodon)
    assert again.headers["idempotency-key"] == first.headers["idempotency-key"]
    assert len(social.mastodon.statuses()) == 1, settled.output
    [status] = social.mastodon.statuses()
    state = social.states()[MASTODON_KEY]
    assert state["state"] == "published" and state["remote_id"] == status["id"]


def test_after_the_keys_hour_mastodon_looks_instead_of_sending(social):
    social.telegram.fail_next("500", count=None)
    social.kill_while_held(social.mastodon)
    social.age_sending(MASTODON_KEY, timedelta(hours=2))
    # The instance forgot the key by now: sending again would double the status.
    social.mastodon.clock = lambda: datetime.now(UTC) + timedelta(hours=2)

    social.run("--now", LATER)

    assert len(posts_to(social.mastodon)) == 1, "not sent again"
    assert any(r.path.endswith("/source") for r in social.mastodon.requests("lookup"))
    [status] = social.mastodon.statuses()
    state = social.states()[MASTODON_KEY]
    assert state["state"] == "published" and state["remote_id"] == status["id"]


def test_a_held_telegram_request_killed_is_left_in_doubt_not_sent_again(social):
    social.kill_while_held(social.telegram)
    assert len(social.telegram.messages()) == 1

    for _ in range(2):
        result = social.run("--now", LATER, env={"CROSSPOST_SETTLE_SECONDS": "0"})
        assert result.code == 3
        assert f"crosspost resolve {TELEGRAM_KEY}" in result.stdout
    assert len(posts_to(social.telegram)) == 1, "never re-sent blindly"
    assert social.states()[TELEGRAM_KEY]["state"] == "in-doubt"

    # A person checks the channel and records where the message is.
    [message] = social.telegram.messages()
    url = f"https://t.me/sea_kurdi/{message['message_id']}"
    settled = crosspost(
        "resolve", TELEGRAM_KEY, "--published", url, "--root", social.repo.root, env=social.env
    )
    assert settled.code == 0, settled.output
    assert social.run("--now", LATER).code == 0
    assert len(social.telegram.messages()) == 1
    assert social.states()[TELEGRAM_KEY]["state"] == "published"


def test_a_telegram_answer_lost_after_sending_is_in_doubt_at_once(social):
    social.telegram.fail_next("drop_after_accept")
    result = social.run("--now", ANNOUNCE_OPEN)
    assert result.code == 3
    assert "crosspost resolve" in result.stdout and "looks for it" not in result.stdout
    assert len(posts_to(social.telegram)) == 1
    assert social.states(ANNOUNCE_OPEN)[TELEGRAM_KEY]["state"] == "in-doubt"


@pytest.mark.parametrize(
    ("revoked", "variable", "healthy"),
    [
        ("mastodon", "MASTODON_EN_ACCESS_TOKEN", "telegram"),
        ("telegram", "TELEGRAM_TR_BOT_TOKEN", "mastodon"),
    ],
)
def test_a_revoked_credential_fails_only_its_channel_naming_the_variable(
    social, revoked, variable, healthy
):
    getattr(social, revoked).revoke()
    result = social.run("--now", ANNOUNCE_OPEN)
    assert result.code == 3
    states = social.states(ANNOUNCE_OPEN)
    keys = {"mastodon": MASTODON_KEY, "telegram": TELEGRAM_KEY}
    assert states[keys[revoked]]["state"] == "failed"
    assert variable in states[keys[revoked]]["error"] and variable in result.stdout
    assert states[keys[healthy]]["state"] == "published"


def test_no_secret_anywhere_at_debug_level(social):
    social.mastodon.fail_next("500", status=502)  # a gateway gave up: in doubt
    result = social.run("--now", ANNOUNCE_OPEN, "-v")
    social.mastodon.revoke()
    second = social.run("--now", LATER, "-v", env={"CROSSPOST_SETTLE_SECONDS": "0"})
    text = result.output + second.output + social.repo.ledger.read_text()
    assert "DEBUG" in result.output and "/bot***/sendPhoto" in result.output
    for secret in (MASTODON_EN.token, TELEGRAM_BOT.secret, str(TELEGRAM_BOT.id) + ":"):
        assert secret not in text


# ---- doctor -----------------------------------------------------------------------------------


def doctor(social):
    result = crosspost(
        "doctor",
        "--json",
        "--root",
        social.repo.root,
        "--now",
        "2030-04-01T12:00:00Z",
        env=social.env,
    )
    for secret in (MASTODON_EN.token, TELEGRAM_BOT.secret):
        assert secret not in result.output
    found = {f["subject"]: f for f in result.json()["findings"] if f["section"] == "channels"}
    return result, found


def test_doctor_names_the_accounts_it_checked(social):
    result, found = doctor(social)
    assert result.code == 0, result.output
    assert found["mastodon-en"]["level"] == "ok"
    assert "@sea_coop on social.coop" in found["mastodon-en"]["message"]
    assert found["telegram-tr"]["level"] == "ok"
    assert "@sea_crosspost_bot" in found["telegram-tr"]["message"]
    assert [r.path for r in social.mastodon.log] == ["/api/v1/accounts/verify_credentials"]
    assert not social.mastodon.requests("publish") and not social.telegram.requests("publish")


def test_doctor_needs_a_person_for_a_revoked_token_or_a_bot_that_may_not_post(social):
    social.mastodon.revoke()
    social.telegram.chats[0].members[TELEGRAM_BOT.id] = ("administrator", False)
    result, found = doctor(social)
    assert result.code == 3
    assert "MASTODON_EN_ACCESS_TOKEN" in found["mastodon-en"]["message"]
    assert "right to post messages" in found["telegram-tr"]["message"]
    social.telegram.revoke()
    _, found = doctor(social)
    assert "TELEGRAM_TR_BOT_TOKEN" in found["telegram-tr"]["message"]


# ---- native scheduling on Mastodon --------------------------------------------------------------

BEFORE = "2030-04-02T12:00:00Z"  # the announcement (due 04-03 15:00 UTC) is 27 h ahead
ANNOUNCE_DUE = datetime(2030, 4, 3, 15, 0, tzinfo=UTC)
LIVE_DUE = datetime(2030, 4, 10, 14, 45, tzinfo=UTC)


@pytest.fixture
def native(repo, fake_mastodon, fake_telegram):
    return Social(repo, fake_mastodon, fake_telegram, native=True)


def test_mastodon_posts_are_handed_to_its_scheduler_then_confirmed(native):
    result = native.run("--now", BEFORE)
    assert result.code == 0, result.output
    copies = {c["at"]: c for c in native.mastodon.scheduled()}
    assert set(copies) == {ANNOUNCE_DUE, LIVE_DUE}
    assert copies[ANNOUNCE_DUE]["media"][0]["description"] == "A seedling"
    assert copies[ANNOUNCE_DUE]["language"] == "en"
    assert native.mastodon.statuses() == []
    assert native.states(BEFORE)[MASTODON_KEY]["state"] == "scheduled"

    # The instance publishes it on the minute; a later run finds the status and records it.
    native.mastodon.clock = lambda: ANNOUNCE_DUE + timedelta(minutes=1)
    later = native.run("--now", "2030-04-03T15:20:00Z")
    assert later.code == 0, later.output
    [status] = native.mastodon.statuses()
    state = native.states("2030-04-03T15:20:00Z")[MASTODON_KEY]
    assert state["state"] == "published" and state["remote_id"] == status["id"]
    assert [c["at"] for c in native.mastodon.scheduled()] == [LIVE_DUE]
    assert len(native.mastodon.requests("publish")) == 2, "nothing published twice"


def test_a_moved_event_reschedules_and_a_changed_text_replaces_the_copy(native):
    native.run("--now", BEFORE)
    campaign = native.repo.root / "campaigns/spring.yaml"
    campaign.write_text(campaign.read_text().replace("T16:00", "T17:00"), encoding="utf-8")
    moved = native.run("--now", BEFORE)
    assert moved.code == 0, moved.output
    # The live post's text has no time: its copy is moved in place. The announcement shows the
    # time, and a scheduled status's text cannot be edited: deleted and handed over again.
    calls = [(r.method, r.path) for r in native.mastodon.log if "scheduled_statuses/" in r.path]
    assert sorted(method for method, _ in calls) == ["DELETE", "PUT"]
    copies = {c["at"]: c for c in native.mastodon.scheduled()}
    assert set(copies) == {ANNOUNCE_DUE + timedelta(hours=1), LIVE_DUE + timedelta(hours=1)}
    assert "17:00" in copies[ANNOUNCE_DUE + timedelta(hours=1)]["text"]

    native.repo.write("templates/live/en.j2", "Live now: {{ event.title }} {{ vars.url }}")
    changed = native.run("--now", BEFORE)
    assert changed.code == 0, changed.output
    texts = sorted(c["text"] for c in native.mastodon.scheduled())
    assert len(texts) == 2 and texts[0].startswith("Live now: Seeds of change")
    assert native.mastodon.statuses() == []


def test_beyond_25_scheduled_a_day_the_post_is_published_directly_when_due(native):
    import requests

    for n in range(25):  # the account's day is full (another app, or earlier posts)
        requests.post(
            native.mastodon.base_url + "/api/v1/statuses",
            headers={"Authorization": f"Bearer {MASTODON_EN.token}"},
            data={"status": f"other {n}", "scheduled_at": f"2030-04-03T0{n % 10}:{n:02d}:00Z"},
            timeout=5,
        ).raise_for_status()
    result = native.run("--now", BEFORE)
    assert result.code == 0, result.output
    assert "scheduler is full" in result.stdout
    assert [c["at"] for c in native.mastodon.scheduled() if c["at"] == LIVE_DUE] == [LIVE_DUE]
    assert native.states(BEFORE)[MASTODON_KEY]["state"] != "scheduled"

    direct = native.run("--now", ANNOUNCE_OPEN)
    assert direct.code == 0, direct.output
    [status] = native.mastodon.statuses()
    assert status["text"].startswith("Seeds of change")
    assert native.states(ANNOUNCE_OPEN)[MASTODON_KEY]["state"] == "published"


def test_a_lost_ledger_adopts_the_scheduled_copies_instead_of_doubling_them(native):
    native.run("--now", BEFORE)
    handed = len(native.mastodon.requests("publish"))
    native.repo.ledger.unlink()

    again = native.run("--now", BEFORE)

    assert again.code == 0, again.output
    assert "adopted" in again.stdout
    assert len(native.mastodon.requests("publish")) == handed
    assert len(native.mastodon.scheduled()) == 2
    assert native.states(BEFORE)[MASTODON_KEY]["state"] == "scheduled"


def test_killed_during_a_hand_over_the_next_run_adopts_the_copy(native):
    native.mastodon.fail_next("hold")
    proc = native.start("--now", BEFORE)
    try:
        assert native.mastodon.held.wait(30)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        native.mastodon.release()
    result = native.run("--now", BEFORE)
    assert result.code == 0, result.output
    assert len(native.mastodon.scheduled()) == 2  # the held one adopted, the other handed over
    assert native.states(BEFORE)[MASTODON_KEY]["state"] == "scheduled"
