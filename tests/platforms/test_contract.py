"""The contract every platform adapter passes, against its fake platform.

Each test runs once per adapter. What a failure means for the caller is the point: retry now
(`TemporaryError`), later (`RateLimited`), never on this channel (`FatalChannelError`), treat as
done (`DuplicateRefused`), or look before sending again (`OutcomeUnknown`: the post may be
online). Connections the client cannot tell apart are judged by what the client can know: a
publish whose connection dropped before any answer is in doubt, whatever the server did —
unless the adapter can ask the platform about that very send (`AttemptTokens`: Bluesky's record
key), which then settles it at once: published, or safe to send again.

Where platforms differ by design, the test says so through the adapter's capabilities: a
platform that cannot be looked at (Telegram: `can_look` False) has its credential check as its
read-only call, and any answer it cannot trust after a publish left is `OutcomeUnknown`.
"""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.errors import (
    DuplicateRefused,
    FatalChannelError,
    NotSent,
    OutcomeUnknown,
    RateLimited,
    TemporaryError,
)
from pipeline.platforms.base import AttemptTokens, LookupUnavailable, OutgoingPost
from tests.conftest import PNG
from tests.platforms import targets
from tests.platforms.targets import Target, assert_no_secret, closed_port_url

TEXT = "Seeds & roots: 10 April, 17:00. Register: https://example.org/talks?utm_source=x&a=1."


FAKES = {
    "facebook": "fake_graph",
    "x": "fake_x",
    "mastodon": "fake_mastodon",
    "bluesky": "fake_bluesky",
    "telegram": "fake_telegram",
}


@pytest.fixture(params=list(FAKES))
def target(request) -> Target:
    """(adapter maker, fake, helpers) for each platform."""
    return getattr(targets, request.param)(request.getfixturevalue(FAKES[request.param]))


def tokens(target: Target) -> bool:
    """Whether the adapter can ask the platform about one send (`AttemptTokens`)."""
    return issubclass(type(target.adapter()), AttemptTokens)


def look(adapter):
    """The adapter's read-only call: `find`, or the credential check where it cannot look."""
    if adapter.can_look:
        return adapter.find(TEXT, since())
    return adapter.check_credentials()


def needs_lookup(target: Target) -> None:
    if not target.can_look:
        pytest.skip(f"{target.platform} cannot look at posts (can_look is False)")


publish_error = functools.partial(targets.publish_error, text=TEXT)


def since() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=5)


def skip_garbled_on_x(target: Target, kind: str) -> None:
    if kind == "garbled" and target.platform != "facebook":
        pytest.skip(
            f"{target.platform}'s client reads a JSON body whatever its Content-Type: no failure"
        )


def find_error(target: Target, **adapter) -> Exception:
    with pytest.raises(Exception) as caught:
        look(target.adapter(**adapter))
    assert_no_secret(caught.value, target)
    return caught.value


# ---- publishing ----------------------------------------------------------------------------


def test_a_text_post_is_published_with_its_id_and_url(target):
    published = target.adapter().publish(OutgoingPost("k", TEXT))
    [post] = target.posts()
    assert post["text"] == TEXT
    assert published.remote_id == post["id"]
    # an at:// URI (Bluesky) appears in the URL as its record key
    assert published.url.startswith("https://") and post["id"].rsplit("/", 1)[-1] in published.url


def test_an_image_arrives_with_the_post(target, image):
    target.adapter().publish(OutgoingPost("k", TEXT, image=image, image_alt="A seedling"))
    [post] = target.posts()
    assert post["text"] == TEXT and post["image"] == PNG
    if target.platform != "telegram":  # Telegram has no alt text
        assert post["alt"] == "A seedling", "Facebook takes alt_text_custom, X media metadata"


def test_a_thread_part_replies_to_the_previous_part(target):
    if not target.channel.thread:
        pytest.skip(f"{target.platform} has no threads")
    adapter = target.adapter()
    first = adapter.publish(OutgoingPost("k", "1/2 " + TEXT))
    second = adapter.publish(OutgoingPost("k", "2/2 The end.", reply_to=first.remote_id, part=1))
    posts = {p["id"]: p for p in target.posts()}
    assert set(posts) == {first.remote_id, second.remote_id}
    if "reply_to" in posts[second.remote_id]:
        assert posts[second.remote_id]["reply_to"] == first.remote_id


