"""X (Twitter) through tweepy 4.17 (imported only when publishing).

tweepy hard-codes its hosts and passes no timeout: `http_session` adds both. Its built-in
`wait_on_rate_limit` sleeps and recurses without bound, so it is never used: a 429 becomes
`RateLimited` with X's reset time, and the publish engine decides whether to wait.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import ClassVar

from pipeline.errors import (
    DuplicateRefused,
    FatalChannelError,
    HeldForPerson,
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

API_HOST = "https://api.twitter.com"
UPLOAD_HOST = "https://upload.twitter.com"

#: X's pay-per-use prices in US dollars, as published on 2026-02-06 (X's API changelog): every
#: post (and every thread part) sent through `POST /2/tweets` is billed; one with a URL costs more.
PRICES_AS_OF = "2026-02-06"
PRICE_POST = 0.015
PRICE_POST_WITH_URL = 0.20
#: the longest post of an X Premium account (`long_posts: true`), weighted
LONG_POST_LENGTH = 25_000


class XAccount(Adapter):
    """Posts to one X account with OAuth 1.0a user tokens."""

    platform = "x"
    max_length = 280
    image_types: ClassVar = {
        m: 5_000_000 for m in ("image/jpeg", "image/png", "image/gif", "image/webp")
    }
    secret_names = ("API_KEY", "API_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET")
    thread_caveat = (
        "since 2026-02-23 X lets self-serve API tiers reply only where the original author "
        "mentioned or quoted the replying account, and whether a reply to one's own post counts "
        "is unverified: a thread part may be refused with 403. The parts already out then "
        "stay online and the post waits in doubt for a person (`crosspost resolve`), with what "
        "X said; it is never retried by itself. To avoid threads, "
        "keep the texts within 280 (a shorter <language>.x.j2 template), or "
        "set `long_posts: true` if the account has X Premium"
    )
    # X refuses a text the account has just posted (403 "duplicate content").
    refuses_duplicates = True
    _replying = False

    @classmethod
    def count(cls, text: str) -> int:
        """Weighted length by twitter-text's v3 rules."""
        from pipeline.platforms.xtext import weighted_length

        return weighted_length(text)

    @classmethod
    def span_counter(cls, text: str):
        """Thread parts of `text` counted from its weights summed once (see xtext)."""
        from pipeline.platforms.xtext import span_counter

        return span_counter(text)

    @classmethod
    def limit(cls, channel, image: bool = False) -> int:
        """280, or 25,000 for an X Premium account (`long_posts: true`): then no thread needed."""
        return LONG_POST_LENGTH if channel.long_posts else cls.max_length

    prices_as_of = PRICES_AS_OF

    @classmethod
    def cost(cls, text: str) -> float:
        """What X bills for sending this post or thread part, in US dollars (PRICES_AS_OF)."""
        return PRICE_POST_WITH_URL if has_url(text) else PRICE_POST

    def _session(self):
        return self._once(
            "session",
            lambda: http_session(self.channel.api_base, [API_HOST, UPLOAD_HOST], self.timeout),
        )

    def _client(self):
        return self._once("client", self._new_client)

    def _api(self):
        return self._once("api", self._new_api)

    def _new_client(self):
        import tweepy

        s = self.secrets
        client = tweepy.Client(
            consumer_key=s["API_KEY"],
            consumer_secret=s["API_SECRET"],
            access_token=s["ACCESS_TOKEN"],
            access_token_secret=s["ACCESS_TOKEN_SECRET"],
            wait_on_rate_limit=False,
        )
        client.session = self._session()
        return client

    def _new_api(self):
        import tweepy

        s = self.secrets
        auth = tweepy.OAuth1UserHandler(
            s["API_KEY"], s["API_SECRET"], s["ACCESS_TOKEN"], s["ACCESS_TOKEN_SECRET"]
        )
        api = tweepy.API(auth, timeout=self.timeout, wait_on_rate_limit=False)
        api.session = self._session()
        return api

    def publish(self, post: OutgoingPost) -> Published:
        """A post (or a thread part replying to `reply_to`), with its image and alt text."""
        media_ids = None
        if post.image:
            media_ids = [self.upload_image(post.image, post.image_alt)]
        # translate() reads this: a 403 on a reply is not the account's fault (see there)
        self._replying = post.reply_to is not None
        answer = self.call(
            "publishing",
            True,
            self._client().create_tweet,
            text=post.text,
            media_ids=media_ids,
            in_reply_to_tweet_id=post.reply_to,
            user_auth=True,
        )
        tweet_id = str(answer.data["id"])
        return Published(tweet_id, f"https://x.com/i/web/status/{tweet_id}")

    def upload_image(self, path, alt_text: str | None) -> str:
        """Upload an image (v1.1 media/upload) with its alt text; the media id.

        Kept as one function so it can move to v2 `POST /2/media/upload` in one place.
        Nothing is published by an upload, so every failure here may be retried.
        """
        return self.call("uploading the image", False, self._upload, path, alt_text)

    def _upload(self, path, alt_text: str | None) -> str:
        api = self._api()
        media = api.media_upload(filename=str(path))
        if alt_text:
            api.create_media_metadata(media.media_id, alt_text)
        return str(media.media_id)

    def check_credentials(self) -> str:
        """`GET /2/users/me`: the account the four tokens act for (401 when revoked)."""
        answer = self.call("checking the credentials", False, self._client().get_me, user_auth=True)
        return f"@{answer.data.username}"

    def find(self, text: str, since: datetime) -> Published | None:
        """The account's recent post with this text (as X shows it back), if any."""
        return self.call("looking at recent posts", False, self._find, _normal(text), since)

    def _find(self, wanted: str, since: datetime) -> Published | None:
        import tweepy

        client, token = self._client(), None
        try:
            user_id = self._user_id(client)
            for _ in range(FIND_PAGES):
                answer = client.get_users_tweets(
                    user_id,
                    start_time=since,
                    max_results=100,
                    pagination_token=token,
                    user_auth=True,
                )
                for tweet in answer.data or []:
                    if _shown_as(tweet.text, wanted):
                        return Published(str(tweet.id), f"https://x.com/i/web/status/{tweet.id}")
                token = (answer.meta or {}).get("next_token")
                if not token:
                    return None
        except tweepy.Forbidden as exc:
            # The API tier has no timeline reads (Free): say so, the caller has a fallback.
            raise LookupUnavailable(self._message(exc)) from None
        raise LookupUnavailable(
            f"more than {FIND_PAGES * 100} posts since {since:%Y-%m-%d %H:%M} UTC: "
            "could not look through them all"
        )

    def _user_id(self, client) -> str:
        """The account's id: the prefix of its access token, or (if not) from GET /2/users/me.

        Saves a call to an endpoint that the Free tier allows only 25 times a day.
        """
        head, dash, _ = self.secrets["ACCESS_TOKEN"].partition("-")
        if dash and head.isdigit():
            return head
        return str(client.get_me(user_auth=True).data.id)

    # --- errors ------------------------------------------------------------------------------

    def _message(self, exc) -> str:
        parts = list(getattr(exc, "api_messages", []) or []) or [str(exc)]
        status = getattr(getattr(exc, "response", None), "status_code", None)
        prefix = f"X answered {status}: " if status else ""
        return self.redact(prefix + "; ".join(str(p) for p in parts))

    def translate(self, exc: Exception, what: str, may_have_arrived: bool) -> PublishError | None:
        """tweepy's exceptions by HTTP status; its other failures are unreadable answers."""
        import requests
        import tweepy

        names = ", ".join(self.secret_variables(self.channel))
        if isinstance(exc, tweepy.TooManyRequests):
            reset = exc.response.headers.get("x-rate-limit-reset")
            when = datetime.fromtimestamp(int(reset), UTC) if reset and reset.isdigit() else None
            return RateLimited(
                f"{what}: rate limited by X" + (f" until {when:%H:%M:%S} UTC" if when else ""), when
            )
        if isinstance(exc, tweepy.Unauthorized):
            return FatalChannelError(
                f"{what}: X refused the credentials in {names}: renew "
                f"them (docs/setup.md) — {self._message(exc)}"
            )
        if isinstance(exc, tweepy.Forbidden):
            message = self._message(exc)
            if "duplicate content" in message.lower():
                return DuplicateRefused(message)
            if self._replying:
                # Since 2026-02-23 X may refuse replies made through the API (also, it seems, to
                # one's own thread). Earlier parts are out; sending again would be refused
                # again: a person decides.
                return HeldForPerson(f"X refused it as a reply ({message})")
            if "reply to" in message.lower():
                # The post replied to is gone: this post (thread) cannot go, the channel can.
                return RejectedPost(f"{what}: {message}")
            return FatalChannelError(
                f"{what}: X refused it for this app or account (check the "
                f"app has Read and Write permission, then regenerate "
                f"{names}) — {message}"
            )
        if isinstance(exc, tweepy.TwitterServerError):
            return TemporaryError(f"{what}: {self._message(exc)}")
        if isinstance(exc, tweepy.HTTPException):
            return RejectedPost(f"{what}: {self._message(exc)}")
        if isinstance(exc, tweepy.TweepyException) and not isinstance(
            exc.__context__, requests.RequestException
        ):
            return unreadable_answer(what, str(exc)[:200], may_have_arrived)
        return None


