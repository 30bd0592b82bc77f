"""The Bluesky adapter against the fake PDS: errors by XRPC answer, sessions, record keys, facets,
images and link cards; and Bluesky's lengths, counted offline."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import (
    FatalChannelError,
    OutcomeUnknown,
    RateLimited,
    RejectedPost,
    TemporaryError,
)
from pipeline.platforms import bluesky_text, graphemes
from pipeline.platforms.base import OutgoingPost
from pipeline.platforms.bluesky import BlueskyAccount, tid
from tests.conftest import PNG
from tests.fakes.accounts import BSKY_EN
from tests.platforms import targets
from tests.platforms.targets import publish_error

VARIABLE = "BLUESKY_EN_APP_PASSWORD"
SINCE = datetime.now(UTC) - timedelta(minutes=5)


@pytest.fixture
def account(fake_bluesky):
    return targets.bluesky(fake_bluesky)


# ---- errors, by what the PDS answers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "name", "message", "error", "words"),
    [
        (400, "InvalidRequest", "Invalid app.bsky.feed.post record", RejectedPost, ["400"]),
        (400, "AccountTakedown", "Account has been taken down", FatalChannelError, [VARIABLE]),
        (
            401,
            "AuthenticationRequired",
            "Invalid identifier or password",
            FatalChannelError,
            [VARIABLE],
        ),
        (413, "PayloadTooLarge", "request entity too large", RejectedPost, ["413"]),
        (502, "UpstreamFailure", "", TemporaryError, ["502"]),
        (503, "", "", TemporaryError, ["503"]),
    ],
)
def test_errors_of_a_create(account, status, name, message, error, words):
    account.fake.fail_next("error", status=status, error=name, message=message)
    caught = publish_error(account)
    assert type(caught) is error
    assert all(word in caught.message for word in words), caught.message
    assert account.posts() == []


def test_a_wrong_app_password_names_the_variable_and_what_to_do(account):
    caught = publish_error(account, env={VARIABLE: "aaaa-bbbb-cccc-dddd"})
    assert type(caught) is FatalChannelError
    assert VARIABLE in caught.message and "Invalid identifier or password" in caught.message
    assert "app password" in caught.message
    with pytest.raises(FatalChannelError):
        account.adapter(env={VARIABLE: "aaaa-bbbb-cccc-dddd"}).check_credentials()


def test_check_credentials_is_one_session(account):
    assert account.adapter().check_credentials() == f"@{BSKY_EN.handle} ({BSKY_EN.did})"
    assert [r.path for r in account.fake.requests()] == ["/xrpc/com.atproto.server.createSession"]


def test_a_rate_limit_carries_the_ratelimit_reset(account):
    account.fake.fail_next("429", reset_in=120)
    caught = publish_error(account)
    assert type(caught) is RateLimited
    assert abs(caught.reset_at.timestamp() - (time.time() + 120)) <= 2
    assert account.fake.requests("lookup") == [], "a 429 wrote nothing: nothing to look for"


def test_one_session_per_run_however_many_posts(account):
    adapter = account.adapter()
    for i in range(5):
        adapter.publish(OutgoingPost(f"k{i}", f"Post {i}"))
    sessions = [r for r in account.fake.requests() if r.path.endswith("createSession")]
    assert len(sessions) == 1 and len(account.posts()) == 5


def test_too_many_sessions_is_rate_limited_not_fatal(account):
    account.fake.sessions_per_window = 2
    for _ in range(2):
        account.adapter().check_credentials()
    with pytest.raises(RateLimited):
        account.adapter().check_credentials()


def test_an_expired_access_token_is_refreshed_and_the_post_goes_out(account):
    adapter = account.adapter()
    adapter.publish(OutgoingPost("k1", "First"))
    account.fake.expire_sessions()
    adapter.publish(OutgoingPost("k2", "Second"))
    paths = [r.path.rsplit(".", 1)[-1] for r in account.fake.requests()]
    assert paths.count("refreshSession") == 1 and paths.count("createSession") == 1
    assert [p["text"] for p in account.posts()] == ["First", "Second"]


def test_a_refused_refresh_falls_back_to_a_new_session(account):
    adapter = account.adapter()
    adapter.publish(OutgoingPost("k1", "First"))
    account.fake.expire_sessions()
    account.fake.refresh.clear()  # the refresh JWT is no longer valid either
    adapter.publish(OutgoingPost("k2", "Second"))
    paths = [r.path.rsplit(".", 1)[-1] for r in account.fake.requests()]
    assert paths.count("createSession") == 2
    assert len(account.posts()) == 2


# ---- exactly once by record key ---------------------------------------------------------------


def test_the_bare_500_of_a_reused_record_key_is_settled_by_get_record(account):
    adapter = account.adapter()
    token = adapter.attempt_token("k", 0)
    first = adapter.publish(OutgoingPost("k", "Merhaba", token=token))
    again = adapter.publish(OutgoingPost("k", "Merhaba", token=token))
    assert again == first and len(account.posts()) == 1
    [_, second_create] = account.fake.requests("publish")
    assert second_create.json["rkey"] == token
    assert all(r.method != "POST" or "putRecord" not in r.path for r in account.fake.requests())


def test_a_500_and_a_failed_lookup_leave_the_outcome_unknown(account):
    account.fake.fail_next("500")
    account.fake.fail_next("500", on="lookup")
    assert type(publish_error(account)) is OutcomeUnknown


def test_find_attempt_answers_by_record_key(account):
    adapter = account.adapter()
    token = adapter.attempt_token("k", 0)
    assert adapter.find_attempt(token, "Merhaba", SINCE) is None
    published = adapter.publish(OutgoingPost("k", "Merhaba", token=token))
    assert adapter.find_attempt(token, "Merhaba", SINCE) == published


def test_record_keys_are_valid_tids_distinct_per_post_and_part_and_in_time_order(account):
    adapter = account.adapter()
    keys = [adapter.attempt_token(f"c/e/m/ch{i}", part) for i in range(200) for part in range(3)]
    assert all(
        re.fullmatch(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}", k) for k in keys
    )
    assert len(set(keys)) == len(keys)
    before = tid(int(time.time() * 1e6) - 10_000_000, 0)
    assert all(before < k for k in keys), "a TID sorts by its time"
    assert tid(0, 0) == "2222222222222" and tid((1 << 53) - 1, 1023) == "bzzzzzzzzzzzz"


# ---- what the record says ---------------------------------------------------------------------


def test_the_record_has_the_channel_language_never_english_by_default(account):
    adapter = account.adapter(language="ku")
    adapter.publish(OutgoingPost("k", "Civak û aborî"))
    [post] = account.fake.posts()
    assert post["value"]["langs"] == ["ku"]


def test_an_image_goes_with_alt_text_and_aspect_ratio(account, image):
    account.adapter().publish(OutgoingPost("k", "Bir fide", image=image, image_alt="A seedling"))
    [post] = account.fake.posts()
    [embedded] = post["value"]["embed"]["images"]
    assert embedded["alt"] == "A seedling" and embedded["aspectRatio"] == {"width": 1, "height": 1}
    assert account.fake.blob(embedded["image"]["ref"]["$link"]) == PNG


def test_an_image_over_the_pds_limit_is_rejected_before_anything_is_posted(account, tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(PNG + b"\0" * 1_000_001)
    caught = publish_error(account, OutgoingPost("k", "Big", image=big, image_alt="Big"))
    assert type(caught) is RejectedPost and "BlobTooLarge" in caught.message
    assert account.posts() == [] and account.fake.requests("publish") == []


def test_a_reply_names_root_and_parent(account):
    adapter = account.adapter()
    one = adapter.publish(OutgoingPost("k", "One 1/3"))
    two = adapter.publish(OutgoingPost("k", "Two 2/3", reply_to=one.remote_id))
    adapter.publish(OutgoingPost("k", "Three 3/3", reply_to=two.remote_id))
    first, second, third = account.fake.posts()
    root = {"uri": first["uri"], "cid": first["cid"]}
    assert second["value"]["reply"] == {"root": root, "parent": root}
    assert third["value"]["reply"] == {
        "root": root,
        "parent": {"uri": second["uri"], "cid": second["cid"]},
    }


# ---- link cards -------------------------------------------------------------------------------

PAGE = (
    '<html><head><meta property="og:title" content="Seeds &amp; roots">'
    '<meta property="og:description" content="Talks on co-operatives">'
    '<meta property="og:image" content="/thumb.png"><title>ignored</title></head></html>'
)


@pytest.fixture
def cards(monkeypatch, account):
    monkeypatch.setenv("CROSSPOST_LINK_CARDS", "1")
    return account


def test_a_link_card_is_built_from_the_page(cards):
    cards.fake.pages["/talks"] = ("text/html; charset=utf-8", PAGE)
    cards.fake.pages["/thumb.png"] = ("image/png", PNG)
    url = f"{cards.fake.base_url}/talks"
    cards.adapter().publish(OutgoingPost("k", f"Kayıt: {url}"))
    [post] = cards.fake.posts()
    external = post["value"]["embed"]["external"]
    assert external["uri"] == url and external["title"] == "Seeds & roots"
    assert external["description"] == "Talks on co-operatives"
    assert cards.fake.blob(external["thumb"]["ref"]["$link"]) == PNG


@pytest.mark.parametrize("page", [None, ("text/html", "<html>no title</html>"), ("image/png", PNG)])
def test_a_card_that_cannot_be_built_is_left_out_and_the_post_goes(cards, page):
    if page:
        cards.fake.pages["/talks"] = page
    cards.adapter().publish(OutgoingPost("k", f"Kayıt: {cards.fake.base_url}/talks"))
    [post] = cards.fake.posts()
    assert "embed" not in post["value"] and post["value"]["facets"]


def test_an_unreachable_page_leaves_the_card_out(cards):
    cards.adapter().publish(OutgoingPost("k", f"Kayıt: {targets.closed_port_url()}/talks"))
    [post] = cards.fake.posts()
    assert "embed" not in post["value"]


def test_an_image_wins_over_a_card(cards, image):
    cards.fake.pages["/talks"] = ("text/html", PAGE)
    cards.adapter().publish(
        OutgoingPost("k", f"Kayıt: {cards.fake.base_url}/talks", image=image, image_alt="A")
    )
    [post] = cards.fake.posts()
    assert post["value"]["embed"]["$type"] == "app.bsky.embed.images"
    assert not [r for r in cards.fake.requests() if r.path == "/talks"], "no page fetched"


def test_cards_are_off_in_tests_unless_switched_on(account):
    account.fake.pages["/talks"] = ("text/html", PAGE)
    account.adapter().publish(OutgoingPost("k", f"Kayıt: {account.fake.base_url}/talks"))
    assert not [r for r in account.fake.requests() if r.path == "/talks"]


# ---- lengths and facets, offline --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "graphemes"),
    [
        ("hello", 5),
        ("a\r\nb", 3),
        ("👩‍👩‍👧‍👦", 1),
        ("🇹🇷🇬🇧", 2),
        ("é", 1),  # e + combining acute
        ("کوردی", 5),
    ],
)
def test_graphemes(text, graphemes):
    assert BlueskyAccount.count(text) == graphemes


def test_both_limits_are_checked_and_named():
    assert bluesky_text.over_limit("a" * 300) is None
    assert "300" in bluesky_text.over_limit("a" * 301)
    # 300 graphemes of 4 bytes each is 1,200 bytes: fine; of 11 bytes (family emoji), too many.
    assert bluesky_text.over_limit("🌱" * 300) is None
    family = "👩‍👩‍👧" * 280
    assert bluesky_text.graphemes(family) == 280
    assert "bytes" in bluesky_text.over_limit(family)
    assert bluesky_text.fit_count(family) > 300 >= bluesky_text.fit_count("🌱" * 300)


def covered(text: str, facet: dict) -> str:
    index = facet["index"]
    return text.encode()[index["byteStart"] : index["byteEnd"]].decode()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("See https://example.org.", ["https://example.org"]),
        ("(https://example.org/a_(b))", ["https://example.org/a_(b)"]),
        ("(see https://example.org/x)", ["https://example.org/x"]),
        ("🌱🌱 Kayıt: https://ex.org/?q=ç&a=1!", ["https://ex.org/?q=ç&a=1"]),
        ("ناونووسین: https://example.org/ku #کوردی", ["https://example.org/ku", "#کوردی"]),
        ("#tag, #2024 #ok! x#no #a#b", ["#tag", "#ok", "#a#b"]),
        ("https://example.org/#anchor", ["https://example.org/#anchor"]),
        ("#" + "a" * 64 + " #" + "b" * 65, ["#" + "a" * 64]),
    ],
)
def test_facets_cover_exactly_each_link_and_tag(text, expected):
    assert [covered(text, f) for f in bluesky_text.facets(text)] == expected


_WORDS = st.sampled_from(
    ["🌱", "👩‍👩‍👧", "Kayıt:", "کوردی", "中文", "çiftçi", "é", "\u200d", "a", "—", "\n", "🇹🇷"]
)


@settings(max_examples=200, deadline=None)
@given(
    before=st.lists(_WORDS, max_size=8),
    path=st.text(alphabet="abcçğ0123/-_?=&", max_size=12),
    after=st.lists(_WORDS, max_size=4),
)
def test_property_a_link_facet_covers_exactly_the_url_after_any_text(before, path, after):
    url = f"https://example.org/{path}x"  # punctuation at the end would end the sentence
    text = " ".join([*before, url, *after])
    links = [f for f in bluesky_text.facets(text) if "uri" in f["features"][0]]
    assert [covered(text, f) for f in links] == [url]
    assert links[0]["features"][0]["uri"] == url


def test_the_fast_path_sees_every_character_that_can_join_a_cluster():
    import regex

    joining = regex.compile(
        r"[\r\p{Grapheme_Cluster_Break=Extend}\p{Grapheme_Cluster_Break=ZWJ}"
        r"\p{Grapheme_Cluster_Break=SpacingMark}\p{Grapheme_Cluster_Break=Prepend}"
        r"\p{Grapheme_Cluster_Break=Regional_Indicator}\p{Grapheme_Cluster_Break=L}"
        r"\p{Grapheme_Cluster_Break=V}\p{Grapheme_Cluster_Break=T}"
        r"\p{Grapheme_Cluster_Break=LV}\p{Grapheme_Cluster_Break=LVT}]"
    )
    everything = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    missed = [f"U+{ord(m.group()):04X}" for m in joining.finditer(everything)]
    missed = [c for c in missed if not graphemes.MAY_JOIN.match(chr(int(c[2:], 16)))]
    assert missed == []
    # ...and the fast path agrees with \X on texts it takes.
    for text in ("Kayıt: ş ç ğ İ ı", "کوردی ناونووسین", "中文 🌱 — “x”", "Ελληνικά Кирилица"):
        assert not graphemes.MAY_JOIN.search(text)
        assert bluesky_text.graphemes(text) == len(regex.findall(r"\X", text))
