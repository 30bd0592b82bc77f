"""A fake Facebook Graph API (Pages) on loopback, for tests and benchmarks.

It answers what facebook-sdk 3.1.0 sends, with the real API's shapes: version in the path
(`/v24.0/...`, any version accepted), the token in the form body of POSTs with data and in the
query string otherwise, errors as `{"error": {"message", "type", "code", "error_subcode",
"fbtrace_id"}}` whatever the HTTP status (the SDK reads only the body).

Endpoints: `GET /{page|me}`, `POST /{page}/feed` (`message`, `link`, `published`,
`scheduled_publish_time`, `attached_media[i]`), `POST /{page}/photos` (multipart `source` or
`url`, `caption`, `published`), `GET /{page}/feed` (also `/posts`, `/published_posts`; newest
first, `limit`, `after`, `since`, `fields`, `paging.next` carrying the token like Graph does) and
`GET /{page}/scheduled_posts`.

Native scheduling as PLATFORMS.md describes it: `published=false` + `scheduled_publish_time`
(UNIX seconds) on `/feed` and `/photos`, accepted 10 minutes to 30 days ahead of the fake's
clock, else `(#100) The specified scheduled publish time is invalid.`; a time on a published post
is error 100. A copy becomes published when the fake's `clock` passes its time (tests set the
clock to their pretend time). `GET /{post-id}` (`is_published`, `permalink_url`, `message`,
`scheduled_publish_time`), `POST /{post-id}` (`message`, `scheduled_publish_time`; a photo is
refused: "(#100) You can't perform this operation on this endpoint"), `DELETE /{id}` (a post, or
a photo and its post). A deleted or unknown id answers 100/33 ("does not exist").
`vanish(id)` drops a copy as if Facebook lost it; `stall(id)` keeps it unpublished past its time.

Choices where the real behaviour is unknown (documented so tests do not mistake them for facts):
- duplicates: a `/feed` message equal to a visible post of the same page within
  `duplicate_window` is refused with 506; photo captions are not checked;
- `published` other than true/false/1/0 (e.g. Python's "False") is refused with code 100, so the
  facebook-sdk trap fails loudly instead of silently publishing;
- a missing token gives code 104, a token the fake does not know 190/467; `invalidate(page,
  subcode)` makes a known token die the ways PLATFORMS.md lists (190 with 458/460/463/467/492);
- `GET /me` (and `/{page}`) answers `{"id", "name"}` whatever `fields` asks for.
- scheduled photo posts are listed in `/scheduled_posts` (unverified on the real Graph), under
  their post id `{page}_{photo-id}`; `alt_text_custom` is kept as the post's `alt`.

Standalone: `python -m tests.fakes.graph --port 8080 --page 104123456789=TOKEN[:Name]`.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from tests.fakes.server import FakeServer, Fault, Request, Response, serve_forever

PATH = re.compile(r"^/(?:(v\d+\.\d+)/)?([^/]+)(?:/([^/]+))?/?$")
FEED_EDGES = ("feed", "posts", "published_posts")
RATE_LIMITS = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    80001: "(#80001) There have been too many calls to this Page account. Wait a bit and try"
    " again. For more info, please refer to"
    " https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
}
TRANSIENT = {1, 2, 4, 17, 32, 80001}
#: Graph error 190's subcodes for a token that stopped working, with Graph's messages (the
#: wording of 492 is not documented by Meta; the others are as reported by users)
TOKEN_DEATHS = {
    458: "Error validating access token: The user has not authorized application 1234567890.",
    460: "Error validating access token: The session has been invalidated because the user"
    " changed their password or Facebook has changed the session for security reasons.",
    463: "Error validating access token: Session has expired.",
    467: "Error validating access token: The session is invalid because the user logged out.",
    492: "Error validating access token: The user must be an administrator, editor, or"
    " moderator of the page in order to impersonate it.",
}


@dataclass
class Page:
    id: str
    token: str
    name: str


@dataclass
class Post:
    id: str
    page_id: str
    message: str | None
    link: str | None
    created_time: datetime
    published: bool = True
    scheduled_publish_time: datetime | None = None
    images: list[bytes | None] = field(default_factory=list)
    photo_url: str | None = None
    alt: str | None = None
    photo_id: str | None = None
    #: Facebook did not publish it at its time (e.g. its token died): it stays unpublished
    stuck: bool = False

    def visible(self, now: datetime) -> bool:
        """Published, or scheduled and its time has come."""
        return self.published or (
            self.scheduled_publish_time is not None
            and self.scheduled_publish_time <= now
            and not self.stuck
        )

    def as_dict(self, now: datetime) -> dict:
        return {
            "id": self.id,
            "message": self.message,
            "link": self.link,
            "image": self.images[0] if self.images else None,
            "images": list(self.images),
            "photo_url": self.photo_url,
            "created_time": self.created_time,
            "published": self.published,
            "is_published": self.visible(now),
            "scheduled_publish_time": self.scheduled_publish_time,
            "alt": self.alt,
            "photo_id": self.photo_id,
        }


@dataclass
class Photo:
    id: str
    page_id: str
    data: bytes | None
    url: str | None
    published: bool


class GraphError(Exception):
    """Raised inside a route to answer with a Graph error body."""

    def __init__(self, response: Response):
        self.response = response


def fb_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


class FakeGraph(FakeServer):
    """The fake Graph API. `pages` maps page id -> token or (token, name)."""

    #: host put in `paging.next` URLs (the real one: clients must redirect it like any call)
    public_url = "https://graph.facebook.com"
    duplicate_window = timedelta(hours=24)

    def __init__(self, pages: dict | None = None, port: int = 0):
        super().__init__(port)
        self.pages: dict[str, Page] = {}
        self._posts: list[Post] = []
        self._photos: dict[str, Photo] = {}
        #: posts deleted through the API or vanished, as they were (for inspection)
        self.deleted: list[dict] = []
        self._next_id = 122_100_000_000_000_001
        #: page token -> Graph 190 subcode it now answers with (see `invalidate`)
        self.invalidated: dict[str, int] = {}
        for page_id, value in (pages or {}).items():
            token, name = (value, None) if isinstance(value, str) else value
            self.add_page(page_id, token, name)

    # ---- configuration and inspection ------------------------------------------------------
    def add_page(self, page_id: str, token: str, name: str | None = None) -> Page:
        page = Page(str(page_id), token, name or f"Page {page_id}")
        with self.state_lock:
            self.pages[page.id] = page
        return page

    def invalidate(self, page_id: str, subcode: int = 467) -> None:
        """From now on the page's token is refused on every call with Graph error 190/subcode
        (458 app removed, 460 password changed, 463 expired, 467 invalid, 492 no Page role)."""
        if subcode not in TOKEN_DEATHS:
            raise ValueError(f"unknown subcode {subcode}; one of {sorted(TOKEN_DEATHS)}")
        with self.state_lock:
            self.invalidated[self.pages[str(page_id)].token] = subcode

    def env(self, prefix: str, page_id: str | None = None) -> dict[str, str]:
        """The environment a channel with `env_prefix=prefix` needs (default: the first page)."""
        page = self.pages[page_id] if page_id else next(iter(self.pages.values()))
        return {f"{prefix}_PAGE_TOKEN": page.token}

    def posts(self, page_id: str) -> list[dict]:
        """Every post on the page (not deleted), oldest first, published or scheduled."""
        with self.state_lock:
            now = self.clock()
            return [p.as_dict(now) for p in self._posts if p.page_id == str(page_id)]

    def scheduled(self, page_id: str) -> list[dict]:
        """The page's copies still waiting for their time (at the fake's clock)."""
        return [p for p in self.posts(page_id) if not p["is_published"]]

    def vanish(self, post_id: str) -> None:
        """Facebook loses a post (e.g. a scheduled copy dropped): it is gone, without a trace."""
        with self.state_lock:
            self._remove(self._find_post(post_id))

    def stall(self, post_id: str) -> None:
        """A scheduled copy that Facebook does not publish at its time."""
        with self.state_lock:
            self._find_post(post_id).stuck = True

    def _find_post(self, node: str) -> Post | None:
        return next((p for p in self._posts if node in (p.id, p.photo_id)), None)

    def _remove(self, post: Post | None) -> None:
        if post is not None:
            self._posts.remove(post)
            self.deleted.append(post.as_dict(self.clock()))
            if post.photo_id:
                self._photos.pop(post.photo_id, None)

    def add_post(
        self,
        page_id: str,
        message: str | None,
        *,
        link: str | None = None,
        created_time: datetime | None = None,
    ) -> str:
        """Put a post on the page as if made elsewhere; returns its id."""
        with self.state_lock:
            post = Post(
                f"{page_id}_{self._new_id()}",
                str(page_id),
                message,
                link,
                created_time or self.clock(),
            )
            self._posts.append(post)
            return post.id

    def _new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    # ---- FakeServer ------------------------------------------------------------------------
    def category(self, req: Request) -> str:
        match = PATH.match(req.path)
        if req.method == "POST" and match and match.group(3) in ("feed", "photos"):
            return "publish"
        return "lookup" if req.method == "GET" else "other"

    def route(self, req: Request) -> Response:
        try:
            return self._route(req)
        except GraphError as error:
            return error.response

    def fault_response(self, fault: Fault, req: Request) -> Response:
        opts = fault.options
        if fault.kind == "500" and opts.get("html"):
            status = opts.get("status", 502)
            return Response(
                status,
                f"<html><head><title>{status} Bad Gateway</title></head>"
                f"<body><h1>{status} Bad Gateway</h1></body></html>",
                content_type="text/html; charset=utf-8",
            )
        if fault.kind == "500":
            return self.error(
                opts.get("status", 500),
                "An unexpected error has occurred. Please retry your request later.",
                2,
            )
        if fault.kind == "429":
            code = opts.get("code", 4)
            usage = json.dumps({"call_count": 100, "total_cputime": 12, "total_time": 15})
            return self.error(
                opts.get("status", 400), RATE_LIMITS[code], code, headers={"x-app-usage": usage}
            )
        if fault.kind == "error":
            code = opts.get("code", 100)
            return self.error(
                opts.get("status", 400),
                opts.get("message", f"(#{code}) Error"),
                code,
                subcode=opts.get("subcode"),
            )
        now = self.clock().astimezone(UTC)
        stamp = "%A, %d-%b-%y %H:%M:%S UTC"
        return self.error(
            400,
            "Error validating access token: Session has expired on "
            f"{(now - timedelta(hours=1)).strftime(stamp)}. The current time is"
            f" {now.strftime(stamp)}.",
            190,
            subcode=463,
        )

    # ---- errors ----------------------------------------------------------------------------
    def error(
        self,
        status: int,
        message: str,
        code: int,
        type_: str = "OAuthException",
        subcode: int | None = None,
        headers: dict | None = None,
    ) -> Response:
        trace = self.trace_id()
        body = {"message": message, "type": type_, "code": code}
        if code in TRANSIENT:
            body["is_transient"] = True
        if subcode is not None:
            body["error_subcode"] = subcode
        body["fbtrace_id"] = trace
        headers = {"x-fb-trace-id": trace, **(headers or {})}
        if code == 190:
            headers["WWW-Authenticate"] = f'OAuth "Facebook Platform" "invalid_token" "{message}"'
        return Response(
            status, {"error": body}, headers, content_type="application/json; charset=UTF-8"
        )

    def fail(self, *args, **kwargs):
        raise GraphError(self.error(*args, **kwargs))

    def ok(self, body) -> Response:
        return Response(
            200,
            body,
            {"x-fb-trace-id": self.trace_id()},
            content_type="application/json; charset=UTF-8",
        )

    # ---- routes ----------------------------------------------------------------------------
    def _route(self, req: Request) -> Response:
        match = PATH.match(req.path)
        if not match:
            self.fail(400, "Unknown path components: " + req.path, 2500)
        version, node, edge = match.groups()
        page = self._authorise(req, node)
        if edge is None and node not in ("me", page.id):
            return self._node(req, page, node)
        if edge is None and req.method == "GET":
            return self.ok({"id": page.id, "name": page.name})
        if edge == "feed" and req.method == "POST":
            return self._post_feed(req, page)
        if edge == "photos" and req.method == "POST":
            return self._post_photo(req, page)
        if edge in (*FEED_EDGES, "scheduled_posts") and req.method == "GET":
            return self._list(req, page, version or "v24.0", edge)
        self.fail(
            400, f"(#100) Tried accessing nonexisting field ({edge}) on node type (Page)", 100
        )

    def _authorise(self, req: Request, node: str) -> Page:
        token = req.arg("access_token")
        if not token:
            self.fail(400, "An access token is required to request this resource.", 104)
        if token in self.invalidated:
            subcode = self.invalidated[token]
            self.fail(400, TOKEN_DEATHS[subcode], 190, subcode=subcode)
        owner = next((p for p in self.pages.values() if p.token == token), None)
        if owner is None:
            self.fail(
                400, "Invalid OAuth access token - Cannot parse access token", 190, subcode=467
            )
        if node in ("me", owner.id):
            return owner
        post = self._find_post(node)
        if post is not None and post.page_id == owner.id:
            return owner
        photo = self._photos.get(node)
        if photo is not None and photo.page_id == owner.id:
            return owner
        if node in self.pages:
            self.fail(
                403, "(#200) The user hasn't authorized the application to perform this action", 200
            )
        self._gone(req, node)

    def _published(self, req: Request) -> bool:
        value = req.arg("published")
        if value is None:
            return True
        if value in ("true", "1", "false", "0"):
            return value in ("true", "1")
        self.fail(400, "(#100) param published must be a boolean", 100)

    def _gone(self, req: Request, node: str):
        self.fail(
            400,
            f"Unsupported {req.method.lower()} request. Object with ID '{node}' does"
            " not exist, cannot be loaded due to missing permissions, or does not support"
            " this operation. Please read the Graph API documentation at"
            " https://developers.facebook.com/docs/graph-api",
            100,
            type_="GraphMethodException",
            subcode=33,
        )

    def _node(self, req: Request, page: Page, node: str) -> Response:
        """GET, POST (edit) and DELETE of one post or photo of the page."""
        post = self._find_post(node)
        if req.method == "DELETE":
            if post is None and node in self._photos:
                self._photos.pop(node)
            elif post is not None:
                self._remove(post)
            return self.ok({"success": True})
        if post is None:
            self._gone(req, node)
        now = self.clock()
        if req.method == "GET":
            fields = (req.arg("fields") or "id,message,created_time").split(",")
            return self.ok(self._fields(post, fields, now))
        if post.photo_id:
            self.fail(400, "(#100) You can't perform this operation on this endpoint", 100)
        message, when = req.arg("message"), req.arg("scheduled_publish_time")
        if when:
            if post.visible(now):
                self.fail(
                    400,
                    "(#100) You cannot specify a scheduled publish time on a published post",
                    100,
                )
            post.scheduled_publish_time = self._schedule_time(when, now)
            post.created_time = post.scheduled_publish_time
        if message:
            post.message = message
        return self.ok({"success": True})

    def _schedule_time(self, value: str, now: datetime) -> datetime:
        try:
            when = datetime.fromtimestamp(int(value), UTC)
        except ValueError:
            self.fail(400, "(#100) The specified scheduled publish time is invalid.", 100)
        if not (timedelta(minutes=10) <= when - now <= timedelta(days=30)):
            self.fail(400, "(#100) The specified scheduled publish time is invalid.", 100)
        return when

    def _scheduling(self, req: Request, now: datetime) -> tuple[bool, datetime | None]:
        """(published, scheduled time) of a new post, with Graph's errors."""
        published = self._published(req)
        if not req.arg("scheduled_publish_time"):
            return published, None
        if published:
            self.fail(
                400, "(#100) You cannot specify a scheduled publish time on a published post", 100
            )
        return published, self._schedule_time(req.arg("scheduled_publish_time"), now)

    def _post_feed(self, req: Request, page: Page) -> Response:
        now = self.clock()
        message, link = req.arg("message") or None, req.arg("link") or None
        published, scheduled = self._scheduling(req, now)
        images = []
        for key in sorted(k for k in req.form if re.fullmatch(r"attached_media\[\d+\]", k)):
            fbid = str(json.loads(req.form[key]).get("media_fbid"))
            photo = self._photos.get(fbid)
            if not photo or photo.page_id != page.id or photo.published:
                self.fail(400, f"(#100) param {key} must be a valid unpublished photo id", 100)
            images.append(photo.data)
        if not (message or link or images):
            self.fail(400, "(#100) Missing message or attachment", 100)
        if (
            message
            and published
            and any(
                p.page_id == page.id
                and p.message == message
                and p.visible(now)
                and now - p.created_time < self.duplicate_window
                for p in self._posts
            )
        ):
            self.fail(400, "(#506) Duplicate status message", 506)
        post = Post(
            f"{page.id}_{self._new_id()}",
            page.id,
            message,
            link,
            scheduled or now,
            published,
            scheduled,
            images,
        )
        self._posts.append(post)
        return self.ok({"id": post.id})

    def _post_photo(self, req: Request, page: Page) -> Response:
        source, url = req.files.get("source"), req.arg("url")
        if not source and not url:
            self.fail(400, "(#324) Requires upload file", 324)
        now = self.clock()
        published, scheduled = self._scheduling(req, now)
        photo = Photo(self._new_id(), page.id, source[1] if source else None, url, published)
        self._photos[photo.id] = photo
        if not published and scheduled is None:
            return self.ok({"id": photo.id})  # for attached_media of a /feed post
        post = Post(
            f"{page.id}_{photo.id}",
            page.id,
            req.arg("caption") or None,
            None,
            scheduled or now,
            published,
            scheduled,
            images=[photo.data],
            photo_url=url,
            alt=req.arg("alt_text_custom"),
            photo_id=photo.id,
        )
        self._posts.append(post)
        return self.ok({"id": photo.id, "post_id": post.id})

    def _list(self, req: Request, page: Page, version: str, edge: str) -> Response:
        now = self.clock()
        if edge == "scheduled_posts":
            posts = [
                p
                for p in self._posts
                if p.page_id == page.id and not p.visible(now) and p.scheduled_publish_time
            ]
        else:
            posts = [p for p in self._posts if p.page_id == page.id and p.visible(now)]
        posts.sort(key=lambda p: (p.created_time, p.id), reverse=True)
        if req.arg("since"):
            since = _parse_time(req.arg("since"))
            posts = [p for p in posts if p.created_time >= since]
        if req.arg("after"):
            after = base64.urlsafe_b64decode(req.arg("after")).decode()
            ids = [p.id for p in posts]
            posts = posts[ids.index(after) + 1 :] if after in ids else []
        limit = max(1, min(int(req.arg("limit") or 25), 100))
        page_posts, more = posts[:limit], len(posts) > limit
        fields = (req.arg("fields") or "id,message,created_time").split(",")
        data = [self._fields(p, fields, now) for p in page_posts]
        body: dict = {"data": data}
        if page_posts:
            cursor = base64.urlsafe_b64encode(page_posts[-1].id.encode()).decode()
            first = base64.urlsafe_b64encode(page_posts[0].id.encode()).decode()
            body["paging"] = {"cursors": {"before": first, "after": cursor}}
            if more:
                query = {k: v[-1] for k, v in req.query.items() if k != "after"}
                query.update({"access_token": page.token, "limit": limit, "after": cursor})
                body["paging"]["next"] = (
                    f"{self.public_url}/{version}/{page.id}/{edge}?" + urlencode(query)
                )
        return self.ok(body)

    @staticmethod
    def _fields(post: Post, fields: list[str], now: datetime) -> dict:
        n = post.id.split("_", 1)[1]
        values = {
            "is_published": post.visible(now),
            "id": post.id,
            "message": post.message,
            "link": post.link,
            "created_time": fb_time(post.created_time),
            "permalink_url": f"https://www.facebook.com/{post.page_id}/posts/{n}",
            "scheduled_publish_time": int(post.scheduled_publish_time.timestamp())
            if post.scheduled_publish_time
            else None,
        }
        # Like Graph, absent values (a photo without caption has no message) are left out.
        return {f: values[f] for f in ["id", *fields] if values.get(f) is not None}


def _parse_time(value: str) -> datetime:
    """Graph's `since`: a unix time or an ISO 8601 date-time."""
    if value.isdigit():
        return datetime.fromtimestamp(int(value), UTC)
    when = datetime.fromisoformat(value)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--page", action="append", default=[], metavar="ID=TOKEN[:NAME]")
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args(argv)
    fake = FakeGraph(port=args.port)
    fake.latency = args.latency
    for spec in args.page:
        page_id, _, rest = spec.partition("=")
        token, _, name = rest.partition(":")
        fake.add_page(page_id, token, name or None)
    serve_forever(fake)


if __name__ == "__main__":
    main()
