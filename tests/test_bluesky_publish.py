"""`crosspost run` on a Bluesky channel against the fake PDS: language, facets, image, threads,
and exactly once by record key — also when the run is killed while the PDS holds its request.

Every test drives the real CLI in a subprocess; the adapter talks XRPC to the fake on 127.0.0.1.
"""

from __future__ import annotations

import itertools
import signal

import pytest

from tests.conftest import Repo, crosspost, spawn
from tests.fakes.accounts import BSKY_EN
from tests.publishing import ANNOUNCE_OPEN

LATER = "2030-04-03T15:15:00Z"
KEY = "spring/first/announce/bluesky-tr"
# Turkish with dotted and dotless i, an emoji and a hashtag before the link: byte offsets
# differ from character offsets from the first non-ASCII letter on.
ANNOUNCE_TR = (
    "🌱 {{ event.title }}: {{ event.starts | date }}, "
    "{{ event | timerange(tz='Europe/Istanbul') }}. #KooperatifÇiftçilik Kayıt: {{ vars.url }}"
)
LONG_TR = (
    "{{ event.title }}: mahallelerin kendi gıdasını nasıl yetiştirdiğini, toprağı ve parayı "
    "nasıl paylaştığını ve ikisiyle ne yapacağına birlikte nasıl karar verdiğini konuşuyoruz.\n\n"
    "Konuklarımız üç kıtadan geliyor; onları doğuran krizlerden uzun yaşamış kooperatiflerin, "
    "toprak vakıflarının ve mahalle mutfaklarının hikâyelerini getiriyorlar. #dayanışma\n\n"
    "Başlamak için ne gerektiğini, para azken nasıl devam edileceğini ve tükenmeden birlikte "
    "nasıl karar verileceğini soracağız; sorularınıza da zaman ayıracağız.\n\n"
    "{{ event.starts | date }}, {{ event | timerange(tz='Europe/Istanbul') }}. "
    "Kayıt: {{ vars.url }}"
)


class Bluesky:
    """The conftest repository with one Bluesky channel (Turkish) pointing at the fake PDS."""

    def __init__(self, repo: Repo, fake):
        self.repo, self.fake = repo, fake
        repo.write(
            "channels.yaml",
            f"""\
            bluesky-tr: {{platform: bluesky, language: tr, handle: {BSKY_EN.handle},
                          thread: true, api_base: "{fake.base_url}"}}
            """,
        )
        campaign = (repo.root / "campaigns/spring.yaml").read_text()
        repo.write(
            "campaigns/spring.yaml",
            campaign.replace(
                "channels: [facebook-en, facebook-tr, x-en]", "channels: [bluesky-tr]"
            ),
        )
        repo.write("templates/announce/tr.j2", ANNOUNCE_TR)
        self.env = {**fake.env("BLUESKY_TR"), "CROSSPOST_HTTP_TIMEOUT": "5"}

    def run(self, *args: str):
        return crosspost("run", "--root", self.repo.root, *args, env=self.env)

    def start(self, *args: str):
        return spawn("run", "--root", self.repo.root, *args, env=self.env)

    def cli(self, *args: str):
        return crosspost(*args, "--root", self.repo.root, env=self.env)

    def posts(self) -> list[dict]:
        return self.fake.posts(BSKY_EN.handle)

    def state(self, now: str = LATER) -> str:
        result = self.cli("status", "--json", "--now", now)
        return next(p["state"] for p in result.json()["posts"] if p["key"] == KEY)

    def records(self) -> list[dict]:
        return [r for r in self.repo.ledger_records() if r["key"] == KEY]


@pytest.fixture
def bsky(repo, fake_bluesky) -> Bluesky:
    return Bluesky(repo, fake_bluesky)


def covered(text: str, facet: dict) -> str:
    index = facet["index"]
    return text.encode()[index["byteStart"] : index["byteEnd"]].decode()