def test_a_duplicate_is_refused_as_such(target):
    if target.platform in ("mastodon", "telegram"):
        pytest.skip(f"{target.platform} takes the same text twice (nothing to refuse)")
    adapter = target.adapter()
    if tokens(target):
        # The same send again (same token): the platform refuses the second, the adapter
        # recognises its own post and says where it is.
        post = OutgoingPost("k", TEXT, token=adapter.attempt_token("k", 0))
        first = adapter.publish(post)
        assert adapter.publish(post) == first
    else:
        adapter.publish(OutgoingPost("k", TEXT))
        assert isinstance(publish_error(target), DuplicateRefused)
    assert len(target.posts()) == 1


# ---- finding a post after an interrupted publish ----------------------------------------------


def test_find_recognises_a_just_published_post(target, image):
    needs_lookup(target)
    adapter = target.adapter()
    published = adapter.publish(OutgoingPost("k", TEXT, image=image, image_alt="A seedling"))
    if target.platform == "x":  # what makes it hard: X shows the text back rewritten
        shown = target.posts()[0]["shown"]
        assert "example.org" not in shown and "&amp;" in shown
        assert shown.count("https://t.co/") == 2  # the link, and one for the image at the end
    assert adapter.find(TEXT, since()).remote_id == published.remote_id


def test_find_sees_a_post_made_elsewhere_and_not_an_unknown_text(target):
    needs_lookup(target)
    remote_id = target.add_remote(TEXT)
    adapter = target.adapter()
    assert adapter.find(f"  {TEXT}\n", since()).remote_id == remote_id  # whitespace aside
    assert adapter.find("Never posted https://example.org/other", since()) is None
    assert adapter.find(TEXT.replace("April", "May"), since()) is None


def test_find_does_not_look_before_since(target):
    needs_lookup(target)
    target.add_remote(TEXT)
    assert target.adapter().find(TEXT, datetime.now(UTC) + timedelta(minutes=5)) is None


def test_a_platform_that_cannot_look_says_so_without_a_call(target):
    if target.can_look:
        pytest.skip(f"{target.platform} can look")
    target.add_remote(TEXT)
    before = len(target.fake.log)
    with pytest.raises(LookupUnavailable):
        target.adapter().find(TEXT, since())
    assert len(target.fake.log) == before


# ---- secrets ---------------------------------------------------------------------------------


def test_missing_secrets_are_fatal_and_named(target):
    with pytest.raises(FatalChannelError) as caught:
        target.adapter(env={})
    assert all(v in caught.value.message for v in target.variables)
    first, *rest = target.variables
    with pytest.raises(FatalChannelError) as caught:
        target.adapter(env={**{v: "" for v in rest}, first: " \n"})  # blank is missing too
    assert all(v in caught.value.message for v in target.variables)
    if rest:
        partial = {v: target.env[v] for v in rest}
        with pytest.raises(FatalChannelError) as caught:
            target.adapter(env=partial)
        assert first in caught.value.message
        assert not any(v in caught.value.message for v in rest)


def test_a_secret_pasted_with_a_newline_still_works(target):
    env = {name: value + "\n" for name, value in target.env.items()}
    target.adapter(env=env).publish(OutgoingPost("k", TEXT))
    assert len(target.posts()) == 1


def test_an_expired_token_is_fatal_and_names_the_variables(target):
    target.fake.fail_next("expired")
    error = publish_error(target)
    assert isinstance(error, FatalChannelError)
    assert all(v in error.message for v in target.variables)
    target.fake.fail_next("expired", on="lookup")
    error = find_error(target)
    assert isinstance(error, FatalChannelError)
    assert all(v in error.message for v in target.variables)


# ---- platform errors -------------------------------------------------------------------------


@pytest.mark.parametrize("html", [False, True], ids=["platform-body", "html-page"])
def test_a_5xx_is_temporary(target, html):
    target.fake.fail_next("500", html=html)
    error = publish_error(target)
    if target.can_look:
        assert type(error) is TemporaryError
    else:  # nothing can tell later whether the platform acted: a person must
        assert type(error) is OutcomeUnknown
    assert target.posts() == []
    target.fake.fail_next("500", html=html, on="lookup")
    assert type(find_error(target)) is TemporaryError  # a read is always safe to retry


