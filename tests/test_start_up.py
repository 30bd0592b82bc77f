"""What `validate` and a `run` with nothing due import: only what they use.

`validate` runs on every save in an editor and in every pull request, and an idle `run` is what
every scheduled tick costs (issue 13): each needless import is paid each time. Timings are the
benchmarks' business (benchmarks/run.py); this checks what is imported, which cannot drift with
the machine's load.
"""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import REPO

#: never needed to check the bundled campaign: the platform SDKs, twitter_text (its rules are
#: data in pipeline/platforms/xtext_data.py), rich (no table is printed), importlib.metadata
#: (pydantic's plugin look-up), the JSON Schema generator
NOT_FOR_VALIDATE = ("tweepy", "facebook", "mastodon", "requests", "twitter_text", "rich",
                    "importlib.metadata", "pipeline.schema", "regex")
NOT_FOR_AN_IDLE_RUN = ("tweepy", "facebook", "mastodon", "requests", "twitter_text",
                       "importlib.metadata")


def _imported(args: list[str], unwanted: tuple[str, ...]) -> tuple[list[str], str]:
    probe = (
        "import sys, runpy\n"
        f"sys.argv = ['crosspost', *{args!r}]\n"
        "try:\n    runpy.run_module('pipeline', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        f"print('IMPORTED', sorted(m for m in {unwanted!r} if m in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, cwd=REPO)
    line = next(x for x in done.stderr.splitlines() if x.startswith("IMPORTED"))
    return ast.literal_eval(line.removeprefix("IMPORTED ")), done.stdout + done.stderr


def test_validate_imports_nothing_it_does_not_use():
    imported, output = _imported(["validate", "--root", str(REPO)], NOT_FOR_VALIDATE)

    assert "ok: " in output
    assert imported == [], output


def test_a_run_with_nothing_due_imports_no_sdk(tmp_path):
    args = ["run", "--root", str(REPO), "--ledger", str(tmp_path / "ledger.jsonl"),
            "--now", "2031-01-01T00:00Z"]
    _imported(args, NOT_FOR_AN_IDLE_RUN)  # after the campaign: records its posts as missed

    imported, output = _imported(args, NOT_FOR_AN_IDLE_RUN)

    assert "nothing due" in output
    assert imported == [], output
