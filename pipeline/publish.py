"""Publish what is due now, exactly once, and record every step in the ledger.

This module is the run: validate, find what is due, and publish every channel concurrently and
independently (one failing platform never blocks the others). One channel's posts go out in due
order through pipeline/channel_run.py, which frames every send with the ledger (`sending` before
the call, the outcome after it); a send left unfinished is settled by pipeline/doubt.py before
anything is sent again.

On channels whose platform schedules natively, pipeline/native.py first settles, reconciles,
confirms and hands over; posts with a copy in the platform's scheduler are its business, and
come back to the direct path here only when that copy is gone.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from pipeline.channel_run import ChannelRun, Outcome, RetryPolicy
from pipeline.errors import Problem
from pipeline.ledger import FAILED, IN_DOUBT, MISSED, Ledger, PostHistory
from pipeline.native import items_by_channel, owned, plan_steps, stranded_copies
from pipeline.native_run import NativeRun
from pipeline.prepare import Selection, prepare
from pipeline.render import RenderedPost
from pipeline.settings import Settings

__all__ = ["ChannelRun", "Outcome", "RetryPolicy", "RunResult", "run"]


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

    def strand(histories) -> None:
        # Their channel is gone, so nothing here can reach them: only a person can.
        for copy in stranded_copies(histories, prepared.repo.channels):
            echo(f"warning: {copy.key}: {copy.message()}", err=True)

    if dry_run:
        histories = ledger.read()
        strand(histories)
        result.outcomes = _dry_run(prepared, histories, now, settings.root, selection)
        for outcome in result.outcomes:
            report(outcome)
    else:
        with ledger.locked():
            histories = ledger.read()
            strand(histories)
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