def test_a_rate_limit_is_rate_limited(target):
    before = int(time.time())
    target.fake.fail_next("429", reset_in=600)
    error = publish_error(target)
    after = int(time.time())
    assert isinstance(error, RateLimited)
    if target.platform != "facebook":  # the reset time the platform gave (Graph gives none)
        assert error.reset_at.tzinfo is not None
        # (a second either way: Mastodon.py corrects the reset by the server's Date header)
        assert before + 599 <= error.reset_at.timestamp() <= after + 602
    assert target.posts() == []


# ---- the network -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["slow", "drop_after_accept"])
def test_no_answer_after_the_platform_accepted_is_outcome_unknown(target, kind):
    target.fake.fail_next(kind, seconds=3)
    started = time.monotonic()
    if tokens(target):  # it asks about this very send, and finds it
        published = target.adapter(timeout=1).publish(OutgoingPost("k", TEXT))
        assert published.remote_id == target.posts()[0]["id"]
    else:
        error = publish_error(target, timeout=1)
        assert type(error) is OutcomeUnknown  # never TemporaryError: the post is online
    assert time.monotonic() - started < 2.5
    assert [p["text"] for p in target.posts()] == [TEXT]


def test_a_drop_before_processing_is_outcome_unknown_too(target):
    # The client sees the same closed connection as with drop_after_accept: it cannot know
    # whether the platform acted, so a publish must be looked for, not blindly sent again.
    target.fake.fail_next("drop")
    error = publish_error(target)
    if tokens(target):  # it asked about this very send: not there, so sending again is safe
        assert type(error) is TemporaryError
    else:
        assert type(error) is OutcomeUnknown
    assert target.posts() == []


def test_a_refused_connection_is_temporary(target):
    error = publish_error(target, api_base=closed_port_url())
    assert isinstance(error, TemporaryError)  # provably never sent: safe to send again
    assert not isinstance(error, OutcomeUnknown)
    if tokens(target):  # not even looked for by its token: it never left
        assert type(error) is NotSent
    error = find_error(target, api_base=closed_port_url())
    assert isinstance(error, TemporaryError)


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("slow", {"seconds": 3}),
        ("drop", {}),
        ("drop_after_accept", {}),
        ("500", {}),
        ("500", {"html": True}),
        ("garbled", {}),
    ],
)
def test_every_failure_of_a_lookup_is_temporary(target, kind, options):
    skip_garbled_on_x(target, kind)
    target.add_remote(TEXT)
    target.fake.fail_next(kind, on="lookup", **options)
    started = time.monotonic()
    error = find_error(target, timeout=1)
    assert time.monotonic() - started < 2.5
    assert isinstance(error, TemporaryError)  # a lookup sends nothing: retrying is safe


@pytest.mark.parametrize("on", ["publish", "lookup"])
def test_every_call_ends_within_the_timeout(target, on):
    target.fake.fail_next("slow", on=on, seconds=3)
    adapter = target.adapter(timeout=1)
    started = time.monotonic()
    if on == "publish" and tokens(target):
        adapter.publish(OutgoingPost("k", TEXT))  # timed out, then found by its token
    else:
        with pytest.raises((OutcomeUnknown, TemporaryError)):
            if on == "publish":
                adapter.publish(OutgoingPost("k", TEXT))
            else:
                look(adapter)
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize(
    "scenario",
    [
        "refused",
        "expired",
        "500",
        "429",
        "slow",
        "drop",
        "garbled",
        "lookup-refused",
        "lookup-drop",
    ],
)
def test_no_error_shows_a_secret(target, scenario):
    """Messages and exception chains: Graph GET URLs carry the token, X's the user id."""
    lookup = scenario.startswith("lookup-")
    kind = scenario.removeprefix("lookup-")
    skip_garbled_on_x(target, kind)
    api_base = closed_port_url() if kind == "refused" else target.fake.base_url
    if kind != "refused":
        target.fake.fail_next(kind, on="lookup" if lookup else "publish", seconds=3)
    adapter = target.adapter(timeout=1, api_base=api_base)
    if kind == "slow" and not lookup and tokens(target):
        target.fake.fail_next("slow", on="lookup", seconds=3)  # so that it cannot settle it
    with pytest.raises(Exception) as caught:
        if lookup:
            look(adapter)
        else:
            adapter.publish(OutgoingPost("k", TEXT))
    assert_no_secret(caught.value, target)
    assert caught.value.__context__ is None and caught.value.__cause__ is None  # chain cut
