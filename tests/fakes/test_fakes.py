"""The fakes answer the real SDKs (facebook-sdk 3.1.0, tweepy 4.17) the way the platforms do.

Every test drives the real SDK through `pipeline.platforms.base.http_session`, exactly as the
adapters do, so a fake that drifts from what the SDK sends or expects fails here first.
"""

from __future__ import annotations

import io
import os
import signal
import struct
import subprocess
import sys
import threading
import time
import zlib
from datetime import UTC, datetime, timedelta

import facebook
import pytest
import requests
import tweepy

from pipeline.platforms.base import http_session
from tests.fakes.accounts import PAGE_EN, PAGE_KU, PAGES, X_BEARER, X_EN
from tests.fakes.graph import FakeGraph
from tests.fakes.x import weighted_length

pytest_plugins = ["tests.fakes.fixtures"]

GRAPH_HOSTS = ["https://graph.facebook.com"]
X_HOSTS = ["https://api.twitter.com", "https://upload.twitter.com"]
TOKEN_EN = PAGES[PAGE_EN][0]


def png(width: int = 3, height: int = 2) -> bytes:
    """A valid PNG; its data contains \\r\\n and NUL bytes to catch multipart mangling."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"".join(b"\x00" + b"\r\n\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def graph(fake, token: str | None = TOKEN_EN, timeout: float = 5.0) -> facebook.GraphAPI:
    # facebook-sdk refuses versions after 3.1 in its constructor: set the version afterwards.
    api = facebook.GraphAPI(
        access_token=token, session=http_session(fake.base_url, GRAPH_HOSTS, timeout)
    )
    api.version = "v24.0"
    return api


def x_client(fake, timeout: float = 5.0, **credentials) -> tweepy.Client:
    credentials = credentials or {
        "consumer_key": X_EN.api_key,
        "consumer_secret": X_EN.api_secret,
        "access_token": X_EN.access_token,
        "access_token_secret": X_EN.access_token_secret,
    }
    client = tweepy.Client(**credentials)
    client.session = http_session(fake.base_url, X_HOSTS, timeout)
    return client


def x_api(fake, timeout: float = 5.0) -> tweepy.API:
    auth = tweepy.OAuth1UserHandler(
        X_EN.api_key, X_EN.api_secret, X_EN.access_token, X_EN.access_token_secret
    )
    # tweepy.API passes its own timeout (default 60 s) to requests, overriding the session's.
    api = tweepy.API(auth, timeout=timeout)
    api.session = http_session(fake.base_url, X_HOSTS, timeout)
    return api


def in_thread(function):
    """Run `function` in a thread; returns (thread, outcome dict with "result" or "error")."""
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = function()
        except Exception as error:
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


# ---- Graph: publishing and reading ---------------------------------------------------------


def test_graph_feed_post_goes_out_and_reads_back(fake_graph):
    api = graph(fake_graph)
    result = api.put_object(
        PAGE_EN, "feed", message="Hello world", link="https://example.org/", published="true"
    )
    assert result["id"].startswith(PAGE_EN + "_")
    [post] = fake_graph.posts(PAGE_EN)
    assert (post["id"], post["message"], post["link"], post["published"]) == (
        result["id"],
        "Hello world",
        "https://example.org/",
        True,
    )
    feed = api.get_connections(PAGE_EN, "feed")
    assert [(p["id"], p["message"]) for p in feed["data"]] == [(result["id"], "Hello world")]
    assert feed["data"][0]["created_time"].endswith("+0000")
    post_req, get_req = fake_graph.requests(method="POST")[0], fake_graph.requests(method="GET")[0]
    # The token travels in the form body of POSTs with data, in the query string of GETs.
    assert post_req.form["access_token"] == TOKEN_EN and "access_token" not in post_req.query
    assert get_req.query["access_token"] == [TOKEN_EN]
    assert post_req.path == f"/v24.0/{PAGE_EN}/feed"


def test_graph_photo_upload_keeps_the_bytes(fake_graph):
    image = png()
    result = graph(fake_graph).put_photo(
        io.BytesIO(image), album_path=f"{PAGE_EN}/photos", caption="A poster"
    )
    assert set(result) == {"id", "post_id"} and result["post_id"].startswith(PAGE_EN + "_")
    [post] = fake_graph.posts(PAGE_EN)
    assert post["image"] == image and post["message"] == "A poster"
    assert fake_graph.requests("publish")[0].form["access_token"] == TOKEN_EN


def test_graph_photo_without_arguments_sends_the_token_in_the_query(fake_graph):
    graph(fake_graph).put_photo(io.BytesIO(png()), album_path=f"{PAGE_EN}/photos")
    request = fake_graph.requests("publish")[0]
    assert request.query["access_token"] == [TOKEN_EN]
    assert fake_graph.posts(PAGE_EN)[0]["message"] is None


def test_graph_photo_by_url_and_unpublished_photos_for_attached_media(fake_graph):
    api = graph(fake_graph)
    by_url = api.put_object(PAGE_EN, "photos", url="https://example.org/a.png", caption="x")
    assert "post_id" in by_url
    first = api.put_photo(io.BytesIO(png(1, 1)), album_path=f"{PAGE_EN}/photos", published="false")
    second = api.put_photo(io.BytesIO(png(2, 2)), album_path=f"{PAGE_EN}/photos", published="false")
    assert set(first) == {"id"}
    post = api.put_object(
        PAGE_EN,
        "feed",
        message="Two photos",
        **{
            "attached_media[0]": f'{{"media_fbid": "{first["id"]}"}}',
            "attached_media[1]": f'{{"media_fbid": "{second["id"]}"}}',
        },
    )
    stored = {p["id"]: p for p in fake_graph.posts(PAGE_EN)}
    assert stored[post["id"]]["images"] == [png(1, 1), png(2, 2)]
    assert stored[by_url["post_id"]]["photo_url"] == "https://example.org/a.png"


def test_graph_refuses_a_duplicate_with_506(fake_graph):
    api = graph(fake_graph)
    api.put_object(PAGE_EN, "feed", message="Same text")
    with pytest.raises(facebook.GraphAPIError) as caught:
        api.put_object(PAGE_EN, "feed", message="Same text")
    assert caught.value.code == 506 and caught.value.type == "OAuthException"
    assert "Duplicate status message" in caught.value.message
    api.put_object(PAGE_EN, "feed", message="Other text")  # other text is fine
    graph(fake_graph, PAGES[PAGE_KU][0]).put_object(PAGE_KU, "feed", message="Same text")
    fake_graph.clock = lambda: datetime.now(UTC) + fake_graph.duplicate_window
    api.put_object(PAGE_EN, "feed", message="Same text")  # outside the window


def test_graph_feed_pages_with_a_next_url_carrying_the_token(fake_graph):
    start = datetime(2026, 11, 1, tzinfo=UTC)
    ids = [
        fake_graph.add_post(PAGE_EN, f"post {i}", created_time=start + timedelta(hours=i))
        for i in range(5)
    ]
    api = graph(fake_graph)
    first = api.get_connections(PAGE_EN, "feed", limit=2)
    assert [p["id"] for p in first["data"]] == [ids[4], ids[3]]
    next_url = first["paging"]["next"]
    assert next_url.startswith(f"https://graph.facebook.com/v24.0/{PAGE_EN}/feed?")
    assert f"access_token={TOKEN_EN}" in next_url
    # Followed through the redirecting session, like an adapter would.
    second = api.session.get(next_url).json()
    assert [p["id"] for p in second["data"]] == [ids[2], ids[1]]
    assert [p["id"] for p in api.get_all_connections(PAGE_EN, "feed", limit=2)] == ids[::-1]
    since = int((start + timedelta(hours=3)).timestamp())
    recent = api.get_connections(PAGE_EN, "feed", since=since)
    assert [p["id"] for p in recent["data"]] == [ids[4], ids[3]] and "next" not in recent["paging"]
    assert (
        api.get_connections(PAGE_EN, "feed", after=first["paging"]["cursors"]["after"], limit=1)[
            "data"
        ][0]["id"]
        == ids[2]
    )


def test_graph_token_errors(fake_graph):
    with pytest.raises(facebook.GraphAPIError) as wrong:
        graph(fake_graph, "EAAnot-a-known-token").put_object(PAGE_EN, "feed", message="x")
    assert wrong.value.code == 190
    assert wrong.value.result["error"]["error_subcode"] == 467
    with pytest.raises(facebook.GraphAPIError) as other_page:
        graph(fake_graph, PAGES[PAGE_KU][0]).put_object(PAGE_EN, "feed", message="x")
    assert other_page.value.code == 200
    with pytest.raises(AssertionError):  # facebook-sdk's own check, not a GraphAPIError
        graph(fake_graph, None).put_object(PAGE_EN, "feed", message="x")
    with pytest.raises(facebook.GraphAPIError) as missing:
        graph(fake_graph, None).get_object(PAGE_EN)
    assert missing.value.code == 104
    assert graph(fake_graph).get_object("me") == {"id": PAGE_EN, "name": PAGES[PAGE_EN][1]}
    assert fake_graph.posts(PAGE_EN) == []


def test_graph_python_false_is_refused_and_false_string_keeps_a_post_unpublished(fake_graph):
    api = graph(fake_graph)
    with pytest.raises(facebook.GraphAPIError) as caught:
        api.put_object(PAGE_EN, "feed", message="x", published=False)  # sent as "False"
    assert caught.value.code == 100
    api.put_object(PAGE_EN, "feed", message="draft", published="false")
    assert fake_graph.posts(PAGE_EN)[0]["published"] is False
    assert api.get_connections(PAGE_EN, "feed")["data"] == []


def test_graph_scheduled_posts(fake_graph):
    api = graph(fake_graph)
    when = int(time.time()) + 3600
    post = api.put_object(
        PAGE_EN, "feed", message="later", published="false", scheduled_publish_time=str(when)
    )
    assert [p["id"] for p in api.get_connections(PAGE_EN, "scheduled_posts")["data"]] == [
        post["id"]
    ]
    assert api.get_connections(PAGE_EN, "feed")["data"] == []
    with pytest.raises(facebook.GraphAPIError):
        api.put_object(
            PAGE_EN,
            "feed",
            message="too soon",
            published="false",
            scheduled_publish_time=str(int(time.time()) + 60),
        )
    fake_graph.clock = lambda: datetime.now(UTC) + timedelta(hours=2)
    assert [p["id"] for p in api.get_connections(PAGE_EN, "feed")["data"]] == [post["id"]]


def _at(minutes: float) -> int:
    return int(time.time() + minutes * 60)


@pytest.mark.parametrize(
    ("minutes", "published", "message"),
    [
        (5, "false", "The specified scheduled publish time is invalid"),
        (60 * 24 * 31, "false", "The specified scheduled publish time is invalid"),
        (60, None, "You cannot specify a scheduled publish time on a published post"),
        (60, "true", "You cannot specify a scheduled publish time on a published post"),
    ],
)
def test_graph_scheduling_window_errors(fake_graph, minutes, published, message):
    api = graph(fake_graph)
    args = {"published": published} if published else {}
    for call in (
        lambda: api.put_object(
            PAGE_EN, "feed", message="x", scheduled_publish_time=_at(minutes), **args
        ),
        lambda: api.put_photo(
            io.BytesIO(png()),
            album_path=f"{PAGE_EN}/photos",
            scheduled_publish_time=_at(minutes),
            **args,
        ),
    ):
        with pytest.raises(facebook.GraphAPIError) as caught:
            call()
        assert caught.value.code == 100 and message in str(caught.value)
    assert fake_graph.posts(PAGE_EN) == []


def test_graph_scheduled_photo_keeps_its_alt_text_and_is_listed(fake_graph):
    api = graph(fake_graph)
    answer = api.put_photo(
        io.BytesIO(png()),
        album_path=f"{PAGE_EN}/photos",
        caption="poster",
        published="false",
        scheduled_publish_time=_at(60),
        alt_text_custom="A seedling",
    )
    [post] = fake_graph.posts(PAGE_EN)
    assert answer == {"id": post["photo_id"], "post_id": post["id"]}
    assert post["alt"] == "A seedling" and not post["is_published"]
    listed = api.get_connections(PAGE_EN, "scheduled_posts", fields="id,message,is_published")
    assert listed["data"] == [{"id": post["id"], "message": "poster", "is_published": False}]


def test_graph_edit_reschedule_read_and_delete_one_post(fake_graph):
    api = graph(fake_graph)
    post_id = api.put_object(
        PAGE_EN, "feed", message="v1", published="false", scheduled_publish_time=_at(60)
    )["id"]
    node = f"v24.0/{post_id}"
    assert api.request(node, post_args={"message": "v2"}) == {"success": True}
    later = _at(120)
    assert api.request(node, post_args={"scheduled_publish_time": later}) == {"success": True}
    fields = "is_published,permalink_url,message,scheduled_publish_time"
    got = api.get_object(post_id, fields=fields)
    assert (got["message"], got["scheduled_publish_time"], got["is_published"]) == (
        "v2",
        later,
        False,
    )
    with pytest.raises(facebook.GraphAPIError) as caught:
        api.request(node, post_args={"scheduled_publish_time": _at(3)})
    assert "scheduled publish time is invalid" in str(caught.value)

    assert api.delete_object(post_id) == {"success": True}
    for again in (
        lambda: api.get_object(post_id, fields=fields),
        lambda: api.delete_object(post_id),
    ):
        with pytest.raises(facebook.GraphAPIError) as caught:
            again()
        assert (caught.value.code, caught.value.result["error"]["error_subcode"]) == (100, 33)
    assert fake_graph.posts(PAGE_EN) == [] and fake_graph.deleted[0]["message"] == "v2"


def test_graph_photos_cannot_be_edited_but_can_be_deleted_by_photo_id(fake_graph):
    api = graph(fake_graph)
    answer = api.put_photo(
        io.BytesIO(png()),
        album_path=f"{PAGE_EN}/photos",
        caption="c",
        published="false",
        scheduled_publish_time=_at(60),
    )
    for node in (answer["id"], answer["post_id"]):
        with pytest.raises(facebook.GraphAPIError) as caught:
            api.request(f"v24.0/{node}", post_args={"message": "new"})
        assert "can't perform this operation on this endpoint" in str(caught.value)
    api.delete_object(answer["id"])
    assert fake_graph.posts(PAGE_EN) == []


def test_graph_copies_publish_by_the_fakes_clock_and_can_vanish_or_stall(fake_graph):
    api = graph(fake_graph)
    ids = [
        api.put_object(
            PAGE_EN, "feed", message=f"m{n}", published="false", scheduled_publish_time=_at(30)
        )["id"]
        for n in range(3)
    ]
    fake_graph.vanish(ids[1])
    fake_graph.stall(ids[2])
    fake_graph.clock = lambda: datetime.now(UTC) + timedelta(hours=1)
    first = api.get_object(ids[0], fields="is_published,permalink_url")
    assert first["is_published"] is True and first["permalink_url"].startswith("https://www.")
    assert api.get_object(ids[2], fields="is_published")["is_published"] is False
    with pytest.raises(facebook.GraphAPIError):
        api.get_object(ids[1], fields="is_published")
    assert [p["id"] for p in api.get_connections(PAGE_EN, "scheduled_posts")["data"]] == [ids[2]]
    assert [p["id"] for p in api.get_connections(PAGE_EN, "feed")["data"]] == [ids[0]]


def test_graph_scheduled_posts_page_with_next_urls(fake_graph):
    api = graph(fake_graph)
    for n in range(7):
        api.put_object(
            PAGE_EN, "feed", message=f"m{n}", published="false", scheduled_publish_time=_at(30 + n)
        )
    first = api.get_connections(PAGE_EN, "scheduled_posts", limit=5)
    assert len(first["data"]) == 5 and TOKEN_EN in first["paging"]["next"]
    after = first["paging"]["cursors"]["after"]
    rest = api.get_connections(PAGE_EN, "scheduled_posts", limit=5, after=after)
    assert len(rest["data"]) == 2 and "next" not in rest["paging"]


def test_graph_other_pages_posts_are_not_reachable(fake_graph):
    api = graph(fake_graph, token=PAGES[PAGE_KU][0])
    post_id = graph(fake_graph).put_object(PAGE_EN, "feed", message="mine")["id"]
    with pytest.raises(facebook.GraphAPIError) as caught:
        api.delete_object(post_id)
    assert caught.value.code == 100
    assert len(fake_graph.posts(PAGE_EN)) == 1


# ---- Graph: faults -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "options", "code"),
    [
        ("500", {}, 2),
        ("429", {}, 4),
        ("429", {"code": 32}, 32),
        ("expired", {}, 190),
    ],
)
def test_graph_error_faults_raise_graph_api_errors(fake_graph, kind, options, code):
    fake_graph.fail_next(kind, **options)
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph(fake_graph).put_object(PAGE_EN, "feed", message="x")
    assert caught.value.code == code
    assert caught.value.result["error"]["fbtrace_id"]
    if kind == "expired":
        assert caught.value.result["error"]["error_subcode"] == 463
        assert "Session has expired" in caught.value.message
    assert fake_graph.posts(PAGE_EN) == []


@pytest.mark.parametrize(
    ("code", "subcode", "status"),
    [(368, None, 400), (190, 492, 400), (1609005, None, 400), (1, None, 500)],
)
def test_graph_error_fault_answers_any_code(fake_graph, code, subcode, status):
    fake_graph.fail_next("error", code=code, subcode=subcode, status=status, message="Nope")
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph(fake_graph).put_object(PAGE_EN, "feed", message="x")
    assert (caught.value.code, caught.value.message) == (code, "Nope")
    assert caught.value.result["error"].get("error_subcode") == subcode
    assert fake_graph.posts(PAGE_EN) == []


def test_graph_garbled_answer_without_content_type_is_a_key_error_after_posting(fake_graph):
    fake_graph.fail_next("garbled")
    with pytest.raises(KeyError):
        graph(fake_graph).put_object(PAGE_EN, "feed", message="went out")
    assert [p["message"] for p in fake_graph.posts(PAGE_EN)] == ["went out"]


def test_graph_html_5xx_is_a_confusing_graph_api_error(fake_graph):
    fake_graph.fail_next("500", html=True)
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph(fake_graph).put_object(PAGE_EN, "feed", message="x")
    assert caught.value.code is None
    assert caught.value.message == "Maintype was not text, image, or querystring"


def test_graph_faults_target_publishing_by_default(fake_graph):
    api = graph(fake_graph)
    fake_graph.fail_next("500")
    assert api.get_connections(PAGE_EN, "feed")["data"] == []  # lookups pass
    with pytest.raises(facebook.GraphAPIError):
        api.put_object(PAGE_EN, "feed", message="x")
    api.put_object(PAGE_EN, "feed", message="x")  # the fault was used up
    fake_graph.fail_next("500", on="lookup")
    with pytest.raises(facebook.GraphAPIError):
        api.get_connections(PAGE_EN, "feed")


def test_graph_slow_times_out_but_the_post_went_out(fake_graph):
    fake_graph.fail_next("slow", seconds=2)
    with pytest.raises(requests.ReadTimeout):
        graph(fake_graph, timeout=0.3).put_object(PAGE_EN, "feed", message="slow one")
    assert [p["message"] for p in fake_graph.posts(PAGE_EN)] == ["slow one"]


@pytest.mark.parametrize(("kind", "published"), [("drop_after_accept", 1), ("drop", 0)])
def test_graph_dropped_connections(fake_graph, kind, published):
    fake_graph.fail_next(kind)
    with pytest.raises(requests.ConnectionError):
        graph(fake_graph).put_object(PAGE_EN, "feed", message="dropped")
    assert len(fake_graph.posts(PAGE_EN)) == published


def test_graph_hold_accepts_on_arrival_and_answers_on_release(fake_graph):
    fake_graph.fail_next("hold")
    thread, outcome = in_thread(
        lambda: graph(fake_graph).put_object(PAGE_EN, "feed", message="held")
    )
    assert fake_graph.held.wait(5)
    assert [p["message"] for p in fake_graph.posts(PAGE_EN)] == ["held"]
    assert not outcome
    fake_graph.release()
    thread.join(5)
    assert outcome["result"]["id"] == fake_graph.posts(PAGE_EN)[0]["id"]
    assert not fake_graph.held.is_set()


def test_graph_concurrent_duplicates_one_wins(fake_graph):
    fake_graph.latency = 0.1  # let both requests be in flight together
    runs = [
        in_thread(lambda: graph(fake_graph).put_object(PAGE_EN, "feed", message="race"))
        for _ in range(4)
    ]
    for thread, _ in runs:
        thread.join(5)
    outcomes = [outcome for _, outcome in runs]
    assert sum("result" in o for o in outcomes) == 1
    assert all(o["error"].code == 506 for o in outcomes if "error" in o)
    assert len(fake_graph.posts(PAGE_EN)) == 1


def test_graph_client_killed_during_hold_leaves_the_post(fake_graph):
    script = (
        "import facebook, sys\n"
        "from pipeline.platforms.base import http_session\n"
        "api = facebook.GraphAPI(sys.argv[2], session=http_session(sys.argv[1],"
        " ['https://graph.facebook.com'], 30))\n"
        "api.version = 'v24.0'\n"
        "api.put_object(sys.argv[3], 'feed', message='killed while held')\n"
    )
    fake_graph.fail_next("hold")
    child = subprocess.Popen([sys.executable, "-c", script, fake_graph.base_url, TOKEN_EN, PAGE_EN])
    try:
        assert fake_graph.held.wait(20)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(5)
    finally:
        if child.poll() is None:
            child.kill()
    fake_graph.release()  # answering a dead client must not upset the fake
    assert [p["message"] for p in fake_graph.posts(PAGE_EN)] == ["killed while held"]
    assert graph(fake_graph).get_connections(PAGE_EN, "feed")["data"][0]["message"] == (
        "killed while held"
    )


def test_stop_releases_held_requests():
    fake = FakeGraph(PAGES).start()
    fake.fail_next("hold")
    thread, outcome = in_thread(lambda: graph(fake).put_object(PAGE_EN, "feed", message="x"))
    assert fake.held.wait(5)
    fake.stop()
    thread.join(5)
    assert not thread.is_alive() and "id" in outcome["result"]


def test_graph_refused_connection_message_carries_the_token():
    fake = FakeGraph(PAGES).start()
    api = graph(fake)
    fake.stop()  # nothing listens on the port any more
    with pytest.raises(requests.ConnectionError) as caught:
        api.get_connections(PAGE_EN, "feed")
    assert TOKEN_EN in str(caught.value)  # why adapters must redact


# ---- X: posting ----------------------------------------------------------------------------


def test_x_create_tweet_and_its_request(fake_x):
    response = x_client(fake_x).create_tweet(text="Hello https://example.org/a.")
    tweet_id = response.data["id"]
    assert len(tweet_id) == 19 and tweet_id.isdigit()
    assert response.data["edit_history_tweet_ids"] == [tweet_id]
    assert response.data["text"].startswith("Hello https://t.co/")
    assert response.data["text"].endswith(".")  # trailing punctuation is not part of a link
    [tweet] = fake_x.tweets(X_EN.username)
    assert tweet["id"] == tweet_id and tweet["text"] == "Hello https://example.org/a."
    request = fake_x.requests("publish")[0]
    assert request.json == {"text": "Hello https://example.org/a."}
    auth = request.headers["authorization"]
    assert auth.startswith("OAuth ") and 'oauth_signature_method="HMAC-SHA1"' in auth


def test_x_duplicate_is_a_403_with_the_problem_detail(fake_x):
    client = x_client(fake_x)
    client.create_tweet(text="Same")
    with pytest.raises(tweepy.Forbidden) as caught:
        client.create_tweet(text="Same")
    assert caught.value.api_codes == []
    assert caught.value.api_messages == [
        "You are not allowed to create a Tweet with duplicate content."
    ]
    assert caught.value.response.json()["title"] == "Forbidden"


def test_x_replies_and_unknown_reply_targets(fake_x):
    client = x_client(fake_x)
    first = client.create_tweet(text="1/2").data["id"]
    client.create_tweet(text="2/2", in_reply_to_tweet_id=first)
    assert fake_x.tweets()[1]["reply_to"] == first
    with pytest.raises(tweepy.Forbidden, match="deleted or not visible"):
        client.create_tweet(text="3/2", in_reply_to_tweet_id="1999999999999999999")


def test_x_over_long_text_is_a_bad_request(fake_x):
    assert weighted_length("a" * 254 + " https://example.org/path " + "b") == 280
    assert weighted_length("日本" + "👩‍👩‍👧" + "🇹🇷") == 8
    with pytest.raises(tweepy.BadRequest, match="too long"):
        x_client(fake_x).create_tweet(text="ş" * 281)
    x_client(fake_x).create_tweet(text="ş" * 280)


def test_x_credentials_are_checked(fake_x):
    with pytest.raises(tweepy.Unauthorized) as caught:
        x_client(
            fake_x,
            consumer_key=X_EN.api_key,
            consumer_secret=X_EN.api_secret,
            access_token="1-wrong",
            access_token_secret="x",
        ).create_tweet(text="x")
    assert caught.value.api_messages == ["Unauthorized"]
    assert requests.post(fake_x.base_url + "/2/tweets", json={"text": "x"}).status_code == 401
    bearer = x_client(fake_x, bearer_token=X_BEARER)
    with pytest.raises(tweepy.Forbidden, match="Application-Only is forbidden"):
        bearer.create_tweet(text="x", user_auth=False)
    assert fake_x.tweets() == []


# ---- X: faults -----------------------------------------------------------------------------


def test_x_rate_limit_has_a_reset_time(fake_x):
    fake_x.fail_next("429", reset_in=120)
    with pytest.raises(tweepy.TooManyRequests) as caught:
        x_client(fake_x).create_tweet(text="x")
    assert abs(caught.value.reset_time - (time.time() + 120)) < 5
    assert caught.value.response.json() == {
        "title": "Too Many Requests",
        "detail": "Too Many Requests",
        "type": "about:blank",
        "status": 429,
    }


@pytest.mark.parametrize(
    ("kind", "options", "error"),
    [
        ("expired", {}, tweepy.Unauthorized),
        ("500", {}, tweepy.TwitterServerError),
        ("500", {"status": 500}, tweepy.TwitterServerError),
        ("500", {"html": True}, tweepy.TwitterServerError),
        ("error", {}, tweepy.BadRequest),
        ("error", {"status": 404, "detail": "Not Found"}, tweepy.NotFound),
        ("error", {"status": 403, "detail": "Not permitted"}, tweepy.Forbidden),
    ],
)
def test_x_error_faults(fake_x, kind, options, error):
    fake_x.fail_next(kind, **options)
    with pytest.raises(error):
        x_client(fake_x).create_tweet(text="x")
    assert fake_x.tweets() == []


def test_x_slow_times_out_but_the_post_went_out(fake_x):
    fake_x.fail_next("slow", seconds=2)
    with pytest.raises(requests.ReadTimeout):  # tweepy.Client does not wrap requests' errors
        x_client(fake_x, timeout=0.3).create_tweet(text="slow")
    assert [t["text"] for t in fake_x.tweets()] == ["slow"]


def test_x_drop_after_accept(fake_x):
    fake_x.fail_next("drop_after_accept")
    with pytest.raises(requests.ConnectionError):
        x_client(fake_x).create_tweet(text="dropped")
    assert [t["text"] for t in fake_x.tweets()] == ["dropped"]


def test_x_hold_and_queued_faults(fake_x):
    fake_x.fail_next("hold")
    fake_x.fail_next("429")
    thread, outcome = in_thread(lambda: x_client(fake_x).create_tweet(text="held"))
    assert fake_x.held.wait(5)
    assert [t["text"] for t in fake_x.tweets()] == ["held"]
    fake_x.release()
    thread.join(5)
    assert outcome["result"].data["text"] == "held"
    with pytest.raises(tweepy.TooManyRequests):  # the second queued fault
        x_client(fake_x).create_tweet(text="next")
    x_client(fake_x).create_tweet(text="next")


def test_x_fault_forever_until_cleared_and_path_filters(fake_x):
    fake_x.fail_next("500", count=None, on="any", path=r"^/2/users/")
    client = x_client(fake_x)
    for _ in range(3):
        with pytest.raises(tweepy.TwitterServerError):
            client.get_me()
    client.create_tweet(text="unaffected")
    fake_x.clear_faults()
    assert client.get_me().data.username == X_EN.username


# ---- X: media ------------------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [False, True])
def test_x_media_upload_alt_text_and_post(fake_x, chunked):
    api, image = x_api(fake_x), png(4, 3)
    media = api.media_upload("poster.png", file=io.BytesIO(image), chunked=chunked)
    assert media.media_id_string == str(media.media_id)
    assert media.image == {"image_type": "image/png", "w": 4, "h": 3}
    assert api.create_media_metadata(media.media_id, "A poster") is None
    response = x_client(fake_x).create_tweet(text="With image", media_ids=[media.media_id])
    assert response.data["text"].startswith("With image https://t.co/")  # the media link
    [tweet] = fake_x.tweets()
    assert tweet["media"] == [
        {
            "media_id": media.media_id_string,
            "alt_text": "A poster",
            "bytes": image,
            "type": "image/png",
        }
    ]
    commands = [r.form.get("command") for r in fake_x.requests("upload")]
    assert commands == (["INIT", "APPEND", "FINALIZE", None] if chunked else [None, None])


def test_x_small_png_uses_simple_upload(fake_x):
    x_api(fake_x).media_upload("poster.png", file=io.BytesIO(png()))
    [request] = fake_x.requests("upload")
    assert request.path == "/1.1/media/upload.json" and set(request.files) == {"media"}


def test_x_unknown_media_ids_are_refused(fake_x):
    with pytest.raises(tweepy.BadRequest, match="media IDs are invalid"):
        x_client(fake_x).create_tweet(text="x", media_ids=["1234567890123456789"])


def test_x_upload_faults_use_v1_bodies_and_api_wraps_transport_errors(fake_x):
    api = x_api(fake_x, timeout=0.3)
    fake_x.fail_next("429", on="upload")
    with pytest.raises(tweepy.TooManyRequests) as caught:
        api.media_upload("poster.png", file=io.BytesIO(png()))
    assert caught.value.api_codes == [88]
    fake_x.fail_next("slow", on="upload", seconds=2)
    # tweepy.API, unlike tweepy.Client, wraps requests' exceptions in a TweepyException.
    with pytest.raises(tweepy.TweepyException, match="Failed to send request") as wrapped:
        api.media_upload("poster.png", file=io.BytesIO(png()))
    assert isinstance(wrapped.value.__context__, requests.ReadTimeout)


# ---- X: reading back -----------------------------------------------------------------------


def test_x_texts_come_back_html_escaped(fake_x):
    client = x_client(fake_x)
    answer = client.create_tweet(text="Q&A <live> https://example.org/?a=1&b=2")
    assert answer.data["text"].startswith("Q&amp;A &lt;live&gt; https://t.co/")
    tweets = client.get_users_tweets(X_EN.user_id, user_auth=True)
    assert tweets.data[0].text == answer.data["text"]


def test_x_timeline_rewrites_links_and_pages(fake_x):
    client = x_client(fake_x)
    texts = [f"Post {i} https://example.org/register?utm_source=x&i={i}" for i in range(7)]
    ids = [client.create_tweet(text=text).data["id"] for text in texts]
    user_id = client.get_me().data.id
    assert user_id == int(X_EN.user_id)  # tweepy's models turn the string ids into ints
    page = client.get_users_tweets(
        user_id, user_auth=True, max_results=5, tweet_fields=["created_at"]
    )
    assert [str(t.id) for t in page.data] == ids[:1:-1]
    assert all(t.created_at is not None for t in page.data)
    assert page.data[0].text.startswith("Post 6 https://t.co/")
    assert "example.org" not in page.data[0].text and len(page.data[0].text) == 30
    assert page.meta["result_count"] == 5 and page.meta["newest_id"] == ids[6]
    rest = client.get_users_tweets(
        user_id, user_auth=True, max_results=5, pagination_token=page.meta["next_token"]
    )
    assert [str(t.id) for t in rest.data] == ids[1::-1] and "next_token" not in rest.meta
    assert rest.data[0].created_at is None  # not asked for: X leaves it out
    future = datetime.now(UTC) + timedelta(hours=1)
    empty = client.get_users_tweets(user_id, user_auth=True, start_time=future)
    assert empty.data is None and empty.meta == {"result_count": 0}
    with pytest.raises(tweepy.BadRequest, match="between 5 and 100"):
        client.get_users_tweets(user_id, user_auth=True, max_results=3)
    app_only = x_client(fake_x, bearer_token=X_BEARER).get_users_tweets(user_id)
    assert len(app_only.data) == 7


def test_x_free_tier_forbids_timelines_but_not_me(fake_x):
    fake_x.lookups_forbidden = True
    client = x_client(fake_x)
    with pytest.raises(tweepy.Forbidden) as caught:
        client.get_users_tweets(X_EN.user_id, user_auth=True)
    assert caught.value.response.json()["reason"] == "client-not-enrolled"
    assert str(client.get_me().data.id) == X_EN.user_id


# ---- the server itself ---------------------------------------------------------------------


def test_standalone_command_line():
    account = ":".join(
        [
            X_EN.username,
            X_EN.user_id,
            X_EN.api_key,
            X_EN.api_secret,
            X_EN.access_token,
            X_EN.access_token_secret,
        ]
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.x", "--port", "0", "--account", account],
        stdout=subprocess.PIPE,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
    )
    try:
        base_url = server.stdout.readline().split()[-1]
        client = tweepy.Client(
            consumer_key=X_EN.api_key,
            consumer_secret=X_EN.api_secret,
            access_token=X_EN.access_token,
            access_token_secret=X_EN.access_token_secret,
        )
        client.session = http_session(base_url, X_HOSTS, 5)
        assert client.get_me().data.username == X_EN.username
    finally:
        server.terminate()
        server.wait(5)


def test_latency_and_unknown_fault_kinds(fake_x):
    fake_x.latency = 0.2
    started = time.monotonic()
    x_client(fake_x).get_me()
    assert time.monotonic() - started >= 0.2
    with pytest.raises(ValueError):
        fake_x.fail_next("teapot")
