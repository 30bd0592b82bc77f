"""The Mastodon adapter against the fake instance: its errors, idempotency, media and counting."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.errors import (
    FatalChannelError,
    OutcomeUnknown,
    RateLimited,
    RejectedPost,
    TemporaryError,
)
from pipeline.platforms import mastodon as adapter_module
from pipeline.platforms.base import OutgoingPost
from pipeline.platforms.mastodon import MastodonAccount, count_text
from tests.conftest import PNG
from tests.fakes.mastodon import length as fake_length
from tests.platforms import targets
from tests.platforms.targets import assert_no_secret

VARIABLE = "MASTODON_EN_ACCESS_TOKEN"


@pytest.fixture
def target(fake_mastodon):
    return targets.mastodon(fake_mastodon)


@pytest.mark.parametrize(
    ("kind", "options", "error", "words"),
    [
        ("expired", {}, FatalChannelError, [VARIABLE, "revoked", "access token is invalid"]),
        (
            "error",
            {"status": 403, "message": "Your login is currently disabled"},
            FatalChannelError,
            [VARIABLE, "disabled"],
        ),
        (
            "error",
            {"status": 422, "message": "Validation failed: Text character limit of 500 exceeded"},
            RejectedPost,
            ["422", "character limit"],
        ),
        ("error", {"status": 404, "message": "Record not found"}, RejectedPost, ["404"]),
        ("429", {"reset_in": 120}, RateLimited, ["rate limited", "until"]),
        ("500", {"status": 500}, TemporaryError, ["500"]),
        ("500", {"status": 503}, TemporaryError, ["503"]),
        # A gateway gave up waiting: the instance may still be publishing it.
        ("500", {"status": 502, "html": True}, OutcomeUnknown, ["502", "may be online"]),
        ("500", {"status": 504}, OutcomeUnknown, ["504"]),
    ],
)
def test_errors_are_typed_by_what_to_do(target, kind, options, error, words):
    target.fake.fail_next(kind, **options)
    with pytest.raises(error) as caught:
        target.adapter().publish(OutgoingPost("k", "Seeds"))
    assert type(caught.value) is error
    for word in words:
        assert word in caught.value.message
    assert_no_secret(caught.value, target)


def test_status_carries_language_visibility_and_alt_text(fake_mastodon, image):
    target = targets.mastodon(fake_mastodon)
    ckb = target.channel.model_copy(update={"language": "ckb", "visibility": "unlisted"})
    adapter = MastodonAccount(ckb, target.env, timeout=5)
    text = "ئابووری هاوبەش: گفتوگۆیەک لە ١٠ی نیسان https://example.org/ckb"
    adapter.publish(OutgoingPost("k", text, image=image, image_alt="نەمامێک"))
    [status] = fake_mastodon.statuses()
    assert status["text"] == text and status["language"] == "ckb"
    assert status["visibility"] == "unlisted"
    assert status["media"][0]["description"] == "نەمامێک"


def test_a_regional_language_tag_is_sent_as_its_language(target):
    adapter = MastodonAccount(
        target.channel.model_copy(update={"language": "en-GB"}), target.env, timeout=5
    )
    adapter.publish(OutgoingPost("k", "Seeds"))
    assert target.fake.statuses()[0]["language"] == "en"


def test_the_same_part_sent_again_returns_the_original_status(target):
    adapter = target.adapter()
    first = adapter.publish(OutgoingPost("a/b/c", "Seeds of change"))
    again = target.adapter().publish(OutgoingPost("a/b/c", "Seeds of change"))
    assert again == first and len(target.fake.statuses()) == 1
    # Another part, another post or another text is another status.
    adapter.publish(OutgoingPost("a/b/c", "Seeds of change", part=1))
    adapter.publish(OutgoingPost("a/b/d", "Seeds of change"))
    adapter.publish(OutgoingPost("a/b/c", "Seeds of change!"))
    assert len(target.fake.statuses()) == 4
    keys = [r.headers["idempotency-key"] for r in target.fake.requests("publish")]
    assert len(keys) == 5 and len(set(keys)) == 4


def test_the_key_is_forgotten_after_an_hour(target):
    target.adapter().publish(OutgoingPost("k", "Seeds"))
    target.fake.clock = lambda: datetime.now(UTC) + timedelta(hours=1, minutes=1)
    target.adapter().publish(OutgoingPost("k", "Seeds"))
    assert len(target.fake.statuses()) == 2  # why the engine looks instead, after the hour


def test_a_thread_is_a_chain_of_replies(target):
    adapter = target.adapter()
    first = adapter.publish(OutgoingPost("k", "1/2 Seeds"))
    adapter.publish(OutgoingPost("k", "2/2 of change", reply_to=first.remote_id, part=1))
    statuses = target.fake.statuses()
    assert [s["in_reply_to_id"] for s in statuses] == [None, first.remote_id]


def test_the_image_is_waited_for_until_processed(target, image):
    target.fake.processing_polls = 3
    target.adapter().publish(OutgoingPost("k", "Seeds", image=image, image_alt="A seedling"))
    polls = [r for r in target.fake.requests("upload") if r.method == "GET"]
    assert len(polls) == 3
    assert target.fake.statuses()[0]["media"][0]["bytes"] == PNG


def test_an_image_never_processed_fails_in_bounded_time_without_a_status(
    target, image, monkeypatch
):
    monkeypatch.setattr(adapter_module, "MEDIA_WAIT", 1.0)
    target.fake.processing_polls = 10**6
    started = time.monotonic()
    with pytest.raises(TemporaryError, match="processing"):
        target.adapter().publish(OutgoingPost("k", "Seeds", image=image, image_alt="A seedling"))
    assert time.monotonic() - started < 3
    assert target.fake.statuses() == []


def test_find_reads_the_source_not_the_html(target):
    text = "Seeds & roots <3\n\nRegister: https://example.org/a/rather/long/path/to/register?x=1"
    target.fake.add_status(None, text)
    for n in range(45):  # the status is on the second page
        target.fake.add_status(None, f"Later status {n}")
    adapter = target.adapter()
    since = datetime.now(UTC) - timedelta(minutes=5)
    assert "&amp;" in target.fake.statuses()[0]["content"]
    assert adapter.find(text, since) is not None
    assert adapter.find(text.replace("roots", "shoots"), since) is None


def test_check_credentials(target):
    assert target.adapter().check_credentials() == "@sea_coop on social.coop"
    target.fake.revoke()
    with pytest.raises(FatalChannelError, match=VARIABLE):
        target.adapter().check_credentials()


def test_a_disabled_account_is_fatal(target):
    target.fake.account().disabled = True
    with pytest.raises(FatalChannelError, match="disabled"):
        target.adapter().check_credentials()


def test_nothing_is_printed(target, capsys):
    """Mastodon.py's debug_requests prints the bearer token: it stays off."""
    target.fake.fail_next("500", status=503)
    with pytest.raises(TemporaryError):
        target.adapter().publish(OutgoingPost("k", "Seeds"))
    target.adapter().publish(OutgoingPost("k", "Seeds"))
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


