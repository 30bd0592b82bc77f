"""The Mastodon and Telegram fakes behave as PLATFORMS.md says, checked with plain HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests

from tests.fakes.accounts import MASTODON_EN, TELEGRAM_BOT


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


class TestMastodon:
    def call(self, fake, method, path, token=MASTODON_EN.token, **kw):
        headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
        return requests.request(method, fake.base_url + path, headers=headers, timeout=5, **kw)

    def test_instance_answers_with_and_without_slash(self, fake_mastodon):
        for path in ("/api/v1/instance/", "/api/v1/instance"):
            assert requests.get(fake_mastodon.base_url + path, timeout=5).json()["version"] == (
                "4.3.0"
            )
        fake_mastodon.max_characters = 1000
        v2 = requests.get(fake_mastodon.base_url + "/api/v2/instance", timeout=5).json()
        assert v2["configuration"]["statuses"]["max_characters"] == 1000

    def test_an_idempotency_key_returns_the_original_for_an_hour(self, fake_mastodon):
        first = self.call(
            fake_mastodon,
            "POST",
            "/api/v1/statuses",
            data={"status": "a"},
            headers={"Idempotency-Key": "k1"},
        )
        again = self.call(
            fake_mastodon,
            "POST",
            "/api/v1/statuses",
            data={"status": "other text"},
            headers={"Idempotency-Key": "k1"},
        )
        assert first.status_code == again.status_code == 200
        assert again.json()["id"] == first.json()["id"]
        assert again.json()["content"] == "<p>a</p>"
        fake_mastodon.clock = lambda: datetime.now(UTC) + timedelta(minutes=61)
        later = self.call(
            fake_mastodon,
            "POST",
            "/api/v1/statuses",
            data={"status": "a"},
            headers={"Idempotency-Key": "k1"},
        )
        assert later.json()["id"] != first.json()["id"]

    def test_media_is_processed_before_a_status_may_use_it(self, fake_mastodon):
        upload = self.call(
            fake_mastodon,
            "POST",
            "/api/v2/media",
            files={"file": ("a.png", b"\x89PNG..")},
            data={"description": "alt"},
        )
        assert upload.status_code == 202 and upload.json()["url"] is None
        media_id = upload.json()["id"]
        refused = self.call(
            fake_mastodon,
            "POST",
            "/api/v1/statuses",
            data={"status": "x", "media_ids[]": media_id},
        )
        assert refused.status_code == 422 and "processing" in refused.json()["error"]
        polled = self.call(fake_mastodon, "GET", f"/api/v1/media/{media_id}")
        assert polled.status_code == 200 and polled.json()["url"]
        ok = self.call(
            fake_mastodon,
            "POST",
            "/api/v1/statuses",
            data={"status": "x", "media_ids[]": media_id},
        )
        assert ok.json()["media_attachments"][0]["description"] == "alt"

    def test_auth_errors(self, fake_mastodon):
        bad = self.call(fake_mastodon, "GET", "/api/v1/accounts/verify_credentials", token="no")
        assert bad.status_code == 401
        assert bad.json() == {"error": "The access token is invalid"}
        fake_mastodon.account().disabled = True
        assert self.call(
            fake_mastodon, "GET", "/api/v1/accounts/verify_credentials"
        ).status_code == (403)

    def test_rate_limit_has_a_reset_time(self, fake_mastodon):
        fake_mastodon.fail_next("429", reset_in=60)
        answer = self.call(fake_mastodon, "POST", "/api/v1/statuses", data={"status": "a"})
        assert answer.status_code == 429
        reset = datetime.fromisoformat(answer.headers["X-RateLimit-Reset"].replace("Z", "+00:00"))
        assert timedelta(seconds=55) < reset - datetime.now(UTC) <= timedelta(seconds=60)

    def test_length_is_checked_against_max_characters(self, fake_mastodon):
        text = "x" * 476 + " https://example.org/" + "y" * 100  # 476 + 1 + 23
        assert self.call(fake_mastodon, "POST", "/api/v1/statuses", data={"status": text}).ok
        too_long = self.call(fake_mastodon, "POST", "/api/v1/statuses", data={"status": "x" * 501})
        assert too_long.status_code == 422

    def test_scheduled_statuses(self, fake_mastodon):
        now = datetime.now(UTC)
        soon = self.call(
            fake_mastodon,
            "POST",
            "/api/v1/statuses",
            data={"status": "a", "scheduled_at": _iso(now + timedelta(minutes=4))},
        )
        assert soon.status_code == 422
        made = self.call(
            fake_mastodon,
            "POST",
            "/api/v1/statuses",
            data={"status": "a", "scheduled_at": _iso(now + timedelta(minutes=30))},
        ).json()
        assert made["params"]["text"] == "a" and "content" not in made
        listed = self.call(fake_mastodon, "GET", "/api/v1/scheduled_statuses").json()
        assert [s["id"] for s in listed] == [made["id"]]
        moved = self.call(
            fake_mastodon,
            "PUT",
            f"/api/v1/scheduled_statuses/{made['id']}",
            data={"scheduled_at": _iso(now + timedelta(hours=2))},
        )
        assert moved.json()["scheduled_at"].startswith(_iso(now + timedelta(hours=2))[:16])
        fake_mastodon.clock = lambda: now + timedelta(hours=3)
        assert [s["text"] for s in fake_mastodon.statuses()] == ["a"]
        assert fake_mastodon.scheduled() == []

    def test_at_most_25_scheduled_a_day(self, fake_mastodon):
        day = datetime.now(UTC).replace(hour=12, minute=0) + timedelta(days=2)
        codes = [
            self.call(
                fake_mastodon,
                "POST",
                "/api/v1/statuses",
                data={"status": f"s{n}", "scheduled_at": _iso(day + timedelta(minutes=n))},
            ).status_code
            for n in range(26)
        ]
        assert codes == [200] * 25 + [422]


class TestTelegram:
    def call(self, fake, method, token=None, **data):
        url = f"{fake.base_url}/bot{token or TELEGRAM_BOT.token}/{method}"
        return requests.post(url, data=data, timeout=5)

    def test_the_token_is_in_the_path(self, fake_telegram):
        assert self.call(fake_telegram, "getMe").json()["result"]["username"] == (
            "sea_crosspost_bot"
        )
        wrong = self.call(fake_telegram, "getMe", token="123:wrong")
        assert wrong.status_code == 401 and wrong.json()["description"] == "Unauthorized"
        assert self.call(fake_telegram, "getMe", token="nonsense").status_code == 404

    def test_rate_limit_says_when_to_retry(self, fake_telegram):
        fake_telegram.fail_next("429", reset_in=9)
        answer = self.call(fake_telegram, "sendMessage", chat_id="@sea_kurdi", text="a").json()
        assert answer["error_code"] == 429 and answer["parameters"] == {"retry_after": 9}

    def test_posting_needs_admin_rights(self, fake_telegram):
        chat = fake_telegram.chats[0]
        chat.members[TELEGRAM_BOT.id] = ("administrator", False)
        assert self.call(
            fake_telegram, "sendMessage", chat_id="@sea_kurdi", text="a"
        ).status_code == (400)
        chat.members.pop(TELEGRAM_BOT.id)
        assert self.call(
            fake_telegram, "sendMessage", chat_id="@sea_kurdi", text="a"
        ).status_code == (403)
        member = self.call(
            fake_telegram, "getChatMember", chat_id="@sea_kurdi", user_id=TELEGRAM_BOT.id
        ).json()["result"]
        assert member["status"] == "left"

    def test_lengths_and_replies(self, fake_telegram):
        ok = self.call(fake_telegram, "sendMessage", chat_id="@sea_kurdi", text="ش" * 4096)
        assert ok.json()["ok"]
        long = self.call(fake_telegram, "sendMessage", chat_id="@sea_kurdi", text="ش" * 4097)
        assert long.json()["description"] == "Bad Request: message is too long"
        caption = requests.post(
            f"{fake_telegram.base_url}/bot{TELEGRAM_BOT.token}/sendPhoto",
            data={"chat_id": "@sea_kurdi", "caption": "c" * 1025},
            files={"photo": ("a.png", b"\x89PNG")},
            timeout=5,
        )
        assert caption.json()["description"] == "Bad Request: message caption is too long"
        orphan = self.call(
            fake_telegram,
            "sendMessage",
            chat_id="@sea_kurdi",
            text="b",
            reply_parameters='{"message_id": 99}',
        )
        assert orphan.json()["description"] == "Bad Request: message to be replied not found"
