"""A fake X API (v2 posts and timelines, v1.1 media upload) on loopback, for tests and benchmarks.

One server answers both hosts tweepy 4.17 calls (`api.twitter.com` and `upload.twitter.com`):
clients redirect both to `base_url`. Every call must carry an OAuth 1.0a `Authorization` header
naming a configured account; the HMAC is not verified, because the client signs the original
https://api.twitter.com URL before its transport rewrites the host. App-only `Bearer` tokens in
`fake.bearer_tokens` may read timelines only, like the real API.

Endpoints: `POST /2/tweets`, `GET /2/users/me`, `GET /2/users/:id/tweets`,
`POST /1.1/media/upload.json` (simple upload, and chunked INIT/APPEND/FINALIZE, GET STATUS),
`POST /1.1/media/metadata/create.json`. v2 errors are problem bodies
(`{"title", "detail", "type", "status"}`), v1.1 errors `{"errors": [{"code", "message"}]}`.

Like the real API, and easy to forget:
- texts read back (and the text in the create answer) have every http(s) URL rewritten to
  `https://t.co/XXXXXXXXXX`, and a post with media ends with one more t.co link to the media;
  `&`, `<` and `>` come back as `&amp;`, `&lt;` and `&gt;`;
- timelines give only `id`, `text` and `edit_history_tweet_ids` unless `tweet.fields` asks for
  more (`created_at`, ...); an empty timeline has no `data` key at all;
- `max_results` must be 5..100;
- a reply to an unknown post is 403 "deleted or not visible", not 400;
- with `replies_restricted` (X's 2026 rule, which may hit one's own threads) every reply is 403.

Choices where the real behaviour is unknown or simplified: duplicates are refused when the same
account posted the same text within `duplicate_window`; the weighted length is approximated
(http(s) URLs 23, code points by twitter-text's v3 ranges, emoji sequences ~2; bare domains such
as "example.org" are not recognised as URLs, neither for length nor for t.co rewriting).

Standalone: `python -m tests.fakes.x --port 8081
--account USERNAME:USER_ID:API_KEY:API_SECRET:ACCESS_TOKEN:ACCESS_TOKEN_SECRET`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import re
import struct
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

from tests.fakes.server import FakeServer, Fault, Request, Response, serve_forever

TWITTER_EPOCH_MS = 1288834974657
OAUTH_PARAMS = (
    "oauth_consumer_key",
    "oauth_token",
    "oauth_signature_method",
    "oauth_signature",
    "oauth_nonce",
    "oauth_timestamp",
)
URL = re.compile(r"https?://\S+")
INVALID = "https://api.twitter.com/2/problems/invalid-request"
FREE_TIER_DETAIL = (
    "You currently have access to a subset of X API V2 endpoints and limited v1.1 endpoints"
    " (e.g. media post, oauth) only. If you need access to this endpoint, you may need a"
    " different access level. You can learn more here: https://developer.x.com/en/portal/product"
)
MAX_IMAGE_BYTES = 5 * 1024 * 1024
#: the 2026 rule (since 2026-02-23): API replies only where the author mentioned or quoted you
REPLY_RESTRICTED = (
    "Reply to this conversation is not allowed because you have not been mentioned or "
    "otherwise engaged by the author of the post you are replying to."
)


@dataclass
class Account:
    user_id: str
    username: str
    api_key: str
    api_secret: str
    access_token: str
    access_token_secret: str
    name: str = ""


@dataclass
class Media:
    id: int
    owner: str
    type: str
    created: datetime
    data: bytes = b""
    total_bytes: int = 0
    segments: dict[int, bytes] = field(default_factory=dict)
    finalized: bool = False
    alt_text: str | None = None

    def as_json(self) -> dict:
        body = {
            "media_id": self.id,
            "media_id_string": str(self.id),
            "media_key": f"3_{self.id}",
            "size": len(self.data),
            "expires_after_secs": 86400,
        }
        if self.type.startswith("image/"):
            width, height = image_size(self.data)
            body["image"] = {"image_type": self.type, "w": width, "h": height}
        return body


@dataclass
class Tweet:
    id: str
    author_id: str
    text: str
    display_text: str
    created_at: datetime
    media: list[Media] = field(default_factory=list)
    reply_to: str | None = None

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "text": self.text,
            "display_text": self.display_text,
            "created_at": self.created_at,
            "reply_to": self.reply_to,
            "media": [
                {"media_id": str(m.id), "alt_text": m.alt_text, "bytes": m.data, "type": m.type}
                for m in self.media
            ],
        }


class XError(Exception):
    """Raised inside a route to answer with an error."""

    def __init__(self, response: Response):
        self.response = response


class FakeX(FakeServer):
    """The fake X API; add accounts with `add_account`."""

    duplicate_window = timedelta(hours=24)

    def __init__(self, accounts: list[Account] | None = None, port: int = 0):
        super().__init__(port)
        self.accounts: dict[str, Account] = {}
        self.bearer_tokens: set[str] = set()
        #: True: replies are refused with 403, as X's 2026 rule may do even within a thread
        self.replies_restricted = False
        #: True: timelines answer 403 like the Free tier (which still allows /2/users/me)
        self.lookups_forbidden = False
        #: access tokens revoked or regenerated: every call with them answers 401 (`revoke`)
        self.revoked: set[str] = set()
        self._tweets: list[Tweet] = []
        self._media: dict[int, Media] = {}
        self._last_id = 0
        for account in accounts or []:
            self.add_account(account)

    # ---- configuration and inspection ------------------------------------------------------
    def add_account(self, account: Account) -> Account:
        with self.state_lock:
            self.accounts[account.user_id] = account
        return account

    def revoke(self, user: str | None = None) -> None:
        """The account's access token stops working (revoked, or regenerated in the portal)."""
        with self.state_lock:
            self.revoked.add(self.account(user).access_token)

    def account(self, user: str | None = None) -> Account:
        """An account by user id or username (default: the first one)."""
        if user is None:
            return next(iter(self.accounts.values()))
        return next(a for a in self.accounts.values() if user in (a.user_id, a.username))

    def env(self, prefix: str, user: str | None = None) -> dict[str, str]:
        """The environment a channel with `env_prefix=prefix` needs."""
        a = self.account(user)
        return {
            f"{prefix}_API_KEY": a.api_key,
            f"{prefix}_API_SECRET": a.api_secret,
            f"{prefix}_ACCESS_TOKEN": a.access_token,
            f"{prefix}_ACCESS_TOKEN_SECRET": a.access_token_secret,
        }

    def tweets(self, user: str | None = None) -> list[dict]:
        """The account's posts, oldest first."""
        user_id = self.account(user).user_id
        with self.state_lock:
            return [t.as_dict() for t in self._tweets if t.author_id == user_id]

    def add_tweet(self, user: str, text: str, created_at: datetime | None = None) -> str:
        """Put a post on the account as if made elsewhere; returns its id."""
        with self.state_lock:
            tweet = Tweet(
                self._new_id(),
                self.account(user).user_id,
                text,
                self.tco(text),
                created_at or self.clock(),
            )
            self._tweets.append(tweet)
            return tweet.id

    def _new_id(self) -> str:
        """A snowflake-like id (19 digits, increasing), as X's are."""
        ms = int(self.clock().timestamp() * 1000)
        self._last_id = max(self._last_id + 1, (ms - TWITTER_EPOCH_MS) << 22)
        return str(self._last_id)

    def tco(self, text: str, media: list[Media] = ()) -> str:
        """`text` as X shows it back: links (and attached media) as t.co URLs."""

        def short(seed: str) -> str:
            digest = hashlib.sha256(seed.encode()).digest()
            return "https://t.co/" + base64.b64encode(digest, b"xz").decode()[:10]

        shown = _replace_urls(text, short)
        # X escapes these three as HTML entities in every text it gives back.
        shown = shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        if media:
            shown = (shown + " " if shown else "") + short(f"media:{media[0].id}")
        return shown

    # ---- FakeServer ------------------------------------------------------------------------
    def category(self, req: Request) -> str:
        if req.path.startswith("/1.1/media/"):
            return "upload"
        if req.method == "POST" and req.path == "/2/tweets":
            return "publish"
        return "lookup" if req.method == "GET" else "other"

    def route(self, req: Request) -> Response:
        try:
            return self._route(req)
        except XError as error:
            return error.response

    def fault_response(self, fault: Fault, req: Request) -> Response:
        v1, opts = req.path.startswith("/1.1/"), fault.options
        if fault.kind == "500" and opts.get("html"):
            status = opts.get("status", 503)
            return Response(
                status,
                "<html><body><h1>Something is technically wrong.</h1></body></html>",
                content_type="text/html; charset=utf-8",
            )
        if fault.kind == "500":
            status = opts.get("status", 503)
            if v1:
                return self.v1_error(status, 131, "Internal error")
            title = "Service Unavailable" if status == 503 else "Internal Server Error"
            return self.problem(status, title, title)
        if fault.kind == "429":
            reset = int(time.time()) + int(opts.get("reset_in", self.reset_in))
            headers = {
                "x-rate-limit-limit": "17",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(reset),
            }
            if v1:
                return self.v1_error(429, 88, "Rate limit exceeded", headers)
            return self.problem(429, "Too Many Requests", "Too Many Requests", headers=headers)
        if fault.kind == "error":
            status = opts.get("status", 400)
            if v1:
                return self.v1_error(status, opts.get("code", 0), opts.get("detail", "Error"))
            return self.problem(status, opts.get("title", "Error"), opts.get("detail", "Error"))
        if v1:
            return self.v1_error(401, 89, "Invalid or expired token.")
        return self.problem(401, "Unauthorized", "Unauthorized")

    # ---- answers ---------------------------------------------------------------------------
    def problem(
        self,
        status: int,
        title: str,
        detail: str,
        type_: str = "about:blank",
        headers: dict | None = None,
        **extra,
    ) -> Response:
        body = {"title": title, "detail": detail, "type": type_, **extra}
        if type_ != INVALID:
            body["status"] = status
        return Response(status, body, headers or {}, content_type="application/problem+json")

    def invalid(self, parameter: str, value, message: str) -> XError:
        return XError(
            self.problem(
                400,
                "Invalid Request",
                "One or more parameters to your request was invalid.",
                INVALID,
                errors=[{"parameters": {parameter: [str(value)]}, "message": message}],
            )
        )

    @staticmethod
    def v1_error(status: int, code: int, message: str, headers: dict | None = None) -> Response:
        return Response(
            status,
            {"errors": [{"code": code, "message": message}]},
            headers or {},
            content_type="application/json; charset=utf-8",
        )

    def ok(self, status: int, body) -> Response:
        reset = str(int(time.time()) + self.reset_in)
        return Response(
            status,
            body,
            {
                "x-rate-limit-limit": "100",
                "x-rate-limit-remaining": "99",
                "x-rate-limit-reset": reset,
            },
            content_type="application/json; charset=utf-8",
        )

    # ---- routes ----------------------------------------------------------------------------
    def _route(self, req: Request) -> Response:
        path, method = req.path, req.method
        if path == "/1.1/media/upload.json":
            return self._upload(req, self._user(req, v1=True))
        if path == "/1.1/media/metadata/create.json" and method == "POST":
            return self._metadata(req, self._user(req, v1=True))
        if path == "/2/tweets" and method == "POST":
            return self._create(req, self._user(req))
        if path == "/2/users/me" and method == "GET":
            a = self._user(req)
            return self.ok(
                200,
                {"data": {"id": a.user_id, "name": a.name or a.username, "username": a.username}},
            )
        match = re.fullmatch(r"/2/users/([^/]+)/tweets", path)
        if match and method == "GET":
            self._user(req, app_allowed=True)
            return self._timeline(req, match.group(1))
        return self.v1_error(404, 34, "Sorry, that page does not exist")

    def _user(self, req: Request, v1: bool = False, app_allowed: bool = False) -> Account | None:
        """The account the request authenticates as (None: an allowed app-only bearer)."""

        def unauthorised():
            if v1:
                return XError(self.v1_error(401, 32, "Could not authenticate you."))
            return XError(self.problem(401, "Unauthorized", "Unauthorized"))

        header = req.headers.get("authorization", "")
        if header.startswith("Bearer ") and header[7:] in self.bearer_tokens:
            if app_allowed:
                return None
            raise XError(
                self.problem(
                    403,
                    "Unsupported Authentication",
                    "Authenticating with OAuth 2.0"
                    " Application-Only is forbidden for this endpoint.  Supported authentication"
                    " types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
                    "https://api.twitter.com/2/problems/unsupported-authentication",
                )
            )
        if not header.startswith("OAuth "):
            raise unauthorised()
        params = {k: unquote(v) for k, v in re.findall(r'(\w+)="([^"]*)"', header[6:])}
        if (
            any(not params.get(name) for name in OAUTH_PARAMS)
            or params["oauth_signature_method"] != "HMAC-SHA1"
        ):
            raise unauthorised()
        if params["oauth_token"] in self.revoked:
            raise unauthorised()
        for account in self.accounts.values():
            if (account.api_key, account.access_token) == (
                params["oauth_consumer_key"],
                params["oauth_token"],
            ):
                return account
        raise unauthorised()

    def _create(self, req: Request, account: Account) -> Response:
        body = req.json if isinstance(req.json, dict) else None
        if body is None:
            raise self.invalid("body", "", "Request body is not valid JSON")
        text = body.get("text") or ""
        media_ids = (body.get("media") or {}).get("media_ids") or []
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        now = self.clock()
        if not text and not media_ids:
            raise self.invalid("text", "", "Post text or media is required")
        if weighted_length(text) > 280:
            raise XError(
                self.problem(
                    400,
                    "Bad Request",
                    "Your Tweet text is too long. For"
                    " more information on how Twitter determines text length"
                    " see https://github.com/twitter/twitter-text.",
                )
            )
        media = [self._media.get(int(m)) if str(m).isdigit() else None for m in media_ids]
        if len(media) > 4 or any(
            m is None
            or m.owner != account.user_id
            or not m.finalized
            or now - m.created > timedelta(days=1)
            for m in media
        ):
            raise self.invalid("media.media_ids", media_ids, "Your media IDs are invalid.")
        if reply_to is not None:
            if not str(reply_to).isdigit():
                raise self.invalid(
                    "reply.in_reply_to_tweet_id",
                    reply_to,
                    f"The `reply.in_reply_to_tweet_id` query parameter value"
                    f" [{reply_to}] is not valid",
                )
            if not any(t.id == str(reply_to) for t in self._tweets):
                raise XError(
                    self.problem(
                        403,
                        "Forbidden",
                        "You attempted to reply to a Tweet that is deleted or not visible to you.",
                    )
                )
            if self.replies_restricted:
                raise XError(self.problem(403, "Forbidden", REPLY_RESTRICTED))
        if text and any(
            t.author_id == account.user_id
            and t.text == text
            and now - t.created_at < self.duplicate_window
            for t in self._tweets
        ):
            raise XError(
                self.problem(
                    403,
                    "Forbidden",
                    "You are not allowed to create a Tweet with duplicate content.",
                )
            )
        tweet = Tweet(
            self._new_id(),
            account.user_id,
            text,
            self.tco(text, media),
            now,
            media,
            str(reply_to) if reply_to is not None else None,
        )
        self._tweets.append(tweet)
        return self.ok(
            201,
            {
                "data": {
                    "id": tweet.id,
                    "text": tweet.display_text,
                    "edit_history_tweet_ids": [tweet.id],
                }
            },
        )

    def _timeline(self, req: Request, user_id: str) -> Response:
        if self.lookups_forbidden:
            raise XError(
                self.problem(
                    403,
                    "Client Forbidden",
                    FREE_TIER_DETAIL,
                    "https://api.twitter.com/2/problems/client-forbidden",
                    client_id="29457813",
                    reason="client-not-enrolled",
                    registration_url="https://developer.x.com/en/portal/product",
                    required_enrollment="Appropriate Level of API Access",
                )
            )
        if user_id not in self.accounts:
            return self.ok(
                200,
                {
                    "errors": [
                        {
                            "value": user_id,
                            "detail": f"Could not find user with id: [{user_id}].",
                            "title": "Not Found Error",
                            "resource_type": "user",
                            "parameter": "id",
                            "resource_id": user_id,
                            "type": "https://api.twitter.com/2/problems/resource-not-found",
                        }
                    ]
                },
            )
        raw = req.arg("max_results") or "10"
        if not raw.isdigit() or not 5 <= int(raw) <= 100:
            raise self.invalid(
                "max_results",
                raw,
                f"The `max_results` query parameter value [{raw}] is not between 5 and 100",
            )
        tweets = sorted(
            (t for t in self._tweets if t.author_id == user_id),
            key=lambda t: int(t.id),
            reverse=True,
        )
        if "replies" in (req.arg("exclude") or ""):
            tweets = [t for t in tweets if t.reply_to is None]
        for name, keep in (
            ("start_time", lambda t, v: t.created_at >= v),
            ("end_time", lambda t, v: t.created_at < v),
        ):
            if req.arg(name):
                try:
                    value = datetime.fromisoformat(req.arg(name))
                except ValueError:
                    raise self.invalid(name, req.arg(name), f"Invalid '{name}'") from None
                value = value if value.tzinfo else value.replace(tzinfo=UTC)
                tweets = [t for t in tweets if keep(t, value)]
        for name, keep in (
            ("since_id", lambda t, v: int(t.id) > v),
            ("until_id", lambda t, v: int(t.id) < v),
            ("pagination_token", lambda t, v: int(t.id) < v),
        ):
            if req.arg(name):
                value = int(
                    _untoken(req.arg(name)) if name == "pagination_token" else req.arg(name)
                )
                tweets = [t for t in tweets if keep(t, value)]
        page, more = tweets[: int(raw)], len(tweets) > int(raw)
        fields = set((req.arg("tweet.fields") or "").split(","))
        meta: dict = {"result_count": len(page)}
        if not page:
            return self.ok(200, {"meta": meta})
        meta.update(newest_id=page[0].id, oldest_id=page[-1].id)
        if more:
            meta["next_token"] = _token(page[-1].id)
        return self.ok(200, {"data": [self._fields(t, fields) for t in page], "meta": meta})

    @staticmethod
    def _fields(tweet: Tweet, fields: set[str]) -> dict:
        data = {"id": tweet.id, "text": tweet.display_text, "edit_history_tweet_ids": [tweet.id]}
        if "created_at" in fields:
            data["created_at"] = tweet.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        if "author_id" in fields:
            data["author_id"] = tweet.author_id
        if "attachments" in fields and tweet.media:
            data["attachments"] = {"media_keys": [f"3_{m.id}" for m in tweet.media]}
        if "referenced_tweets" in fields and tweet.reply_to:
            data["referenced_tweets"] = [{"type": "replied_to", "id": tweet.reply_to}]
        return data

    def _upload(self, req: Request, account: Account) -> Response:
        command = req.arg("command")
        if command is None and req.method == "POST":  # simple upload
            data = self._media_bytes(req)
            media = Media(
                int(self._new_id()),
                account.user_id,
                sniff(data),
                self.clock(),
                data,
                len(data),
                finalized=True,
            )
            self._check_size(media)
            self._media[media.id] = media
            return self.ok(200, media.as_json())
        if command == "INIT":
            media = Media(
                int(self._new_id()),
                account.user_id,
                req.arg("media_type") or "application/octet-stream",
                self.clock(),
                total_bytes=int(req.arg("total_bytes") or 0),
            )
            self._media[media.id] = media
            return self.ok(
                202,
                {
                    k: v
                    for k, v in media.as_json().items()
                    if k in ("media_id", "media_id_string", "media_key", "expires_after_secs")
                },
            )
        media = self._media.get(int(req.arg("media_id") or 0))
        if media is None or media.owner != account.user_id:
            raise XError(self.v1_error(400, 324, "Invalid media id."))
        if command == "APPEND":
            media.segments[int(req.arg("segment_index") or 0)] = self._media_bytes(req)
            return Response(204, content_type=None)
        if command == "FINALIZE":
            media.data = b"".join(media.segments[i] for i in sorted(media.segments))
            if len(media.data) != media.total_bytes:
                raise XError(self.v1_error(400, 324, "File size does not match total_bytes."))
            self._check_size(media)
            media.finalized = True
        if command in ("FINALIZE", "STATUS"):
            body = media.as_json()
            if not media.type.startswith("image/"):
                body["processing_info"] = {"state": "succeeded", "progress_percent": 100}
            return self.ok(201 if command == "FINALIZE" else 200, body)
        raise XError(self.v1_error(400, 38, "command parameter is missing."))

    def _media_bytes(self, req: Request) -> bytes:
        if "media" in req.files:
            return req.files["media"][1]
        if req.arg("media_data"):
            return base64.b64decode(req.arg("media_data"))
        raise XError(self.v1_error(400, 38, "media parameter is missing."))

    def _check_size(self, media: Media) -> None:
        if media.type.startswith("image/") and len(media.data) > MAX_IMAGE_BYTES:
            raise XError(
                self.v1_error(400, 324, f"Image file size must be <= {MAX_IMAGE_BYTES} bytes")
            )

    def _metadata(self, req: Request, account: Account) -> Response:
        body = req.json if isinstance(req.json, dict) else {}
        media = self._media.get(int(body.get("media_id") or 0))
        if media is None or media.owner != account.user_id:
            raise XError(self.v1_error(400, 324, "Invalid media id."))
        alt = (body.get("alt_text") or {}).get("text")
        if not isinstance(alt, str) or len(alt) > 1000:
            raise XError(self.v1_error(400, 44, "alt_text.text must be 1..1000 characters."))
        media.alt_text = alt
        return Response(200, content_type=None)  # the real answer is empty too


