"""The composite action's own shell steps, run for real with a stand-in `crosspost`.

Each `run:` step of action.yml is executed as the runner executes it (bash -e -o pipefail,
with its `env:` expressions substituted, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files) in a
clone of a local bare repository. The stand-in `crosspost` appends a ledger line and exits with
the code a test asks for, so the restore / run / push hand-over is checked end to end. The
`if:` conditions between steps are checked in test_workflow_files.py.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from .gitrepo import git

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.load((ROOT / "action.yml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
STEPS = {step.get("id"): step for step in ACTION["runs"]["steps"]}

FAKE_CROSSPOST = r"""#!/usr/bin/env bash
# Stand-in for crosspost: records its arguments, appends one ledger line, writes a report.
printf '%s\n' "$*" >>"$FAKE_ARGS"
summary=""
dry=false
while (($#)); do
  case "$1" in
    --summary) summary="$2"; shift ;;
    --dry-run) dry=true ;;
  esac
  shift
done
[[ -n "${FAKE_SLEEP:-}" ]] && sleep "$FAKE_SLEEP"
[[ "$dry" == true ]] || printf '{"key": "c/e/m/%s", "state": "published"}\n' "$FAKE_LINE" \
  >>"$CROSSPOST_LEDGER"
[[ -n "$summary" ]] && printf '## crosspost run\n' >>"$summary"
exit "${FAKE_EXIT:-0}"
"""


class Runner:
    """Runs the action's steps in one checkout, keeping step outputs as the runner does."""

    def __init__(self, tmp_path: Path, checkout: Path, env: dict[str, str], **inputs: str):
        self.tmp = tmp_path
        self.checkout = checkout
        self.inputs = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
        self.inputs.update(inputs)
        self.inputs["token"] = ""
        self.outputs: dict[str, dict[str, str]] = {}
        self.summary = tmp_path / "summary.md"
        self.args = tmp_path / "crosspost-args"
        bindir = tmp_path / "bin"
        bindir.mkdir(parents=True, exist_ok=True)
        fake = bindir / "crosspost"
        fake.write_text(FAKE_CROSSPOST)
        fake.chmod(0o755)
        self.env = {**env, "PATH": f"{bindir}:{env['PATH']}", "FAKE_ARGS": str(self.args)}

    def expand(self, value: str) -> str:
        def one(m: re.Match[str]) -> str:
            expr = m[1].strip()
            if expr == "github.action_path":
                return str(ROOT)
            if expr.startswith("inputs."):
                return self.inputs[expr.removeprefix("inputs.")]
            step, outputs, key = expr.removeprefix("steps.").split(".")
            assert outputs == "outputs"
            return self.outputs.get(step, {}).get(key, "")

        return re.sub(r"\$\{\{(.*?)\}\}", one, value)

    def step(self, step_id: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        step = STEPS[step_id]
        assert "${{" not in step["run"], "expressions belong in env:, not in the script"
        output = self.tmp / f"output-{step_id}"
        output.write_text("")
        env = {
            **self.env,
            **{k: self.expand(v) for k, v in step.get("env", {}).items()},
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            **extra_env,
        }
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=self.checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.outputs[step_id] = dict(
            line.split("=", 1) for line in output.read_text().splitlines() if "=" in line
        )
        return done


def branch_ledger(origin: Path, env: dict[str, str]) -> list[str]:
    return git("show", "crosspost-state:state/ledger.jsonl", cwd=origin, env=env).splitlines()


def test_failed_posts_still_push_the_ledger(tmp_path, origin, clone, env):
    runner = Runner(tmp_path, clone("run"), env)
    assert runner.step("restore").returncode == 0
    ledger = runner.outputs["restore"]["ledger"]
    assert ledger == str(runner.checkout / "state" / "ledger.jsonl")

    run = runner.step("run", FAKE_EXIT="3", FAKE_LINE="one")
    assert run.returncode == 3
    assert runner.outputs["run"] == {"exit-code": "3"}
    assert "::error title=crosspost::Some posts failed or were missed" in run.stdout
    assert runner.args.read_text().split() == [
        "--root",
        ".",
        "run",
        "--summary",
        str(runner.summary),
    ]
    assert runner.summary.read_text() == "## crosspost run\n"

    push = runner.step("push")
    assert push.returncode == 0, push.stderr
    assert branch_ledger(origin, env) == ['{"key": "c/e/m/one", "state": "published"}']


def test_next_run_sees_the_previous_ledger(tmp_path, origin, clone, env):
    first = Runner(tmp_path / "1", clone("first"), env)
    for step_id in ("restore", "run", "push"):
        assert first.step(step_id, FAKE_LINE="one").returncode == 0

    second = Runner(tmp_path / "2", clone("second"), env)
    assert second.step("restore").returncode == 0
    ledger = Path(second.outputs["restore"]["ledger"])
    assert ledger.read_text() == '{"key": "c/e/m/one", "state": "published"}\n'


def test_dry_run_passes_the_flag_and_writes_no_ledger_line(tmp_path, origin, clone, env):
    runner = Runner(tmp_path, clone("run"), env, **{"dry-run": "true"})
    assert runner.step("restore").returncode == 0
    assert runner.step("run", FAKE_LINE="x").returncode == 0
    assert "--dry-run" in runner.args.read_text().split()
    assert runner.outputs["run"] == {"exit-code": "0"}


def test_root_in_a_subdirectory(tmp_path, origin, clone, env):
    checkout = clone("run")
    (checkout / "site").mkdir()
    runner = Runner(tmp_path, checkout, env, root="site")
    assert runner.step("restore").returncode == 0
    assert runner.outputs["restore"]["ledger"] == str(checkout / "site" / "state" / "ledger.jsonl")
    assert runner.step("run", FAKE_LINE="sub").returncode == 0
    assert runner.args.read_text().split()[:2] == ["--root", "site"]
    assert runner.step("push").returncode == 0
    assert branch_ledger(origin, env) == ['{"key": "c/e/m/sub", "state": "published"}']


def test_a_stuck_run_is_stopped_and_its_ledger_still_pushed(tmp_path, origin, clone, env):
    runner = Runner(tmp_path, clone("run"), env, **{"timeout-minutes": "0.02"})
    assert runner.step("restore").returncode == 0
    ledger = Path(runner.outputs["restore"]["ledger"])
    ledger.write_text('{"key": "c/e/m/started", "state": "in-doubt"}\n')
    run = runner.step("run", FAKE_SLEEP="30", FAKE_LINE="late")
    assert run.returncode == 124
    assert "stopped after 0.02 minutes" in run.stdout
    assert runner.step("push").returncode == 0
    assert branch_ledger(origin, env) == ['{"key": "c/e/m/started", "state": "in-doubt"}']


def test_state_branch_input_is_used(tmp_path, origin, clone, env):
    runner = Runner(tmp_path, clone("run"), env, **{"state-branch": "ledger-elsewhere"})
    for step_id in ("restore", "run", "push"):
        assert runner.step(step_id, FAKE_LINE="b").returncode == 0
    assert git("show", "ledger-elsewhere:state/ledger.jsonl", cwd=origin, env=env) == (
        '{"key": "c/e/m/b", "state": "published"}\n'
    )
