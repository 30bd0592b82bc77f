"""pytest fixtures serving the fake platforms: `fake_graph` and `fake_x`, one server per test.

Registered by `pytest_plugins = ["tests.fakes.fixtures"]` in tests/conftest.py. The accounts
(tests/fakes/accounts.py) have obviously fake but realistically shaped secrets, so redaction
tests see real-looking tokens::

    def test_something(fake_graph, fake_x):
        env = {**fake_graph.env("FACEBOOK_EN", PAGE_EN), **fake_x.env("X_EN")}
        # channels.yaml: api_base: <fake_graph.base_url> / <fake_x.base_url>
        fake_x.fail_next("429", reset_in=60)
"""

from __future__ import annotations

import pytest

from tests.fakes.accounts import (
    BSKY_EN,
    MASTODON_EN,
    PAGE_EN,
    PAGE_KU,
    PAGE_TR,
    PAGES,
    TELEGRAM_BOT,
    TELEGRAM_CHAT,
    X_BEARER,
    X_EN,
)
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.graph import FakeGraph
from tests.fakes.mastodon import Account, FakeMastodon
from tests.fakes.telegram import Bot, Chat, FakeTelegram
from tests.fakes.x import FakeX

__all__ = [
    "BSKY_EN",
    "PAGES",
    "PAGE_EN",
    "PAGE_KU",
    "PAGE_TR",
    "X_BEARER",
    "X_EN",
    "fake_bluesky",
    "fake_graph",
    "fake_mastodon",
    "fake_telegram",
    "fake_x",
]


@pytest.fixture
def fake_graph():
    """A started fake Graph API with the pages PAGE_EN, PAGE_KU and PAGE_TR."""
    with FakeGraph(PAGES) as fake:
        yield fake


@pytest.fixture
def fake_x():
    """A started fake X API with the account X_EN (and X_BEARER as an app-only token)."""
    with FakeX([X_EN]) as fake:
        fake.bearer_tokens.add(X_BEARER)
        yield fake


def new_mastodon() -> FakeMastodon:
    """A fake instance (not started) with the account MASTODON_EN (a fresh copy)."""
    return FakeMastodon([Account(**vars(MASTODON_EN))], domain="social.coop")


def new_telegram() -> FakeTelegram:
    """A fake Bot API (not started): TELEGRAM_BOT, administrator of TELEGRAM_CHAT."""
    bot = Bot(**vars(TELEGRAM_BOT))
    fake = FakeTelegram([bot])
    fake.add_chat(Chat(-1001987654321, TELEGRAM_CHAT.lstrip("@"), "SEA Kurdî"), admin=bot)
    return fake


@pytest.fixture
def fake_mastodon():
    """A started fake Mastodon instance with the account MASTODON_EN."""
    with new_mastodon() as fake:
        yield fake


@pytest.fixture
def fake_telegram():
    """A started fake Bot API: TELEGRAM_BOT is an administrator of TELEGRAM_CHAT."""
    with new_telegram() as fake:
        yield fake


@pytest.fixture
def fake_bluesky():
    """A started fake Bluesky PDS with the account BSKY_EN (app password in its env)."""
    with FakeBluesky([BSKY_EN]) as fake:
        yield fake
