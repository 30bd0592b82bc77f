"""Running git in tests, isolated from the machine's configuration."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(*args: str | Path, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["git", *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout
