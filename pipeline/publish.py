"""Publish what is due now, exactly once, and record every step in the ledger.

The order of every send is: write `sending` (fsynced) -> call the platform -> write the
outcome. A process killed anywhere in between leaves `sending` as the last line, which the next
run resolves by looking on the platform before anything is sent again. Channels are published
concurrently and independently; the posts of one channel go out in due order.

On channels whose platform schedules natively, pipeline/native.py first settles, reconciles,
confirms and hands over; posts with a copy in the platform's scheduler are its business, and
come back to the direct path here only when that copy is gone.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.errors import (
    DuplicateRefused,
    FatalChannelError,
    HeldForPerson,
    OutcomeUnknown,
    Problem,
    PublishError,
    RateLimited,
    TemporaryError,
)
from pipeline.ledger import FAILED, IN_DOUBT, MISSED, PUBLISHED, SENDING, Ledger, PostHistory
from pipeline.native import items_by_channel, owned, plan_steps
from pipeline.native_run import NativeRun
from pipeline.platforms import adapter_class
from pipeline.platforms.base import (
    Adapter,
    AttemptTokens,
    IdempotentResend,
    LookupUnavailable,
    OutgoingPost,
    Published,
    redact,
)
from pipeline.prepare import Selection, prepare
from pipeline.render import RenderedPost
from pipeline.settings import Settings, secret_values

log = logging.getLogger(__name__)

#: a post may be found on the platform a little before our clock said we sent it
LOOKUP_MARGIN = timedelta(minutes=10)


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


@dataclass
class RunResult:
    """Everything one `crosspost run` did."""

    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    dry_run: bool = False
    #: (platform, text) of every post or thread part this run sent, for the bill (pipeline.costs)
    sent: list[tuple[str, str]] = field(default_factory=list)

    def bill_lines(self) -> list[str]:
        """What this run's sends cost on platforms that bill per post (X)."""
        from pipeline.costs import bills

        return [b.line("sent") for b in bills(self.sent)]

    @property
    def exit_code(self) -> int:
        """1 invalid campaigns; 3 posts failed, missed or in doubt; else 0."""
        if self.problems:
            return 1
        if any(o.state in (FAILED, MISSED, IN_DOUBT) for o in self.outcomes):
            return 3
        return 0


def run(
    settings: Settings,
    selection: Selection = Selection(),
    *,
    dry_run: bool = False,
    echo: Callable[..., None] = print,
    stop: threading.Event | None = None,
    env: dict[str, str] | None = None,
    policy: RetryPolicy | None = None,
) -> RunResult:
    """Validate everything, then publish every due post of the valid campaigns."""
    prepared = prepare(settings.root, selection)
    result = RunResult(
        problems=prepared.problems,
        dry_run=dry_run,
        invalid=sorted(set(prepared.repo.invalid) | prepared.invalid),
    )
    for problem in result.problems:
        echo(str(problem), err=True)
    if result.invalid:
        echo(f"not publishing invalid campaign(s): {', '.join(result.invalid)}", err=True)
    ledger = Ledger(settings.ledger)
    now = settings.clock()
    printing = threading.Lock()

    def report(o: Outcome) -> None:
        # Each outcome is printed as it happens: a run with retries can take a while.
        with printing:
            echo(f"{o.state:<14} {o.key}" + (f"  {o.detail}" if o.detail else ""))

    if dry_run:
        result.outcomes = _dry_run(prepared, ledger.read(), now, settings.root, selection)
        for outcome in result.outcomes:
            report(outcome)
    else:
        with ledger.locked():
            histories = ledger.read()
            work = _due(prepared.publishable(), histories, now)
            native = _native_work(prepared, histories, now, settings.root, selection)
            result.outcomes, result.sent = _publish_all(
                work,
                native,
                histories,
                ledger,
                settings,
                stop or threading.Event(),
                os.environ if env is None else env,
                policy or RetryPolicy.from_env(),
                report,
            )
    for line in result.bill_lines():
        echo(line)
    if not result.outcomes:
        echo(f"nothing due at {now.isoformat(timespec='seconds')}", err=True)
    return result


def _due(posts: list[RenderedPost], histories: dict[str, PostHistory], now: datetime):
    """(post, history) pairs that need work now, grouped by channel, in due order."""
    work: dict[str, list[tuple[RenderedPost, PostHistory]]] = {}
    for post in posts:
        hist = histories.get(post.key) or PostHistory(post.key)
        if (
            post.planned.due_at > now
            or hist.published
            or (hist.last == MISSED and not hist.in_doubt)
            or owned(hist)  # a copy waits in the platform's scheduler: native.py's business
        ):
            continue
        work.setdefault(post.planned.channel.name, []).append((post, hist))
    return work


def _native_work(prepared, histories, now, root, selection):
    """channel name -> (channel, scheduler class, items) for channels with a step to take."""
    found = items_by_channel(prepared, histories, root, selection)
    return {
        name: (channel, cls, items)
        for name, (channel, cls, items) in found.items()
        if plan_steps(items, now, cls, channel.schedules_natively)
    }


def _dry_run(prepared, histories, now, root, selection) -> list[Outcome]:
    from pipeline.native import dry_run

    out = []
    for name, (channel, cls, items) in _native_work(
        prepared, histories, now, root, selection
    ).items():
        for key, state, detail in dry_run(items, now, cls, channel.schedules_natively):
            out.append(Outcome(key, name, state, detail))
    for channel, items in _due(prepared.publishable(), histories, now).items():
        for post, hist in items:
            if hist.in_doubt:
                state = "would-resolve"
            elif post.planned.in_window(now):
                state = "would-publish"
            else:
                state = "would-miss"
            detail = post.text.replace("\n", " ")[:60]
            out.append(Outcome(post.key, channel, state, detail))
    return out


def _publish_all(work, native, histories, ledger, settings, stop, env, policy, report):
    """(outcomes, sent parts) of every channel's native steps and due posts, in parallel."""
    runs = []
    for name in sorted(set(work) | set(native)):
        items = work.get(name, [])
        channel = items[0][0].planned.channel if items else native[name][0]
        run = ChannelRun(
            channel, items, ledger, settings.root, settings.clock, stop, env, policy, report
        )
        if name in native:
            _, cls, native_items = native[name]
            run.native = NativeRun(run, channel, cls, native_items, histories)
        runs.append(run)
    if not runs:
        return [], []
    with ThreadPoolExecutor(max_workers=len(runs), thread_name_prefix="channel") as pool:
        futures = [pool.submit(r.run) for r in runs]
        outcomes = []
        for future in futures:
            outcomes.extend(future.result())
    return outcomes, [sent for r in runs for sent in r.sent]


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

    # --- what the native engine (pipeline/native.py) uses ------------------------------------

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
            self._outcome(post, IN_DOUBT, hist.error or "")
            return
        if hist.in_doubt and not self._resolve(post, hist):
            return
        if hist.published:
            self._outcome(post, PUBLISHED, hist.first[1] or "")
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
            self._leave_in_doubt(
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
                self._leave_in_doubt(
                    post,
                    hist,
                    i + 1,
                    "the platform did not say the id of the "
                    "previous part, so the thread cannot go on",
                )
                return
        self._outcome(post, PUBLISHED, hist.first[1] or "")

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
            self._record(post, hist, SENDING, part=part, token=token)
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
                    then = self._ask_a_person(post, part)
                self._leave_in_doubt(post, hist, part, f"{exc.message}; {then}")
                return None
            except DuplicateRefused as exc:
                # validate guarantees unique texts, so the platform has this very post already.
                self._record(
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
                self._record(
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

    # --- in-doubt resolution ---------------------------------------------------------------------

    def _resolve(self, post: RenderedPost, hist: PostHistory) -> bool:
        """Find out whether the part in doubt is on the platform. True: carry on with the post."""
        part = hist.sending if hist.sending is not None else max(hist.parts, default=-1) + 1
        if self.fatal or self.adapter is None:
            self._outcome(post, IN_DOUBT, f"cannot look on the platform: {self.fatal}")
            return False
        if part >= len(post.parts):
            self._leave_in_doubt(
                post,
                hist,
                part,
                "the post's text changed since it was sent; check the platform by hand",
            )
            return False
        # It cannot have gone out before it was due, nor before the send we doubt was started.
        sent = _parse_ts(hist.sending_since or hist.updated_at)
        if isinstance(self.adapter, IdempotentResend):
            decided = self._resend_with_key(post, hist, part, sent)
            if decided is not None:
                return decided
        since = min(post.planned.due_at, sent) - LOOKUP_MARGIN
        token = hist.tokens.get(part)
        try:
            if token and isinstance(self.adapter, AttemptTokens):
                found = self.adapter.find_attempt(token, post.parts[part], since)
            else:
                found = self.adapter.find(post.parts[part], since)
        except LookupUnavailable as exc:
            return self._resolve_blind(post, hist, part, str(exc))
        except PublishError as exc:
            self._outcome(
                post,
                IN_DOUBT,
                f"could not look on the platform ({exc.message}); the next run tries again",
            )
            return False
        if found:
            self._record(
                post,
                hist,
                PUBLISHED,
                part=part,
                remote_id=found.remote_id,
                url=found.url,
                error="found on the platform after an interrupted send",
            )
            return True
        self._record(
            post,
            hist,
            FAILED,
            part=part,
            error="not on the platform after an interrupted send; sending it again",
        )
        return True

    def _resend_with_key(self, post, hist, part: int, sent: datetime) -> bool | None:
        """Settle a doubt by sending the same request again, where the platform answers a
        repeated idempotency key with the original post. None: look instead (the key may be
        forgotten). Times are real (the ledger's), not `--now`: the platform's clock counts.
        """
        age = datetime.now(UTC) - sent
        settle = _seconds_env("CROSSPOST_SETTLE_SECONDS", self.adapter.settle)
        if age < settle:
            # An old server without the key lock doubles a repeat sent while the first runs.
            self._leave_in_doubt(
                post,
                hist,
                part,
                f"the send started {age.total_seconds():.0f} s ago may still be running on "
                f"{self.channel.name}; a run after {settle.total_seconds():.0f} s sends it again "
                "with the same idempotency key",
            )
            return False
        window = self.adapter.idempotency_window - LOOKUP_MARGIN
        if age < window and post.planned.in_window(self.clock()):
            hist.sending = None  # the platform answers the repeat with the original, if any
            return True
        return None

    def _ask_a_person(self, post, part: int) -> str:
        return (
            f"check whether part {part + 1}/{len(post.parts)} "
            f'"{post.parts[part][:40]}…" is on {self.channel.name}, then record it with '
            f"`crosspost resolve {post.key} --published URL` or `--not-sent`"
        )

    def _resolve_blind(self, post, hist, part: int, why: str) -> bool:
        """No way to look: where the platform refuses duplicates (a capability of the adapter),
        a single post is re-sent and a refusal proves it is there; else a person decides."""
        if len(post.parts) > 1 or not self.adapter.refuses_duplicates:
            self._leave_in_doubt(
                post, hist, part, f"cannot look up posts ({why}); {self._ask_a_person(post, part)}"
            )
            return False
        if not post.planned.in_window(self.clock()):
            self._leave_in_doubt(
                post,
                hist,
                part,
                f"cannot look up posts ({why}) and the window is "
                "closed, so it is not re-sent; check the platform by hand",
            )
            return False
        # Re-sending is safe: if it went out before, the platform refuses the duplicate.
        hist.sending = None
        return True

    # --- recording -------------------------------------------------------------------------------

    def _record(
        self, post, hist: PostHistory, state: str, part: int | None = None, **fields
    ) -> None:
        rec = self.ledger.append(
            post.key, state, part=part, parts=len(post.parts), channel=self.channel.name, **fields
        )
        hist.apply(rec)

    def _fail(self, post, hist, exc: PublishError, part: int | None, note: str = "") -> None:
        error = f"{exc.kind}: {exc.message}" + (f" {note}" if note else "")
        # A channel without secrets fails every run the same way: say it once in the ledger.
        if not (hist.last == FAILED and hist.error == error and not hist.in_doubt):
            self._record(post, hist, FAILED, part=part, error=error)
        self._outcome(post, FAILED, error)

    def _miss(self, post, hist) -> None:
        self._record(
            post,
            hist,
            MISSED,
            error=f"its window closed at {post.planned.expires_at.isoformat(timespec='minutes')}",
        )
        self._outcome(post, MISSED, hist.error or "")

    def _leave_in_doubt(self, post, hist, part: int, message: str) -> None:
        if not (hist.last == IN_DOUBT and hist.error == message):
            self._record(post, hist, IN_DOUBT, part=part, error=message)
        self._outcome(post, IN_DOUBT, message)

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
        self._record(post, hist, IN_DOUBT, part=part, error=message, held=True)
        self._outcome(post, IN_DOUBT, message)

    def _outcome(self, post, state: str, detail: str) -> None:
        self.report(post.key, state, detail)


def _until(when: datetime) -> float:
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _seconds_env(name: str, default: timedelta) -> timedelta:
    """A duration from the environment in seconds (tests shorten waits), else `default`."""
    value = os.environ.get(name)
    return timedelta(seconds=float(value)) if value else default


def _parse_ts(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC) - timedelta(days=1)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
