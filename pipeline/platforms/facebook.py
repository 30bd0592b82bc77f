"""Facebook Pages through facebook-sdk 3.1.0 (imported only when publishing).

facebook-sdk never checks the HTTP status, puts the token in query strings of GETs and passes no
timeout unless told: the session from `http_session` adds the timeout and the `api_base`
redirection, a response hook turns 5xx and non-JSON answers into typed errors, and
`Adapter.call` types and redacts everything else.

Native scheduling (pipeline/platforms/scheduling.py): `published="false"` (the string: the SDK
would send Python's False as "False") with `scheduled_publish_time` in integer UNIX seconds, on
`/feed` and `/photos`; `POST /{post-id}` edits text and time, `DELETE /{id}` deletes, and
`/scheduled_posts` lists what waits. A photo cannot be edited through the API: `editable` says
so, and the engine deletes it and hands it over again.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

from pipeline.errors import (
    DuplicateRefused,
    FatalChannelError,
    OutcomeUnknown,
    PublishError,
    RateLimited,
    RejectedPost,
    TemporaryError,
)
from pipeline.platforms.base import (
    FIND_PAGES,
    Adapter,
    LookupUnavailable,
    OutgoingPost,
    Published,
    http_session,
    unreadable_answer,
)
from pipeline.platforms.scheduling import (
    Confirmation,
    Handed,
    NativeScheduler,
    ScheduledCopy,
)

GRAPH_HOST = "https://graph.facebook.com"
#: the Graph API version called; facebook-sdk itself only knows 2.8-3.1
GRAPH_VERSION = os.environ.get("CROSSPOST_GRAPH_VERSION", "v24.0")

_TEMPORARY = {1, 2}
_RATE_LIMITS = {4, 17, 32, 613, 80001}
#: pages of /scheduled_posts read at most (100 each) before giving up on the list
LIST_PAGES = 50
#: Graph error 190's subcodes: what happened to the token, and what to do about it
_TOKEN_SUBCODES = {
    463: ("has expired", "make a new Page token from a long-lived user token (docs/setup.md)"),
    467: (
        "is invalid (logged out, or replaced by a newer token)",
        "make a new Page token (docs/setup.md)",
    ),
    460: (
        "was invalidated by a password change",
        "make a new Page token after logging in again (docs/setup.md)",
    ),
    458: ("lost the app (it was removed)", "add the app again and make a new Page token"),
    492: (
        "belongs to someone without a role on the Page any more",
        "give that account its Page role back (Page settings, Page access), "
        "or make the token with an account that has full control of the Page",
    ),
}


class FacebookPage(NativeScheduler, Adapter):
    """Posts to one Facebook Page with a Page access token; schedules natively."""

    platform = "facebook"
    max_length = 63_206
    image_types: ClassVar = {
        m: 4_000_000 for m in ("image/jpeg", "image/png", "image/gif", "image/webp")
    }
    secret_names = ("PAGE_TOKEN",)
    setup_reminder = (
        "the Meta app that made this Page token must be in Live mode: posts published through "
        "an app in Development mode are visible only to people with a role on the app, not to "
        "the public. Check the first post from a logged-out browser (docs/setup.md)"
    )

    def _graph(self):
        return self._once("graph", self._new_graph)

    def _new_graph(self):
        import facebook

        session = http_session(self.channel.api_base, [GRAPH_HOST], self.timeout)
        session.hooks["response"].append(_check_response)
        graph = facebook.GraphAPI(self.secrets["PAGE_TOKEN"], timeout=self.timeout, session=session)
        # The constructor refuses versions newer than 3.1; the attribute is only used in paths.
        graph.version = GRAPH_VERSION
        return graph

    def publish(self, post: OutgoingPost) -> Published:
        """A text post on the Page's feed, or a photo with the text as its caption."""
        post_id, _ = self.call("publishing", True, self._post, post, None)
        return Published(post_id, f"https://www.facebook.com/{post_id}")

    def _post(self, post: OutgoingPost, at: datetime | None) -> tuple[str, tuple[str, ...]]:
        """(post id, every id) of a new post, published now or scheduled for `at`."""
        page, graph = self.channel.page_id, self._graph()
        extra: dict = {}
        if at is not None:
            extra = {"published": "false", "scheduled_publish_time": int(at.timestamp())}
        if post.image:
            if post.image_alt:
                extra["alt_text_custom"] = post.image_alt
            with open(post.image, "rb") as image:
                answer = graph.put_photo(
                    image, album_path=f"{page}/photos", caption=post.text, **extra
                )
            # Keep both: the photo id deletes the photo, the post id is what people open.
            ids = tuple(str(answer[k]) for k in ("post_id", "id") if answer.get(k))
            return ids[0], ids
        post_id = str(graph.put_object(page, "feed", message=post.text, **extra)["id"])
        return post_id, (post_id,)

    # --- native scheduling ----------------------------------------------------------------------

    @classmethod
    def editable(cls, changed: frozenset[str], has_image: bool) -> bool:
        """Text and time of a text post; nothing of a photo (Graph refuses photo updates)."""
        return not has_image

    def hand_over(self, post: OutgoingPost, at: datetime) -> Handed:
        """The post, unpublished, for Facebook to publish at `at`."""
        post_id, ids = self.call("handing over to Facebook's scheduler", True, self._post, post, at)
        return Handed(post_id, ids)

    def edit(self, remote_id: str, post: OutgoingPost, at: datetime, changed: frozenset[str]):
        """New text and/or time of a scheduled text post, in one call."""
        args: dict = {}
        if "text" in changed:
            args["message"] = post.text
        if "at" in changed:
            args["scheduled_publish_time"] = int(at.timestamp())
        if args:
            graph = self._graph()
            self.call(
                "editing a scheduled post",
                False,
                graph.request,
                f"{graph.version}/{remote_id}",
                post_args=args,
            )

    def unschedule(self, remote_id: str, ids: tuple[str, ...] = ()) -> None:
        """Delete a scheduled post (a photo by its photo id); already gone is fine."""
        # A photo post is deleted through its photo (the id without the "{page}_" prefix).
        node = next((i for i in ids if "_" not in i), remote_id)
        try:
            self.call("deleting a scheduled post", False, self._graph().delete_object, node)
        except RejectedPost as exc:
            if not exc.gone:
                raise

    def scheduled_copies(self) -> list[ScheduledCopy]:
        """Every post waiting in the Page's scheduler, from /scheduled_posts (all pages)."""
        return self.call("reading the Page's scheduled posts", False, self._scheduled)

    def _scheduled(self) -> list[ScheduledCopy]:
        graph, found = self._graph(), []
        args = {"fields": "id,message,scheduled_publish_time,is_published", "limit": 100}
        for _ in range(LIST_PAGES):
            answer = graph.get_connections(self.channel.page_id, "scheduled_posts", **args)
            for item in answer.get("data", []):
                if item.get("is_published"):
                    continue
                found.append(ScheduledCopy(str(item["id"]), item.get("message") or "", _time(item)))
            following = answer.get("paging", {}).get("next")
            if not following:
                return found
            query = parse_qs(urlsplit(following).query)
            args = {k: v[-1] for k, v in query.items() if k != "access_token"}
        raise LookupUnavailable(
            f"more than {LIST_PAGES * 100} scheduled posts on Page {self.channel.page_id}"
        )

    def confirm(self, remote_id: str) -> Confirmation:
        """Published (with its permalink), still scheduled, or gone."""
        graph = self._graph()
        fields = "id,is_published,permalink_url,message,scheduled_publish_time"
        try:
            item = self.call(
                "confirming a scheduled post", False, graph.get_object, remote_id, fields=fields
            )
        except RejectedPost as exc:
            if exc.gone:
                return Confirmation("gone")
            raise
        if item.get("is_published"):
            url = item.get("permalink_url") or f"https://www.facebook.com/{remote_id}"
            return Confirmation("published", url, item.get("message"), _time(item))
        return Confirmation("scheduled", None, item.get("message"), _time(item))

    def check_credentials(self) -> str:
        """`GET /me` with the Page token answers with the Page itself: it must be `page_id`."""
        return self.call("checking the Page token", False, self._check_credentials)

    def _check_credentials(self) -> str:
        me = self._graph().get_object("me", fields="id,name")
        found, name = str(me.get("id")), me.get("name") or "?"
        if found != self.channel.page_id:
            variable = f"{self.channel.prefix}_PAGE_TOKEN"
            raise FatalChannelError(
                f"the token in {variable} is for {name!r} ({found}), not for Page "
                f"{self.channel.page_id} of channel {self.channel.name}: store that Page's own "
                f"token in {variable} (docs/setup.md), or correct page_id in channels.yaml"
            )
        return f"Page {name!r} ({found})"

    def find(self, text: str, since: datetime) -> Published | None:
        """The Page's recent post with exactly this text, if any."""
        return self.call("looking at the Page's feed", False, self._find, _normal(text), since)

    def _find(self, wanted: str, since: datetime) -> Published | None:
        graph = self._graph()
        args = {"fields": "id,message,created_time", "limit": 100, "since": int(since.timestamp())}
        for _ in range(FIND_PAGES):
            answer = graph.get_connections(self.channel.page_id, "feed", **args)
            for item in answer.get("data", []):
                if _normal(item.get("message") or "") == wanted:
                    return Published(item["id"], f"https://www.facebook.com/{item['id']}")
            following = answer.get("paging", {}).get("next")
            if not following:
                return None
            # Graph's own link to the next page (cursor- or time-based), less its token.
            query = parse_qs(urlsplit(following).query)
            args = {k: v[-1] for k, v in query.items() if k != "access_token"}
        raise LookupUnavailable(
            f"more than {FIND_PAGES * 100} posts on Page {self.channel.page_id} since "
            f"{since:%Y-%m-%d %H:%M} UTC: could not look through them all"
        )

    def translate(self, exc: Exception, what: str, may_have_arrived: bool) -> PublishError | None:
        """facebook-sdk's exceptions: Graph errors by code, unreadable answers."""
        import facebook

        if isinstance(exc, facebook.GraphAPIError) and exc.code is not None:
            return self._graph_error(exc)
        if isinstance(exc, facebook.GraphAPIError | AssertionError | KeyError | ValueError):
            # facebook-sdk raises these for answers it cannot read (e.g. no Content-Type).
            return unreadable_answer(what, type(exc).__name__, may_have_arrived)
        return None

    def _graph_error(self, exc) -> PublishError:
        code = exc.code
        error = exc.result.get("error", {}) if isinstance(exc.result, dict) else {}
        subcode = error.get("error_subcode") if isinstance(error, dict) else None
        message = f"{exc.message} (Graph error {code}" + (f"/{subcode}" if subcode else "") + ")"
        variable = f"{self.channel.prefix}_PAGE_TOKEN"
        if code in _TEMPORARY:
            return TemporaryError(message)
        if code in _RATE_LIMITS:
            return RateLimited(f"rate limited by Facebook: {message}")
        if code == 190:
            why, do = _TOKEN_SUBCODES.get(subcode, ("was refused", "renew it (docs/setup.md)"))
            return FatalChannelError(
                f"the Page token in {variable} {why}: {do}, and store it in {variable} — {message}"
            )
        if code == 10 or (isinstance(code, int) and 200 <= code <= 299):
            return FatalChannelError(
                f"the Page token in {variable} lacks a permission "
                f"(pages_manage_posts, pages_read_engagement) or a role on "
                f"Page {self.channel.page_id}: {message}"
            )
        if code == 506:
            return DuplicateRefused(message)
        rejected = RejectedPost(message)
        # "Object with ID ... does not exist" (100/33): a deleted or never-made post.
        rejected.gone = code == 100 and subcode == 33
        return rejected


def _check_response(response, *args, **kwargs):
    """requests hook: facebook-sdk ignores HTTP status; judge 5xx and non-JSON answers here."""
    if response.status_code >= 500:
        raise TemporaryError(f"Facebook answered HTTP {response.status_code}")
    if response.status_code == 429:
        raise RateLimited("Facebook answered HTTP 429")
    if "json" not in response.headers.get("content-type", ""):
        raise OutcomeUnknown(f"Facebook answered HTTP {response.status_code} without JSON")
    return response


def _time(item: dict) -> datetime | None:
    value = item.get("scheduled_publish_time")
    return datetime.fromtimestamp(int(value), UTC) if value not in (None, "") else None


def _normal(text: str) -> str:
    return " ".join(text.split())
