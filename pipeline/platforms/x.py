"""X (Twitter) through tweepy 4.17 (imported only when publishing).

tweepy hard-codes its hosts and passes no timeout: `http_session` adds both. Its built-in
`wait_on_rate_limit` sleeps and recurses without bound, so it is never used: a 429 becomes
`RateLimited` with X's reset time, and the publish engine decides whether to wait.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import ClassVar

from pipeline.errors import (
    DuplicateRefused,
    FatalChannelError,
    PublishError,
    RateLimited,
    RejectedPost,
    TemporaryError,
)
from pipeline.platforms.base import (
    Adapter,
    LookupUnavailable,
    OutgoingPost,
    Published,
    http_session,
    network_error,
)

API_HOST = "https://api.twitter.com"
UPLOAD_HOST = "https://upload.twitter.com"
_URL = re.compile(r"https?://\S+")


class XAccount(Adapter):
    """Posts to one X account with OAuth 1.0a user tokens."""

    platform = "x"
    max_length = 280
    image_types: ClassVar = {
        m: 5_000_000 for m in ("image/jpeg", "image/png", "image/gif", "image/webp")
    }
    secret_names = ("API_KEY", "API_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET")

    @classmethod
    def count(cls, text: str) -> int:
        """Weighted length by twitter-text's v3 rules."""
        from pipeline.platforms.xtext import weighted_length

        return weighted_length(text)

    def _session(self):
        return http_session(self.channel.api_base, [API_HOST, UPLOAD_HOST], self.timeout)

    def _client(self):
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

    def _api(self):
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
        try:
            answer = self._client().create_tweet(
                text=post.text,
                media_ids=media_ids,
                in_reply_to_tweet_id=post.reply_to,
                user_auth=True,
            )
        except Exception as exc:
            raise self._translate(exc, "publishing", may_have_arrived=True) from None
        tweet_id = str(answer.data["id"])
        return Published(tweet_id, f"https://x.com/i/web/status/{tweet_id}")

    def upload_image(self, path, alt_text: str | None) -> str:
        """Upload an image (v1.1 media/upload) with its alt text; the media id.

        Kept as one function so it can move to v2 `POST /2/media/upload` in one place.
        Nothing is published by an upload, so every failure here may be retried.
        """
        try:
            api = self._api()
            media = api.media_upload(filename=str(path))
            if alt_text:
                api.create_media_metadata(media.media_id, alt_text)
        except Exception as exc:
            raise self._translate(exc, "uploading the image", may_have_arrived=False) from None
        return str(media.media_id)

    def find(self, text: str, since: datetime) -> Published | None:
        """The account's recent post with this text (links compared as t.co), if any."""
        pattern = _matcher(text)
        try:
            client = self._client()
            me = client.get_me(user_auth=True).data
            answer = client.get_users_tweets(
                me.id, start_time=since, max_results=100, user_auth=True
            )
        except Exception as exc:
            import tweepy

            if isinstance(exc, tweepy.Forbidden):
                raise LookupUnavailable(self._message(exc)) from None
            raise self._translate(exc, "looking at recent posts", may_have_arrived=False) from None
        for tweet in answer.data or []:
            if pattern.fullmatch(_normal(html.unescape(tweet.text))):
                return Published(str(tweet.id), f"https://x.com/{me.username}/status/{tweet.id}")
        return None

    # --- errors ------------------------------------------------------------------------------

    def _message(self, exc) -> str:
        parts = list(getattr(exc, "api_messages", []) or []) or [str(exc)]
        status = getattr(getattr(exc, "response", None), "status_code", None)
        prefix = f"X answered {status}: " if status else ""
        return self.redact(prefix + "; ".join(str(p) for p in parts))

    def _translate(self, exc: Exception, what: str, may_have_arrived: bool) -> PublishError:
        import requests
        import tweepy

        if isinstance(exc, PublishError):
            return exc
        names = ", ".join(self.secret_variables(self.channel))
        if isinstance(exc, tweepy.TooManyRequests):
            reset = exc.response.headers.get("x-rate-limit-reset")
            from datetime import UTC

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
            if "duplicate" in message.lower():
                return DuplicateRefused(message)
            return FatalChannelError(
                f"{what}: X refused it for this app or account (check the "
                f"app has Read and Write permission, then regenerate "
                f"{names}) — {message}"
            )
        if isinstance(exc, tweepy.TwitterServerError):
            return TemporaryError(f"{what}: {self._message(exc)}")
        if isinstance(exc, tweepy.HTTPException):
            return RejectedPost(f"{what}: {self._message(exc)}")
        cause = exc if isinstance(exc, requests.RequestException) else exc.__context__
        if isinstance(cause, requests.RequestException):
            err = network_error(cause, f"{what} on {self.channel.name}", may_have_arrived)
            err.message = self.redact(err.message)
            return err
        return TemporaryError(self.redact(f"{what}: {type(exc).__name__}: {exc}"))


def _normal(text: str) -> str:
    return " ".join(text.split())


def _matcher(text: str) -> re.Pattern:
    """Our text as X shows it back: every link a t.co link, maybe a media link at the end."""
    pieces, last = [], 0
    normal = _normal(text)
    for m in _URL.finditer(normal):
        pieces.append(re.escape(normal[last : m.start()]))
        pieces.append(r"https://t\.co/\w+")
        last = m.end()
    pieces.append(re.escape(normal[last:]))
    return re.compile("".join(pieces) + r"(?: https://t\.co/\w+)?")
