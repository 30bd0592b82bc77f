"""A fake Bluesky PDS (the XRPC calls crosspost makes) on loopback, for tests.

Behaves as the reference PDS does (PLATFORMS.md, and checked against @atproto/pds 0.5.35 on
127.0.0.1, see tests/platforms/test_bluesky_pds.py):
- `com.atproto.server.createSession` {identifier, password} takes the handle, DID or email with
  the account's password or one of its app passwords; a wrong one is `401 AuthenticationRequired
  "Invalid identifier or password"`. At most `sessions_per_window` sessions per 5 minutes per
  account, then `429 RateLimitExceeded` with `ratelimit-*` headers.
- `refreshSession` (Bearer refresh JWT) gives a new pair; the old refresh JWT stops working.
- An expired access JWT is `400 ExpiredToken`, an unknown one `400 InvalidToken`, none at all
  `401 AuthMissing`.
- `com.atproto.repo.createRecord` with a client-chosen `rkey`: it must be a valid TID for
  app.bsky.feed.post (else `400 InvalidRequest`); a key already used answers a **bare
  `500 InternalServerError`** (no hint that it is a duplicate). The record is checked as the
  lexicon says: text ≤ 300 graphemes and ≤ 3,000 bytes, createdAt, langs ≤ 3, facets with
  byte indices, images ≤ 4 with `alt`, blobs that were uploaded. Bad facet byte ranges are
  accepted, as by the real PDS: tests must check them themselves.
- `getRecord` (`400 RecordNotFound` when absent), `listRecords` (newest first, cursor, limit
  ≤ 100), `uploadBlob` (raw body, `400 BlobTooLarge` over `blob_limit`).

Faults (see tests/fakes/server.py): "publish" is createRecord, "upload" uploadBlob, "lookup"
getRecord/listRecords, "other" the session calls. "expired" revokes the account's app passwords
and sessions (a revoked app password: refresh and new sessions fail too); "error" takes
`status`, `error`, `message`.

Link cards: `fake.pages["/some/page"] = (content_type, body)` serves a page (and its images)
on the same loopback port, so card building is tested without the internet.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from tests.fakes.server import FakeServer, Fault, Request, Response

POST = "app.bsky.feed.post"
TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
MAX_GRAPHEMES, MAX_BYTES = 300, 3000


@dataclass
class Account:
    handle: str
    did: str
    password: str
    app_passwords: list[str]
    email: str = ""


@dataclass
class Session:
    did: str
    access: str
    refresh: str
    expires: datetime


@dataclass
class Record:
    rkey: str
    cid: str
    value: dict
    at: datetime

    def uri(self, did: str) -> str:
        return f"at://{did}/{POST}/{self.rkey}"


@dataclass
class Repo:
    account: Account
    records: dict[str, Record] = field(default_factory=dict)
    blobs: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # cid -> (mime, data)
    sessions_made: list[float] = field(default_factory=list)


class XrpcError(Exception):
    def __init__(self, status: int, error: str, message: str, headers: dict | None = None):
        self.response = Response(status, {"error": error, "message": message}, headers or {})


class FakeBluesky(FakeServer):
    """The fake PDS; add accounts with `add_account`."""

    access_lifetime = timedelta(hours=2)
    sessions_per_window = 30
    blob_limit = 1_000_000

    def __init__(self, accounts: list[Account] | None = None, port: int = 0):
        super().__init__(port)
        self.repos: dict[str, Repo] = {}
        self.sessions: dict[str, Session] = {}  # access jwt -> session
        self.refresh: dict[str, str] = {}  # refresh jwt -> did
        self.pages: dict[str, tuple[str, bytes | str]] = {}
        #: every JWT the fake ever issued (secrets: leak checks look for them)
        self.issued: list[str] = []
        for account in accounts or []:
            self.add_account(account)

    # ---- configuration and inspection ------------------------------------------------------
    def add_account(self, account: Account) -> Account:
        # A copy: revoking its app passwords must not change the caller's (shared) account.
        account = replace(account, app_passwords=list(account.app_passwords))
        with self.state_lock:
            self.repos[account.did] = Repo(account)
        return account

    def account(self, handle: str | None = None) -> Account:
        repos = list(self.repos.values())
        if handle is None:
            return repos[0].account
        return next(r.account for r in repos if handle in (r.account.handle, r.account.did))

    def env(self, prefix: str, handle: str | None = None) -> dict[str, str]:
        return {f"{prefix}_APP_PASSWORD": self.account(handle).app_passwords[0]}

    def posts(self, handle: str | None = None) -> list[dict]:
        """The account's post records, oldest first: rkey, uri, cid, value (the record)."""
        repo = self.repos[self.account(handle).did]
        with self.state_lock:
            return [
                {"rkey": r.rkey, "uri": r.uri(repo.account.did), "cid": r.cid, "value": r.value}
                for r in sorted(repo.records.values(), key=lambda r: r.rkey)
            ]

    def blob(self, cid: str, handle: str | None = None) -> bytes:
        return self.repos[self.account(handle).did].blobs[cid][1]

    def add_post(self, text: str, handle: str | None = None, created: datetime | None = None):
        """A post made elsewhere (another client); returns its at:// URI."""
        with self.state_lock:
            repo = self.repos[self.account(handle).did]
            when = created or self.clock()
            rkey = _tid(int(when.timestamp() * 1e6), len(repo.records))
            value = {"$type": POST, "text": text, "createdAt": _iso(when)}
            repo.records[rkey] = Record(rkey, _cid(value), value, when)
            return repo.records[rkey].uri(repo.account.did)

    def expire_sessions(self) -> None:
        """Every access JWT expires now (the refresh JWTs still work)."""
        with self.state_lock:
            for session in self.sessions.values():
                session.expires = self.clock() - timedelta(seconds=1)

    def revoke(self, handle: str | None = None) -> None:
        """The app passwords are revoked: their sessions and refresh JWTs die with them."""
        with self.state_lock:
            account = self.account(handle)
            account.app_passwords = []
            for jwt, session in list(self.sessions.items()):
                if session.did == account.did:
                    del self.sessions[jwt]
            for jwt, did in list(self.refresh.items()):
                if did == account.did:
                    del self.refresh[jwt]

    # ---- FakeServer ------------------------------------------------------------------------
    def category(self, req: Request) -> str:
        nsid = req.path.removeprefix("/xrpc/")
        if nsid == "com.atproto.repo.createRecord":
            return "publish"
        if nsid == "com.atproto.repo.uploadBlob":
            return "upload"
        if nsid in ("com.atproto.repo.getRecord", "com.atproto.repo.listRecords"):
            return "lookup"
        return "other"

    def fault_response(self, fault: Fault, req: Request) -> Response:
        opts = fault.options
        if fault.kind == "500" and opts.get("html"):
            return Response(
                opts.get("status", 502),
                "<html><body><h1>502 Bad Gateway</h1></body></html>",
                content_type="text/html",
            )
        if fault.kind == "500":
            status = opts.get("status", 500)
            name = "InternalServerError" if status == 500 else "UpstreamFailure"
            return Response(status, {"error": name, "message": "Internal Server Error"})
        if fault.kind == "429":
            reset = int(time.time()) + int(opts.get("reset_in", self.reset_in))
            headers = {
                "ratelimit-limit": "5000",
                "ratelimit-remaining": "0",
                "ratelimit-reset": str(reset),
                "ratelimit-policy": "5000;w=3600",
            }
            return Response(
                429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, headers
            )
        if fault.kind == "error":
            body = {
                "error": opts.get("error", "InvalidRequest"),
                "message": opts.get("message", ""),
            }
            return Response(opts.get("status", 400), body)
        # "expired": the app password was revoked, the session with it
        self.revoke()
        return Response(400, {"error": "ExpiredToken", "message": "Token has been revoked"})

    def route(self, req: Request) -> Response:
        if not req.path.startswith("/xrpc/"):
            page = self.pages.get(req.path)
            if page is None:
                return Response(404, "not found", content_type="text/plain")
            return Response(200, page[1], content_type=page[0])
        try:
            return self._route(req.path.removeprefix("/xrpc/"), req)
        except XrpcError as exc:
            return exc.response

    def _route(self, nsid: str, req: Request) -> Response:
        routes = {
            ("POST", "com.atproto.server.createSession"): self._create_session,
            ("POST", "com.atproto.server.refreshSession"): self._refresh_session,
            ("GET", "com.atproto.server.getSession"): self._get_session,
            ("POST", "com.atproto.repo.createRecord"): self._create_record,
            ("GET", "com.atproto.repo.getRecord"): self._get_record,
            ("GET", "com.atproto.repo.listRecords"): self._list_records,
            ("POST", "com.atproto.repo.uploadBlob"): self._upload_blob,
            ("POST", "com.atproto.repo.putRecord"): self._refuse_put,
        }
        handler = routes.get((req.method, nsid))
        if handler is None:
            raise XrpcError(501, "MethodNotImplemented", "Method Not Implemented")
        return Response(200, handler(req))

    # ---- sessions --------------------------------------------------------------------------
    def _create_session(self, req: Request) -> dict:
        body = req.json or {}
        ident, password = str(body.get("identifier", "")), str(body.get("password", ""))
        repo = next(
            (
                r
                for r in self.repos.values()
                if ident.lower() in (r.account.handle, r.account.did, r.account.email.lower())
            ),
            None,
        )
        if repo is None or password not in (repo.account.password, *repo.account.app_passwords):
            raise XrpcError(401, "AuthenticationRequired", "Invalid identifier or password")
        now = time.monotonic()
        repo.sessions_made = [t for t in repo.sessions_made if now - t < 300]
        if len(repo.sessions_made) >= self.sessions_per_window:
            reset = int(time.time()) + 300
            raise XrpcError(
                429,
                "RateLimitExceeded",
                "Rate Limit Exceeded",
                {
                    "ratelimit-limit": "30",
                    "ratelimit-remaining": "0",
                    "ratelimit-reset": str(reset),
                },
            )
        repo.sessions_made.append(now)
        return self._new_session(repo.account)

    def _new_session(self, account: Account) -> dict:
        access, refresh = _jwt(account.did, "access"), _jwt(account.did, "refresh")
        self.issued += [access, refresh]
        self.sessions[access] = Session(
            account.did, access, refresh, self.clock() + self.access_lifetime
        )
        self.refresh[refresh] = account.did
        return {
            "did": account.did,
            "handle": account.handle,
            "email": account.email,
            "accessJwt": access,
            "refreshJwt": refresh,
            "active": True,
        }

    def _refresh_session(self, req: Request) -> dict:
        token = _bearer(req)
        did = self.refresh.pop(token, None)
        if did is None:
            raise XrpcError(400, "ExpiredToken", "Token has been revoked")
        return self._new_session(self.repos[did].account)

    def _get_session(self, req: Request) -> dict:
        repo = self._authorise(req)
        return {"did": repo.account.did, "handle": repo.account.handle, "active": True}

    def _authorise(self, req: Request) -> Repo:
        token = _bearer(req)
        if not token:
            raise XrpcError(401, "AuthMissing", "Authentication Required")
        session = self.sessions.get(token)
        if session is None:
            raise XrpcError(400, "InvalidToken", "Token could not be verified")
        if session.expires <= self.clock():
            raise XrpcError(400, "ExpiredToken", "Token has expired")
        return self.repos[session.did]

    # ---- records ---------------------------------------------------------------------------
    def _create_record(self, req: Request) -> dict:
        repo = self._authorise(req)
        body = req.json or {}
        if body.get("repo") not in (repo.account.did, repo.account.handle):
            raise XrpcError(400, "InvalidRequest", "Invalid repo")
        if body.get("collection") != POST:
            raise XrpcError(400, "InvalidRequest", "crosspost's fake knows only app.bsky.feed.post")
        rkey = body.get("rkey") or _tid(int(time.time() * 1e6), len(repo.records))
        if not TID.match(str(rkey)):
            raise XrpcError(
                400,
                "InvalidRequest",
                f'Invalid record key for {POST}: Invalid TID string (got "{rkey}") at $',
            )
        record = body.get("record")
        self._validate(repo, record)
        if rkey in repo.records:
            # What the reference PDS answers: nothing says it is a duplicate.
            raise XrpcError(500, "InternalServerError", "Internal Server Error")
        repo.records[rkey] = Record(rkey, _cid(record), record, self.clock())
        return {
            "uri": repo.records[rkey].uri(repo.account.did),
            "cid": repo.records[rkey].cid,
            "commit": {"cid": _cid({"commit": rkey}), "rev": rkey},
            "validationStatus": "valid",
        }

    def _validate(self, repo: Repo, record) -> None:
        def bad(why: str):
            raise XrpcError(400, "InvalidRequest", f"Invalid {POST} record: {why}")

        if not isinstance(record, dict) or record.get("$type") not in (POST, None):
            bad("Record/$type must be app.bsky.feed.post")
        text = record.get("text")
        if not isinstance(text, str):
            bad('Record must have the property "text"')
        if len(text.encode()) > MAX_BYTES:
            bad(f"Record/text must not be longer than {MAX_BYTES} characters")
        if _graphemes(text) > MAX_GRAPHEMES:
            bad(f"Record/text must not be longer than {MAX_GRAPHEMES} graphemes")
        if not isinstance(record.get("createdAt"), str):
            bad('Record must have the property "createdAt"')
        langs = record.get("langs", [])
        if not isinstance(langs, list) or len(langs) > 3:
            bad("Record/langs must not have more than 3 elements")
        for facet in record.get("facets", []):
            index = facet.get("index", {})
            if not all(
                isinstance(index.get(k), int) and index[k] >= 0 for k in ("byteStart", "byteEnd")
            ):
                bad("Record/facets/0/index must have byteStart and byteEnd")
        reply = record.get("reply")
        if reply is not None:
            for ref in ("root", "parent"):
                if not isinstance(reply.get(ref), dict) or not {"uri", "cid"} <= set(reply[ref]):
                    bad(f'Record/reply must have the property "{ref}" with uri and cid')
        embed = record.get("embed")
        if embed and embed.get("$type") == "app.bsky.embed.images":
            images = embed.get("images", [])
            if not 1 <= len(images) <= 4:
                bad("Record/embed/images must have 1 to 4 elements")
            for image in images:
                if "alt" not in image:
                    bad('Record/embed/images/0 must have the property "alt"')
                ref = (image.get("image") or {}).get("ref", {}).get("$link")
                if ref not in repo.blobs:
                    raise XrpcError(400, "InvalidRequest", f"Could not find blob: {ref}")
        if embed and embed.get("$type") == "app.bsky.embed.external":
            external = embed.get("external") or {}
            if not {"uri", "title", "description"} <= set(external):
                bad("Record/embed/external must have uri, title and description")
            thumb = (external.get("thumb") or {}).get("ref", {}).get("$link")
            if thumb is not None and thumb not in repo.blobs:
                raise XrpcError(400, "InvalidRequest", f"Could not find blob: {thumb}")

    def _repo_of(self, req: Request) -> Repo:
        name = req.arg("repo")
        repo = next(
            (r for r in self.repos.values() if name in (r.account.did, r.account.handle)), None
        )
        if repo is None:
            raise XrpcError(400, "InvalidRequest", f"Could not find repo: {name}")
        return repo

    def _get_record(self, req: Request) -> dict:
        repo = self._repo_of(req)
        rkey = req.arg("rkey")
        record = repo.records.get(rkey) if req.arg("collection") == POST else None
        if record is None:
            uri = f"at://{repo.account.did}/{req.arg('collection')}/{rkey}"
            raise XrpcError(400, "RecordNotFound", f"Could not locate record: {uri}")
        return {"uri": record.uri(repo.account.did), "cid": record.cid, "value": record.value}

    def _list_records(self, req: Request) -> dict:
        repo = self._repo_of(req)
        limit = int(req.arg("limit") or 50)
        if not 1 <= limit <= 100:
            raise XrpcError(400, "InvalidRequest", "limit must be between 1 and 100")
        keys = sorted(repo.records, reverse=req.arg("reverse") != "true")
        cursor = req.arg("cursor")
        if cursor:
            keys = [k for k in keys if (k < cursor if req.arg("reverse") != "true" else k > cursor)]
        page = keys[:limit]
        records = [
            {
                "uri": repo.records[k].uri(repo.account.did),
                "cid": repo.records[k].cid,
                "value": repo.records[k].value,
            }
            for k in page
        ]
        answer: dict = {"records": records}
        if len(keys) > limit:
            answer["cursor"] = page[-1]
        return answer

    def _upload_blob(self, req: Request) -> dict:
        repo = self._authorise(req)
        if len(req.body) > self.blob_limit:
            raise XrpcError(
                400, "BlobTooLarge", f"This file is too large. It is {len(req.body)} bytes"
            )
        mime = req.headers.get("content-type", "application/octet-stream")
        cid = (
            "bafkrei"
            + base64.b32encode(hashlib.sha256(req.body).digest()).decode().lower().rstrip("=")[:52]
        )
        repo.blobs[cid] = (mime, req.body)
        return {
            "blob": {
                "$type": "blob",
                "ref": {"$link": cid},
                "mimeType": mime,
                "size": len(req.body),
            }
        }

    def _refuse_put(self, req: Request) -> dict:
        raise AssertionError("crosspost must never call putRecord: it overwrites")


