"""Global settings of every command: repository root, clock, ledger path, logging.

They come from the command line (before or after the command name) or from the environment
(`CROSSPOST_NOW`, `CROSSPOST_LEDGER`, `CROSSPOST_LOG_LEVEL`), and are resolved once here.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.errors import UsageError

DEFAULT_LEDGER = Path("state") / "ledger.jsonl"
#: posts on channels without native scheduling whose window is shorter get a warning
DEFAULT_WINDOW_WARNING = timedelta(hours=2)
#: suffixes of the environment variables that hold secrets (DESIGN.md)
SECRET_SUFFIXES = (
    "_PAGE_TOKEN",
    "_API_KEY",
    "_API_SECRET",
    "_ACCESS_TOKEN",
    "_ACCESS_TOKEN_SECRET",
    "_APP_PASSWORD",
    "_BOT_TOKEN",
)


@dataclass(frozen=True)
class Settings:
    """What every command needs to know about where and when it runs."""

    root: Path
    now: datetime | None  # None: the real clock
    ledger: Path
    log_level: int
    #: CROSSPOST_WINDOW_WARNING: windows shorter than this are warned about
    window_warning: timedelta = DEFAULT_WINDOW_WARNING

    def clock(self) -> datetime:
        """The current time (aware UTC), or the pretended one."""
        return self.now or datetime.now(UTC)


def parse_now(text: str) -> datetime:
    """`--now`: ISO-8601; a time without offset is UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--now {text!r} is not an ISO-8601 time, e.g. 2022-10-08T15:45Z "
            "or 2022-10-08T16:45+01:00"
        ) from None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def resolve(root: str | None, now: str | None, ledger: str | None, verbose: bool) -> Settings:
    """Settings from options (None when not given) and the environment."""
    root_path = Path(root or ".").resolve()
    if not root_path.is_dir():
        raise UsageError(f"--root {root_path} is not a directory")
    now_text = now or os.environ.get("CROSSPOST_NOW") or None
    ledger_text = ledger or os.environ.get("CROSSPOST_LEDGER") or None
    ledger_path = Path(ledger_text).resolve() if ledger_text else root_path / DEFAULT_LEDGER
    level_name = "DEBUG" if verbose else os.environ.get("CROSSPOST_LOG_LEVEL", "WARNING")
    level = logging.getLevelName(level_name.upper())
    if not isinstance(level, int):
        raise UsageError(f"CROSSPOST_LOG_LEVEL={level_name!r}: use DEBUG, INFO, WARNING or ERROR")
    return Settings(
        root_path,
        parse_now(now_text) if now_text else None,
        ledger_path,
        level,
        _window_warning(os.environ.get("CROSSPOST_WINDOW_WARNING", "")),
    )


def _window_warning(text: str) -> timedelta:
    """CROSSPOST_WINDOW_WARNING, a duration such as 2h or 90m (empty: the default)."""
    if not text.strip():
        return DEFAULT_WINDOW_WARNING
    from pipeline.model import Duration

    try:
        value = Duration.parse(text)
    except ValueError as exc:
        raise UsageError(f"CROSSPOST_WINDOW_WARNING: {exc}") from None
    return timedelta(days=value.days) + value.exact


def secret_values(env: dict[str, str] | None = None) -> list[str]:
    """Every secret value in the environment, longest first (for redaction)."""
    env = os.environ if env is None else env
    values = {v for k, v in env.items() if k.endswith(SECRET_SUFFIXES) and len(v) >= 4}
    return sorted(values, key=len, reverse=True)


class RedactingFormatter(logging.Formatter):
    """Formats log records, then removes every secret of the environment from the text."""

    def format(self, record: logging.LogRecord) -> str:
        from pipeline.platforms.base import redact

        return redact(super().format(record), secret_values())


def setup_logging(level: int) -> None:
    """Log to stderr at `level`, redacted; keep SDK loggers that print headers quiet."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # tweepy logs request headers (Authorization) at DEBUG; oauthlib logs signatures.
    for name in ("tweepy", "oauthlib", "requests_oauthlib"):
        logging.getLogger(name).setLevel(max(level, logging.INFO))
