"""Promise 4 on Bluesky: neither the app password nor any session JWT (access or refresh) shows
in output, DEBUG logs, the run summary or the ledger — while sessions expire and are refreshed,
a create fails and is settled by getRecord, and finally the app password is revoked."""

from __future__ import annotations

from tests.conftest import crosspost
from tests.fakes.accounts import BSKY_EN
from tests.publishing import ANNOUNCE_OPEN
from tests.test_bluesky_publish import Bluesky

LATER = "2030-04-03T15:20:00Z"


def test_no_app_password_or_session_jwt_leaks_at_debug_level(repo, fake_bluesky, tmp_path):
    bsky = Bluesky(repo, fake_bluesky)
    env = {**bsky.env, "CROSSPOST_LOG_LEVEL": "DEBUG"}
    summary = tmp_path / "summary.md"
    texts = []

    def run(*args, expect):
        result = crosspost("run", "--root", repo.root, "-v", "--summary", summary, *args, env=env)
        assert result.code in expect, result.output
        texts.extend([result.stdout, result.stderr])
        return result

    # The app password is revoked: the channel fails, naming the variable.
    password = list(fake_bluesky.account().app_passwords)
    fake_bluesky.revoke()
    revoked = run("--now", ANNOUNCE_OPEN, expect=(3,))
    # A new app password: a 500 on the create, then its lookup by record key; sent again.
    fake_bluesky.account().app_passwords[:] = password
    fake_bluesky.fail_next("500")
    first = run("--now", LATER, expect=(0,))
    # The live post: the access token has expired (refreshSession), then the PDS drops the
    # create after accepting it (getRecord finds it).
    fake_bluesky.fail_next("error", status=400, error="ExpiredToken", message="Token has expired")
    fake_bluesky.fail_next("drop_after_accept")
    run("--now", "2030-04-10T14:50:00Z", expect=(0,))
    for args in (["status", "--json"], ["plan"], ["validate"]):
        result = crosspost(*args, "--root", repo.root, "-v", env=env)
        texts.extend([result.stdout, result.stderr])
    texts += [summary.read_text(), repo.ledger.read_text()]

    assert "DEBUG" in first.stderr
    assert "BLUESKY_TR_APP_PASSWORD" in revoked.stdout
    paths = [r.path for r in fake_bluesky.requests()]
    assert any(p.endswith("refreshSession") for p in paths), "a session was refreshed"
    assert len(fake_bluesky.issued) >= 4
    secrets = [*BSKY_EN.app_passwords, *fake_bluesky.issued]
    everything = "\n".join(texts)
    for secret in secrets:
        for piece in {secret[:12], secret[-12:]}:
            assert piece not in everything, f"a piece of a secret shows: {piece}"
