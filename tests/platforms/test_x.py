"""The X adapter against the fake X API: error statuses, threads, media, reading back, logging."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.errors import (
    DuplicateRefused,
    FatalChannelError,
    HeldForPerson,
    OutcomeUnknown,
    RateLimited,
    RejectedPost,
    TemporaryError,
)
from pipeline.platforms.base import LookupUnavailable, OutgoingPost
from pipeline.platforms.x import _shown_as
from pipeline.settings import setup_logging
from tests.conftest import PNG
from tests.fakes.accounts import X_EN
from tests.platforms import targets
from tests.platforms.targets import assert_no_secret, publish_error

VARIABLES = ["X_EN_API_KEY", "X_EN_API_SECRET", "X_EN_ACCESS_TOKEN", "X_EN_ACCESS_TOKEN_SECRET"]
SINCE = datetime.now(UTC) - timedelta(hours=1)


@pytest.fixture
def account(fake_x):
    return targets.x(fake_x)


# ---- tweepy's errors by HTTP status -----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "detail", "error", "words"),
    [
        (400, "One or more parameters to your request was invalid.", RejectedPost, ["400"]),
        (401, "Unauthorized", FatalChannelError, VARIABLES),
        (
            403,
            "You are not allowed to create a Tweet with duplicate content.",
            DuplicateRefused,
            [],
        ),
        (
            403,
            "Your client app is not configured with the appropriate oauth1 app permissions for"
            " this endpoint.",
            FatalChannelError,
            ["Read and Write", *VARIABLES],
        ),
        (
            403,
            "You attempted to reply to a Tweet that is deleted or not visible to you.",
            RejectedPost,
            ["reply"],
        ),
        (404, "Not Found", RejectedPost, ["404"]),
        (500, "Internal Server Error", TemporaryError, []),
        (502, "Bad Gateway", TemporaryError, []),
        (503, "Service Unavailable", TemporaryError, []),
    ],
)
def test_statuses(account, status, detail, error, words):
    account.fake.fail_next("error", status=status, detail=detail)
    caught = publish_error(account)
    assert type(caught) is error
    assert all(word in caught.message for word in words), caught.message
    assert account.posts() == []


def test_a_rate_limit_carries_the_reset_time_of_the_header(account):
    account.fake.fail_next("429", reset_in=120)
    caught = publish_error(account)
    [request] = account.fake.requests("publish")
    assert type(caught) is RateLimited
    # The fake sets x-rate-limit-reset to its clock + 120 s when it answers.
    expected = int(request.at.timestamp()) + 120
    assert abs(caught.reset_at.timestamp() - expected) <= 1
    assert caught.reset_at.tzinfo is not None and f"{caught.reset_at:%H:%M:%S}" in caught.message


def test_a_real_duplicate_and_a_reply_to_a_deleted_post(account):
    adapter = account.adapter()
    adapter.publish(OutgoingPost("k", "Hello"))
    with pytest.raises(DuplicateRefused):
        adapter.publish(OutgoingPost("k", "Hello"))
    # A thread whose first part was deleted: this post waits for a person, the channel goes on.
    with pytest.raises(HeldForPerson) as caught:
        adapter.publish(OutgoingPost("k", "Part 2", reply_to="1234567890123456789"))
    assert "deleted or not visible" in caught.value.message
    adapter.publish(OutgoingPost("k2", "Still fine"))
    assert [p["text"] for p in account.posts()] == ["Hello", "Still fine"]


def test_an_always_rate_limited_api_fails_fast_without_waiting_or_recursing(account, image):
    account.fake.fail_next("429", count=None, on="any", reset_in=3600)
    adapter = account.adapter()
    started = time.monotonic()
    with pytest.raises(RateLimited):
        adapter.publish(OutgoingPost("k", "Hello"))
    with pytest.raises(RateLimited):
        adapter.publish(OutgoingPost("k", "Hello", image=image))  # the upload is limited
    with pytest.raises(RateLimited):
        adapter.find("Hello", SINCE)
    assert time.monotonic() - started < 2
    assert len(account.fake.requests()) == 3  # one request each: no sleeping, no retrying


# ---- what is sent ------------------------------------------------------------------------------


def test_a_thread_part_replies_to_the_previous_one(account):
    adapter = account.adapter()
    first = adapter.publish(OutgoingPost("k", "Part 1"))
    second = adapter.publish(OutgoingPost("k", "Part 2", reply_to=first.remote_id))
    requests = account.fake.requests("publish")
    assert "reply" not in requests[0].json
    assert requests[1].json["reply"] == {"in_reply_to_tweet_id": first.remote_id}
    tweets = account.fake.tweets(X_EN.username)
    assert [t["reply_to"] for t in tweets] == [None, first.remote_id]
    assert tweets[1]["id"] == second.remote_id


def test_media_is_uploaded_then_described_then_posted(account, image):
    account.adapter().publish(OutgoingPost("k", "Hello", image=image, image_alt="A seedling"))
    upload, metadata, tweet = account.fake.requests()
    assert upload.path == "/1.1/media/upload.json" and upload.files["media"][1] == PNG
    media_id = upload_answer_id(account)
    assert metadata.path == "/1.1/media/metadata/create.json"
    assert metadata.json == {"media_id": int(media_id), "alt_text": {"text": "A seedling"}}
    assert tweet.path == "/2/tweets" and tweet.json["media"] == {"media_ids": [media_id]}


def upload_answer_id(account) -> str:
    [tweet] = account.fake.tweets(X_EN.username)
    return tweet["media"][0]["media_id"]


def test_no_alt_text_means_no_metadata_call(account, image):
    account.adapter().publish(OutgoingPost("k", "Hello", image=image))
    assert [r.path for r in account.fake.requests()] == ["/1.1/media/upload.json", "/2/tweets"]


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("slow", TemporaryError),  # an upload publishes nothing: retrying it is safe
        ("drop_after_accept", TemporaryError),
        ("500", TemporaryError),
        ("expired", FatalChannelError),
    ],
)
def test_upload_failures_publish_nothing(account, image, kind, error):
    account.fake.fail_next(kind, on="upload", seconds=3)
    caught = publish_error(account, OutgoingPost("k", "Hello", image=image), timeout=1)
    assert type(caught) is error
    assert account.fake.requests("publish") == [] and account.posts() == []


@pytest.mark.parametrize(("on", "error"), [("publish", OutcomeUnknown), ("upload", TemporaryError)])
def test_a_success_page_nobody_can_read(account, image, on, error):
    account.fake.fail_next("garbled", on=on, body="<html>OK</html>", content_type="text/html")
    caught = publish_error(account, OutgoingPost("k", "Hello", image=image))
    assert type(caught) is error and "unreadable answer" in caught.message
    # Published when the post itself was garbled (so: in doubt); nothing when the upload was.
    assert len(account.posts()) == (on == "publish")


def test_every_request_is_signed_with_oauth1(account, image):
    adapter = account.adapter()
    adapter.publish(OutgoingPost("k", "Hello", image=image, image_alt="A seedling"))
    adapter.find("Hello", SINCE)
    for request in account.fake.requests():
        header = request.headers["authorization"]
        assert header.startswith("OAuth ")
        assert 'oauth_signature_method="HMAC-SHA1"' in header and "oauth_signature=" in header
        assert f'oauth_consumer_key="{X_EN.api_key}"' in header
    # upload, metadata, post, timeline: the user id comes from the access token, not GET /users/me
    assert len(account.fake.requests()) == 4


# ---- find ------------------------------------------------------------------------------------


def test_find_without_timeline_access_says_it_cannot_look(account):
    account.fake.lookups_forbidden = True
    account.fake.add_tweet(X_EN.username, "Hello")
    with pytest.raises(LookupUnavailable) as caught:
        account.adapter().find("Hello", SINCE)
    assert "403" in str(caught.value) and "access" in str(caught.value)
    assert_no_secret(caught.value, account)


@pytest.mark.parametrize(
    "text",
    [
        "Q&A tonight <live> & more",
        "Fish & chips: https://example.org/menu?a=1&b=2.",
        "See (https://example.org/a) and https://example.org/b!",
    ],
)
def test_find_reads_through_entities_and_links(account, text):
    tweet_id = account.fake.add_tweet(X_EN.username, text)
    assert account.fake.tweets(X_EN.username)[0]["display_text"] != text
    assert account.adapter().find(text, SINCE).remote_id == tweet_id


def test_find_pages_through_the_timeline_within_a_bound(account):
    start = datetime.now(UTC) - timedelta(minutes=30)
    wanted = account.fake.add_tweet(X_EN.username, "The one", created_at=start)
    for i in range(150):
        account.fake.add_tweet(X_EN.username, f"Other {i}", start + timedelta(seconds=1 + i))
    assert account.adapter().find("The one", SINCE).remote_id == wanted
    timeline = [r for r in account.fake.requests("lookup") if r.path.endswith("/tweets")]
    assert len(timeline) == 2 and timeline[1].query["pagination_token"]
    for i in range(150, 300):
        account.fake.add_tweet(X_EN.username, f"Other {i}", start + timedelta(seconds=1 + i))
    with pytest.raises(LookupUnavailable, match="more than 300 posts"):
        account.adapter().find("The one", SINCE)


@pytest.mark.parametrize(
    ("shown", "wanted", "same"),
    [
        ("Hello", "Hello", True),
        ("Hello https://t.co/abc123", "Hello", True),  # the media link
        ("Hello https://t.co/abc123", "Hello https://example.org", True),
        ("Go https://t.co/a1. Now https://t.co/m2", "Go https://example.org/x. Now", True),
        ("Go to https://t.co/a1 now", "Go to example.org now", True),  # X links bare domains
        ("Tom &amp; Jerry &lt;3", "Tom & Jerry <3", True),
        ("Hello  world\n", "Hello world", True),
        ("Hello", "Hello there", False),
        ("Go to https://t.co/a1 now", "Go to town now", False),  # a link stands for a link
        ("Go https://t.co/a1", "Go https://example.org more", False),
        ("Hello https://t.co/a1 https://t.co/m2", "Hello", False),  # only one trailing media link
    ],
)
def test_shown_as(shown, wanted, same):
    assert _shown_as(shown, wanted) is same


# ---- logging -----------------------------------------------------------------------------------


@pytest.fixture
def debug_logging():
    """The logging configuration as it was, after a test that calls `setup_logging`."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    names = ("tweepy", "oauthlib", "requests_oauthlib", "urllib3")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    root.handlers[:], root.level = saved[0], saved[1]
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_debug_logs_show_no_authorization_header_nor_secret(
    account, image, monkeypatch, capsys, debug_logging
):
    for name, value in account.env.items():  # secrets come from the environment, as in CI
        monkeypatch.setenv(name, value)
    setup_logging(logging.DEBUG)  # here: it logs to the sys.stderr that capsys captures
    adapter = account.adapter(env=None)
    adapter.publish(OutgoingPost("k", "Hello", image=image, image_alt="A seedling"))
    adapter.find("Hello", SINCE)
    account.fake.fail_next("expired")
    with pytest.raises(FatalChannelError):
        adapter.publish(OutgoingPost("k", "Again"))
    logged = capsys.readouterr().err
    assert "DEBUG urllib3" in logged  # DEBUG is on...
    assert "Authorization" not in logged and "oauth_" not in logged  # ...the header is not
    assert not any(form in logged for form in account.secret_forms())
