"""The Facebook Page adapter against the fake Graph API: error codes, requests, paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.errors import (
    DuplicateRefused,
    FatalChannelError,
    OutcomeUnknown,
    RateLimited,
    RejectedPost,
    TemporaryError,
)
from pipeline.platforms import facebook as facebook_adapter
from pipeline.platforms.base import LookupUnavailable, OutgoingPost
from tests.conftest import PNG
from tests.fakes.accounts import PAGE_EN, PAGES
from tests.platforms import targets
from tests.platforms.targets import assert_no_secret, closed_port_url

TOKEN = PAGES[PAGE_EN][0]
VARIABLE = "FACEBOOK_EN_PAGE_TOKEN"
SINCE = datetime.now(UTC) - timedelta(hours=1)


@pytest.fixture
def page(fake_graph):
    return targets.facebook(fake_graph)


def publish_error(page, text: str = "Hello") -> Exception:
    with pytest.raises(Exception) as caught:
        page.adapter().publish(OutgoingPost("k", text))
    assert_no_secret(caught.value, page)
    return caught.value


# ---- Graph error codes (PLATFORMS.md) -------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "subcode", "error", "words"),
    [
        (1, None, TemporaryError, []),
        (2, None, TemporaryError, []),
        (4, None, RateLimited, []),
        (17, None, RateLimited, []),
        (32, None, RateLimited, []),
        (80001, None, RateLimited, []),
        (10, None, FatalChannelError, [VARIABLE, "permission"]),
        (200, None, FatalChannelError, [VARIABLE, "permission"]),
        (299, None, FatalChannelError, [VARIABLE, "permission"]),
        (190, 463, FatalChannelError, [VARIABLE, "expired", "new Page token"]),
        (190, 467, FatalChannelError, [VARIABLE, "invalid", "new Page token"]),
        (190, 460, FatalChannelError, [VARIABLE, "password", "new Page token"]),
        (190, 492, FatalChannelError, [VARIABLE, "without a role", "Page role back"]),
        (190, None, FatalChannelError, [VARIABLE, "renew"]),
        (368, None, RejectedPost, ["368"]),
        (506, None, DuplicateRefused, ["506"]),
        (1609005, None, RejectedPost, ["1609005"]),
        (100, None, RejectedPost, ["100"]),
        (424242, None, RejectedPost, ["424242"]),  # unknown: this post, not the channel
    ],
)
def test_graph_error_codes(page, code, subcode, error, words):
    page.fake.fail_next("error", code=code, subcode=subcode, message=f"(#{code}) Something")
    caught = publish_error(page)
    assert type(caught) is error
    assert all(word in caught.message for word in words), caught.message
    assert page.posts() == []


def test_graph_errors_during_a_lookup_are_typed_too(page):
    page.fake.fail_next("error", on="lookup", code=190, subcode=492)
    with pytest.raises(FatalChannelError, match=f"{VARIABLE} belongs to someone without a role"):
        page.adapter().find("Hello", SINCE)
    page.fake.fail_next("error", on="lookup", code=4)
    with pytest.raises(RateLimited):
        page.adapter().find("Hello", SINCE)


# ---- answers facebook-sdk cannot read ----------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_non_json_5xx_page_is_temporary(page, status):
    page.fake.fail_next("500", html=True, status=status)
    caught = publish_error(page)
    assert type(caught) is TemporaryError and f"HTTP {status}" in caught.message


def test_an_http_429_is_rate_limited_whatever_the_body(page):
    page.fake.fail_next("error", status=429, code=100)
    assert type(publish_error(page)) is RateLimited


def test_a_200_without_content_type_is_outcome_unknown_on_publish(page):
    page.fake.fail_next("garbled")  # the post is made, the answer has no Content-Type
    assert type(publish_error(page)) is OutcomeUnknown
    assert [p["text"] for p in page.posts()] == ["Hello"]


def test_the_sdk_key_error_itself_is_outcome_unknown(page, monkeypatch):
    """Without the response hook, facebook-sdk raises KeyError('content-type'): still typed."""
    monkeypatch.setattr(facebook_adapter, "_check_response", lambda response, **kw: response)
    page.fake.fail_next("garbled")
    caught = publish_error(page)
    assert type(caught) is OutcomeUnknown and "KeyError" in caught.message
    page.fake.fail_next("garbled", on="lookup")
    with pytest.raises(TemporaryError, match="KeyError"):
        page.adapter().find("Hello", SINCE)


# ---- what is sent ------------------------------------------------------------------------------


def test_the_graph_version_in_the_path_is_the_configured_one(page, monkeypatch):
    page.adapter().publish(OutgoingPost("k", "Hello"))
    page.adapter().find("Hello", SINCE)
    assert {r.path.split("/")[1] for r in page.fake.requests()} == {"v24.0"}
    monkeypatch.setattr(facebook_adapter, "GRAPH_VERSION", "v25.0")
    page.adapter().find("Hello", SINCE)
    assert page.fake.requests()[-1].path == f"/v25.0/{PAGE_EN}/feed"


def test_the_token_travels_in_the_body_of_posts_and_the_query_of_gets(page, tmp_path):
    image = tmp_path / "poster.png"
    image.write_bytes(PNG)
    adapter = page.adapter()
    adapter.publish(OutgoingPost("k", "Hello"))
    adapter.publish(OutgoingPost("k2", "With a photo", image=image))
    adapter.find("Hello", SINCE)
    posts = page.fake.requests("publish")
    assert len(posts) == 2
    for request in posts:
        assert "access_token" not in request.query
        assert request.form["access_token"] == TOKEN
    [lookup] = page.fake.requests("lookup")
    assert lookup.query["access_token"] == [TOKEN]  # so a GET's URL must never be shown...


def test_a_refused_lookup_does_not_show_the_token_of_its_url(page):
    # ...and a refused connection's requests error quotes that URL (tests/fakes/test_fakes.py).
    with pytest.raises(TemporaryError) as caught:
        page.adapter(api_base=closed_port_url()).find("Hello", SINCE)
    assert "could not connect" in caught.value.message
    assert_no_secret(caught.value, page)
    assert caught.value.__context__ is None and caught.value.__cause__ is None


def test_a_photo_goes_to_the_photos_edge_with_the_text_as_caption(page, tmp_path):
    image = tmp_path / "poster.png"
    image.write_bytes(PNG)
    published = page.adapter().publish(OutgoingPost("k", "A seedling", image=image))
    [request] = page.fake.requests("publish")
    assert (request.method, request.path) == ("POST", f"/v24.0/{PAGE_EN}/photos")
    assert request.headers["content-type"].startswith("multipart/form-data")
    assert request.files["source"][1] == PNG and request.form["caption"] == "A seedling"
    [post] = page.fake.posts(PAGE_EN)
    assert published.remote_id == post["id"] and post["image"] == PNG


def test_a_text_goes_to_the_feed(page):
    page.adapter().publish(OutgoingPost("k", "Hello"))
    [request] = page.fake.requests("publish")
    assert (request.path, request.form["message"]) == (f"/v24.0/{PAGE_EN}/feed", "Hello")


# ---- find: paging ----------------------------------------------------------------------------


def add_posts(page, count: int, start: datetime) -> None:
    for i in range(count):
        page.fake.add_post(PAGE_EN, f"Other post {i}", created_time=start + timedelta(seconds=i))


def test_find_follows_the_next_page(page):
    old = datetime.now(UTC) - timedelta(minutes=30)
    wanted = page.fake.add_post(PAGE_EN, "The one", created_time=old)
    add_posts(page, 150, old + timedelta(seconds=1))
    assert page.adapter().find("The one", SINCE).remote_id == wanted
    first, second = page.fake.requests("lookup")
    assert "after" not in first.query and second.query["after"]
    assert second.query["since"] == first.query["since"]  # the next link keeps the filter
    assert page.adapter().find("Not there", SINCE) is None  # 151 posts: two pages, no more


def test_find_gives_up_after_a_bounded_number_of_pages(page):
    old = datetime.now(UTC) - timedelta(minutes=30)
    page.fake.add_post(PAGE_EN, "The one", created_time=old)
    add_posts(page, 300, old + timedelta(seconds=1))
    with pytest.raises(LookupUnavailable, match="more than 300 posts"):
        page.adapter().find("The one", SINCE)
    assert len(page.fake.requests("lookup")) == 3
