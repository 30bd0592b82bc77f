"""The adapters wired to the fake platforms, for the adapter tests (contract and per platform)."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

from pipeline.model import Channel
from pipeline.platforms import adapter_class
from pipeline.platforms.base import Adapter, OutgoingPost
from tests.fakes.accounts import BSKY_EN, PAGE_EN, TELEGRAM_CHAT, X_EN
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.graph import FakeGraph
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import FakeServer
from tests.fakes.telegram import FakeTelegram
from tests.fakes.x import FakeX

#: seconds every adapter call of these tests may take at most (the fakes answer in ms)
TIMEOUT = 5.0


@dataclass
class Target:
    """One platform under test: its fake, a channel pointing at it, and the channel's secrets."""

    platform: str
    fake: FakeServer
    channel: Channel
    env: dict[str, str]

    @property
    def variables(self) -> list[str]:
        """The channel's secret environment variable names."""
        return list(self.env)

    def adapter(
        self, timeout: float = TIMEOUT, env: dict[str, str] | None = None, **channel: str
    ) -> Adapter:
        """A fresh adapter; `channel` overrides fields of the channel (e.g. `api_base`)."""
        chosen = self.channel.model_copy(update=channel) if channel else self.channel
        cls = adapter_class(self.platform)
        return cls(chosen, self.env if env is None else env, timeout=timeout)

    @property
    def can_look(self) -> bool:
        return adapter_class(self.platform).can_look

    def posts(self) -> list[dict]:
        """What the platform holds, oldest first: id, text, image bytes, alt text, shown text."""
        if isinstance(self.fake, FakeBluesky):
            out = []
            for p in self.fake.posts(BSKY_EN.handle):
                images = (p["value"].get("embed") or {}).get("images") or [{}]
                ref = images[0].get("image", {}).get("ref", {}).get("$link")
                out.append(
                    {
                        "id": p["uri"],
                        "text": p["value"]["text"],
                        "shown": p["value"]["text"],
                        "image": self.fake.blob(ref) if ref else None,
                        "alt": images[0].get("alt"),
                    }
                )
            return out
        if isinstance(self.fake, FakeMastodon):
            waiting = [
                {
                    "id": s["id"],
                    "text": s["text"],
                    "shown": s["text"],
                    "image": s["media"][0]["bytes"] if s["media"] else None,
                    "alt": s["media"][0]["description"] if s["media"] else None,
                    "language": s["language"],
                    "reply_to": None,
                }
                for s in self.fake.scheduled()
            ]
            return waiting + [
                {
                    "id": s["id"],
                    "text": s["text"],
                    "shown": s["content"],
                    "image": s["media"][0]["bytes"] if s["media"] else None,
                    "alt": s["media"][0]["description"] if s["media"] else None,
                    "language": s["language"],
                    "reply_to": s["in_reply_to_id"],
                }
                for s in self.fake.statuses()
            ]
        if isinstance(self.fake, FakeTelegram):
            return [
                {
                    "id": str(m["message_id"]),
                    "text": m["text"] if m["photo"] is None else m["caption"],
                    "shown": m["text"] if m["photo"] is None else m["caption"],
                    "image": m["photo"],
                    "alt": None,
                    "reply_to": str(m["reply_to"]) if m["reply_to"] else None,
                    "options": m["options"],
                }
                for m in self.fake.messages(TELEGRAM_CHAT)
            ]
        if isinstance(self.fake, FakeGraph):
            return [
                {
                    "id": p["id"],
                    "text": p["message"],
                    "image": p["image"],
                    "alt": p["alt"],
                    "shown": p["message"],
                }
                for p in self.fake.posts(PAGE_EN)
            ]
        return [
            {
                "id": t["id"],
                "text": t["text"],
                "shown": t["display_text"],
                "image": t["media"][0]["bytes"] if t["media"] else None,
                "alt": t["media"][0]["alt_text"] if t["media"] else None,
            }
            for t in self.fake.tweets(X_EN.username)
        ]

    def set_clock(self, now) -> None:
        """The platform's clock (a scheduled copy is published when it passes the copy's time)."""
        self.fake.clock = lambda: now

    def copies(self) -> list[dict]:
        """Every post the platform holds, scheduled or published: id, text, at, published."""
        if isinstance(self.fake, FakeGraph):
            return [
                {
                    "id": p["id"],
                    "text": p["message"],
                    "at": p["scheduled_publish_time"],
                    "published": p["is_published"],
                }
                for p in self.fake.posts(PAGE_EN)
            ]
        if isinstance(self.fake, FakeMastodon):
            # A published scheduled status is a new Status with its own id.
            waiting = [
                {"id": s["id"], "text": s["text"], "at": s["at"], "published": False}
                for s in self.fake.scheduled()
            ]
            return waiting + [
                {"id": s["id"], "text": s["text"], "at": s["created_at"], "published": True}
                for s in self.fake.statuses()
            ]
        raise NotImplementedError(f"{self.platform} does not schedule natively")

    def lose(self, remote_id: str) -> None:
        """The platform drops a scheduled copy without a trace."""
        if isinstance(self.fake, FakeMastodon):
            self.fake.lose(remote_id)
        else:
            self.fake.vanish(remote_id)

    def add_remote(self, text: str) -> str:
        """A post made elsewhere (by hand, or by an earlier run); its id."""
        if isinstance(self.fake, FakeBluesky):
            return self.fake.add_post(text, BSKY_EN.handle)
        if isinstance(self.fake, FakeMastodon):
            return self.fake.add_status(None, text)
        if isinstance(self.fake, FakeTelegram):
            return str(self.fake.add_message(TELEGRAM_CHAT, text))
        if isinstance(self.fake, FakeGraph):
            return self.fake.add_post(PAGE_EN, text)
        return self.fake.add_tweet(X_EN.username, text)

    def secret_forms(self) -> list[str]:
        """Every secret and its URL-encoded forms, for leak checks."""
        return sorted(
            {
                form
                for value in self.env.values()
                for form in (value, quote(value, safe=""), quote_plus(value))
            }
        )


