"""Facebook Pages through facebook-sdk 3.1.0 (imported only when publishing).

facebook-sdk never checks the HTTP status, puts the token in query strings of GETs and passes no
timeout unless told: the session from `http_session` adds the timeout and the `api_base`
redirection, a response hook turns 5xx and non-JSON answers into typed errors, and
`Adapter.call` types and redacts everything else.
"""

from __future__ import annotations

import os
from datetime import datetime
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

GRAPH_HOST = "https://graph.facebook.com"
#: the Graph API version called; facebook-sdk itself only knows 2.8-3.1
GRAPH_VERSION = os.environ.get("CROSSPOST_GRAPH_VERSION", "v24.0")

_TEMPORARY = {1, 2}
_RATE_LIMITS = {4, 17, 32, 613, 80001}
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


class FacebookPage(Adapter):
    """Posts to one Facebook Page with a Page access token."""

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
        return self.call("publishing", True, self._publish, post)

    def _publish(self, post: OutgoingPost) -> Published:
        page, graph = self.channel.page_id, self._graph()
        if post.image:
            with open(post.image, "rb") as image:
                answer = graph.put_photo(image, album_path=f"{page}/photos", caption=post.text)
            post_id = answer.get("post_id") or answer.get("id")
        else:
            post_id = graph.put_object(page, "feed", message=post.text)["id"]
        return Published(post_id, f"https://www.facebook.com/{post_id}")

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
        return RejectedPost(message)


def _check_response(response, *args, **kwargs):
    """requests hook: facebook-sdk ignores HTTP status; judge 5xx and non-JSON answers here."""
    if response.status_code >= 500:
        raise TemporaryError(f"Facebook answered HTTP {response.status_code}")
    if response.status_code == 429:
        raise RateLimited("Facebook answered HTTP 429")
    if "json" not in response.headers.get("content-type", ""):
        raise OutcomeUnknown(f"Facebook answered HTTP {response.status_code} without JSON")
    return response


def _normal(text: str) -> str:
    return " ".join(text.split())