def _urls(text: str) -> list[tuple[int, int]]:
    """Spans of http(s) URLs, without trailing punctuation (as twitter-text does)."""
    spans = []
    for match in URL.finditer(text):
        url = match.group().rstrip(".,;:!?)]}'\"")
        spans.append((match.start(), match.start() + len(url)))
    return spans


def _replace_urls(text: str, replace) -> str:
    out, last = [], 0
    for start, end in _urls(text):
        out += [text[last:start], replace(text[start:end])]
        last = end
    return "".join([*out, text[last:]])


def weighted_length(text: str) -> int:
    """An approximation of twitter-text v3's weighted length (see the module docstring)."""
    text = unicodedata.normalize("NFC", text)
    total, after_zwj = 0, False
    for start, end in reversed(_urls(text)):
        total += 23
        text = text[:start] + text[end:]
    for ch in text:
        cp = ord(ch)
        if cp in (0x200D, 0xFE0F) or 0x1F3FB <= cp <= 0x1F3FF or after_zwj:
            weight = 0  # joined into the emoji sequence before it
        elif (
            cp <= 0x10FF
            or 0x2000 <= cp <= 0x200D
            or 0x2010 <= cp <= 0x201F
            or 0x2032 <= cp <= 0x2037
            or 0x1F1E6 <= cp <= 0x1F1FF
        ):
            weight = 1  # regional indicators: a flag (two of them) weighs 2
        else:
            weight = 2
        after_zwj = cp == 0x200D
        total += weight
    return total