def test_a_post_goes_out_in_its_language_with_facets_and_its_image(bsky):
    result = bsky.run("--now", ANNOUNCE_OPEN)

    assert result.code == 0, result.output
    [post] = bsky.posts()
    record = post["value"]
    assert record["langs"] == ["tr"]
    assert record["text"].startswith("🌱 Değişimin tohumları: 10 Nisan 2030")
    links = [f for f in record["facets"] if f["features"][0]["$type"].endswith("#link")]
    tags = [f for f in record["facets"] if f["features"][0]["$type"].endswith("#tag")]
    assert [covered(record["text"], f) for f in links] == ["https://example.org/talks"]
    assert links[0]["features"][0]["uri"] == "https://example.org/talks"
    assert [covered(record["text"], f) for f in tags] == ["#KooperatifÇiftçilik"]
    assert tags[0]["features"][0]["tag"] == "KooperatifÇiftçilik"
    [image] = record["embed"]["images"]
    assert image["alt"] == "Bir fide"
    assert image["aspectRatio"] == {"width": 1, "height": 1}
    assert bsky.fake.blob(image["image"]["ref"]["$link"]).startswith(b"\x89PNG")
    # The record key was chosen and written to the ledger before the post was sent.
    sending = next(r for r in bsky.records() if r["state"] == "sending")
    assert post["rkey"] == sending["token"]
    assert bsky.state() == "published"


def test_a_long_text_becomes_a_reply_chain(bsky):
    bsky.repo.write("templates/announce/tr.j2", LONG_TR)
    result = bsky.run("--now", ANNOUNCE_OPEN)

    assert result.code == 0, result.output
    posts = bsky.posts()
    assert len(posts) >= 2
    root = {"uri": posts[0]["uri"], "cid": posts[0]["cid"]}
    assert "reply" not in posts[0]["value"]
    for parent, child in itertools.pairwise(posts):
        reply = child["value"]["reply"]
        assert reply["root"] == root
        assert reply["parent"] == {"uri": parent["uri"], "cid": parent["cid"]}
    for i, post in enumerate(posts, 1):
        assert post["value"]["text"].endswith(f" {i}/{len(posts)}")
        assert post["value"]["langs"] == ["tr"]
    assert "embed" in posts[0]["value"] and all("embed" not in p["value"] for p in posts[1:])


def test_killed_while_the_pds_holds_the_create_then_settled_by_the_record_key(bsky):
    bsky.fake.fail_next("hold")
    proc = bsky.start("--now", ANNOUNCE_OPEN)
    assert bsky.fake.held.wait(30), "the request reached the PDS"
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    bsky.fake.release()

    assert bsky.records()[-1]["state"] == "sending"
    assert bsky.state(ANNOUNCE_OPEN) == "in-doubt"
    assert len(bsky.posts()) == 1, "the PDS wrote it before the kill"

    result = bsky.run("--now", LATER)

    assert result.code == 0, result.output
    assert len(bsky.posts()) == 1, "no duplicate"
    assert len(bsky.fake.requests("publish")) == 1, "settled by getRecord, not by sending again"
    assert bsky.state() == "published"
    assert bsky.records()[-1]["remote_id"] == bsky.posts()[0]["uri"]


def test_creates_that_never_arrived_are_sent_again_with_the_same_record_key(bsky):
    # Every create is dropped unanswered: each time the record key says it is not there, so
    # it is sent again, in this run and the next, always with the key of the first attempt.
    bsky.fake.fail_next("drop", count=None)
    assert bsky.run("--now", ANNOUNCE_OPEN).code == 3
    bsky.fake.clear_faults()
    assert bsky.posts() == []

    result = bsky.run("--now", LATER)

    assert result.code == 0, result.output
    [post] = bsky.posts()
    keys = {r.json["rkey"] for r in bsky.fake.requests("publish")}
    assert keys == {post["rkey"]}, "every attempt used the record key of the first"
    assert len(bsky.fake.requests("publish")) >= 3


def test_a_revoked_app_password_fails_the_channel_naming_the_variable(bsky):
    bsky.fake.revoke()
    result = bsky.run("--now", ANNOUNCE_OPEN)

    assert result.code == 3
    assert "BLUESKY_TR_APP_PASSWORD" in result.output
    assert BSKY_EN.app_passwords[0] not in result.output
    assert bsky.posts() == []


def test_doctor_checks_the_app_password_with_one_session(bsky):
    result = bsky.cli("doctor", "--now", "2030-04-01T12:00:00Z")
    [line] = [x for x in result.stdout.splitlines() if " bluesky-tr:" in x]
    assert " ok " in line and f"@{BSKY_EN.handle} ({BSKY_EN.did})" in line, result.output
    paths = [r.path for r in bsky.fake.requests()]
    assert paths == ["/xrpc/com.atproto.server.createSession"], "one read-only call"

    bsky.fake.revoke()
    result = bsky.cli("doctor", "--now", "2030-04-01T12:00:00Z")
    assert result.code == 3
    [line] = [x for x in result.stdout.splitlines() if " bluesky-tr:" in x]
    assert "needs-person" in line and "BLUESKY_TR_APP_PASSWORD" in line
    assert BSKY_EN.app_passwords[0] not in result.output
