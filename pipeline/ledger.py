"""The ledger: an append-only JSON Lines record of every state change of every post.

One line per change, written and fsynced before the next step, so a process killed at any
instant leaves a ledger that says what was started and what is known to have finished.
A post whose last line for a part is `sending` is in doubt: it may or may not have reached the
platform, and it is never sent again without looking first. Lines are only ever appended, so
git's union merge of two ledgers keeps every line of both.

Posts handed to a platform's own scheduler (pipeline/native.py) follow the same discipline:
`scheduling` (with `op`: hand, edit or delete) before the call, then `scheduled` (the copy's
`remote_id`, `ids`, `at` and the fingerprint `fp` of what was sent), `unscheduled` (the copy was
deleted, the post still stands) or `cancelled` (deleted because the post no longer exists).
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.errors import LedgerBusy

log = logging.getLogger(__name__)

#: record states written to the ledger
SENDING, PUBLISHED, FAILED, MISSED = "sending", "published", "failed", "missed"
IN_DOUBT = "in-doubt"
#: the post key in what is left of a torn line
_TORN_KEY = re.compile(r'"key":\s*"([^"\\]+)"')
#: native scheduling (pipeline/native.py)
SCHEDULING, SCHEDULED = "scheduling", "scheduled"
UNSCHEDULED, CANCELLED = "unscheduled", "cancelled"
#: how long a second `run` waits for the first to release the ledger
LOCK_TIMEOUT = float(os.environ.get("CROSSPOST_LOCK_TIMEOUT", "10"))


@dataclass
class PostHistory:
    """What the ledger says about one post key."""

    key: str
    #: part index -> (remote_id, url) of every part known to be on the platform
    parts: dict[int, tuple[str | None, str | None]] = field(default_factory=dict)
    #: number of parts the post had when last sent
    total: int = 1
    #: the part whose send was started and whose outcome is unknown
    sending: int | None = None
    #: the last outcome recorded: published, failed, missed, in-doubt (None: none yet)
    last: str | None = None
    error: str | None = None
    updated_at: str | None = None
    #: when the part in doubt was started (ISO), for looking it up on the platform
    sending_since: str | None = None
    #: part index -> the attempt token its first send used (adapters with `AttemptTokens`);
    #: every later send of that part reuses it, so the platform can tell it is the same post
    tokens: dict[int, str] = field(default_factory=dict)
    #: the post waits for a person (a thread part refused mid-way): no run sends or looks
    held: bool = False
    #: the channel named by the last record (a post removed from the campaigns has no other)
    channel: str | None = None
    #: the copy waiting in the platform's scheduler: remote_id, ids, at (ISO), fp
    copy: dict[str, Any] | None = None
    #: the `scheduling` record of a hand-over, edit or delete whose outcome is unknown
    native_op: dict[str, Any] | None = None

    @property
    def published(self) -> bool:
        """Every part is on the platform."""
        return self.last == PUBLISHED and all(i in self.parts for i in range(self.total))

    @property
    def in_doubt(self) -> bool:
        """A send was started and nobody knows how it ended."""
        return self.sending is not None or self.last == IN_DOUBT

    @property
    def handing_in_doubt(self) -> bool:
        """A hand-over to the platform's scheduler was started and nobody knows how it ended."""
        return self.native_op is not None and self.native_op.get("op") == "hand"

    @property
    def first(self) -> tuple[str | None, str | None]:
        """(remote_id, url) of the first part, which is the post people open."""
        return self.parts.get(0, (None, None))

    def apply(self, rec: dict[str, Any]) -> None:
        """Fold one ledger line into this history."""
        state, part = rec.get("state"), int(rec.get("part", 0))
        self.total = int(rec.get("parts", self.total))
        self.updated_at = rec.get("ts", self.updated_at)
        self.channel = rec.get("channel", self.channel)
        if state in (SCHEDULING, SCHEDULED, UNSCHEDULED, CANCELLED):
            self._apply_native(state, rec)
            return
        # Any other outcome settles a native operation in flight (e.g. `resolve --not-sent`).
        self.native_op = None
        if state == SENDING:
            self.sending, self.sending_since = part, rec.get("ts")
            if rec.get("token"):
                self.tokens.setdefault(part, rec["token"])
        elif state == PUBLISHED:
            self.parts[part] = (rec.get("remote_id"), rec.get("url"))
            self.sending = None
            self.error = rec.get("error")
            self.last = PUBLISHED if len(self.parts) >= self.total else None
            self.copy = None
        elif state in (FAILED, MISSED, IN_DOUBT):
            if state != IN_DOUBT:
                self.sending = None
            self.last, self.error = state, rec.get("error")
            if state == MISSED:
                self.copy = None
        self.held = state == IN_DOUBT and bool(rec.get("held"))

    def _apply_native(self, state: str, rec: dict[str, Any]) -> None:
        if state == SCHEDULING:
            self.native_op = {k: rec.get(k) for k in ("op", "at", "fp", "remote_id", "ts")}
            return
        self.native_op = None
        self.error = rec.get("error")
        if state == SCHEDULED:
            self.copy = {k: rec.get(k) for k in ("remote_id", "ids", "at", "fp")}
            self.last = SCHEDULED
        else:  # UNSCHEDULED, CANCELLED: the copy is deleted (or was gone)
            self.copy = None
            self.last = state


