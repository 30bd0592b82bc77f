"""A fake Mastodon instance (4.3) on loopback, for tests and benchmarks.

Endpoints: `GET /api/v1/instance/` (trailing slash too: Mastodon.py's version check asks there),
`GET /api/v2/instance` (`configuration.statuses.max_characters`), `GET
/api/v1/accounts/verify_credentials`, `POST /api/v1/statuses`, `GET /api/v1/statuses/:id`,
`GET /api/v1/statuses/:id/source`, `GET /api/v1/accounts/:id/statuses`, `POST /api/v2/media`,
`GET /api/v1/media/:id`, `GET/PUT/DELETE /api/v1/scheduled_statuses[/:id]`. Errors are
`{"error": "..."}` bodies.

Like the real server, and easy to forget:
- a status's `content` is HTML (paragraphs, `<br>`, links split into invisible/visible spans);
  the text as written is only at `/api/v1/statuses/:id/source`;
- `Idempotency-Key` is remembered per account for an hour: a repeat answers 200 with the original
  status (or scheduled status), whatever its body says;
- an uploaded image answers 202 with `url: null` until processed (after `processing_polls` GETs
  of `/api/v1/media/:id`, which answer 206 meanwhile); a status using it before is refused 422;
- the length is counted in grapheme clusters with URLs 23 and `@user@domain` as `@user`, against
  `max_characters`; 4 attachments, alt text 1,500 characters;
- `scheduled_at` must be at least 5 minutes ahead; 25 scheduled per day and 300 pending per
  account; a scheduled status becomes a status once the fake's clock passes its time (checked on
  every request).
- a revoked token answers 401 `The access token is invalid`; a disabled account 403.

Standalone: `python -m tests.fakes.mastodon --port 8082 --account USERNAME:TOKEN`.
"""

from __future__ import annotations

import argparse
import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import regex

from tests.fakes.server import FakeServer, Fault, Request, Response, serve_forever

VERSION = "4.3.0"
IDEMPOTENCY = timedelta(hours=1)
MIN_SCHEDULE = timedelta(minutes=5)
DAILY_SCHEDULED, TOTAL_SCHEDULED = 25, 300
MAX_ALT, MAX_MEDIA = 1_500, 4
#: a URL ends before trailing punctuation, as in twitter-text's extractor that Mastodon uses
URL = re.compile(r"https?://[^\s<>\"]*[^\s<>\".,:;!?'\")\]]")
MENTION = re.compile(r"(?<![/\w])@(\w+)@[\w.-]+\w")


@dataclass
class Account:
    id: str
    username: str
    token: str
    display_name: str = ""
    disabled: bool = False


@dataclass
class Media:
    id: str
    owner: str
    data: bytes
    mime: str
    description: str | None
    polls_left: int

    def as_json(self, base: str) -> dict:
        done = self.polls_left <= 0
        return {
            "id": self.id,
            "type": "image",
            "url": f"{base}/system/media/{self.id}.png" if done else None,
            "preview_url": f"{base}/system/media/{self.id}-small.png",
            "description": self.description,
            "meta": {},
            "blurhash": None,
        }


@dataclass
class Status:
    id: str
    account: Account
    text: str
    created_at: datetime
    language: str | None
    visibility: str
    in_reply_to_id: str | None = None
    media: list[Media] = field(default_factory=list)


@dataclass
class Scheduled:
    id: str
    account: Account
    scheduled_at: datetime
    params: dict
    media: list[Media] = field(default_factory=list)


class MastodonError(Exception):
    def __init__(self, status: int, message: str):
        self.response = Response(status, {"error": message})