def facebook(fake: FakeGraph) -> Target:
    channel = Channel(
        name="facebook-en",
        platform="facebook",
        language="en",
        page_id=PAGE_EN,
        api_base=fake.base_url,
    )
    return Target("facebook", fake, channel, fake.env("FACEBOOK_EN", PAGE_EN))


def x(fake: FakeX) -> Target:
    channel = Channel(name="x-en", platform="x", language="en", thread=True, api_base=fake.base_url)
    return Target("x", fake, channel, fake.env("X_EN", X_EN.username))


def mastodon(fake: FakeMastodon) -> Target:
    channel = Channel(
        name="mastodon-en",
        platform="mastodon",
        language="en",
        instance="https://social.coop",
        thread=True,
        api_base=fake.base_url,
    )
    return Target("mastodon", fake, channel, fake.env("MASTODON_EN"))


def telegram(fake: FakeTelegram) -> Target:
    channel = Channel(
        name="telegram-ku",
        platform="telegram",
        language="ku",
        chat=TELEGRAM_CHAT,
        thread=True,
        api_base=fake.base_url,
    )
    return Target("telegram", fake, channel, fake.env("TELEGRAM_KU"))


def bluesky(fake: FakeBluesky) -> Target:
    channel = Channel(
        name="bluesky-en",
        platform="bluesky",
        language="en",
        handle=BSKY_EN.handle,
        thread=True,
        api_base=fake.base_url,
    )
    return Target("bluesky", fake, channel, fake.env("BLUESKY_EN", BSKY_EN.handle))


def closed_port_url() -> str:
    """A loopback URL nothing listens on (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def exception_chain(exc: BaseException) -> list[BaseException]:
    """`exc` and every exception reachable through `__cause__` and `__context__`.

    Suppressed contexts (`raise ... from None`) count too: tools such as error trackers walk
    them, so a secret there is still a leak.
    """
    seen: list[BaseException] = []
    todo = [exc]
    while todo:
        current = todo.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo += [current.__cause__, current.__context__]
    return seen


def assert_no_secret(exc: BaseException, target: Target) -> None:
    """Neither the error's message nor anything in its chain shows a secret."""
    for error in exception_chain(exc):
        texts = [str(error), repr(error.args), str(getattr(error, "message", ""))]
        for form in target.secret_forms():
            assert not any(form in text for text in texts), (
                f"a secret of {target.channel.name} in {type(error).__name__}: {error}"
            )


def publish_error(
    target: Target, post: OutgoingPost | None = None, *, text: str = "Hello", **adapter
) -> Exception:
    """The error publishing `post` (or `text`) raises, checked to carry no secret."""
    import pytest

    with pytest.raises(Exception) as caught:
        target.adapter(**adapter).publish(post or OutgoingPost("k", text))
    assert_no_secret(caught.value, target)
    return caught.value
