"""Helpers for tests that publish: a repository wired to the fake platforms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tests.conftest import Repo, crosspost, spawn
from tests.fakes.accounts import PAGE_EN, PAGE_TR, PAGES, X_EN
from tests.fakes.graph import FakeGraph
from tests.fakes.x import FakeX

#: times of the conftest campaign (event 2030-04-10 16:00 Europe/London = 15:00 UTC)
ANNOUNCE_DUE = "2030-04-03T15:00:00Z"
ANNOUNCE_OPEN = "2030-04-03T15:05:00Z"
LIVE_OPEN = "2030-04-10T14:50:00Z"
AFTER_ALL = "2030-04-10T15:20:00Z"


@dataclass
class Platforms:
    """A repository whose channels point at fake Graph and X servers, and their secrets."""

    repo: Repo
    graph: FakeGraph
    x: FakeX
    env: dict[str, str]

    def run(self, *args: str, env: dict[str, str] | None = None, **kw):
        """`crosspost run --root <repo> ARGS` in a subprocess; Facebook's clock follows --now."""
        self.set_clock(args)
        return crosspost("run", "--root", self.repo.root, *args, env={**self.env, **(env or {})},
                         **kw)

    def set_clock(self, args) -> None:
        """Facebook publishes scheduled copies by its own clock: the pretend time of `--now`."""
        args = list(map(str, args))
        if "--now" in args:
            now = datetime.fromisoformat(args[args.index("--now") + 1].replace("Z", "+00:00"))
            self.graph.clock = lambda: now

    def start(self, *args: str, env: dict[str, str] | None = None):
        """`crosspost run --root <repo> ARGS` started in the background (a Popen)."""
        self.set_clock(args)
        return spawn("run", "--root", self.repo.root, *args, env={**self.env, **(env or {})})

    def cli(self, *args: str, **kw):
        """Any crosspost command against the repository, in a subprocess."""
        return crosspost(*args, "--root", self.repo.root, env=self.env, **kw)

    def facebook(self, page: str = PAGE_EN) -> list[dict]:
        return self.graph.posts(page)

    def tweets(self) -> list[dict]:
        return self.x.tweets(X_EN.username)

    def states(self, now: str = AFTER_ALL) -> dict[str, str]:
        """post key -> state at `now`, from `crosspost status --json`."""
        result = self.cli("status", "--json", "--now", now)
        assert result.code == 0, result.output
        return {p["key"]: p["state"] for p in result.json()["posts"]}


def wire(repo: Repo, graph: FakeGraph, x: FakeX, thread: bool = True,
         native: bool = False) -> Platforms:
    """Point the repository's channels at the fakes, with the fakes' secrets in env.

    `native`: the Facebook channels hand posts to Facebook's scheduler (the default of real
    channels); off by default here, for the tests of the direct path.
    """
    native_key = "" if native else ", native_scheduling: false"
    repo.write("channels.yaml", f"""\
        facebook-en: {{platform: facebook, language: en, page_id: "{PAGE_EN}",
                       api_base: "{graph.base_url}"{native_key}}}
        facebook-tr: {{platform: facebook, language: tr, page_id: "{PAGE_TR}",
                       api_base: "{graph.base_url}"{native_key}}}
        x-en: {{platform: x, language: en, thread: {str(thread).lower()},
                api_base: "{x.base_url}"}}
        """)
    env = {
        "FACEBOOK_EN_PAGE_TOKEN": PAGES[PAGE_EN][0],
        "FACEBOOK_TR_PAGE_TOKEN": PAGES[PAGE_TR][0],
        **x.env("X_EN"),
        "CROSSPOST_HTTP_TIMEOUT": "5",
    }
    return Platforms(repo, graph, x, env)


def all_secrets() -> list[str]:
    """Every secret the fakes know, for leak checks."""
    return [token for token, _ in PAGES.values()] + [
        X_EN.api_key, X_EN.api_secret, X_EN.access_token, X_EN.access_token_secret]
