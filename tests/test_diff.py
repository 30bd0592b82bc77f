"""`crosspost diff --base REF`: what a change does to the posts, as a pull request shows it."""

from __future__ import annotations

import subprocess

import pytest

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}


def git(root, *args):
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                   env={**GIT_ENV, "PATH": "/usr/bin:/bin", "HOME": str(root)})


@pytest.fixture
def history(repo):
    """The conftest repository with a second event, committed as the base revision."""
    text = (repo.root / "campaigns/spring.yaml").read_text()
    repo.write("campaigns/spring.yaml", text + """\
  - id: second
    starts: "2030-05-15T18:00"
    title: {en: "Second talk", tr: "İkinci konuşma"}
    image: media/first.png
    image_alt: {en: "A seedling", tr: "Bir fide"}
""")
    git(repo.root, "init", "-q", "-b", "main")
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-q", "-m", "base")
    return repo


def test_moving_one_event_changes_exactly_its_posts_in_every_language_and_channel(cli, history):
    path = history.root / "campaigns/spring.yaml"
    path.write_text(path.read_text().replace("2030-05-15T18:00", "2030-05-16T19:00"))

    result = cli("diff", "--base", "HEAD", "--root", history.root, "--format", "json")

    assert result.code == 0, result.output
    data = result.json()
    assert data["added"] == [] and data["removed"] == []
    changed = {c["new"]["key"]: c for c in data["changed"]}
    assert set(changed) == {f"spring/second/{m}/{ch}" for m in ("announce", "live")
                            for ch in ("facebook-en", "facebook-tr", "x-en")}
    live = changed["spring/second/live/facebook-en"]
    assert (live["old"]["due_at"], live["new"]["due_at"]) == ("2030-05-15T16:45:00Z",
                                                              "2030-05-16T17:45:00Z")
    assert data["unchanged"] == 6


def test_markdown_shows_old_and_new_times_and_texts(cli, history):
    history.write("templates/live/tr.j2", "Başlıyoruz: {{ event.title }}")

    result = cli("diff", "--base", "HEAD", "--root", history.root, "--format", "markdown")

    assert result.code == 0
    assert result.stdout.startswith("<!-- crosspost-preview -->")
    assert "2 changed" in result.stdout
    assert "> Başlıyoruz: İkinci konuşma" in result.stdout
    assert "15 dakika sonra başlıyoruz: İkinci konuşma" in result.stdout  # the old text


def test_added_and_removed_posts(cli, history):
    path = history.root / "campaigns/spring.yaml"
    path.write_text(path.read_text().replace(
        "  - {id: live, before: 15m, template: live, expires: 30m}\n", ""))
    history.write("channels.yaml", (history.root / "channels.yaml").read_text())

    result = cli("diff", "--base", "HEAD", "--root", history.root, "--format", "json")

    assert [p["moment"] for p in result.json()["removed"]] == ["live"] * 6


def test_an_invalid_working_tree_exits_1_and_says_where(cli, history):
    history.write("templates/live/en.j2", "{{ oops }}")

    result = cli("diff", "--base", "HEAD", "--root", history.root)

    assert result.code == 1
    assert "templates/live/en.j2:1:1: 'oops' is undefined" in result.output


def test_an_unknown_revision_is_a_usage_error(cli, history):
    result = cli("diff", "--base", "no-such-branch", "--root", history.root)

    assert result.code == 2
    assert "'no-such-branch' is not a git revision" in result.output
