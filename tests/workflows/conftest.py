"""Fixtures for the workflow tests: a local bare "origin" with a main branch, and its clones.

git sees no system or user configuration, so the tests do not depend on the machine.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .gitrepo import git


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment in which git sees no system or user configuration."""
    home = tmp_path / "home"
    home.mkdir()
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "LANG", "LC_ALL", "TMPDIR"}}
    return {
        **keep,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "Test Author",
        "GIT_AUTHOR_EMAIL": "author@example.org",
        "GIT_COMMITTER_NAME": "Test Committer",
        "GIT_COMMITTER_EMAIL": "committer@example.org",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": "protocol.file.allow",
        "GIT_CONFIG_VALUE_0": "always",
        "GIT_CONFIG_KEY_1": "init.defaultBranch",
        "GIT_CONFIG_VALUE_1": "main",
        "CROSSPOST_STATE_BACKOFF": "0",
    }


@pytest.fixture
def origin(tmp_path: Path, env: dict[str, str]) -> Path:
    """A bare repository whose main branch has one commit, like a campaigns repository."""
    bare = tmp_path / "origin.git"
    git("init", "--quiet", "--bare", bare, cwd=tmp_path, env=env)
    seed = tmp_path / "origin-work"
    git("clone", "--quiet", bare, seed, cwd=tmp_path, env=env)
    (seed / "campaigns").mkdir()
    (seed / "campaigns" / "example.yaml").write_text("name: Example\n")
    git("add", ".", cwd=seed, env=env)
    git("commit", "--quiet", "-m", "Add a campaign", cwd=seed, env=env)
    git("push", "--quiet", "origin", "main", cwd=seed, env=env)
    return bare


@pytest.fixture
def clone(tmp_path: Path, origin: Path, env: dict[str, str]):
    """clone(name): a fresh checkout of origin, as a workflow run would have."""

    def make(name: str) -> Path:
        path = tmp_path / name
        git("clone", "--quiet", origin, path, cwd=tmp_path, env=env)
        return path

    return make
