"""`crosspost daemon`: `run` on a schedule, one at a time, until SIGTERM or SIGINT.

A signal sets a stop flag: the post in flight is finished and recorded, no new post is started,
and the daemon exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

import schedule

from pipeline.errors import CrosspostError, LedgerBusy
from pipeline.prepare import Selection
from pipeline.publish import run
from pipeline.settings import Settings

log = logging.getLogger(__name__)


def serve(settings: Settings, selection: Selection, every: float, echo: Callable[..., None]) -> int:
    """Run every `every` seconds until a signal; the exit code is 0 after a clean stop."""
    stop = threading.Event()

    def on_signal(signum, _frame):
        echo(
            f"crosspost daemon: {signal.Signals(signum).name}: finishing the post in flight, "
            "then stopping",
            err=True,
        )
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}

    def tick():
        try:
            result = run(settings, selection, echo=echo, stop=stop)
            log.info("run finished with exit code %d", result.exit_code)
        except LedgerBusy as exc:
            echo(f"crosspost daemon: {exc}", err=True)
        except CrosspostError as exc:
            echo(f"crosspost daemon: {exc}", err=True)

    scheduler = schedule.Scheduler()
    # `schedule` runs jobs in this thread, so two ticks never overlap; a slow run delays the next.
    scheduler.every(every).seconds.do(tick)
    echo(f"crosspost daemon: running every {every:g} s; stop with SIGTERM or Ctrl-C", err=True)
    try:
        tick()
        while not stop.is_set():
            scheduler.run_pending()
            idle = scheduler.idle_seconds
            stop.wait(min(max(idle if idle is not None else every, 0.05), 1.0))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    echo("crosspost daemon: stopped", err=True)
    return 0
