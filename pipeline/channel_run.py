"""One channel's publishing run: its due posts in order, exactly once, with bounded retries.

The order of every send is: write `sending` (fsynced, with the attempt token where the adapter
takes one) -> call the platform -> write the outcome. A process killed anywhere in between
leaves `sending` as the last line, which the next run settles (pipeline/doubt.py) before
anything is sent again. An outcome the platform leaves unknown is recorded `in-doubt`, never
retried blindly.

The run is also the `host` of the native-scheduling engine (pipeline/native_run.py), which
uses its adapter, clock, retry policy, records and direct path.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline import doubt
from pipeline.errors import (
    DuplicateRefused,
    FatalChannelError,
    HeldForPerson,
    OutcomeUnknown,
    PublishError,
    RateLimited,
    TemporaryError,
)
from pipeline.ledger import FAILED, IN_DOUBT, MISSED, PUBLISHED, SENDING, Ledger, PostHistory
from pipeline.native_run import NativeRun
from pipeline.platforms import adapter_class
from pipeline.platforms.base import (
    Adapter,
    AttemptTokens,
    IdempotentResend,
    OutgoingPost,
    Published,
    redact,
)
from pipeline.render import RenderedPost
from pipeline.settings import secret_values

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds on retrying temporary errors within one run (per post)."""

    attempts: int = 4
    base: float = 1.0  # first backoff in seconds, doubled each time
    cap: float = 8.0  # longest single wait
    budget: float = 30.0  # longest total wait for one post

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """Defaults, adjustable by CROSSPOST_RETRY_{ATTEMPTS,BASE,CAP,BUDGET} (tests, CI)."""
        kw: dict[str, Any] = {}
        for name, kind in (("attempts", int), ("base", float), ("cap", float), ("budget", float)):
            value = os.environ.get(f"CROSSPOST_RETRY_{name.upper()}")
            if value:
                kw[name] = kind(value)
        return cls(**kw)


@dataclass(frozen=True)
class Outcome:
    """What became of one post in this run."""

    key: str
    channel: str
    state: str  # published | failed | missed | in-doubt | would-publish | would-miss | ...
    detail: str = ""