def _bearer(req: Request) -> str:
    auth = req.headers.get("authorization", "")
    return auth[7:] if auth.lower().startswith("bearer ") else ""


def _jwt(did: str, kind: str) -> str:
    """A JWT-shaped token (header.payload.signature), unique and random like a real one."""
    head = base64.urlsafe_b64encode(b'{"typ":"at+jwt","alg":"HS256"}').decode().rstrip("=")
    scope = "com.atproto.access" if kind == "access" else "com.atproto.refresh"
    payload = (
        base64.urlsafe_b64encode(
            f'{{"scope":"{scope}","sub":"{did}","jti":"{secrets.token_hex(8)}"}}'.encode()
        )
        .decode()
        .rstrip("=")
    )
    return f"{head}.{payload}.{secrets.token_urlsafe(32)}"


def _cid(value) -> str:
    digest = hashlib.sha256(repr(value).encode() + secrets.token_bytes(4)).digest()
    return "bafyrei" + base64.b32encode(digest).decode().lower().rstrip("=")[:52]


def _tid(micros: int, clock_id: int) -> str:
    alphabet = "234567abcdefghijklmnopqrstuvwxyz"
    value = ((micros & ((1 << 53) - 1)) << 10) | (clock_id & 0x3FF)
    return "".join(alphabet[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _graphemes(text: str) -> int:
    import regex

    return len(regex.findall(r"\X", text))