def _token(tweet_id: str) -> str:
    return base64.b32encode(tweet_id.encode()).decode().lower().rstrip("=")


def _untoken(token: str) -> str:
    return base64.b32decode(token.upper() + "=" * (-len(token) % 8)).decode()


def sniff(data: bytes) -> str:
    """The MIME type of image bytes (what X would detect)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG, GIF or JPEG; (0, 0) if unknown."""
    kind = sniff(data)
    if kind == "image/png" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if kind == "image/gif" and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if kind == "image/jpeg":
        i = 2
        while i + 9 < len(data) and data[i] == 0xFF:
            marker, length = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return width, height
            i += 2 + length
    return 0, 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--account",
        action="append",
        default=[],
        metavar="USERNAME:USER_ID:API_KEY:API_SECRET:TOKEN:TOKEN_SECRET",
    )
    parser.add_argument("--bearer", action="append", default=[])
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--lookups-forbidden", action="store_true")
    args = parser.parse_args(argv)
    fake = FakeX(port=args.port)
    fake.latency, fake.lookups_forbidden = args.latency, args.lookups_forbidden
    fake.bearer_tokens.update(args.bearer)
    for spec in args.account:
        username, user_id, key, secret, token, token_secret = spec.split(":")
        fake.add_account(Account(user_id, username, key, secret, token, token_secret))
    serve_forever(fake)


if __name__ == "__main__":
    main()