class ChannelRun:
    """Publishes the due posts of one channel, in order, with bounded retries."""

    def __init__(
        self,
        channel,
        items,
        ledger: Ledger,
        root: Path,
        clock,
        stop,
        env,
        policy: RetryPolicy,
        report: Callable[[Outcome], None] = lambda o: None,
    ):
        self.items, self.root, self._report = items, root, report
        self.channel = channel
        self.native: NativeRun | None = None
        self.ledger, self.clock, self.stop, self.policy = ledger, clock, stop, policy
        self.outcomes: list[Outcome] = []
        #: (platform, text) of each part sent in this run
        self.sent: list[tuple[str, str]] = []
        self.fatal: FatalChannelError | None = None
        self.adapter: Adapter | None = None
        try:
            self.adapter = adapter_class(self.channel.platform)(self.channel, env)
        except FatalChannelError as exc:
            self.fatal = exc

    def run(self) -> list[Outcome]:
        """Settle and reconcile scheduled copies, hand over, then publish the due posts."""
        try:
            if self.native is not None:
                self.native.run()
            for post, hist in self.items:
                if self.stop.is_set():
                    log.info("stopping before %s: asked to stop", post.key)
                    break
                try:
                    self._handle(post, hist)
                except Exception as exc:  # a bug must not take the other posts down with it
                    self.internal_error(post.key, post, hist, exc)
        finally:
            if self.adapter:
                self.adapter.close()
        return self.outcomes

    # --- what the native engine (pipeline/native_run.py) and doubt.py use --------------------

    def internal_error(self, key: str, post, hist: PostHistory, exc: Exception) -> None:
        """Report a bug of ours for one post, without secrets, and go on with the others."""
        message = redact(f"{type(exc).__name__}: {exc}", secret_values())
        log.error(
            "%s: unexpected error: %s", key, message, exc_info=log.isEnabledFor(logging.DEBUG)
        )
        state = IN_DOUBT if hist.in_doubt or hist.handing_in_doubt else FAILED
        self.report(key, state, f"internal error: {message}")

    def report(self, key: str, state: str, detail: str) -> None:
        """One outcome of this run."""
        outcome = Outcome(key, self.channel.name, state, detail)
        self.outcomes.append(outcome)
        self._report(outcome)

    def publish_directly(self, post: RenderedPost, hist: PostHistory) -> None:
        """The direct path for one post (its copy is gone): publish in its window, else missed."""
        self._handle(post, hist)

    def backoff(self, attempt: int, reset_at: datetime | None = None) -> float:
        """Seconds to wait before retry `attempt` (the platform's reset time when it says)."""
        return _until(reset_at) if reset_at else self._backoff(attempt)

    # --- one post -----------------------------------------------------------------------------

    def _handle(self, post: RenderedPost, hist: PostHistory) -> None:
        if hist.held:  # a person decides (`crosspost resolve`); nothing is sent or looked up
            self.outcome(post, IN_DOUBT, hist.error or "")
            return
        if hist.in_doubt and not doubt.resolve(self, post, hist):
            return
        if hist.published:
            self.outcome(post, PUBLISHED, hist.first[1] or "")
            return
        if not post.planned.in_window(self.clock()):
            self._miss(post, hist)
            return
        if self.fatal:
            self._fail(post, hist, self.fatal, part=None)
            return
        self._send_parts(post, hist)

    def _send_parts(self, post: RenderedPost, hist: PostHistory) -> None:
        parts = post.parts
        start = next((i for i in range(len(parts)) if i not in hist.parts), len(parts))
        reply_to = hist.parts[start - 1][0] if start else None
        if start and reply_to is None:
            self.leave_in_doubt(
                post,
                hist,
                start,
                f"part {start} of the thread is on the platform "
                "but its id is unknown, so the rest cannot reply to it",
            )
            return
        for i in range(start, len(parts)):
            planned = post.planned
            out = OutgoingPost(
                post.key,
                parts[i],
                image=(self._image(post) if i == 0 else None),
                image_alt=planned.image_alt if i == 0 else None,
                reply_to=reply_to,
                part=i,
            )
            published = self._send(post, hist, i, out)
            if published is None:
                return
            reply_to = published.remote_id
            if i + 1 < len(parts) and reply_to is None:
                self.leave_in_doubt(
                    post,
                    hist,
                    i + 1,
                    "the platform did not say the id of the "
                    "previous part, so the thread cannot go on",
                )
                return
        self.outcome(post, PUBLISHED, hist.first[1] or "")

    def _image(self, post: RenderedPost) -> Path | None:
        return self.root / post.planned.image if post.planned.image else None

    def _send(self, post, hist, part: int, out: OutgoingPost) -> Published | None:
        """One part, retried on temporary errors; the Published, or None when it did not go."""
        waited, attempt = 0.0, 0
        token = self._token(post, hist, part)
        out = replace(out, token=token)
        while True:
            if not post.planned.in_window(self.clock()):
                self._miss(post, hist)
                return None
            # The token goes to the ledger before the call: a run killed during the call leaves
            # what the next run needs to ask the platform about this very send.
            self.record(post, hist, SENDING, part=part, token=token)
            try:
                published = self.adapter.publish(out)
            except RateLimited as exc:
                delay = _until(exc.reset_at) if exc.reset_at else self._backoff(attempt)
                error = exc
            except TemporaryError as exc:
                delay, error = self._backoff(attempt), exc
            except OutcomeUnknown as exc:
                # The platform may have the post: never send it again without looking first.
                if self.adapter.can_look or isinstance(self.adapter, IdempotentResend):
                    then = f"the next run looks for it on {self.channel.name} before sending"
                    then += " anything again"
                else:
                    then = doubt.ask_a_person(self, post, part)
                self.leave_in_doubt(post, hist, part, f"{exc.message}; {then}")
                return None
            except DuplicateRefused as exc:
                # validate guarantees unique texts, so the platform has this very post already.
                self.record(
                    post,
                    hist,
                    PUBLISHED,
                    part=part,
                    error=f"already on the platform ({exc.message}); its id is unknown",
                )
                return Published(None, None)
            except FatalChannelError as exc:
                self.fatal = exc
                self._fail(post, hist, exc, part)
                return None
            except HeldForPerson as exc:
                self._hold(post, hist, part, exc)
                return None
            except PublishError as exc:
                self._fail(post, hist, exc, part)
                return None
            else:
                self.sent.append((self.channel.platform, out.text))
                self.record(
                    post,
                    hist,
                    PUBLISHED,
                    part=part,
                    remote_id=published.remote_id,
                    url=published.url,
                )
                return published
            attempt += 1
            if (
                attempt >= self.policy.attempts
                or delay > self.policy.cap
                or waited + delay > self.policy.budget
                or self.stop.is_set()
            ):
                retry = "in a later run" if post.planned.expires_at > self.clock() else "no more"
                self._fail(post, hist, error, part, note=f"(retried {attempt - 1}x; retry {retry})")
                return None
            log.info("%s: %s; retrying in %.1f s", post.key, error.message, delay)
            waited += delay
            if self.stop.wait(delay):
                self._fail(post, hist, error, part, note="(stopped while waiting to retry)")
                return None

    def _token(self, post, hist: PostHistory, part: int) -> str | None:
        """The part's attempt token: the one of its first send, or a new one (None: no tokens)."""
        if not isinstance(self.adapter, AttemptTokens):
            return None
        return hist.tokens.get(part) or self.adapter.attempt_token(post.key, part)

    def _backoff(self, attempt: int) -> float:
        return min(self.policy.base * 2**attempt, self.policy.cap)

    # --- recording -------------------------------------------------------------------------------

    def record(
        self, post, hist: PostHistory, state: str, part: int | None = None, **fields
    ) -> None:
        """Append one step of `post` to the ledger (fsynced) and to its history."""
        rec = self.ledger.append(
            post.key, state, part=part, parts=len(post.parts), channel=self.channel.name, **fields
        )
        hist.apply(rec)

    def _fail(self, post, hist, exc: PublishError, part: int | None, note: str = "") -> None:
        error = f"{exc.kind}: {exc.message}" + (f" {note}" if note else "")
        # A channel without secrets fails every run the same way: say it once in the ledger.
        if not (hist.last == FAILED and hist.error == error and not hist.in_doubt):
            self.record(post, hist, FAILED, part=part, error=error)
        self.outcome(post, FAILED, error)

    def _miss(self, post, hist) -> None:
        self.record(
            post,
            hist,
            MISSED,
            error=f"its window closed at {post.planned.expires_at.isoformat(timespec='minutes')}",
        )
        self.outcome(post, MISSED, hist.error or "")

    def leave_in_doubt(self, post, hist, part: int, message: str) -> None:
        """Record that nobody knows whether `part` is out; nothing is sent until that is settled."""
        if not (hist.last == IN_DOUBT and hist.error == message):
            self.record(post, hist, IN_DOUBT, part=part, error=message)
        self.outcome(post, IN_DOUBT, message)

    def _hold(self, post, hist: PostHistory, part: int, exc: HeldForPerson) -> None:
        """Part `part` was refused after earlier parts went out: say all, and wait for a person."""
        total = len(post.parts)
        out = [
            f"{i + 1}/{total} {hist.parts[i][1] or hist.parts[i][0]}" for i in sorted(hist.parts)
        ]
        message = (
            f"part {part + 1}/{total} was refused: {exc.message}. Already out: "
            + (", ".join(out) if out else "nothing")
            + f". Not retried: check {self.channel.name}, then `crosspost resolve {post.key} "
            f"--not-sent` to send part {part + 1} again in the next run, or `--published URL` "
            "once it is there"
        )
        self.record(post, hist, IN_DOUBT, part=part, error=message, held=True)
        self.outcome(post, IN_DOUBT, message)

    def outcome(self, post, state: str, detail: str) -> None:
        """One outcome of this run for `post`."""
        self.report(post.key, state, detail)


def _until(when: datetime) -> float:
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
