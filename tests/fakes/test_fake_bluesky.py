"""The fake PDS itself answers as the reference PDS does (checked there by hand, and by
tests/platforms/test_bluesky_pds.py when the real one is installed): plain requests, no adapter."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import PNG
from tests.fakes.accounts import BSKY_EN

RKEY = "3lbxyz2222222"


@pytest.fixture
def pds(fake_bluesky):
    class Client:
        fake = fake_bluesky

        def call(self, method, nsid, token=None, **kw):
            headers = kw.pop("headers", {})
            if token:
                headers["Authorization"] = f"Bearer {token}"
            url = f"{fake_bluesky.base_url}/xrpc/{nsid}"
            return requests.request(method, url, headers=headers, timeout=5, **kw)

        def login(self, password=BSKY_EN.app_passwords[0], identifier=BSKY_EN.handle):
            return self.call(
                "POST",
                "com.atproto.server.createSession",
                json={"identifier": identifier, "password": password},
            )

        def create(self, token, rkey=RKEY, **record):
            body = {
                "$type": "app.bsky.feed.post",
                "text": "hi",
                "createdAt": "2030-01-01T00:00:00Z",
            }
            body.update(record)
            return self.call(
                "POST",
                "com.atproto.repo.createRecord",
                token,
                json={
                    "repo": BSKY_EN.did,
                    "collection": "app.bsky.feed.post",
                    "rkey": rkey,
                    "record": body,
                },
            )

        def get(self, rkey=RKEY):
            params = {"repo": BSKY_EN.did, "collection": "app.bsky.feed.post", "rkey": rkey}
            return self.call("GET", "com.atproto.repo.getRecord", params=params)

    return Client()


def test_sessions_by_handle_did_or_email_with_an_app_password(pds):
    for identifier in (BSKY_EN.handle, BSKY_EN.did, BSKY_EN.email):
        answer = pds.login(identifier=identifier)
        assert answer.status_code == 200
        assert {"did", "handle", "accessJwt", "refreshJwt"} <= set(answer.json())
    wrong = pds.login(password="aaaa-bbbb-cccc-dddd")
    assert wrong.status_code == 401
    assert wrong.json() == {
        "error": "AuthenticationRequired",
        "message": "Invalid identifier or password",
    }


def test_a_reused_record_key_is_a_bare_500_and_get_record_tells(pds):
    token = pds.login().json()["accessJwt"]
    assert pds.get().json()["error"] == "RecordNotFound" and pds.get().status_code == 400
    first = pds.create(token)
    assert first.status_code == 200 and first.json()["uri"].endswith(f"/{RKEY}")
    again = pds.create(token, text="something else")
    assert again.status_code == 500
    assert again.json() == {"error": "InternalServerError", "message": "Internal Server Error"}
    assert pds.get().json()["value"]["text"] == "hi", "never overwritten"


def test_record_keys_must_be_tids_and_records_valid(pds):
    token = pds.login().json()["accessJwt"]
    bad_key = pds.create(token, rkey="notatid")
    assert bad_key.status_code == 400 and "Invalid TID" in bad_key.json()["message"]
    too_long = pds.create(token, text="a" * 301)
    assert too_long.status_code == 400 and "graphemes" in too_long.json()["message"]
    no_blob = pds.create(
        token,
        embed={
            "$type": "app.bsky.embed.images",
            "images": [{"alt": "", "image": {"ref": {"$link": "bafkreinope"}}}],
        },
    )
    assert no_blob.status_code == 400


def test_tokens_expire_refresh_once_and_revocation_ends_everything(pds):
    session = pds.login().json()
    assert pds.create(session["accessJwt"]).status_code == 200
    pds.fake.expire_sessions()
    expired = pds.create(session["accessJwt"], rkey="3lbxyz2222223")
    assert (expired.status_code, expired.json()["error"]) == (400, "ExpiredToken")
    fresh = pds.call("POST", "com.atproto.server.refreshSession", session["refreshJwt"])
    assert fresh.status_code == 200
    reused = pds.call("POST", "com.atproto.server.refreshSession", session["refreshJwt"])
    assert reused.status_code == 400, "a refresh JWT works once"
    pds.fake.revoke()
    assert (
        pds.create(fresh.json()["accessJwt"], rkey="3lbxyz2222224").json()["error"]
        == "InvalidToken"
    )
    assert pds.login().status_code == 401
    assert pds.call("POST", "com.atproto.repo.createRecord").status_code == 401  # no token


def test_list_records_newest_first_with_a_cursor(pds):
    uris = [pds.fake.add_post(f"post {i}") for i in range(5)]
    params = {"repo": BSKY_EN.did, "collection": "app.bsky.feed.post", "limit": 2}
    page = pds.call("GET", "com.atproto.repo.listRecords", params=params).json()
    assert [r["uri"] for r in page["records"]] == uris[::-1][:2]
    rest = pds.call(
        "GET",
        "com.atproto.repo.listRecords",
        params={**params, "limit": 100, "cursor": page["cursor"]},
    )
    assert [r["uri"] for r in rest.json()["records"]] == uris[::-1][2:]
    assert "cursor" not in rest.json()


def test_upload_blob_and_its_limit(pds):
    token = pds.login().json()["accessJwt"]
    ok = pds.call(
        "POST",
        "com.atproto.repo.uploadBlob",
        token,
        data=PNG,
        headers={"Content-Type": "image/png"},
    )
    blob = ok.json()["blob"]
    assert blob["mimeType"] == "image/png" and blob["size"] == len(PNG)
    assert pds.fake.blob(blob["ref"]["$link"]) == PNG
    big = pds.call("POST", "com.atproto.repo.uploadBlob", token, data=b"\0" * 1_000_001)
    assert (big.status_code, big.json()["error"]) == (400, "BlobTooLarge")


def test_faults_answer_as_the_pds(pds):
    token = pds.login().json()["accessJwt"]
    pds.fake.fail_next("429", reset_in=60)
    limited = pds.create(token)
    assert limited.status_code == 429 and int(limited.headers["ratelimit-reset"]) > 0
    pds.fake.fail_next("500", html=True)
    assert pds.create(token).headers["content-type"].startswith("text/html")
    pds.fake.fail_next("expired")
    assert pds.create(token).json()["error"] == "ExpiredToken"
    assert pds.login().status_code == 401, "the app password is revoked"
