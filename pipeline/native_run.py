"""Carrying out the native-scheduling steps of one channel (decided in pipeline/native.py).

Every call to the platform is framed by the ledger like a publish: `scheduling` (with `op`: hand,
edit or delete) before it, `scheduled`, `unscheduled`, `cancelled`, `published` or `failed`
after it. A run killed in between leaves the `scheduling` record, which the next run settles by
looking: the platform's list of scheduled posts for a hand-over (a copy with the same text is
adopted), the copy itself for an edit or delete.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pipeline.errors import (
    FatalChannelError,
    OutcomeUnknown,
    PublishError,
    RateLimited,
    TemporaryError,
)
from pipeline.ledger import (
    CANCELLED,
    FAILED,
    IN_DOUBT,
    PUBLISHED,
    SCHEDULED,
    SCHEDULING,
    UNSCHEDULED,
    Ledger,
)
from pipeline.native import (
    HOLD,
    LOOK_MARGIN,
    MAX_STEPS,
    Item,
    Step,
    decide,
    iso,
    owned,
    parse_iso,
    plan_steps,
    text_digest,
)
from pipeline.platforms.base import LookupUnavailable, OutgoingPost
from pipeline.platforms.scheduling import TEXT, ScheduledCopy
from pipeline.render import RenderedPost


class NativeRun:
    """Carries out the steps of one channel, recording each in the ledger before and after.

    `host` is the channel's publishing run (pipeline/channel_run.py): it owns the adapter, the
    retry policy and the direct path this engine falls back to.
    """

    def __init__(self, host, channel, cls, items: list[Item], all_histories):
        self.host, self.channel, self.cls, self.items = host, channel, cls, items
        self.ledger: Ledger = host.ledger
        self._listing = None
        # Ids already known as some post's copy are never adopted by another post.
        self.claimed: set[str] = set()
        for hist in all_histories.values():
            if hist.copy and hist.channel == channel.name:
                self.claimed |= {hist.copy["remote_id"], *(hist.copy.get("ids") or ())}

    @property
    def adapter(self):
        return self.host.adapter

    def run(self) -> None:
        """Every step of every post of the channel, settling and reconciling first."""
        native = self.channel.schedules_natively
        for item, _ in plan_steps(self.items, self.host.clock(), self.cls, native):
            if self.host.stop.is_set():
                break
            try:
                self._carry_out(item, native)
            except Exception as exc:  # a bug must not take the other posts down with it
                self.host.internal_error(item.key, item.post, item.hist, exc)

    def _carry_out(self, item: Item, native: bool) -> None:
        was_owned = owned(item.hist)
        for _ in range(MAX_STEPS):
            step = decide(item, self.host.clock(), self.cls, native)
            if step is None:
                break
            if step.kind == HOLD:
                self.host.report(item.key, SCHEDULED, step.detail)
                return
            if self.host.fatal and step.kind != HOLD:
                self._failed(item, self.host.fatal)
                return
            if not getattr(self, "_" + step.kind)(item, step):
                return
        # A post the engine looked after that now has no copy goes the direct way when due.
        post, hist = item.post, item.hist
        if (
            was_owned
            and post is not None
            and not owned(hist)
            and not hist.published
            and post.planned.due_at <= self.host.clock()
        ):
            self.host.publish_directly(post, hist)

    # -- the steps (True: decide again; False: done with this post for this run) --------------

    def _schedule(self, item: Item, step: Step) -> bool:
        post, fp = item.post, item.fp
        copies = self._copies()
        if copies is None:
            return False
        match = self._match(fp[TEXT], post.planned.due_at)
        if match is not None:
            self._record(
                item,
                SCHEDULED,
                remote_id=match.remote_id,
                ids=[match.remote_id],
                at=iso(match.at or post.planned.due_at),
                fp=fp,
                error="adopted: already in the platform's scheduled posts",
            )
            self.host.report(item.key, SCHEDULED, f"adopted {match.remote_id}")
            return True  # its time may still need a change
        due = post.planned.due_at
        if not self.adapter.has_room(copies, due):
            # The platform's own limits (Mastodon: 25 a day, 300 pending): this post takes the
            # direct way when due, like a post on a channel without native scheduling.
            self.host.report(
                item.key,
                "pending",
                f"the platform's scheduler is full for {iso(due)}: published directly when due",
            )
            return False
        self._record(item, SCHEDULING, op="hand", at=iso(due), fp=fp)
        handed = self._call(item, lambda: self.adapter.hand_over(self._outgoing(post), due))
        if handed is None:
            return False
        ids = list(handed.ids or (handed.remote_id,))
        self.claimed |= {handed.remote_id, *ids}
        copies.append(ScheduledCopy(handed.remote_id, post.text, due))  # counts for has_room
        self._record(item, SCHEDULED, remote_id=handed.remote_id, ids=ids, at=iso(due), fp=fp)
        self.host.report(item.key, SCHEDULED, f"for {iso(due)} ({handed.remote_id})")
        return False

    def _update(self, item: Item, step: Step) -> bool:
        post, copy = item.post, item.hist.copy
        if not self.cls.editable(step.changed, post.planned.image is not None):
            return self._delete(item, UNSCHEDULED, f"{step.detail} changed: handing over again")
        due = post.planned.due_at
        self._record(item, SCHEDULING, op="edit", remote_id=copy["remote_id"], at=iso(due))
        done = self._call(
            item,
            lambda: (
                self.adapter.edit(copy["remote_id"], self._outgoing(post), due, step.changed)
                or True
            ),
        )
        if done is None:
            return False
        self._record(
            item,
            SCHEDULED,
            remote_id=copy["remote_id"],
            ids=copy.get("ids"),
            at=iso(due),
            fp=item.fp,
            error=f"updated: {step.detail}",
        )
        self.host.report(item.key, "updated", f"{step.detail} ({copy['remote_id']})")
        return False

    def _unschedule(self, item: Item, step: Step) -> bool:
        why = f"{step.detail}: deleted from the platform's scheduler"
        if not self._delete(item, UNSCHEDULED, why):
            return False
        self.host.report(item.key, UNSCHEDULED, why)
        return True

    def _cancel(self, item: Item, step: Step) -> bool:
        why = "no longer in the campaigns: its scheduled copy was deleted"
        if self._delete(item, CANCELLED, why):
            self.host.report(item.key, CANCELLED, why)
        return False

    def _confirm(self, item: Item, step: Step) -> bool:
        copy = item.hist.copy
        at, now = parse_iso(copy["at"]), self.host.clock()
        seen = self._call(item, lambda: self.adapter.confirm(copy["remote_id"]))
        if seen is None:
            return False
        if seen.state == "published":
            self._record(item, PUBLISHED, remote_id=copy["remote_id"], url=seen.url, error=None)
            note = "" if item.post else " (it was removed from the campaigns too late)"
            self.host.report(item.key, PUBLISHED, f"{seen.url}{note}")
            return False
        if seen.state == "scheduled" and now < at + self.cls.grace:
            self.host.report(
                item.key, SCHEDULED, f"due {iso(at)}: waiting for the platform to publish it"
            )
            return False
        final = CANCELLED if item.post is None else UNSCHEDULED
        if seen.state == "scheduled":
            minutes = int(self.cls.grace.total_seconds() // 60)
            return self._delete(item, final, f"still unpublished {minutes} min after its time")
        # Gone: it was dropped, or published under another id. Look before publishing again.
        if item.post is not None and not self._look(item, at):
            return False
        if item.hist.published:
            return False
        self._record(item, final, error="gone from the platform's scheduler at its time")
        return True

    def _settle(self, item: Item, step: Step) -> bool:
        op = item.hist.native_op or {}
        if op.get("op") != "hand":
            return self._settle_change(item, op)
        copies = self._copies()
        if copies is None:
            return False
        fp = op.get("fp") or item.fp
        match = self._match(fp.get(TEXT), item.due)
        if match is not None:
            self._record(
                item,
                SCHEDULED,
                remote_id=match.remote_id,
                ids=[match.remote_id],
                at=iso(match.at) if match.at else op.get("at"),
                fp=fp,
                error="found in the platform's scheduled posts after an interrupted hand-over",
            )
            return True
        at = parse_iso(op["at"]) if op.get("at") else None
        if item.post is not None and at is not None and self.host.clock() >= at - LOOK_MARGIN:
            if not self._look(item, at):
                return False
            if item.hist.published:
                return False
        if item.post is None:
            self._record(item, CANCELLED, error="not on the platform, and no longer planned")
            return False
        self._record(
            item, FAILED, part=0, error="an interrupted hand-over did not reach the platform"
        )
        return True

    def _settle_change(self, item: Item, op: dict) -> bool:
        """An edit or delete whose outcome is unknown: look at the copy itself."""
        copy = item.hist.copy
        if copy is None:  # nothing to look at: the record of the copy is gone
            self._record(item, UNSCHEDULED, error="an interrupted change left no copy")
            return True
        seen = self._call(item, lambda: self.adapter.confirm(copy["remote_id"]))
        if seen is None:
            return False
        if seen.state == "published":
            self._record(item, PUBLISHED, remote_id=copy["remote_id"], url=seen.url)
            self.host.report(item.key, PUBLISHED, seen.url or "")
            return False
        if seen.state == "gone":
            final = CANCELLED if item.post is None else UNSCHEDULED
            self._record(item, final, error=f"gone after an interrupted {op.get('op')}")
            return True
        fp = dict(copy.get("fp") or {})
        fp[TEXT] = text_digest(seen.text) if seen.text is not None else None
        self._record(
            item,
            SCHEDULED,
            remote_id=copy["remote_id"],
            ids=copy.get("ids"),
            at=iso(seen.at) if seen.at else copy["at"],
            fp=fp,
            error=f"looked at after an interrupted {op.get('op')}",
        )
        return True

    # -- helpers -------------------------------------------------------------------------------

    def _delete(self, item: Item, final: str, why: str) -> bool:
        copy = item.hist.copy
        ids = tuple(copy.get("ids") or ())
        self._record(item, SCHEDULING, op="delete", remote_id=copy["remote_id"], at=copy["at"])
        done = self._call(item, lambda: self.adapter.unschedule(copy["remote_id"], ids) or True)
        if done is None:
            return False
        self._forget({copy["remote_id"], *ids})
        self._record(item, final, error=why)
        return True

    def _look(self, item: Item, at: datetime) -> bool:
        """Whether looking on the feed worked; records `published` when the post is there."""
        try:
            found = self.adapter.find(item.post.text, at - LOOK_MARGIN)
        except LookupUnavailable:
            return True
        except PublishError as exc:
            self._failed(item, exc, record=False)
            return False
        if found:
            self._record(
                item,
                PUBLISHED,
                remote_id=found.remote_id,
                url=found.url,
                error="found published on the platform",
            )
            self.host.report(item.key, PUBLISHED, found.url or "")
        return True

    def _copies(self):
        """The platform's scheduled posts, read once per run; None when it cannot be read."""
        if self._listing is None:
            try:
                self._listing = list(self._retrying(self.adapter.scheduled_copies))
            except (PublishError, LookupUnavailable) as exc:
                # Nothing is handed over without this list: a copy may be there already.
                message = getattr(exc, "message", str(exc))
                self.host.report(
                    f"({self.channel.name})",
                    FAILED,
                    f"could not read the platform's scheduled posts, so nothing is handed "
                    f"over this run: {message}",
                )
                self._listing = False
        return self._listing if self._listing is not False else None

    def _retrying(self, function: Callable):
        """`function()`, temporary errors retried within the run's bounds, else raised."""
        policy, waited, attempt = self.host.policy, 0.0, 0
        while True:
            try:
                return function()
            except TemporaryError as exc:
                reset = exc.reset_at if isinstance(exc, RateLimited) else None
                delay = self.host.backoff(attempt, reset)
                attempt += 1
                if (
                    attempt >= policy.attempts
                    or delay > policy.cap
                    or waited + delay > policy.budget
                    or self.host.stop.wait(delay)
                ):
                    raise
                waited += delay

    def _match(self, digest: str | None, due: datetime | None):
        if not digest:
            return None
        candidates = [
            c
            for c in self._listing or ()
            if c.remote_id not in self.claimed and text_digest(c.text) == digest
        ]
        candidates.sort(key=lambda c: (c.at != due, c.remote_id))
        if candidates:
            self.claimed.add(candidates[0].remote_id)
            return candidates[0]
        return None

    def _forget(self, ids: set[str]) -> None:
        if self._listing:
            self._listing = [c for c in self._listing if c.remote_id not in ids]

    def _outgoing(self, post: RenderedPost) -> OutgoingPost:
        p = post.planned
        image = self.host.root / p.image if p.image else None
        return OutgoingPost(post.key, post.text, image=image, image_alt=p.image_alt)

    def _call(self, item: Item, function: Callable):
        """`function()` with bounded retries of temporary errors; None when it failed."""
        try:
            return self._retrying(function)
        except OutcomeUnknown as exc:
            # Only a hand-over can end like this; the next run looks among the copies.
            self.host.report(
                item.key,
                IN_DOUBT,
                f"{exc.message}; the next run looks among the platform's scheduled posts",
            )
        except TemporaryError as exc:
            self._failed(item, exc, note="(retried; retry in a later run)")
        except FatalChannelError as exc:
            self.host.fatal = exc
            self._failed(item, exc)
        except PublishError as exc:
            self._failed(item, exc)
        return None

    def _failed(self, item: Item, exc: PublishError, note: str = "", record=True) -> None:
        error = f"{exc.kind}: {exc.message}" + (f" {note}" if note else "")
        hist = item.hist
        if record and (hist.native_op or not (hist.last == FAILED and hist.error == error)):
            self._record(item, FAILED, part=0, error=error)
        self.host.report(item.key, FAILED, error)

    def _record(self, item: Item, state: str, **fields) -> None:
        fields.setdefault("part", 0)
        rec = self.ledger.append(item.key, state, parts=1, channel=self.channel.name, **fields)
        item.hist.apply(rec)
