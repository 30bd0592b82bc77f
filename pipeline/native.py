"""Native scheduling: hand posts to the platform's own scheduler and keep the copies in sync.

GitHub's scheduled runs come late or not at all, but a platform that schedules (Facebook,
Mastodon) publishes a handed-over post on the minute. So every run of a channel whose adapter
is a `NativeScheduler` (and whose `native_scheduling` is on):
- settles what an earlier run left unknown (a hand-over, edit or delete killed mid-call) by
  looking on the platform: the list of scheduled posts, adopted by text, or the copy itself;
- reconciles every copy with the campaigns: edits or reschedules it, deletes and hands it over
  again where the platform cannot edit, deletes it when its post is gone (`cancelled`) or moved
  out of the hand-over range, leaves it alone close to its time;
- confirms copies whose time has passed (`published` with a URL); a copy gone, or still
  unpublished `grace` after its time, is deleted and the post published directly while its
  window is open;
- hands over what is due between `lead_min` and `lead_max` from now, after reading the
  platform's list once and adopting any copy with the same text (never a second copy).

`decide` is pure (posts, ledger history, clock -> the next step) and knows no platform;
`NativeRun` carries the steps out in the channel's thread with the ledger discipline of
pipeline/publish.py: a `scheduling` record before every call, the outcome after it.
A channel with nothing to settle, reconcile, confirm or hand over costs no call and no import.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

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
    MISSED,
    PUBLISHED,
    SCHEDULED,
    SCHEDULING,
    UNSCHEDULED,
    Ledger,
    PostHistory,
)
from pipeline.platforms import adapter_class
from pipeline.platforms.base import LookupUnavailable, OutgoingPost
from pipeline.platforms.scheduling import (
    ALT,
    AT,
    IMAGE,
    TEXT,
    NativeScheduler,
    ScheduledCopy,
    native_scheduler,
)
from pipeline.render import RenderedPost

log = logging.getLogger(__name__)

#: the steps `decide` can ask for
SETTLE, CONFIRM, CANCEL, UNSCHEDULE, UPDATE, SCHEDULE, HOLD = (
    "settle",
    "confirm",
    "cancel",
    "unschedule",
    "update",
    "schedule",
    "hold",
)
#: reconcile before handing over anything new (DESIGN.md)
ORDER = {SETTLE: 0, CONFIRM: 1, CANCEL: 2, UNSCHEDULE: 3, UPDATE: 4, HOLD: 5, SCHEDULE: 6}
#: what `run --dry-run` prints for each step
DRY = {
    SETTLE: "would-resolve",
    CONFIRM: "would-confirm",
    CANCEL: "would-unschedule",
    UNSCHEDULE: "would-unschedule",
    UPDATE: "would-update",
    SCHEDULE: "would-schedule",
    HOLD: "scheduled",
}
#: a copy may show up on the platform's feed a little before the time we gave it
LOOK_MARGIN = timedelta(minutes=10)
#: most steps one post takes in one run (e.g. settle, delete, hand over again)
MAX_STEPS = 5


def scheduler_of(channel) -> type[NativeScheduler] | None:
    """The channel's adapter class when its platform schedules natively (no SDK is imported)."""
    try:
        return native_scheduler(adapter_class(channel.platform))
    except KeyError:  # a platform without an adapter yet
        return None


def fingerprint(
    post: RenderedPost, root: Path, images: dict[str, str] | None = None
) -> dict[str, str | None]:
    """Digests of what a copy carries: text, image bytes, alt text (offline, no call).

    `images` caches image digests by path for one run: many posts share an event's image.
    """
    p = post.planned
    image = None
    if p.image:
        images = {} if images is None else images
        if p.image not in images:
            try:
                images[p.image] = _digest((root / p.image).read_bytes())
            except OSError:
                images[p.image] = "unreadable"
        image = images[p.image]
    return {
        TEXT: text_digest(post.text),
        IMAGE: image,
        ALT: _digest(p.image_alt.encode()) if p.image_alt else None,
    }


def text_digest(text: str) -> str:
    """The digest of a text as platforms give it back (whitespace runs do not count)."""
    return _digest(" ".join(text.split()).encode())


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class Item:
    """One post of a native channel (or the ledger's memory of a post that no longer exists)."""

    key: str
    post: RenderedPost | None
    hist: PostHistory
    fp: dict[str, str | None] = field(default_factory=dict)

    @property
    def due(self) -> datetime | None:
        return self.post.planned.due_at if self.post else None


@dataclass(frozen=True)
class Step:
    """What `decide` asks for next, and why (for the run's output)."""

    kind: str
    changed: frozenset[str] = frozenset()
    detail: str = ""


def handable(item: Item, now: datetime, cls: type[NativeScheduler], native: bool) -> bool:
    """Whether the post may be handed over now: a single part, due within the lead range."""
    post = item.post
    return (
        native
        and post is not None
        and len(post.parts) == 1
        and now + cls.lead_min <= post.planned.due_at <= now + cls.lead_max
    )