def has_url(text: str) -> bool:
    """Whether X sees a URL in `text` (its link price applies), by twitter-text's rules."""
    if "." not in text:
        return False  # every URL X recognises has a dot: most texts need no parsing
    from pipeline.platforms.xtext import extract_urls

    return bool(extract_urls(text))


def _normal(text: str) -> str:
    return " ".join(text.split())


_TCO = r"https://t\.co/\w+"
#: what a t.co link may stand for in our text: a URL or bare domain (no spaces, a dot)
_LINK = r"\S*\.\S*"


def _shown_as(shown: str, wanted: str) -> bool:
    """Whether X's `shown` text is our `wanted` text (normalised).

    X escapes &, < and > as HTML entities, replaces every link it recognises (bare domains
    too, without trailing punctuation) with a t.co link and appends one for attached media.
    Rather than guess its link rules, each t.co link may stand for any run of non-spaces with
    a dot in it, and a final one for nothing at all.
    """
    import html  # ~2 ms: only when looking for a post, never for validate

    shown = _normal(html.unescape(shown))
    media = re.search(rf"\s*{_TCO}$", shown)
    body = shown[: media.start()] if media else shown
    pattern = _LINK.join(re.escape(part) for part in re.split(_TCO, body))
    if media:
        pattern += rf"(?:\s*{_LINK})?"
    return re.fullmatch(pattern, wanted) is not None
