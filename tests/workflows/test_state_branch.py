"""The ledger's state branch, tested with the real script against clones of a local bare repo.

Every test builds its own bare "origin" with a main branch, clones it as often as it needs
(each clone stands for one workflow run's checkout) and runs `.github/scripts/state-branch`
in the clones. git is isolated from the machine's configuration.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .gitrepo import git

SCRIPT = Path(__file__).resolve().parents[2] / ".github" / "scripts" / "state-branch"
BRANCH = "crosspost-state"

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or shutil.which("bash") is None, reason="needs git and bash"
)


def state(
    repo: Path, command: str, env: dict[str, str], check: bool = True, **extra: str
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["bash", str(SCRIPT), command],
        cwd=repo,
        env={**env, **extra},
        capture_output=True,
        text=True,
        timeout=60,
    )
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def ledger(repo: Path) -> Path:
    return repo / "state" / "ledger.jsonl"


def append(repo: Path, *lines: str) -> None:
    with ledger(repo).open("a") as f:
        f.writelines(line + "\n" for line in lines)


def branch_file(origin: Path, path: str, env: dict[str, str]) -> str:
    return git("show", f"{BRANCH}:{path}", cwd=origin, env=env)


def branch_lines(origin: Path, env: dict[str, str]) -> list[str]:
    text = branch_file(origin, "state/ledger.jsonl", env)
    assert text == "" or text.endswith("\n"), "the ledger on the branch must end with a newline"
    return text.splitlines()


def record(side: str, n: int) -> str:
    return f'{{"key": "c/e/m/{side}", "n": {n}, "state": "published"}}'


def test_first_use_creates_an_orphan_branch(origin, clone, env):
    a = clone("a")
    out = state(a, "restore", env).stdout
    assert "no branch crosspost-state yet" in out
    assert ledger(a).read_text() == ""

    append(a, record("a", 1))
    state(a, "push", env)

    assert branch_lines(origin, env) == [record("a", 1)]
    assert branch_file(origin, ".gitattributes", env) == "state/ledger.jsonl merge=union\n"
    assert git("ls-tree", "-r", "--name-only", BRANCH, cwd=origin, env=env).split() == [
        ".gitattributes",
        "state/ledger.jsonl",
    ]
    # No shared history with main.
    merge_base = subprocess.run(
        ["git", "merge-base", "main", BRANCH], cwd=origin, env=env, capture_output=True
    )
    assert merge_base.returncode == 1
    roots = git("rev-list", "--max-parents=0", BRANCH, cwd=origin, env=env).split()
    assert len(roots) == 1
    assert git("ls-tree", roots[0], cwd=origin, env=env) == ""
    # The main branch is untouched, and so is the clone's working tree apart from the ledger.
    assert git("rev-list", "--count", "main", cwd=origin, env=env).strip() == "1"
    assert git("status", "--porcelain", cwd=a, env=env).split() == ["??", "state/"]


def test_sequential_runs_append(origin, clone, env):
    for n in range(1, 4):
        run = clone(f"run{n}")
        state(run, "restore", env)
        assert ledger(run).read_text().splitlines() == [record("x", i) for i in range(1, n)]
        append(run, record("x", n))
        state(run, "push", env)

    assert branch_lines(origin, env) == [record("x", i) for i in range(1, 4)]
    history = git("log", "--format=%P", BRANCH, cwd=origin, env=env).splitlines()
    assert all(len(parents.split()) <= 1 for parents in history), "sequential runs never merge"


def test_unchanged_ledger_pushes_nothing(origin, clone, env):
    a = clone("a")
    state(a, "restore", env)
    append(a, record("a", 1))
    state(a, "push", env)
    tip = git("rev-parse", BRANCH, cwd=origin, env=env)

    b = clone("b")
    state(b, "restore", env)
    assert "nothing to push" in state(b, "push", env).stdout
    assert "nothing to push" in state(a, "push", env).stdout
    assert git("rev-parse", BRANCH, cwd=origin, env=env) == tip


def test_rejected_push_merges_and_keeps_every_line(origin, clone, env):
    common = [record("common", i) for i in range(3)]
    seed = clone("seed")
    state(seed, "restore", env)
    append(seed, *common)
    state(seed, "push", env)

    a, b = clone("a"), clone("b")
    state(a, "restore", env)
    state(b, "restore", env)
    ours = [record("a", i) for i in range(4)]
    theirs = [record("b", i) for i in range(2)]
    append(a, *ours)
    append(b, *theirs)

    state(a, "push", env)
    out = state(b, "push", env)
    assert "push failed (attempt 1 of 5)" in out.stdout

    lines = branch_lines(origin, env)
    assert sorted(lines) == sorted(common + ours + theirs), "every line once, none lost"
    assert lines[: len(common)] == common
    assert [x for x in lines if x in ours] == ours
    assert [x for x in lines if x in theirs] == theirs
    # The run that merged also leaves the merged ledger in its checkout.
    assert ledger(b).read_text().splitlines() == lines

    # And the next run starts from all of it.
    c = clone("c")
    state(c, "restore", env)
    assert ledger(c).read_text().splitlines() == lines


def test_first_use_race_shares_the_root(origin, clone, env):
    a, b = clone("a"), clone("b")
    state(a, "restore", env)
    state(b, "restore", env)
    append(a, record("a", 1), record("a", 2))
    append(b, record("b", 1))
    state(a, "push", env)
    state(b, "push", env)

    lines = branch_lines(origin, env)
    assert sorted(lines) == sorted([record("a", 1), record("a", 2), record("b", 1)])
    assert lines.index(record("a", 1)) < lines.index(record("a", 2))
    roots = git("rev-list", "--max-parents=0", BRANCH, cwd=origin, env=env).split()
    assert len(roots) == 1, "both runs started the branch from the same root commit"


def test_concurrent_pushes_from_many_runs(origin, clone, env):
    seed = clone("seed")
    state(seed, "restore", env)
    append(seed, record("seed", 0))
    state(seed, "push", env)

    runs = {f"r{i}": clone(f"r{i}") for i in range(4)}
    for name, repo in runs.items():
        state(repo, "restore", env)
        append(repo, *(record(name, n) for n in range(3)))
    procs = [
        subprocess.Popen(
            ["bash", str(SCRIPT), "push"],
            cwd=repo,
            env={**env, "CROSSPOST_STATE_PUSH_ATTEMPTS": "20", "CROSSPOST_STATE_BACKOFF": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for repo in runs.values()
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * len(procs), "\n".join(outputs)

    lines = branch_lines(origin, env)
    expected = [record("seed", 0)] + [record(name, n) for name in runs for n in range(3)]
    assert sorted(lines) == sorted(expected)
    assert lines[0] == record("seed", 0)
    for name in runs:
        assert [x for x in lines if f'/{name}"' in x] == [record(name, n) for n in range(3)]


def test_shallow_checkouts_as_actions_checkout_makes_them(origin, env, tmp_path):
    for n in range(3):  # a main branch with some history, of which the clones get one commit
        tip = git("commit-tree", "-p", "main", "-m", f"m{n}", "main^{tree}", cwd=origin, env=env)
        git("update-ref", "refs/heads/main", tip.strip(), cwd=origin, env=env)
    runs = []
    for n in range(3):
        path = tmp_path / f"shallow{n}"
        git("clone", "--quiet", "--depth", "1", origin.as_uri(), path, cwd=tmp_path, env=env)
        assert (path / ".git" / "shallow").exists()
        state(path, "restore", env)
        append(path, record(f"s{n}", 1))
        runs.append(path)
    for path in runs:
        state(path, "push", env)
    assert sorted(branch_lines(origin, env)) == sorted(record(f"s{n}", 1) for n in range(3))


def test_missing_final_newline_is_added(origin, clone, env):
    a = clone("a")
    state(a, "restore", env)
    ledger(a).write_text(record("a", 1) + "\n" + record("a", 2))
    out = state(a, "push", env, GITHUB_ACTIONS="true")
    assert "::warning" in out.stdout
    assert branch_file(origin, "state/ledger.jsonl", env) == (
        record("a", 1) + "\n" + record("a", 2) + "\n"
    )


def test_existing_ledger_seeds_a_new_branch(origin, clone, env):
    a = clone("a")
    ledger(a).parent.mkdir()
    ledger(a).write_text(record("old", 1) + "\n")
    state(a, "restore", env)
    assert ledger(a).read_text() == record("old", 1) + "\n"
    append(a, record("a", 1))
    state(a, "push", env)
    assert branch_lines(origin, env) == [record("old", 1), record("a", 1)]


def test_branch_ledger_wins_over_a_stale_local_one(origin, clone, env):
    a = clone("a")
    state(a, "restore", env)
    append(a, record("a", 1))
    state(a, "push", env)

    b = clone("b")
    ledger(b).parent.mkdir()
    ledger(b).write_text("stale\n")
    state(b, "restore", env)
    assert ledger(b).read_text() == record("a", 1) + "\n"


def test_a_ledger_that_lost_lines_is_not_pushed(origin, clone, env):
    a = clone("a")
    state(a, "restore", env)
    append(a, record("a", 1), record("a", 2))
    state(a, "push", env)

    b = clone("b")
    state(b, "restore", env)
    ledger(b).write_text(record("a", 2) + "\n" + record("b", 1) + "\n")
    done = state(b, "push", env, check=False)
    assert done.returncode == 1
    assert "lost lines" in done.stderr
    assert branch_lines(origin, env) == [record("a", 1), record("a", 2)]


def test_push_without_restore_refuses(origin, clone, env):
    a = clone("a")
    ledger(a).parent.mkdir()
    append(a, record("a", 1))
    done = state(a, "push", env, check=False)
    assert done.returncode != 0
    assert "not restored" in done.stderr
    assert (
        subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", BRANCH], cwd=origin, env=env
        ).returncode
        != 0
    )


def test_unreachable_remote_fails_closed(origin, clone, env, tmp_path):
    a = clone("a")
    git("remote", "set-url", "origin", tmp_path / "nowhere.git", cwd=a, env=env)
    done = state(a, "restore", env, check=False)
    assert done.returncode != 0
    assert not ledger(a).exists(), "no empty ledger when the branch could not be asked for"
    assert state(a, "push", env, check=False).returncode != 0


def test_ledger_path_and_branch_are_settings(origin, clone, env, tmp_path):
    a = clone("a")
    elsewhere = tmp_path / "elsewhere" / "ledger.jsonl"
    settings = {"CROSSPOST_LEDGER": str(elsewhere), "CROSSPOST_STATE_BRANCH": "other-state"}
    state(a, "restore", env, **settings)
    assert elsewhere.read_text() == ""
    elsewhere.write_text(record("a", 1) + "\n")
    state(a, "push", env, **settings)
    assert git("show", "other-state:state/ledger.jsonl", cwd=origin, env=env) == (
        record("a", 1) + "\n"
    )


class _RecordingHandler(BaseHTTPRequestHandler):
    seen: list[list[str]]

    def do_GET(self) -> None:
        self.seen.append(self.headers.get_all("Authorization") or [])
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.mark.parametrize("persisted", [False, True], ids=["token", "checkout-credentials"])
def test_token_goes_to_git_as_a_header_and_is_never_printed(clone, env, persisted):
    handler = type("Handler", (_RecordingHandler,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    token = "ghs_secretTOKENvalue123"
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        a = clone("a")
        git("remote", "set-url", "origin", f"{base}/org/campaigns", cwd=a, env=env)
        if persisted:
            # What actions/checkout leaves behind with persist-credentials: true.
            git(
                "config",
                f"http.{base}/.extraheader",
                "AUTHORIZATION: basic PERSISTED",
                cwd=a,
                env=env,
            )
        done = state(
            a, "restore", env, check=False, CROSSPOST_STATE_TOKEN=token, GITHUB_SERVER_URL=base
        )
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode != 0, "a remote that answers 404 is an error, not an empty branch"
    assert "could not ask" in done.stderr
    ours = "basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()
    assert handler.seen
    if persisted:
        # One Authorization header only: GitHub refuses a request with two.
        assert all(headers == ["basic PERSISTED"] for headers in handler.seen), handler.seen
    else:
        assert all(headers == [ours] for headers in handler.seen), handler.seen
    assert token not in done.stdout + done.stderr
    assert ours.split()[1] not in done.stdout + done.stderr
    assert token not in (a / ".git" / "config").read_text()