def decide(
    item: Item, now: datetime, cls: type[NativeScheduler], native: bool = True
) -> Step | None:
    """The next step for one post on a native channel; None when nothing is to be done."""
    hist = item.hist
    if hist.published:
        return None
    if hist.native_op:
        return Step(SETTLE, detail=f"a {hist.native_op.get('op')} was interrupted")
    copy = hist.copy
    if copy:
        at = parse_iso(copy["at"])
        soon = f"due in {max(0, int((at - now).total_seconds() // 60))} min"
        if now >= at:
            return Step(CONFIRM)
        if item.post is None:
            if now >= at - cls.freeze:
                return Step(HOLD, detail=f"no longer in the campaigns, but {soon}: left as it is")
            return Step(CANCEL)
        wanted = item.post.planned.due_at
        changed = _changes(copy, item.fp, wanted)
        if not changed and native:
            return None
        if now >= at - cls.freeze:
            what = f"{', '.join(sorted(changed))} changed" if changed else "native scheduling off"
            return Step(HOLD, changed, f"{what}, but {soon}: left as it is")
        if not native:
            return Step(UNSCHEDULE, changed, "native scheduling is off")
        in_range = handable(item, now, cls, native)
        if AT in changed and not in_range:
            return Step(UNSCHEDULE, changed, f"now due {iso(wanted)}")
        what = ", ".join(sorted(changed))
        if cls.editable(changed, item.post.planned.image is not None) or in_range:
            return Step(UPDATE, changed, what)
        # Replacing means handing over again, which is no longer possible this close.
        return Step(HOLD, changed, f"{what} changed, but {soon}: too late to replace it")
    if item.post is None or hist.in_doubt or hist.parts or hist.last == MISSED:
        return None
    if handable(item, now, cls, native):
        return Step(SCHEDULE, detail=f"for {iso(item.post.planned.due_at)}")
    return None


def _changes(copy: dict, fp: dict, wanted: datetime) -> frozenset[str]:
    sent = copy.get("fp") or {}
    changed = {k for k in (TEXT, IMAGE, ALT) if sent.get(k) != fp.get(k)}
    if parse_iso(copy["at"]) != wanted:
        changed.add(AT)
    return frozenset(changed)


# --- which posts a run hands to the engine ----------------------------------------------------


def owned(hist: PostHistory | None) -> bool:
    """Whether the engine, not the direct path, looks after this post (it has a copy)."""
    return hist is not None and (hist.copy is not None or hist.native_op is not None)


def items_by_channel(prepared, histories: dict[str, PostHistory], root: Path, selection=None):
    """channel name -> (channel, scheduler class, items): posts of channels whose platform
    schedules natively, and ledger copies of posts that no longer exist."""
    repo, plan = prepared.repo, prepared.plan
    out: dict[str, tuple] = {}

    def slot(channel):
        if channel.name not in out:
            cls = scheduler_of(channel)
            if cls is None:
                return None
            out[channel.name] = (channel, cls, [])
        return out[channel.name]

    live, images = set(), {}
    for post in prepared.publishable():
        live.add(post.key)
        hist = histories.get(post.key) or PostHistory(post.key)
        if not (post.planned.channel.schedules_natively or owned(hist)):
            continue
        target = slot(post.planned.channel)
        if target is not None:
            target[2].append(Item(post.key, post, hist, fingerprint(post, root, images)))
    planned = {p.key for p in plan.posts}
    cancelled = {p.key for p in plan.cancelled}
    loaded = {c.id for c in repo.campaigns}
    for key, hist in histories.items():
        if key in live or not owned(hist) or hist.channel not in repo.channels:
            continue
        campaign = key.split("/", 1)[0]
        if key in cancelled:
            gone = campaign not in prepared.invalid
        elif key in planned:
            gone = False  # its campaign is invalid now: nothing is touched
        else:
            gone = campaign in loaded or not repo.invalid
        if not gone or not _selected(selection, key, hist.channel):
            continue
        target = slot(repo.channels[hist.channel])
        if target is not None:
            target[2].append(Item(key, None, hist))
    return out


def _selected(selection, key: str, channel: str) -> bool:
    if selection is None:
        return True
    if selection.event or selection.language:
        return False
    return selection.campaign in (None, key.split("/", 1)[0]) and selection.channel in (
        None,
        channel,
    )


def plan_steps(items: list[Item], now: datetime, cls, native: bool) -> list[tuple[Item, Step]]:
    """The first step of every item that has one, reconciling before handing over."""
    steps = [(item, decide(item, now, cls, native)) for item in items]
    chosen = [(i, s) for i, s in steps if s is not None]
    chosen.sort(key=lambda pair: (ORDER[pair[1].kind], pair[0].due or now, pair[0].key))
    return chosen


# --- carrying the steps out -----------------------------------------------------------------


class NativeRun:
    """Carries out the steps of one channel, recording each in the ledger before and after.

    `host` is the channel's publishing run (pipeline/publish.py): it owns the adapter, the
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


def dry_run(items: list[Item], now: datetime, cls, native: bool):
    """(key, state, detail) of what a run would do with these posts, changing nothing."""
    out = []
    for item, step in plan_steps(items, now, cls, native):
        detail = step.detail
        if item.post is not None and step.kind in (SCHEDULE, UPDATE):
            detail = f"{detail}  {item.post.text.replace(chr(10), ' ')[:50]}"
        out.append((item.key, DRY[step.kind], detail))
    return out
