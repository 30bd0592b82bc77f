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
`NativeRun` (pipeline/native_run.py) carries the steps out in the channel's thread with the
ledger discipline of pipeline/channel_run.py: a `scheduling` record before every call, the outcome
after it.
A channel with nothing to settle, reconcile, confirm or hand over costs no call and no import.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from pipeline.ledger import (
    MISSED,
    PostHistory,
)
from pipeline.platforms import adapter_class
from pipeline.platforms.scheduling import (
    ALT,
    AT,
    IMAGE,
    TEXT,
    NativeScheduler,
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


@dataclass(frozen=True)
class StrandedCopy:
    """A copy in a platform's scheduler whose channel is gone from channels.yaml: no run can
    edit, delete or confirm it (no channel, no credentials), so it publishes at its time."""

    key: str
    channel: str
    remote_id: str | None
    at: str | None  # ISO time the copy is due

    def message(self) -> str:
        """What a person reads, and what to do."""
        what = f"copy {self.remote_id}" if self.remote_id else "a copy may wait (hand-over cut)"
        return (
            f"{what} in the platform's scheduler, due {self.at or 'at an unknown time'}: "
            f"channel {self.channel} is no longer in channels.yaml: delete the copy in the "
            "platform's planner or restore the channel"
        )


def stranded_copies(histories: dict[str, PostHistory], channels) -> list[StrandedCopy]:
    """Ledger copies (or hand-overs in doubt) of channels not in `channels` (names)."""
    out = []
    for key, hist in sorted(histories.items()):
        channel = hist.channel or key.rsplit("/", 1)[-1]
        if not owned(hist) or channel in channels:
            continue
        copy, op = hist.copy or {}, hist.native_op or {}
        remote_id = copy.get("remote_id") or op.get("remote_id")
        out.append(StrandedCopy(key, channel, remote_id, copy.get("at") or op.get("at")))
    return out


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
            continue  # a channel gone from channels.yaml: stranded_copies reports its copies
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


def dry_run(items: list[Item], now: datetime, cls, native: bool):
    """(key, state, detail) of what a run would do with these posts, changing nothing."""
    out = []
    for item, step in plan_steps(items, now, cls, native):
        detail = step.detail
        if item.post is not None and step.kind in (SCHEDULE, UPDATE):
            detail = f"{detail}  {item.post.text.replace(chr(10), ' ')[:50]}"
        out.append((item.key, DRY[step.kind], detail))
    return out