# ---- counting --------------------------------------------------------------------------------

COUNTED = [
    ("Seeds of change", 15),
    ("a\r\nb", 3),
    ("👩‍👩‍👧 ❤️‍🔥 🇹🇷", 5),
    ("Register: https://example.org/a/very/long/path/that/goes/on?and=on", 33),
    ("Register: https://example.org/a.", 34),  # the full stop is not part of the URL
    ("Hello @sea_coop@social.coop and @bob", 24),  # counted as @sea_coop
    ("mail x@y.org", 12),  # an address is no mention
    ("می‌خواهم", 7),  # Persian: the zero-width non-joiner joins its cluster
    ("ئابووری هاوبەش", 14),  # Sorani (ckb), right to left
    ("e\u0301te\u0301", 3),  # combining accents
]


@pytest.mark.parametrize(("text", "expected"), COUNTED)
def test_length_as_mastodon_counts_it(text, expected):
    assert count_text(text) == expected
    assert fake_length(text) == expected  # the fake instance refuses by its own count


def test_the_limit_is_the_channels_max_characters(target):
    assert MastodonAccount.limit(target.channel) == 500
    wide = target.channel.model_copy(update={"max_characters": 1000})
    assert MastodonAccount.limit(wide) == 1000
    target.fake.max_characters = 1000
    text = "ئ" * 900
    MastodonAccount(wide, target.env, timeout=5).publish(OutgoingPost("k", text))
    assert target.fake.statuses()[0]["text"] == text


# ---- native scheduling -------------------------------------------------------------------------


def test_only_the_time_of_a_scheduled_status_is_edited_in_place(target):
    adapter = target.adapter()
    at = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    handed = adapter.hand_over(OutgoingPost("k", "Seeds"), at)
    assert MastodonAccount.editable(frozenset({"at"}), True)
    assert not MastodonAccount.editable(frozenset({"text", "at"}), False)
    before = len(target.fake.log)
    with pytest.raises(RejectedPost, match="cannot be edited"):
        adapter.edit(handed.remote_id, OutgoingPost("k", "Roots"), at, frozenset({"text"}))
    assert len(target.fake.log) == before  # refused without a call
    adapter.edit(
        handed.remote_id, OutgoingPost("k", "Seeds"), at + timedelta(hours=1), frozenset({"at"})
    )
    [copy] = target.fake.scheduled()
    assert copy["at"] == at + timedelta(hours=1) and copy["text"] == "Seeds"


def test_a_hand_over_has_its_own_idempotency_key(target):
    adapter = target.adapter()
    at = datetime.now(UTC) + timedelta(days=2)
    post = OutgoingPost("k", "Seeds")
    first = adapter.hand_over(post, at)
    assert adapter.hand_over(post, at) == first  # a repeat: the same copy
    adapter.hand_over(post, at + timedelta(hours=1))  # another time: another copy
    adapter.publish(post)  # the direct way: another key again
    keys = [r.headers["idempotency-key"] for r in target.fake.requests("publish")]
    assert len(set(keys)) == 3 and len(target.fake.scheduled()) == 2


@pytest.mark.parametrize(
    ("pending", "same_day", "room"),
    [(0, 0, True), (24, 24, True), (25, 25, False), (299, 0, True), (300, 0, False)],
)
def test_room_for_25_a_day_and_300_in_all(target, pending, same_day, room):
    from pipeline.platforms.scheduling import ScheduledCopy

    day = datetime(2030, 4, 3, 12, tzinfo=UTC)
    copies = [ScheduledCopy(str(n), "x", day) for n in range(same_day)]
    copies += [
        ScheduledCopy(f"o{n}", "x", day + timedelta(days=1 + n % 20))
        for n in range(pending - same_day)
    ]
    assert target.adapter().has_room(copies, day.replace(hour=23, minute=59)) is room
