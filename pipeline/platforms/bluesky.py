"""Bluesky through plain XRPC over requests (no SDK).

Why not the `atproto` SDK: its `send_post` tags every post `langs=['en']` unless told and takes
no record key, and the few calls needed here (createSession, refreshSession, uploadBlob,
createRecord, getRecord, listRecords) are small JSON requests; requests is already a dependency.

Exactly once by record key (`AttemptTokens`): each part gets a TID record key chosen before its
first send and kept in the ledger. A second create with the same key is refused (the reference
PDS answers a bare 500), so after any error whose outcome is unknown, `getRecord` by that key
decides: there = published, `RecordNotFound` = send again with the same key. Never `putRecord`:
it would overwrite.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

from pipeline.errors import (
    FatalChannelError,
    NotSent,
    OutcomeUnknown,
    PublishError,
    RateLimited,
    RejectedPost,
    TemporaryError,
)
from pipeline.platforms import bluesky_text
from pipeline.platforms.base import (
    FIND_PAGES,
    Adapter,
    AttemptTokens,
    LookupUnavailable,
    OutgoingPost,
    Published,
    http_session,
    unreadable_answer,
)

log = logging.getLogger(__name__)

DEFAULT_SERVICE = "https://bsky.social"
POST = "app.bsky.feed.post"
#: errors meaning the session (not the app password) is no longer valid: make a new one
_SESSION_ERRORS = {"ExpiredToken", "InvalidToken"}
#: errors meaning the account cannot post at all until a person acts
_ACCOUNT_ERRORS = {"AccountTakedown", "AccountDeactivated", "AccountSuspended"}
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_tid_lock = threading.Lock()
_last_micros = 0


class XrpcError(Exception):
    """An XRPC error answer: HTTP status, the `error` name and `message` of its body."""

    def __init__(self, status: int, error: str, message: str, headers: dict[str, str]):
        super().__init__(f"{status} {error}: {message}")
        self.status, self.error, self.message, self.headers = status, error, message, headers


class BlueskyAccount(Adapter, AttemptTokens):
    """Posts to one Bluesky account (handle + app password) on its PDS."""

    platform = "bluesky"
    max_length = bluesky_text.MAX_GRAPHEMES
    max_bytes = bluesky_text.MAX_BYTES
    # Older PDSs refuse blobs over ~976 KiB; the 2 MB limit of 2026 is not everywhere yet.
    image_types: ClassVar = {
        m: 1_000_000 for m in ("image/jpeg", "image/png", "image/gif", "image/webp")
    }
    secret_names = ("APP_PASSWORD",)

    def __init__(self, channel, env=None, timeout=None):
        super().__init__(channel, env, timeout)
        #: link cards fetch the linked page: off with CROSSPOST_LINK_CARDS=0 (tests, privacy)
        self.link_cards = os.environ.get("CROSSPOST_LINK_CARDS", "1") != "0"
        self._session_data: dict[str, Any] | None = None

    # --- lengths (offline, cheap: validate calls these for every post) --------------------------

    @classmethod
    def count(cls, text: str) -> int:
        """Grapheme clusters, as Bluesky counts its 300."""
        return bluesky_text.graphemes(text)

    @classmethod
    def fit_count(cls, text: str) -> int:
        return bluesky_text.fit_count(text)

    @classmethod
    def over_limit(cls, text: str, channel, image: bool = False) -> str | None:
        return bluesky_text.over_limit(text)

    # --- XRPC -----------------------------------------------------------------------------------

    @property
    def base(self) -> str:
        return (self.channel.api_base or self.channel.service or DEFAULT_SERVICE).rstrip("/")

    def _http(self):
        return self._once("http", lambda: http_session(None, [self.base], self.timeout))

    def _xrpc(self, method: str, nsid: str, *, auth: str | None = None, **kwargs) -> Any:
        """One XRPC call; the answer's JSON, or XrpcError with Bluesky's error name."""
        headers = kwargs.pop("headers", {})
        if auth:
            headers["Authorization"] = f"Bearer {auth}"
        response = self._http().request(
            method, f"{self.base}/xrpc/{nsid}", headers=headers, timeout=self.timeout, **kwargs
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code == 200 and isinstance(body, dict):
            return body
        if response.status_code == 200:
            raise _Unreadable("an answer that is not JSON")
        error = body.get("error", "") if isinstance(body, dict) else ""
        message = body.get("message", "") if isinstance(body, dict) else ""
        raise XrpcError(response.status_code, str(error), str(message)[:300], response.headers)

    def _session(self) -> dict[str, Any]:
        """The run's session: created once (createSession allows 30 per 5 minutes)."""
        if self._session_data is None:
            self._session_data = self._xrpc(
                "POST",
                "com.atproto.server.createSession",
                json={"identifier": self.channel.handle, "password": self.secrets["APP_PASSWORD"]},
            )
            self._remember_jwts()
        return self._session_data

    def _remember_jwts(self) -> None:
        # Session JWTs are secrets too: redact them wherever this adapter redacts.
        for name in ("accessJwt", "refreshJwt"):
            if self._session_data.get(name):
                self.secrets[f"session {name}"] = self._session_data[name]

    def _refresh(self) -> None:
        """A fresh access token: refreshSession, or a new session if the refresh is refused."""
        try:
            self._session_data = self._xrpc(
                "POST", "com.atproto.server.refreshSession", auth=self._session()["refreshJwt"]
            )
            self._remember_jwts()
        except XrpcError as exc:
            if exc.status >= 500 or exc.status == 429:
                raise
            self._session_data = None
            self._session()

    def _authed(self, method: str, nsid: str, **kwargs) -> Any:
        """An XRPC call with the session's token; an expired token is renewed once."""
        try:
            return self._xrpc(method, nsid, auth=self._session()["accessJwt"], **kwargs)
        except XrpcError as exc:
            if exc.error not in _SESSION_ERRORS:
                raise
        self._refresh()
        return self._xrpc(method, nsid, auth=self._session()["accessJwt"], **kwargs)

    @property
    def did(self) -> str:
        return self._session()["did"]

    # --- publishing -------------------------------------------------------------------------------

    def attempt_token(self, key: str, part: int) -> str:
        """A record key (TID) for the first send of this part: the time now and the post's hash.

        The microseconds strictly increase within the process (as in every TID generator), so
        no two sends of a run can share a key, whatever the clock's resolution; the clock id is
        the hash of the post key and part.
        """
        global _last_micros
        digest = hashlib.sha256(f"{key}\0{part}".encode()).digest()
        with _tid_lock:
            _last_micros = max(_last_micros + 1, time.time_ns() // 1000)
            micros = _last_micros
        return tid(micros, int.from_bytes(digest[:2], "big") & 0x3FF)

    def publish(self, post: OutgoingPost) -> Published:
        """A post (or a thread part replying to `reply_to`) with facets, image or link card."""
        rkey = post.token or self.attempt_token(post.key, 0)
        self.call("signing in", False, self._session)
        record = self.call("preparing the post", False, self._record, post)
        try:
            answer = self.call("publishing", True, self._create, rkey, record)
        except (RateLimited, NotSent):
            raise  # refused, or never arrived: nothing was written
        except (TemporaryError, OutcomeUnknown) as exc:
            # A 5xx, a timeout, a dropped connection, or the bare 500 of a record key already
            # used: only the record key can tell whether the post is there.
            unsure = exc
        else:
            return self._published(answer["uri"])
        return self._settle(rkey, unsure)

    def _create(self, rkey: str, record: dict) -> dict:
        return self._authed(
            "POST",
            "com.atproto.repo.createRecord",
            json={"repo": self.did, "collection": POST, "rkey": rkey, "record": record},
        )

    def _settle(self, rkey: str, error: PublishError) -> Published:
        """Published, or why not: the post at `rkey` decides after `error` left it unsure."""
        what = error.message.removesuffix("; the post may be online")
        looked: PublishError | None = None
        try:
            found = self.call("looking for the post by its record key", False, self._get, rkey)
        except PublishError as exc:
            looked = exc
        if looked is not None:
            raise OutcomeUnknown(
                f"{what}; looking for it failed too ({looked.message}): the post may be online"
            )
        if found is not None:
            log.info("%s; the post is on Bluesky all the same", what)
            return found
        raise TemporaryError(f"{what}; it is not on Bluesky, so it can be sent again")

    def _get(self, rkey: str) -> Published | None:
        try:
            answer = self._authed(
                "GET",
                "com.atproto.repo.getRecord",
                params={"repo": self.did, "collection": POST, "rkey": rkey},
            )
        except XrpcError as exc:
            if exc.error == "RecordNotFound" or (exc.status == 404 and not exc.error):
                return None
            raise
        return self._published(answer["uri"])

    def _published(self, uri: str) -> Published:
        rkey = uri.rsplit("/", 1)[-1]
        handle = self.channel.handle or self.did
        return Published(uri, f"https://bsky.app/profile/{handle}/post/{rkey}")

    def _record(self, post: OutgoingPost) -> dict:
        record: dict[str, Any] = {
            "$type": POST,
            "text": post.text,
            "createdAt": datetime.now(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            # The channel's language, never a default English.
            "langs": [self.channel.language],
        }
        facets = bluesky_text.facets(post.text)
        if facets:
            record["facets"] = facets
        if post.reply_to:
            record["reply"] = self._reply(post.reply_to)
        if post.image:
            record["embed"] = self._images(post)
        elif self.link_cards and any(f["features"][0].get("uri") for f in facets):
            # A post carries either images or a card; a card that cannot be built is left out.
            url = next(f["features"][0]["uri"] for f in facets if f["features"][0].get("uri"))
            card = self._card(url)
            if card:
                record["embed"] = card
        return record

    def _reply(self, parent_uri: str) -> dict:
        """Root and parent strong refs (uri + cid) for a reply to the post at `parent_uri`."""
        repo, collection, rkey = _split_uri(parent_uri)
        parent = self._authed(
            "GET",
            "com.atproto.repo.getRecord",
            params={"repo": repo, "collection": collection, "rkey": rkey},
        )
        ref = {"uri": parent["uri"], "cid": parent["cid"]}
        root = (parent.get("value") or {}).get("reply", {}).get("root") or ref
        return {"root": {"uri": root["uri"], "cid": root["cid"]}, "parent": ref}

    def _images(self, post: OutgoingPost) -> dict:
        from pipeline.platforms.media import image_size

        data = post.image.read_bytes()
        image: dict[str, Any] = {"image": self._upload(data), "alt": post.image_alt or ""}
        size = image_size(data)
        if size:
            image["aspectRatio"] = {"width": size[0], "height": size[1]}
        return {"$type": "app.bsky.embed.images", "images": [image]}

    def _upload(self, data: bytes) -> dict:
        from pipeline.platforms.media import image_mime

        mime = image_mime(data) or "application/octet-stream"
        return self._authed(
            "POST",
            "com.atproto.repo.uploadBlob",
            data=data,
            headers={"Content-Type": mime},
        )["blob"]

    def _card(self, url: str) -> dict | None:
        """An app.bsky.embed.external card for `url` from its page's Open Graph tags, or None."""
        try:
            from pipeline.platforms.bluesky_cards import build_card

            return build_card(url, self._http(), self._upload)
        except Exception as exc:  # whatever goes wrong, the post goes without a card
            log.info("no link card for %s: %s", url, type(exc).__name__)
            return None

    # --- looking ----------------------------------------------------------------------------------

    def find_attempt(self, token: str, text: str, since: datetime) -> Published | None:
        """The record at this record key, if it exists."""
        return self.call("looking for the post by its record key", False, self._get, token)

    def find(self, text: str, since: datetime) -> Published | None:
        """The account's recent post with this text (listRecords, newest first), if any."""
        return self.call("looking at recent posts", False, self._find, _normal(text), since)

    def _find(self, wanted: str, since: datetime) -> Published | None:
        cursor = None
        for _ in range(FIND_PAGES):
            params = {"repo": self.did, "collection": POST, "limit": 100}
            if cursor:
                params["cursor"] = cursor
            answer = self._authed("GET", "com.atproto.repo.listRecords", params=params)
            records = answer.get("records") or []
            for item in records:
                value = item.get("value") or {}
                created = _parse_time(value.get("createdAt"))
                if created is not None and created < since:
                    return None  # newest first: everything after this is older
                if _normal(value.get("text") or "") == wanted:
                    return self._published(item["uri"])
            cursor = answer.get("cursor")
            if not cursor or not records:
                return None
        raise LookupUnavailable(
            f"more than {FIND_PAGES * 100} posts since {since:%Y-%m-%d %H:%M} UTC: "
            "could not look through them all"
        )

    def check_credentials(self) -> str:
        """A session (createSession): the handle and DID as the PDS knows them."""
        session = self.call("signing in", False, self._session)
        return f"@{session.get('handle') or self.channel.handle} ({session.get('did')})"

    # --- errors -----------------------------------------------------------------------------------

    def translate(self, exc: Exception, what: str, may_have_arrived: bool) -> PublishError | None:
        if isinstance(exc, _Unreadable):
            return unreadable_answer(what, str(exc), may_have_arrived)
        if not isinstance(exc, XrpcError):
            return None
        variable = f"{self.channel.prefix}_APP_PASSWORD"
        said = f"Bluesky answered {exc.status} {exc.error or ''}".rstrip() + (
            f": {exc.message}" if exc.message else ""
        )
        if exc.status == 429 or exc.error == "RateLimitExceeded":
            reset = exc.headers.get("ratelimit-reset", "")
            when = datetime.fromtimestamp(int(reset), UTC) if reset.isdigit() else None
            return RateLimited(
                f"{what}: rate limited by Bluesky"
                + (f" until {when:%H:%M:%S} UTC" if when else ""),
                when,
            )
        if exc.status >= 500:
            return TemporaryError(f"{what}: {said}")
        if exc.status == 401 or exc.error in _SESSION_ERRORS | {"AuthenticationRequired"}:
            return FatalChannelError(
                f"{what}: Bluesky refused the app password in {variable} for "
                f"{self.channel.handle}: create a new app password (docs/setup.md) and set "
                f"{variable} — {said}"
            )
        if exc.error in _ACCOUNT_ERRORS or exc.status == 403:
            return FatalChannelError(
                f"{what}: the account {self.channel.handle} cannot post ({said}); "
                f"a person must act (its app password is in {variable})"
            )
        return RejectedPost(f"{what}: {said}")


class _Unreadable(Exception):
    """A 200 answer that is not the JSON object XRPC promises."""


def tid(micros: int, clock_id: int) -> str:
    """A TID: 53 bits of microseconds since 1970 and a 10-bit clock id, base32-sortable."""
    value = ((micros & ((1 << 53) - 1)) << 10) | (clock_id & 0x3FF)
    return "".join(_TID_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def _split_uri(uri: str) -> tuple[str, str, str]:
    """(repo, collection, rkey) of an at:// URI."""
    match = re.fullmatch(r"at://([^/]+)/([^/]+)/([^/]+)", uri)
    if not match:
        raise RejectedPost(f"cannot reply to {uri!r}: not an at:// record URI")
    return match.group(1), match.group(2), quote(match.group(3), safe="")


def _parse_time(text: str | None) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _normal(text: str) -> str:
    return " ".join(text.split())
