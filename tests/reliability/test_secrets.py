"""Promise 4, every command: no token, nor a prefix or a 12-character piece of one, leaks.

Every command runs at debug level (`-v` and CROSSPOST_LOG_LEVEL=DEBUG) with every fake secret in
its environment, whether it needs them or not, while the platforms misbehave: a Facebook channel
points at a closed port and has a post in doubt, so facebook-sdk's lookup is a GET that carries
the Page token in its query string and fails to connect (requests' error message holds that
URL); the other Page's token expires; X drops the connection after accepting
a post, rate-limits, and is asked for its timeline, whose URL holds the account's user id, which
is also the first part of the X access token; Mastodon answers a publish with a gateway's 502
and later revokes the token; Telegram, whose bot token is part of every URL, drops a message's
answer and then answers a 5xx page. Scanned: stdout, stderr, every file a command
writes (preview --output, plan --ics, run --summary: the Markdown report meant for CI logs) and
the ledger. (tests/test_exactly_once.py checks `run`/`status` once; this covers every command.)
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import UTC, datetime

import pytest

from tests.conftest import crosspost, spawn
from tests.fakes.accounts import (
    BSKY_EN,
    MASTODON_EN,
    PAGE_EN,
    PAGE_TR,
    PAGES,
    TELEGRAM_BOT,
    TELEGRAM_CHAT,
    X_BEARER,
    X_EN,
)
from tests.fakes.github import FakeGitHub
from tests.publishing import ANNOUNCE_OPEN, wire

LATER = "2030-04-03T15:20:00Z"
DEBUG = {"CROSSPOST_LOG_LEVEL": "DEBUG"}
GITHUB_TOKEN = "ghs_FAKEgithubTOKENx0x9aB8cD7eF6gH5iJ4kL3mN2"


def secrets() -> list[str]:
    """Every secret the fake accounts have."""
    return [token for token, _ in PAGES.values()] + [
        X_EN.api_key,
        X_EN.api_secret,
        X_EN.access_token,
        X_EN.access_token_secret,
        X_BEARER,
        MASTODON_EN.token,
        TELEGRAM_BOT.token,
        *BSKY_EN.app_passwords,
    ]


def leaks(text: str) -> list[str]:
    """Pieces of secrets found in `text`: a prefix of 8+ characters, or any 12 in a row.

    (Any 8 in a row would flag coincidences of the fake data: the fake X user id
    1512345678901234567 and Page id 104123456789 share "12345678".)
    """
    found = []
    for secret in secrets():
        pieces = {secret[:8]} | {secret[i : i + 12] for i in range(len(secret) - 11)}
        found += sorted(p for p in pieces if p in text)
    return found


def in_doubt(key: str, channel: str, parts: int = 1) -> str:
    """A ledger line saying a send was started and nobody knows how it ended."""
    ts = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    record = {"ts": ts, "key": key, "state": "sending", "run": "killed-run", "part": 0}
    return json.dumps({**record, "parts": parts, "channel": channel}) + "\n"


@pytest.fixture
def hostile(repo, fake_graph, fake_x, fake_mastodon, fake_telegram, tmp_path):
    """The conftest repository against the fakes: facebook-tr at a closed port, posts in doubt."""
    live = wire(repo, fake_graph, fake_x)
    channels = (repo.root / "channels.yaml").read_text()
    closed = channels.replace(
        f'page_id: "{PAGE_TR}",\n               api_base: "{fake_graph.base_url}"',
        f'page_id: "{PAGE_TR}",\n               api_base: "http://127.0.0.1:9"',
    )
    assert closed != channels
    closed += (
        f'mastodon-en: {{platform: mastodon, language: en, instance: "https://social.coop",\n'
        f'              api_base: "{fake_mastodon.base_url}"}}\n'
        f'telegram-tr: {{platform: telegram, language: tr, chat: "{TELEGRAM_CHAT}",\n'
        f'              api_base: "{fake_telegram.base_url}"}}\n'
    )
    repo.write("channels.yaml", closed)
    campaign = repo.root / "campaigns/spring.yaml"
    campaign.write_text(
        campaign.read_text().replace("x-en]", "x-en, mastodon-en, telegram-tr]"), encoding="utf-8"
    )
    live.env.update(fake_mastodon.env("MASTODON_EN"))
    live.env.update(fake_telegram.env("TELEGRAM_TR"))
    live.mastodon, live.telegram = fake_mastodon, fake_telegram
    # Mastodon's post in doubt is sent again with its key at once, not 2 minutes later.
    live.env["CROSSPOST_SETTLE_SECONDS"] = "0"
    repo.ledger.parent.mkdir(parents=True, exist_ok=True)
    repo.ledger.write_text(
        in_doubt("spring/first/announce/facebook-tr", "facebook-tr")
        + in_doubt("spring/first/announce/x-en", "x-en")
    )
    live.env.update(DEBUG)
    live.env["BLUESKY_EN_APP_PASSWORD"] = BSKY_EN.app_passwords[0]  # set, though unused here
    return live


@pytest.mark.timeout(900)
def test_no_command_leaks_a_secret_at_debug_level_even_when_everything_fails(hostile, tmp_path):
    live, root = hostile, hostile.repo.root
    texts: list[tuple[str, str]] = []  # (what, text)

    def cli(*args, expect=(0,), env=None, **kw):
        result = crosspost(*args, "--root", root, "-v", env=env or live.env, **kw)
        what = " ".join(map(str, args))
        assert result.code in expect, f"{what}: exit {result.code}\n{result.output}"
        texts.append((f"{what} (stdout)", result.stdout))
        texts.append((f"{what} (stderr)", result.stderr))
        return result

    def written(path) -> None:
        texts.append((str(path.name), path.read_text(encoding="utf-8", errors="replace")))

    cli("validate")
    for fmt in ("text", "markdown", "html", "json"):
        cli("preview", "--format", fmt)
        out = tmp_path / f"preview.{fmt}"
        cli("preview", "--format", fmt, "--output", out)
        written(out)
    ics = tmp_path / "plan.ics"
    cli("plan", "--now", ANNOUNCE_OPEN, "--ics", ics)
    written(ics)
    cli("plan", "--format", "json", "--now", ANNOUNCE_OPEN)
    for fmt in (["--json"], ["--format", "text"], ["--format", "markdown"]):
        cli("status", *fmt, "--now", ANNOUNCE_OPEN)
    summary = tmp_path / "summary.md"
    cli("run", "--dry-run", "--now", ANNOUNCE_OPEN, "--summary", summary)

    # The first real run: a Page token expires, X drops the connection after accepting the
    # post, the lookup of facebook-tr's post in doubt cannot connect.
    live.graph.fail_next("expired", count=None, path=f"/{PAGE_EN}/")
    live.x.fail_next("drop_after_accept")
    live.mastodon.fail_next("500", status=502, html=True)
    live.telegram.fail_next("drop_after_accept")
    first = cli("run", "--now", ANNOUNCE_OPEN, "--summary", summary, expect=(3,))
    live.graph.clear_faults()
    live.mastodon.revoke()  # the post in doubt is sent again with its key, and refused: 401
    live.telegram.fail_next("500", count=None, on="any")
    # The second: Graph answers an HTML 502 (facebook-sdk's confusing error), X rate-limits
    # the lookup of the post it dropped; facebook-tr still cannot connect.
    live.graph.fail_next("500", html=True, count=None)
    live.x.fail_next("429", on="lookup", reset_in=3600)
    cli("run", "--now", LATER, "--summary", summary, expect=(3,))
    live.graph.clear_faults()
    live.telegram.clear_faults()
    # The third: X's timeline is read (its URL holds the user id, the access token's prefix);
    # a person said the Telegram post never left, so it is sent (its URL holds the bot token).
    cli("resolve", "spring/first/announce/telegram-tr", "--not-sent")
    third = cli("run", "--now", LATER, "--summary", summary, expect=(3,))
    cli("run", "--dry-run", "--now", LATER)
    written(summary)
    # doctor: one Page token refused, facebook-tr unreachable, posts in doubt.
    live.graph.fail_next("expired", count=None, path=r"/me$")
    cli("doctor", "--now", LATER, expect=(3,))
    cli("doctor", "--json", "--now", LATER, expect=(3,))
    # alert: the same troubles, into a GitHub issue (opened, then updated or left alone).
    with FakeGitHub() as github:
        github.add_token(GITHUB_TOKEN)
        env = {**live.env, **github.env(GITHUB_TOKEN)}
        cli("alert", "--github-issue", "--check-credentials", "--now", LATER, env=env)
        cli("alert", "--github-issue", "--now", LATER, env=env)
        [issue] = github.open_issues("crosspost")
        texts.append(("alert issue", "\n".join([issue.title, issue.body, *issue.comments])))
    live.graph.clear_faults()

    # The daemon, briefly, with the same troubles.
    live.graph.fail_next("expired", count=None)
    before = len(live.graph.log) + len(live.x.log)
    proc = spawn("daemon", "--every", "1s", "--root", root, "-v", "--now", LATER, env=live.env)
    deadline = time.monotonic() + 30
    while len(live.graph.log) + len(live.x.log) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.5)  # a second tick
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    texts += [("daemon (stdout)", out), ("daemon (stderr)", err)]

    # `resolve` of the post still in doubt, and `diff` against a git commit of the repository.
    cli("resolve", "spring/first/announce/facebook-tr", "--not-sent", expect=(0,))
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    (root / "templates/live/en.j2").write_text("Live now: {{ event.title }} {{ vars.url }}")
    for fmt in ("text", "markdown", "json"):
        cli("diff", "--base", "HEAD", "--format", fmt)
    texts.append(("ledger", live.repo.ledger.read_text()))

    everything = "\n".join(text for _, text in texts)
    # The troubles really happened, at debug level, with the requests that carry secrets.
    assert "could not connect" in first.stdout, first.output
    assert "FACEBOOK_EN_PAGE_TOKEN" in first.stdout
    assert "DEBUG" in first.stderr and "DEBUG" in third.stderr
    assert "127.0.0.1:9" in everything, "the closed port was called"
    assert any(r.path.startswith("/2/users/") for r in live.x.requests("lookup"))
    assert "GET /2/users/***/tweets" in everything, "the user id in the URL is hidden"
    assert "POST /bot***/sendPhoto" in everything, "the Telegram token in the URL is hidden"
    assert "MASTODON_EN_ACCESS_TOKEN" in everything, "the post in doubt was sent again: 401"
    for what, text in texts:
        assert not leaks(text), f"{what} shows {leaks(text)}:\n{text}"
        assert GITHUB_TOKEN not in text, f"{what} shows the GitHub token"