def fold(records) -> dict[str, PostHistory]:
    """Every post's history from ledger records in time order."""
    histories: dict[str, PostHistory] = {}
    for rec in records:
        key = rec.get("key")
        if isinstance(key, str):
            histories.setdefault(key, PostHistory(key)).apply(rec)
    return histories


class Ledger:
    """The ledger file, read whole and appended to line by line under a process lock."""

    def __init__(self, path: Path, run_id: str | None = None):
        self.path = path
        self.run_id = run_id or f"{os.getpid()}-{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
        self._write_lock = threading.Lock()
        self._file = None

    def read(self) -> dict[str, PostHistory]:
        """Every post's history; a torn or corrupt line is skipped with a warning."""
        return fold(self.records())

    def records(self) -> Iterator[dict[str, Any]]:
        """Every valid record, in time order (file order for equal times)."""
        records, torn = self.scan()
        for n, _ in torn:
            log.warning(
                "%s:%d: ignoring a line that is not a complete record (a run was "
                "probably killed while writing it)",
                self.path,
                n,
            )
        return iter(records)

    def scan(self) -> tuple[list[dict[str, Any]], list[tuple[int, str | None]]]:
        """Every valid record in time order, and the torn lines: (line number, the post key
        if it can still be read). A missing file is an empty ledger; other OSErrors raise."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return [], []
        records, torn = [], []
        for n, line in enumerate(raw.split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                if not isinstance(rec, dict):
                    raise ValueError("not an object")
            except (ValueError, UnicodeDecodeError):
                key = _TORN_KEY.search(line.decode("utf-8", "replace"))
                torn.append((n, key.group(1) if key else None))
                continue
            records.append(rec)
        # A union merge of two ledgers may interleave their lines; time order is the truth.
        records.sort(key=lambda r: str(r.get("ts", "")))
        return records, torn

    @contextmanager
    def locked(self, timeout: float = LOCK_TIMEOUT) -> Iterator[Ledger]:
        """Hold the ledger for one run; a second run waits `timeout` s, then LedgerBusy."""
        from filelock import FileLock, Timeout

        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.path) + ".lock")
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise LedgerBusy(
                f"another crosspost run is using {self.path} (waited {timeout:g} s); "
                "this run published nothing"
            ) from None
        try:
            self._open()
            yield self
        finally:
            if self._file:
                self._file.close()
                self._file = None
            lock.release()

    def _open(self) -> None:
        new = not self.path.exists()
        self._file = open(self.path, "ab")  # noqa: SIM115 - closed in locked()
        if not new and self.path.stat().st_size:
            with open(self.path, "rb") as f:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    # End a torn last line, so that the next record is not glued onto it.
                    self._file.write(b"\n")
                    self._sync()
        if new:
            _fsync_dir(self.path.parent)

    def append(self, key: str, state: str, **fields: Any) -> dict[str, Any]:
        """Write one record and fsync it before returning."""
        if self._file is None:
            raise RuntimeError("the ledger is written only inside Ledger.locked()")
        rec = {
            "ts": datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "key": key,
            "state": state,
            "run": self.run_id,
        }
        rec.update({k: v for k, v in fields.items() if v is not None})
        line = json.dumps(rec, ensure_ascii=False, sort_keys=False).encode() + b"\n"
        with self._write_lock:
            self._file.write(line)
            self._sync()
        return rec

    def _sync(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def resolve_by_hand(ledger: Ledger, key: str, published: str | None) -> dict[str, Any]:
    """Record a person's answer for a post in doubt: on the platform (id or URL), or not sent.

    "Not sent" clears the doubt, so the next run sends the post again if its window is open.
    """
    from pipeline.errors import CrosspostError

    with ledger.locked() as led:
        hist = led.read().get(key)
        # A hand-over to a platform's scheduler in doubt settles itself on the next run (by
        # looking among the scheduled posts), but a person may answer first.
        if hist is None or not (hist.in_doubt or hist.handing_in_doubt):
            state = "unknown to the ledger" if hist is None else f"not in doubt ({hist.last})"
            raise CrosspostError(f"{key} is {state}; only posts in doubt are resolved by hand")
        part = hist.sending if hist.sending is not None else max(hist.parts, default=-1) + 1
        if published is None:
            return led.append(
                key, FAILED, part=part, parts=hist.total, error="a person checked: it was not sent"
            )
        remote_id = published.rstrip("/").rsplit("/", 1)[-1]
        url = published if "://" in published else None
        return led.append(
            key,
            PUBLISHED,
            part=part,
            parts=hist.total,
            remote_id=remote_id,
            url=url,
            error="a person checked: it is on the platform",
        )
