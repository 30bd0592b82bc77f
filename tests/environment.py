"""The environment of a crosspost subprocess, shared by the tests and benchmarks/run.py.

Plain Python, no pytest: the benchmarks import it in an environment made by the README's
set-up command alone (`pip install -e .`, without the test extras).
"""

from __future__ import annotations

import os


def cli_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a CLI subprocess: short retry waits, and `env` on top."""
    full_env = {
        k: v
        for k, v in os.environ.items()
        # CROSSPOST_LINK_CARDS=0 (tests/conftest.py): no Bluesky link card fetches a page.
        if not k.startswith("CROSSPOST_") or k in ("CROSSPOST_CACHE_DIR", "CROSSPOST_LINK_CARDS")
    }
    full_env.update(
        {
            "CROSSPOST_RETRY_BASE": "0.05",
            "CROSSPOST_RETRY_CAP": "0.5",
            "CROSSPOST_RETRY_BUDGET": "3",
            "CROSSPOST_LOCK_TIMEOUT": "2",
        }
    )
    full_env.update(env or {})
    return full_env