class FakeMastodon(FakeServer):
    """A fake instance; `domain` is what its URLs show (clients talk to `base_url`)."""

    processing_polls = 1

    def __init__(
        self,
        accounts: list[Account] | None = None,
        max_characters: int = 500,
        domain: str = "social.example",
        port: int = 0,
    ):
        super().__init__(port)
        self.max_characters, self.domain = max_characters, domain
        self.accounts: dict[str, Account] = {}
        self._statuses: list[Status] = []
        self._scheduled: list[Scheduled] = []
        self._media: dict[str, Media] = {}
        self._keys: dict[tuple[str, str], tuple[datetime, str, str]] = {}  # -> (at, kind, id)
        self._next = 110_000_000_000_000_000
        for account in accounts or []:
            self.add_account(account)

    # ---- configuration and inspection ------------------------------------------------------
    def add_account(self, account: Account) -> Account:
        with self.state_lock:
            self.accounts[account.token] = account
        return account

    def account(self, username: str | None = None) -> Account:
        return next(a for a in self.accounts.values() if username in (None, a.username))

    def env(self, prefix: str, username: str | None = None) -> dict[str, str]:
        return {f"{prefix}_ACCESS_TOKEN": self.account(username).token}

    def revoke(self, username: str | None = None) -> None:
        """The token stops working, as after "Revoke" in the account's settings."""
        with self.state_lock:
            account = self.account(username)
            self.accounts.pop(account.token)
            account.token = "revoked-" + account.token
            self.accounts[account.token] = account

    def statuses(self, username: str | None = None) -> list[dict]:
        """The account's statuses, oldest first, as the tests look at them."""
        account = self.account(username)
        with self.state_lock:
            self._publish_due()
            return [
                {
                    "id": s.id,
                    "text": s.text,
                    "content": self.content(s.text),
                    "language": s.language,
                    "visibility": s.visibility,
                    "in_reply_to_id": s.in_reply_to_id,
                    "created_at": s.created_at,
                    "media": [
                        {"bytes": m.data, "description": m.description, "mime": m.mime}
                        for m in s.media
                    ],
                }
                for s in self._statuses
                if s.account is account
            ]

    def scheduled(self, username: str | None = None) -> list[dict]:
        """The account's scheduled statuses not yet published: id, text, at, media."""
        account = self.account(username)
        with self.state_lock:
            self._publish_due()
            return [
                {
                    "id": s.id,
                    "text": s.params["text"],
                    "at": s.scheduled_at,
                    "language": s.params["language"],
                    "media": [{"bytes": m.data, "description": m.description} for m in s.media],
                }
                for s in self._scheduled
                if s.account is account
            ]

    def add_status(self, username: str | None, text: str, created_at: datetime | None = None):
        """A status made elsewhere (by hand, another app); its id."""
        with self.state_lock:
            status = Status(
                self._id(), self.account(username), text, created_at or self.clock(), "en", "public"
            )
            self._statuses.append(status)
            return status.id

    def _id(self) -> str:
        self._next += 1 + (int(self.clock().timestamp() * 1000) % 7)
        return str(self._next)

    # ---- FakeServer ------------------------------------------------------------------------
    def category(self, req: Request) -> str:
        if req.method == "POST" and req.path == "/api/v1/statuses":
            return "publish"
        if req.path.startswith(("/api/v2/media", "/api/v1/media")):
            return "upload"
        return "lookup" if req.method == "GET" else "other"

    def fault_response(self, fault: Fault, req: Request) -> Response:
        opts = fault.options
        if fault.kind == "500":
            status = opts.get("status", 503)
            if opts.get("html"):
                return Response(
                    status,
                    "<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>",
                    content_type="text/html",
                )
            return Response(status, {"error": "We're sorry, but something went wrong on our end."})
        if fault.kind == "429":
            reset = datetime.now(UTC) + timedelta(seconds=opts.get("reset_in", self.reset_in))
            return Response(
                429,
                {"error": "Too many requests"},
                {
                    "X-RateLimit-Limit": "300",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": reset.isoformat(timespec="milliseconds").replace(
                        "+00:00", "Z"
                    ),
                },
            )
        if fault.kind == "expired":
            return Response(401, {"error": "The access token is invalid"})
        return Response(opts.get("status", 422), {"error": opts.get("message", "Error")})

    def route(self, req: Request) -> Response:
        try:
            self._publish_due()
            return self._route(req)
        except MastodonError as error:
            return error.response

    # ---- routes ----------------------------------------------------------------------------
    def _route(self, req: Request) -> Response:
        path, method = req.path.rstrip("/") or "/", req.method
        if path == "/api/v1/instance" and method == "GET":
            return Response(200, {"uri": self.domain, "title": "Fake", "version": VERSION})
        if path == "/api/v2/instance" and method == "GET":
            return Response(200, self._instance_v2())
        account = self._auth(req)
        if path == "/api/v1/accounts/verify_credentials" and method == "GET":
            return Response(200, self._account_json(account))
        if path == "/api/v1/statuses" and method == "POST":
            return self._post_status(req, account)
        if path == "/api/v2/media" and method == "POST":
            return self._upload(req, account)
        if path == "/api/v1/scheduled_statuses" and method == "GET":
            return self._scheduled_list(req, account)
        match = re.fullmatch(r"/api/v1/media/(\d+)", path)
        if match and method == "GET":
            media = self._media.get(match.group(1))
            if media is None or media.owner != account.id:
                raise MastodonError(404, "Record not found")
            media.polls_left -= 1
            return Response(200 if media.polls_left <= 0 else 206, media.as_json(self.base_url))
        match = re.fullmatch(r"/api/v1/statuses/(\d+)(/source)?", path)
        if match and method == "GET":
            status = self._status(match.group(1))
            if match.group(2):
                if status.account is not account:
                    raise MastodonError(404, "Record not found")
                return Response(200, {"id": status.id, "text": status.text, "spoiler_text": ""})
            return Response(200, self._status_json(status))
        match = re.fullmatch(r"/api/v1/accounts/(\d+)/statuses", path)
        if match and method == "GET":
            return self._timeline(req, match.group(1))
        match = re.fullmatch(r"/api/v1/scheduled_statuses/(\d+)", path)
        if match:
            return self._one_scheduled(req, account, match.group(1))
        raise MastodonError(404, "Record not found")

    def _auth(self, req: Request) -> Account:
        header = req.headers.get("authorization", "")
        account = self.accounts.get(header.removeprefix("Bearer ")) if header else None
        if account is None:
            raise MastodonError(401, "The access token is invalid")
        if account.disabled:
            raise MastodonError(403, "Your login is currently disabled")
        return account

    def _post_status(self, req: Request, account: Account) -> Response:
        key = req.headers.get("idempotency-key")
        now = self.clock()
        if key:
            known = self._keys.get((account.id, key))
            if known and now - known[0] < IDEMPOTENCY:
                _, kind, remote_id = known
                if kind == "status":
                    return Response(200, self._status_json(self._status(remote_id)))
                found = next((s for s in self._scheduled if s.id == remote_id), None)
                if found:
                    return Response(200, self._scheduled_json(found))
        text = req.arg("status") or ""
        media = self._attachments(req, account)
        if not text.strip() and not media:
            raise MastodonError(422, "Validation failed: Text can't be blank")
        if length(text) > self.max_characters:
            raise MastodonError(
                422, f"Validation failed: Text character limit of {self.max_characters} exceeded"
            )
        reply_to = req.arg("in_reply_to_id")
        if reply_to:
            self._status(reply_to)
        visibility = req.arg("visibility") or "public"
        if visibility not in ("public", "unlisted", "private", "direct"):
            raise MastodonError(422, "Validation failed: Visibility is not included in the list")
        scheduled_at = req.arg("scheduled_at")
        if scheduled_at:
            return self._schedule(req, account, key, scheduled_at, media)
        status = Status(
            self._id(), account, text, now, req.arg("language"), visibility, reply_to, media
        )
        self._statuses.append(status)
        if key:
            self._keys[(account.id, key)] = (now, "status", status.id)
        return Response(200, self._status_json(status))

    def _attachments(self, req: Request, account: Account) -> list[Media]:
        ids = [v for k, vs in req.query.items() if k.startswith("media_ids") for v in vs]
        ids += [v for k, v in req.form.items() if k.startswith("media_ids")]
        if len(ids) > MAX_MEDIA:
            raise MastodonError(422, "Validation failed: Media attachments: too many")
        media = []
        for media_id in ids:
            found = self._media.get(media_id)
            if found is None or found.owner != account.id:
                raise MastodonError(422, "Validation failed: Media attachments are invalid")
            if found.polls_left > 0:
                raise MastodonError(
                    422,
                    "Cannot attach files that have not finished processing. Try again in a moment!",
                )
            media.append(found)
        return media

    def _schedule(self, req, account, key, scheduled_at: str, media) -> Response:
        when = datetime.fromisoformat(scheduled_at.replace("Z", "+00:00"))
        now = self.clock()
        if when - now < MIN_SCHEDULE:
            raise MastodonError(
                422, "Validation failed: Scheduled at The scheduled date must be in the future"
            )
        mine = [s for s in self._scheduled if s.account is account]
        if len(mine) >= TOTAL_SCHEDULED:
            raise MastodonError(
                422, "Validation failed: You have exceeded the limit of scheduled statuses"
            )
        if sum(1 for s in mine if s.scheduled_at.date() == when.date()) >= DAILY_SCHEDULED:
            raise MastodonError(
                422,
                "Validation failed: You have exceeded the limit of scheduled statuses for that day",
            )
        params = {
            "text": req.arg("status") or "",
            "language": req.arg("language"),
            "visibility": req.arg("visibility") or "public",
            "in_reply_to_id": req.arg("in_reply_to_id"),
            "media_ids": [m.id for m in media] or None,
            "idempotency": key,
        }
        scheduled = Scheduled(self._id(), account, when, params, media)
        self._scheduled.append(scheduled)
        if key:
            self._keys[(account.id, key)] = (now, "scheduled", scheduled.id)
        return Response(200, self._scheduled_json(scheduled))

    def _one_scheduled(self, req: Request, account: Account, sid: str) -> Response:
        found = next((s for s in self._scheduled if s.id == sid and s.account is account), None)
        if found is None:
            raise MastodonError(404, "Record not found")
        if req.method == "GET":
            return Response(200, self._scheduled_json(found))
        if req.method == "DELETE":
            self._scheduled.remove(found)
            return Response(200, {})
        if req.method == "PUT":
            value = req.arg("scheduled_at") or (req.json or {}).get("scheduled_at")
            when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            if when - self.clock() < MIN_SCHEDULE:
                raise MastodonError(
                    422, "Validation failed: Scheduled at The scheduled date must be in the future"
                )
            found.scheduled_at = when
            return Response(200, self._scheduled_json(found))
        raise MastodonError(404, "Record not found")

    def _scheduled_list(self, req: Request, account: Account) -> Response:
        """Newest id first, 20 by default and 40 at most a page, `Link: <...>; rel="next"`."""
        limit = min(int(req.arg("limit") or 20), 40)
        max_id = req.arg("max_id")
        mine = sorted(
            (s for s in self._scheduled if s.account is account), key=lambda s: -int(s.id)
        )
        if max_id:
            mine = [s for s in mine if int(s.id) < int(max_id)]
        page, headers = mine[:limit], {}
        if len(mine) > limit:
            headers["Link"] = (
                f"<{self.base_url}/api/v1/scheduled_statuses?limit={limit}"
                f'&max_id={page[-1].id}>; rel="next"'
            )
        return Response(200, [self._scheduled_json(s) for s in page], headers)

    def lose(self, scheduled_id: str) -> None:
        """The instance drops a scheduled status without publishing it (a crash, a moderator)."""
        with self.state_lock:
            self._scheduled = [s for s in self._scheduled if s.id != scheduled_id]

    def _publish_due(self) -> None:
        now = self.clock()
        for scheduled in [s for s in self._scheduled if s.scheduled_at <= now]:
            self._scheduled.remove(scheduled)
            p = scheduled.params
            self._statuses.append(
                Status(
                    self._id(),
                    scheduled.account,
                    p["text"],
                    scheduled.scheduled_at,
                    p["language"],
                    p["visibility"],
                    p["in_reply_to_id"],
                    scheduled.media,
                )
            )

    def _upload(self, req: Request, account: Account) -> Response:
        if "file" not in req.files:
            raise MastodonError(422, "Validation failed: File can't be blank")
        _, data = req.files["file"]
        description = req.arg("description")
        if description and len(description) > MAX_ALT:
            raise MastodonError(
                422, f"Validation failed: Description is too long (maximum is {MAX_ALT} characters)"
            )
        if len(data) > 16 * 1024 * 1024:
            raise MastodonError(422, "Validation failed: File file size must be less than 16 MB")
        mime = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
        media = Media(self._id(), account.id, data, mime, description, self.processing_polls)
        self._media[media.id] = media
        return Response(202 if media.polls_left > 0 else 200, media.as_json(self.base_url))

    def _timeline(self, req: Request, account_id: str) -> Response:
        limit = min(int(req.arg("limit") or 20), 40)
        max_id = req.arg("max_id")
        mine = [s for s in reversed(self._statuses) if s.account.id == account_id]
        if max_id:
            mine = [s for s in mine if int(s.id) < int(max_id)]
        page = mine[:limit]
        headers = {}
        if len(mine) > limit:
            headers["Link"] = (
                f"<{self.base_url}/api/v1/accounts/{account_id}/statuses?limit={limit}"
                f'&max_id={page[-1].id}>; rel="next"'
            )
        return Response(200, [self._status_json(s) for s in page], headers)

    def _status(self, sid: str) -> Status:
        found = next((s for s in self._statuses if s.id == str(sid)), None)
        if found is None:
            raise MastodonError(404, "Record not found")
        return found

    # ---- bodies ----------------------------------------------------------------------------
    def _instance_v2(self) -> dict:
        return {
            "domain": self.domain,
            "title": "Fake",
            "version": VERSION,
            "api_versions": {"mastodon": 2},
            "configuration": {
                "statuses": {
                    "max_characters": self.max_characters,
                    "max_media_attachments": MAX_MEDIA,
                    "characters_reserved_per_url": 23,
                },
                "media_attachments": {
                    "image_size_limit": 16 * 1024 * 1024,
                    "description_limit": MAX_ALT,
                },
            },
        }

    def _account_json(self, account: Account) -> dict:
        return {
            "id": account.id,
            "username": account.username,
            "acct": account.username,
            "display_name": account.display_name or account.username,
            "url": f"https://{self.domain}/@{account.username}",
            "created_at": "2022-01-01T00:00:00.000Z",
        }

    def _status_json(self, status: Status) -> dict:
        url = f"https://{self.domain}/@{status.account.username}/{status.id}"
        return {
            "id": status.id,
            "created_at": status.created_at.astimezone(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "in_reply_to_id": status.in_reply_to_id,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": status.visibility,
            "language": status.language,
            "uri": f"https://{self.domain}/users/{status.account.username}/statuses/{status.id}",
            "url": url,
            "content": self.content(status.text),
            "account": self._account_json(status.account),
            "media_attachments": [m.as_json(self.base_url) for m in status.media],
            "mentions": [],
            "tags": [],
            "emojis": [],
        }

    def _scheduled_json(self, scheduled: Scheduled) -> dict:
        return {
            "id": scheduled.id,
            "scheduled_at": scheduled.scheduled_at.astimezone(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "params": {k: v for k, v in scheduled.params.items() if k != "idempotency"},
            "media_attachments": [m.as_json(self.base_url) for m in scheduled.media],
        }

    @staticmethod
    def content(text: str) -> str:
        """A status's text as Mastodon renders it to HTML."""

        def link(match: re.Match) -> str:
            url = match.group(0)
            scheme, _, rest = url.partition("://")
            shown, hidden = rest[:30], rest[30:]
            return (
                f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener">'
                f'<span class="invisible">{scheme}://</span>'
                f'<span class="{"ellipsis" if hidden else ""}">{html.escape(shown)}</span>'
                f'<span class="invisible">{html.escape(hidden)}</span></a>'
            )

        paragraphs = []
        for para in re.split(r"\n\n+", text.strip()):
            pieces, last = [], 0
            for match in URL.finditer(para):
                pieces.append(html.escape(para[last : match.start()], quote=False))
                pieces.append(link(match))
                last = match.end()
            pieces.append(html.escape(para[last:], quote=False))
            paragraphs.append("<p>" + "".join(pieces).replace("\n", "<br />") + "</p>")
        return "".join(paragraphs)


def length(text: str) -> int:
    """Mastodon's count: grapheme clusters, every URL 23, `@user@domain` as `@user`."""
    text = URL.sub("x" * 23, text)
    text = MENTION.sub(r"@\1", text)
    return len(regex.findall(r"\X", text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--account", action="append", default=[], help="USERNAME:TOKEN")
    parser.add_argument("--max-characters", type=int, default=500)
    args = parser.parse_args()
    accounts = [Account(str(100 + n), *spec.split(":", 1)) for n, spec in enumerate(args.account)]
    serve_forever(FakeMastodon(accounts, args.max_characters, port=args.port))


if __name__ == "__main__":
    main()
