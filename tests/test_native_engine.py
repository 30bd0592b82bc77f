"""The native-scheduling engine's decisions (pipeline/native.py `decide`), platform-free.

Each case runs once per adapter class claiming the capability, with that class's bounds: the
engine asks the class, never the platform's name.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from pipeline.ledger import PostHistory
from pipeline.native import (
    CANCEL,
    CONFIRM,
    HOLD,
    SCHEDULE,
    SETTLE,
    UNSCHEDULE,
    UPDATE,
    Item,
    decide,
    iso,
    text_digest,
)
from pipeline.platforms import REGISTRY, adapter_class
from pipeline.platforms.scheduling import native_scheduler

SCHEDULERS = [c for c in (native_scheduler(adapter_class(p)) for p in sorted(REGISTRY)) if c]
NOW = datetime(2030, 3, 14, 15, 0, tzinfo=UTC)
FP = {"text": text_digest("hello"), "image": None, "alt": None}


@pytest.fixture(params=SCHEDULERS, ids=lambda c: c.__name__)
def cls(request):
    return request.param


def item(due: datetime | None, copy_at: datetime | None = None, fp=None, parts=1, **hist):
    post = None
    if due is not None:
        post = SimpleNamespace(
            key="c/e/m/ch",
            text="hello",
            parts=["hello"] * parts,
            planned=SimpleNamespace(due_at=due, image=None),
        )
    h = PostHistory("c/e/m/ch")
    for name, value in hist.items():
        setattr(h, name, value)
    if copy_at is not None:
        h.copy = {"remote_id": "1_2", "ids": ["1_2"], "at": iso(copy_at), "fp": fp or FP}
    return Item("c/e/m/ch", post, h, dict(FP))


def kind(it, cls, native=True, now=NOW):
    step = decide(it, now, cls, native)
    return step.kind if step else None


def test_posts_are_handed_over_only_inside_the_lead_window(cls):
    assert kind(item(NOW + cls.lead_min), cls) == SCHEDULE
    assert kind(item(NOW + cls.lead_max), cls) == SCHEDULE
    assert kind(item(NOW + cls.lead_min - timedelta(seconds=1)), cls) is None
    assert kind(item(NOW + cls.lead_max + timedelta(seconds=1)), cls) is None
    assert kind(item(NOW - timedelta(minutes=1)), cls) is None, "due: the direct path's"


def test_nothing_is_handed_over_when_off_or_for_a_thread_or_after_a_direct_send(cls):
    due = NOW + timedelta(days=2)
    assert kind(item(due), cls, native=False) is None
    assert kind(item(due, parts=2), cls) is None
    assert kind(item(due, sending=0), cls) is None
    assert kind(item(due, last="missed"), cls) is None


def test_an_unchanged_copy_needs_nothing_until_its_time_then_confirmation(cls):
    at = NOW + timedelta(days=2)
    assert kind(item(at, at), cls) is None
    assert kind(item(at, at), cls, now=at) == CONFIRM
    assert kind(item(at, at), cls, now=at + timedelta(hours=5)) == CONFIRM


def test_a_changed_copy_is_updated_unless_its_time_is_close(cls):
    at = NOW + timedelta(days=2)
    moved = item(at + timedelta(hours=1), at)
    assert decide(moved, NOW, cls).changed == {"at"}
    assert kind(moved, cls) == UPDATE
    edited = item(at, at, fp={**FP, "text": "old"})
    assert decide(edited, NOW, cls).changed == {"text"}
    assert kind(edited, cls, now=at - cls.freeze - timedelta(seconds=1)) == UPDATE
    assert kind(edited, cls, now=at - cls.freeze) == HOLD
    photo = item(at, at, fp={**FP, "text": "old"})
    photo.post.planned.image = "media/x.png"
    replace = UPDATE if cls.editable(frozenset({"text"}), True) else HOLD
    assert kind(photo, cls, now=at - cls.lead_min + timedelta(seconds=1)) == replace
    # (a second before the lead bound: Mastodon's freeze is as long as its lead, 10 min)
    assert kind(photo, cls, now=at - cls.lead_min - timedelta(seconds=1)) == UPDATE
    assert "left as it is" in decide(edited, at - timedelta(minutes=1), cls).detail


def test_a_copy_whose_post_moved_out_of_the_window_or_went_off_is_unscheduled(cls):
    at = NOW + timedelta(days=2)
    assert kind(item(NOW + cls.lead_max + timedelta(days=1), at), cls) == UNSCHEDULE
    assert kind(item(NOW + timedelta(minutes=1), at), cls) == UNSCHEDULE
    assert kind(item(at, at), cls, native=False) == UNSCHEDULE


def test_a_copy_of_a_post_that_no_longer_exists_is_cancelled_unless_too_close(cls):
    at = NOW + timedelta(days=2)
    assert kind(item(None, at), cls) == CANCEL
    assert kind(item(None, at), cls, now=at - timedelta(minutes=2)) == HOLD
    assert kind(item(None, at), cls, now=at + timedelta(minutes=2)) == CONFIRM
    assert kind(item(None), cls) is None


def test_an_interrupted_operation_is_settled_first(cls):
    for op in ("hand", "edit", "delete"):
        it = item(NOW + timedelta(days=2), native_op={"op": op})
        assert kind(it, cls) == SETTLE


def test_a_published_post_is_left_alone(cls):
    it = item(NOW + timedelta(days=2))
    it.hist.parts = {0: ("1_2", "https://www.facebook.com/1_2")}
    it.hist.last = "published"
    assert kind(it, cls) is None
