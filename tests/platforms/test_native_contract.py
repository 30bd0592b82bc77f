"""The contract of the native-scheduling capability, once per adapter that claims it.

Adding a platform: put its name in SCHEDULERS, give `targets.<name>` the hooks `set_clock`,
`copies` and `lose` for its fake; every test below then runs against it, and so do the engine's
decisions in tests/test_native_engine.py (which take the lead bounds from the class).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.errors import PublishError
from pipeline.platforms import REGISTRY, adapter_class
from pipeline.platforms.base import OutgoingPost
from pipeline.platforms.scheduling import AT, TEXT, NativeScheduler, native_scheduler
from tests.conftest import PNG
from tests.platforms import targets
from tests.platforms.targets import Target, assert_no_secret

#: platforms whose adapter schedules natively, and the fixture serving their fake
SCHEDULERS = {"facebook": "fake_graph", "mastodon": "fake_mastodon"}
#: platforms that refuse a time beyond their lead window (Mastodon sets no upper bound)
REFUSE_FAR = {"facebook"}
NOW = datetime(2030, 3, 14, 15, 0, tzinfo=UTC)
TEXT_1 = "Seeds of change: 10 April, 16:00. https://example.org/talks"


def test_every_adapter_claiming_the_capability_is_tested_here():
    claiming = {p for p in REGISTRY if native_scheduler(adapter_class(p))}
    assert claiming == set(SCHEDULERS)


@pytest.fixture(params=sorted(SCHEDULERS))
def target(request) -> Target:
    fake = request.getfixturevalue(SCHEDULERS[request.param])
    target = getattr(targets, request.param)(fake)
    target.set_clock(NOW)
    return target


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "poster.png"
    path.write_bytes(PNG)
    return path


def test_the_lead_window_is_inside_what_the_platform_accepts(target):
    cls = adapter_class(target.platform)
    assert issubclass(cls, NativeScheduler)
    assert timedelta(minutes=5) <= cls.lead_min < cls.lead_max <= timedelta(days=28)
    # (Mastodon: handed over 10 min ahead at the soonest, and left alone in its last 10 min)
    assert cls.freeze <= cls.lead_min and cls.grace > timedelta(0)
    adapter = target.adapter()
    for at in (NOW + cls.lead_min, NOW + cls.lead_max):
        adapter.hand_over(OutgoingPost("k", f"{TEXT_1} {at:%d %H:%M}"), at)
    assert sorted(c["at"] for c in target.copies()) == [NOW + cls.lead_min, NOW + cls.lead_max]


def test_a_copy_is_handed_over_listed_and_published_at_its_time(target):
    adapter = target.adapter()
    at = NOW + timedelta(days=3, seconds=17)

    handed = adapter.hand_over(OutgoingPost("k", TEXT_1), at)

    [copy] = target.copies()
    assert copy["text"] == TEXT_1 and copy["at"] == at and not copy["published"]
    assert handed.remote_id == copy["id"] or copy["id"] in handed.ids
    [listed] = adapter.scheduled_copies()
    assert (listed.remote_id, listed.text, listed.at) == (handed.remote_id, TEXT_1, at)
    assert adapter.confirm(handed.remote_id).state == "scheduled"

    target.set_clock(at + timedelta(seconds=1))

    seen = adapter.confirm(handed.remote_id)
    if seen.state == "gone":
        # Published under a new id (Mastodon: a ScheduledStatus becomes a Status): the engine
        # then looks for it among the account's posts, and must find it there.
        found = adapter.find(TEXT_1, at - timedelta(minutes=10))
        assert found is not None and found.url.startswith("https://")
    else:
        assert seen.state == "published" and seen.url.startswith("https://")
    assert adapter.scheduled_copies() == []


def test_a_photo_is_handed_over_with_its_alt_text(target, image):
    adapter = target.adapter()
    at = NOW + timedelta(days=2)
    handed = adapter.hand_over(OutgoingPost("k", TEXT_1, image=image, image_alt="A seedling"), at)
    [post] = target.posts()
    assert post["image"] == PNG and post["alt"] == "A seedling"
    assert adapter.confirm(handed.remote_id).state == "scheduled"


def test_an_editable_change_is_made_in_place(target):
    cls, adapter = adapter_class(target.platform), target.adapter()
    handed = adapter.hand_over(OutgoingPost("k", TEXT_1), NOW + timedelta(days=3))
    later = NOW + timedelta(days=4)
    changed = frozenset({TEXT, AT})
    if not cls.editable(changed, False):
        pytest.skip(f"{target.platform} cannot edit text and time in place")

    adapter.edit(handed.remote_id, OutgoingPost("k", TEXT_1 + " (moved)"), later, changed)

    [copy] = target.copies()
    assert (copy["text"], copy["at"]) == (TEXT_1 + " (moved)", later)


def test_a_photo_edit_the_platform_refuses_is_declared_not_editable(target, image):
    cls, adapter = adapter_class(target.platform), target.adapter()
    if cls.editable(frozenset({TEXT}), True):
        pytest.skip(f"{target.platform} edits photo posts in place")
    handed = adapter.hand_over(
        OutgoingPost("k", TEXT_1, image=image, image_alt="x"), NOW + timedelta(days=3)
    )
    with pytest.raises(PublishError) as caught:
        adapter.edit(handed.remote_id, OutgoingPost("k", "new"), NOW, frozenset({TEXT}))
    assert_no_secret(caught.value, target)


def test_unscheduling_deletes_and_a_second_time_is_fine(target, image):
    adapter = target.adapter()
    text = adapter.hand_over(OutgoingPost("k", TEXT_1), NOW + timedelta(days=3))
    photo = adapter.hand_over(
        OutgoingPost("p", "photo", image=image, image_alt="x"), NOW + timedelta(days=3)
    )
    for handed in (text, photo):
        adapter.unschedule(handed.remote_id, handed.ids)
        adapter.unschedule(handed.remote_id, handed.ids)
        assert adapter.confirm(handed.remote_id).state == "gone"
    assert target.copies() == []


def test_a_time_outside_the_platforms_window_is_refused_and_nothing_is_made(target):
    adapter = target.adapter()
    far = [NOW + timedelta(days=400)] if target.platform in REFUSE_FAR else []
    for at in (NOW + timedelta(minutes=2), *far):
        with pytest.raises(PublishError) as caught:
            adapter.hand_over(OutgoingPost("k", TEXT_1), at)
        assert_no_secret(caught.value, target)
    assert target.copies() == []


def test_a_lost_copy_is_gone(target):
    adapter = target.adapter()
    handed = adapter.hand_over(OutgoingPost("k", TEXT_1), NOW + timedelta(days=3))
    target.lose(handed.remote_id)
    target.set_clock(NOW + timedelta(days=3, minutes=1))
    assert adapter.confirm(handed.remote_id).state == "gone"


def test_the_whole_list_is_read_across_pages(target):
    adapter = target.adapter()
    for n in range(130):  # 20 a day: Mastodon takes 25 a day at most
        at = NOW + timedelta(days=1 + n // 20, minutes=n)
        adapter.hand_over(OutgoingPost("k", f"{TEXT_1} #{n}"), at)
    listed = adapter.scheduled_copies()
    assert len(listed) == 130 and len({c.remote_id for c in listed}) == 130
