"""Errors typed by what the caller must do about them.

User mistakes (campaigns, templates, channels) are `Problem`s collected into a `ProblemList`
and printed as `path:line:col: message`. Publishing errors say whether to retry now, retry in a
later run, give up on the channel, or treat the post as already there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, order=True)
class Problem:
    """One user mistake, located in a file."""

    path: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.message}"


class LocatedWarning(Problem):
    """A located risk that is not a mistake: printed, never changing an exit code."""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: warning: {self.message}"


class CrosspostError(Exception):
    """Base of every error crosspost raises on purpose."""


class ProblemList(CrosspostError):
    """One or more user mistakes; the CLI prints each and exits 1."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(CrosspostError):
    """Wrong command-line usage that click could not catch (exit 2)."""


class LedgerBusy(CrosspostError):
    """Another `crosspost run` holds the ledger lock."""


# --- publishing -----------------------------------------------------------------------------


class PublishError(CrosspostError):
    """A publish did not succeed. `message` is safe to show: no secret is ever put in it."""

    #: short stable name recorded in the ledger (`error` field prefix)
    kind = "error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class TemporaryError(PublishError):
    """Worth retrying within this run (timeouts, 5xx, Graph codes 1/2)."""

    kind = "temporary"


class NotSent(TemporaryError):
    """The request provably never reached the platform (no connection): sending again is safe."""


class RateLimited(TemporaryError):
    """The platform asks us to wait; `reset_at` (aware UTC) when it says until when."""

    kind = "rate-limited"

    def __init__(self, message: str, reset_at: datetime | None = None):
        super().__init__(message)
        self.reset_at = reset_at


class FatalChannelError(PublishError):
    """Nothing on this channel can succeed until a person acts (token, permission, secret)."""

    kind = "fatal"


class DuplicateRefused(PublishError):
    """The platform refuses the text as a duplicate of a post already there."""

    kind = "duplicate"


class RejectedPost(PublishError):
    """The platform refuses this one post for good (policy, bad link, bad request)."""

    kind = "rejected"
    #: the object the call was about does not exist (deleted, or never made)
    gone = False


class HeldForPerson(PublishError):
    """The platform refused one part of a thread after earlier parts went out.

    Sending it again blindly would most likely be refused again, and the parts already out stand
    alone: the post waits for a person (`crosspost resolve`), and no run sends anything of it.
    """

    kind = "held"


class OutcomeUnknown(PublishError):
    """The request may have reached the platform, but no answer came (dropped connection)."""

    kind = "unknown"
