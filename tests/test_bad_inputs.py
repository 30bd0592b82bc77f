"""The bad-input corpus: every malformed repository in tests/data/bad/ gives located problems.

Each case is a folder holding only what differs from the valid repository `_base/`:
- files that replace (or join) the base's files, at the same relative paths;
- `expected.txt`: one line per problem the case must report, `path:line:col: fragment` — an
  output line must start with `path:line:col: ` and contain the fragment. Every problem
  printed must be expected (one mistake, one message: no cascades of noise);
- optionally `setup.txt`: one instruction a line, for what files cannot say:
  `delete PATH`, `copy SRC DST` (DST may leave the repository: `../x.png`), and
  `big-png PATH BYTES` (a PNG padded to BYTES, made at test time rather than committed).

`crosspost validate` must exit 1, print every problem as `path:line:col: message`, and never
show a traceback.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import crosspost

BAD = Path(__file__).parent / "data" / "bad"
BASE = BAD / "_base"
CASES = sorted(p.name for p in BAD.iterdir() if p.is_dir() and not p.name.startswith("_"))
#: special files of a case folder, not copied into the repository
META = {"expected.txt", "setup.txt"}
#: `path:line:col: message`
LOCATED = re.compile(r"^[^\s:][^:]*:[1-9]\d*:[1-9]\d*: \S.*$")
#: cases also run as a real process: no traceback reaches a real terminal
IN_SUBPROCESS = {
    "yaml-not-utf8",
    "yaml-unclosed-bracket",
    "channels-yaml-missing",
    "template-sandbox-refuses",
    "time-dst-gap",
    "media-too-large-for-x",
}


def build(case: str, root: Path) -> list[str]:
    """Make the case's repository at `root`; return its expected lines."""
    shutil.copytree(BASE, root)
    folder = BAD / case
    for src in sorted(folder.rglob("*")):
        if src.is_file() and src.relative_to(folder).as_posix() not in META:
            dst = root / src.relative_to(folder)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
    setup = folder / "setup.txt"
    for line in setup.read_text().splitlines() if setup.exists() else []:
        op, *args = line.split()
        if op == "delete":
            (root / args[0]).unlink()
        elif op == "copy":
            (root / args[1]).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / args[0], root / args[1])
        elif op == "big-png":
            png = (BASE / "media" / "first.png").read_bytes()
            path = root / args[0]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(png + b"\0" * (int(args[1]) - len(png)))
        else:
            raise ValueError(f"{case}/setup.txt: unknown instruction {line!r}")
    expected = (folder / "expected.txt").read_text(encoding="utf-8").splitlines()
    return [e for e in expected if e.strip() and not e.startswith("#")]


def matches(line: str, pattern: str) -> bool:
    """Whether an output line is the expected `path:line:col: fragment`."""
    where, _, fragment = pattern.partition(": ")
    return line.startswith(f"{where}: ") and fragment in line


def assert_reported(stdout: str, output: str, expected: list[str]) -> None:
    assert "Traceback" not in output
    assert "internal error" not in output
    lines = stdout.splitlines()
    assert lines, "no problem printed"
    for line in lines:
        assert LOCATED.match(line), f"not `path:line:col: message`: {line!r}"
    for pattern in expected:
        assert any(matches(line, pattern) for line in lines), f"expected {pattern!r} in:\n{stdout}"
    for line in lines:
        if ": warning: " in line:
            continue  # warnings (short windows, X threads) are not problems: tested elsewhere
        assert any(matches(line, pattern) for pattern in expected), (
            f"unexpected problem {line!r} (expected only {expected})"
        )


def test_corpus_is_big_enough():
    assert len(CASES) >= 45


def test_base_is_valid(tmp_path, cli):
    shutil.copytree(BASE, tmp_path / "repo")
    result = cli("validate", "--root", tmp_path / "repo")
    assert result.code == 0, result.output


@pytest.mark.parametrize("case", CASES)
def test_bad_input(case, tmp_path, cli):
    root = tmp_path / "repo"
    expected = build(case, root)
    result = cli("validate", "--root", root)
    assert result.code == 1, result.output
    assert_reported(result.stdout, result.output, expected)


@pytest.mark.parametrize("case", sorted(IN_SUBPROCESS))
def test_bad_input_in_a_real_process(case, tmp_path):
    root = tmp_path / "repo"
    expected = build(case, root)
    result = crosspost("validate", "--root", root)
    assert result.code == 1, result.output
    assert_reported(result.stdout, result.output, expected)


def test_a_long_post_on_a_thread_channel_stays_valid(tmp_path, cli):
    """The limit case's 400-character text is fine where the X channel has `thread: true`."""
    root = tmp_path / "repo"
    shutil.copytree(BASE, root)
    long = BAD / "limit-x-no-thread-400" / "templates" / "live" / "en.x.j2"
    shutil.copyfile(long, root / "templates" / "live" / "en.x.j2")
    assert cli("validate", "--root", root).code == 0
    posts = cli("preview", "--root", root, "--format", "json").json()["posts"]
    (live,) = [p for p in posts if p["key"] == "spring/first/live/x-en"]
    assert len(live["parts"]) > 1 and live["length"] <= live["limit"] == 280
    assert live["problems"] == []


def test_one_bad_campaign_leaves_the_others_alone(tmp_path, cli):
    """Problems of one campaign are reported; a valid second campaign still plans its posts."""
    root = tmp_path / "repo"
    expected = build("duration-2x", root)
    autumn = (BASE / "campaigns" / "spring.yaml").read_text(encoding="utf-8")
    autumn = autumn.replace("id: spring", "id: autumn").replace("2030-04-10", "2030-10-10")
    (root / "campaigns" / "autumn.yaml").write_text(autumn, encoding="utf-8")

    result = cli("validate", "--root", root)
    assert result.code == 1
    assert_reported(result.stdout, result.output, expected)
    problems = [line for line in result.stdout.splitlines() if ": warning: " not in line]
    assert not any("autumn" in line for line in problems)

    preview = cli("preview", "--root", root, "--format", "json")
    assert preview.code == 1
    campaigns = {p["campaign"] for p in preview.json()["posts"]}
    assert campaigns == {"autumn"}
    keys = {p["key"] for p in preview.json()["posts"]}
    assert "autumn/first/announce/facebook-tr" in keys and "autumn/launch/x-en" in keys
