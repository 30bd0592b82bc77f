"""Mastodon through Mastodon.py (imported only when talking to the instance).

Mastodon.py's defaults are traps for a scheduled job: a 300 s timeout, sleeping up to five
minutes on a rate limit (`ratelimit_method="wait"`), and `debug_requests` printing the bearer
token. Here: the run's timeout, `"throw"` (a 429 becomes `RateLimited` and the engine decides),
debug off, and the server version given, so that no hidden version check runs (one that fails
silently makes Mastodon.py fall back to the long-gone v1 media API).

Exactly once: every status carries an `Idempotency-Key` made from the post key, the part and
its text, which the instance keeps for an hour and answers with the original status; the engine
re-sends with it after an unknown outcome (`IdempotentResend`), and looks in the account's
statuses (`find`) once the hour may have passed.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import time
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from pipeline.errors import (
    FatalChannelError,
    OutcomeUnknown,
    PublishError,
    RateLimited,
    RejectedPost,
    TemporaryError,
)
from pipeline.platforms import graphemes
from pipeline.platforms.base import (
    FIND_PAGES,
    Adapter,
    IdempotentResend,
    LookupUnavailable,
    OutgoingPost,
    Published,
    unreadable_answer,
)
from pipeline.platforms.scheduling import (
    AT,
    Confirmation,
    Handed,
    NativeScheduler,
    ScheduledCopy,
)

#: the newest server API that Mastodon.py 2.3 knows and that every instance we target runs
SERVER_VERSION = "4.3.0"
#: longest wait for the instance to process an uploaded image before the status may use it
MEDIA_WAIT = 60.0
#: a URL with a protocol, as Mastodon's extractor finds it (trailing punctuation is not part of
#: it; stripping generously makes the count err on the long side)
_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_URL_TAIL = ".,:;!?'\")]}»”’…"
#: `@user@domain` counts as `@user` (Mastodon's MENTION_RE, simplified)
_MENTION = re.compile(r"(?<![/\w])@(\w+)@[\w.-]+\w", re.IGNORECASE)
_URL_WEIGHT = 23


def count_text(text: str) -> int:
    """Mastodon's length of a status text: grapheme clusters, URLs 23, remote mentions local."""
    if "://" in text:
        text = _URL.sub(_url_placeholder, text)
    if "@" in text:
        text = _MENTION.sub(r"@\1", text)
    return graphemes.count(text)


def _url_placeholder(match: re.Match) -> str:
    url = match.group(0)
    tail = len(url) - len(url.rstrip(_URL_TAIL))
    return "x" * _URL_WEIGHT + url[len(url) - tail :] if tail else "x" * _URL_WEIGHT


class MastodonAccount(Adapter, IdempotentResend, NativeScheduler):
    """Posts to one Mastodon account with an access token (scopes: see docs/setup.md)."""

    platform = "mastodon"
    max_length = 500
    image_types: ClassVar = {
        m: 16_000_000 for m in ("image/jpeg", "image/png", "image/gif", "image/webp")
    }
    max_alt = 1_500
    secret_names = ("ACCESS_TOKEN",)
    idempotency_window = timedelta(hours=1)
    # nginx gives up on a slow request after 60 s (a 504) while the app may go on publishing.
    settle = timedelta(minutes=2)
    # scheduled_at must be 5 minutes ahead at least: 10 leaves room for a slow run.
    lead_min = timedelta(minutes=10)
    lead_max = timedelta(days=28)
    #: the server's limits on scheduled statuses of one account (ScheduledStatus model)
    max_pending, max_per_day = 300, 25

    @classmethod
    def count(cls, text: str) -> int:
        """Grapheme clusters, every URL 23, `@user@domain` as `@user`."""
        return count_text(text)

    @classmethod
    def limit(cls, channel, image: bool = False) -> int:
        """The instance's limit as the channel says (`max_characters`), default 500."""
        return channel.max_characters or cls.max_length

    @property
    def base_url(self) -> str:
        return (self.channel.api_base or self.channel.instance or "").rstrip("/")

    def _client(self):
        return self._once("client", self._new_client)

    def _new_client(self):
        from mastodon import Mastodon

        return Mastodon(
            access_token=self.secrets["ACCESS_TOKEN"],
            api_base_url=self.base_url,
            ratelimit_method="throw",
            request_timeout=self.timeout,
            debug_requests=False,
            mastodon_version=SERVER_VERSION,
            # "none" would ignore mastodon_version (Mastodon.py 2.3.3); "created" only compares
            # each method's first version with it, without a call.
            version_check_mode="created",
            user_agent="crosspost",
        )

    # --- publishing ----------------------------------------------------------------------------

    def idempotency_key(self, post: OutgoingPost) -> str:
        """The same key for every send of this part with this text, and only for them.

        Derived, not stored: a run that lost its ledger still sends the same key, so within
        the key's hour even that cannot double a status. A changed text is a new post.
        """
        seed = f"{post.key}\n{post.part}\n{post.text}".encode()
        return "crosspost-" + hashlib.sha256(seed).hexdigest()[:40]

    def publish(self, post: OutgoingPost) -> Published:
        """A status (or a reply in a thread) in the channel's language, with image and alt text."""
        media_ids = None
        if post.image:
            media_ids = [self.call("uploading the image", False, self._upload, post)]
        status = self.call(
            "publishing",
            True,
            self._client().status_post,
            post.text,
            in_reply_to_id=post.reply_to,
            media_ids=media_ids,
            visibility=self.channel.visibility or "public",
            language=_iso639(self.channel.language),
            idempotency_key=self.idempotency_key(post),
        )
        return Published(str(status["id"]), status.get("url") or status.get("uri"))

    def _upload(self, post: OutgoingPost) -> str:
        client = self._client()
        mime = mimetypes.guess_type(str(post.image))[0]
        media = client.media_post(str(post.image), mime_type=mime, description=post.image_alt)
        # v2 answers 202 with `url: null` while processing; a status using it is refused.
        deadline, pause = time.monotonic() + MEDIA_WAIT, 0.2
        while media.get("url") is None:
            if time.monotonic() + pause > deadline:
                raise TemporaryError(
                    f"the instance was still processing the image after {MEDIA_WAIT:.0f} s"
                )
            time.sleep(pause)
            pause = min(pause * 2, 5.0)
            media = client.media(media["id"])
        return str(media["id"])

    # --- looking -------------------------------------------------------------------------------

    def find(self, text: str, since: datetime) -> Published | None:
        """The account's status with this text created at or after `since`, if any."""
        return self.call("looking at recent statuses", False, self._find, _normal(text), since)

    def _find(self, wanted: str, since: datetime) -> Published | None:
        client = self._client()
        account_id = self._me()["id"]
        max_id = None
        for _ in range(FIND_PAGES):
            page = client.account_statuses(
                account_id, exclude_reblogs=True, limit=40, max_id=max_id
            )
            for status in page:
                if _aware(status["created_at"]) < since:
                    return None
                # Content is HTML: a cheap comparison of letters and digits first, then the
                # text as it was written (GET /api/v1/statuses/:id/source) decides.
                if _skeleton(_plain(status["content"])) != _skeleton(wanted):
                    continue
                if _normal(client.status_source(status["id"])["text"]) == wanted:
                    return Published(str(status["id"]), status.get("url") or status.get("uri"))
            if len(page) < 40:
                return None
            max_id = page[-1]["id"]
        raise LookupUnavailable(
            f"more than {FIND_PAGES * 40} statuses since {since:%Y-%m-%d %H:%M} UTC: "
            "could not look through them all"
        )

    def _me(self):
        return self._once("me", self._client().account_verify_credentials)

    def check_credentials(self) -> str:
        """GET /api/v1/accounts/verify_credentials: the account the token belongs to."""
        me = self.call("checking the access token", False, self._me)
        host = re.sub(r"^https?://", "", self.channel.instance or self.base_url).rstrip("/")
        return f"@{me['acct']} on {host}"

    # --- native scheduling (scheduled_at) ------------------------------------------------------

    @classmethod
    def editable(cls, changed: frozenset[str], has_image: bool) -> bool:
        """Only the time: a scheduled status's text, image and alt text cannot be edited."""
        return changed <= {AT}

    def hand_over(self, post: OutgoingPost, at: datetime) -> Handed:
        """The status, for the instance to publish at `at` (a ScheduledStatus, its own id)."""
        media_ids = None
        if post.image:
            media_ids = [self.call("uploading the image", False, self._upload, post)]
        scheduled = self.call(
            "handing over to the instance's scheduler",
            True,
            self._client().status_post,
            post.text,
            media_ids=media_ids,
            visibility=self.channel.visibility or "public",
            language=_iso639(self.channel.language),
            idempotency_key=self._hand_key(post, at),
            scheduled_at=at,
        )
        return Handed(str(scheduled["id"]))

    def _hand_key(self, post: OutgoingPost, at: datetime) -> str:
        # Another key than the direct send's, and another for another time or image: after a
        # delete and a new hand-over the instance must not answer with the deleted copy.
        image = hashlib.sha256(post.image.read_bytes()).hexdigest() if post.image else ""
        seed = f"{post.key}\n{post.text}\n{at.isoformat()}\n{image}\n{post.image_alt}"
        return "crosspost-at-" + hashlib.sha256(seed.encode()).hexdigest()[:37]

    def edit(self, remote_id: str, post: OutgoingPost, at: datetime, changed: frozenset[str]):
        """A new time (PUT /api/v1/scheduled_statuses/:id); nothing else can change in place."""
        if not self.editable(changed, post.image is not None):
            raise RejectedPost(
                f"the {', '.join(sorted(changed - {AT}))} of a scheduled status cannot be "
                "edited: delete it and hand it over again"
            )
        if AT in changed:
            self.call(
                "rescheduling a status",
                False,
                self._client().scheduled_status_update,
                remote_id,
                at,
            )

    def unschedule(self, remote_id: str, ids: tuple[str, ...] = ()) -> None:
        """Delete a scheduled status; one already gone is fine."""
        try:
            self.call(
                "deleting a scheduled status",
                False,
                self._client().scheduled_status_delete,
                remote_id,
            )
        except RejectedPost as exc:
            if not exc.gone:
                raise

    def scheduled_copies(self) -> list[ScheduledCopy]:
        """Every status waiting in the account's scheduler (GET /api/v1/scheduled_statuses)."""
        return self.call("reading the scheduled statuses", False, self._scheduled)

    def _scheduled(self) -> list[ScheduledCopy]:
        client = self._client()
        page = client.scheduled_statuses(limit=40)
        found: list[ScheduledCopy] = []
        # 300 pending at most per account: 8 pages of 40.
        for _ in range(self.max_pending // 40 + 2):
            found += [_copy(s) for s in page]
            page = client.fetch_next(page) if page else None
            if not page:
                return found
        raise LookupUnavailable(f"more than {len(found)} scheduled statuses: the list goes on")

    def confirm(self, remote_id: str) -> Confirmation:
        """Still scheduled, or gone: a published scheduled status becomes a Status with a new
        id and nothing links the two, so the engine looks for it among the statuses (`find`)."""
        try:
            scheduled = self.call(
                "confirming a scheduled status",
                False,
                self._client().scheduled_status,
                remote_id,
            )
        except RejectedPost as exc:
            if exc.gone:
                return Confirmation("gone")
            raise
        copy = _copy(scheduled)
        return Confirmation("scheduled", None, copy.text, copy.at)

    def has_room(self, copies: list[ScheduledCopy], at: datetime) -> bool:
        """At most 300 scheduled statuses pending and 25 on one (UTC) day per account."""
        day = at.astimezone(UTC).date()
        on_day = sum(1 for c in copies if c.at and c.at.astimezone(UTC).date() == day)
        return len(copies) < self.max_pending and on_day < self.max_per_day

    # --- errors --------------------------------------------------------------------------------

    def translate(self, exc: Exception, what: str, may_have_arrived: bool) -> PublishError | None:
        """Mastodon.py's exceptions by HTTP status; network failures are left to the base."""
        import mastodon

        variable = self.secret_variables(self.channel)[0]
        if isinstance(exc, mastodon.MastodonRatelimitError):
            reset = getattr(self._built_client(), "ratelimit_reset", None)
            when = datetime.fromtimestamp(reset, UTC) if reset else None
            return RateLimited(
                f"{what}: rate limited by the instance"
                + (f" until {when:%H:%M:%S} UTC" if when else ""),
                when,
            )
        if isinstance(exc, mastodon.MastodonNetworkError):
            return None
        if not isinstance(exc, mastodon.MastodonAPIError):
            return None
        status, message = _status(exc), _message(exc)
        said = f"the instance answered {status}: {message}" if status else message
        if status == 401:
            return FatalChannelError(
                f"{what}: the instance refused the access token in {variable} (revoked or "
                f"mistyped): create a new one (docs/setup.md) — {said}"
            )
        if status == 403:
            return FatalChannelError(
                f"{what}: the instance refused this account or token (the account may be "
                f"disabled, or the token lack a scope): check the account, then renew "
                f"{variable} with the scopes of docs/setup.md — {said}"
            )
        if status == 429:
            return RateLimited(f"{what}: rate limited by the instance")
        if status is not None and status >= 500:
            if may_have_arrived and status in (502, 504):
                # A gateway gave up waiting; the instance may still be publishing it.
                return OutcomeUnknown(f"{what}: {said}; the status may be online")
            return TemporaryError(f"{what}: {said}")
        if status == 422 and "processing" in message.lower():
            return TemporaryError(f"{what}: {said}")  # the image is not ready yet
        if status is None:
            return unreadable_answer(what, message[:200], may_have_arrived)
        rejected = RejectedPost(f"{what}: {said}")
        rejected.gone = status == 404
        return rejected

    def _built_client(self):
        return self.__dict__.get("_built", {}).get("client")


def _copy(scheduled) -> ScheduledCopy:
    params = scheduled.get("params") or {}
    return ScheduledCopy(
        str(scheduled["id"]), params.get("text") or "", _aware(scheduled["scheduled_at"])
    )


def _status(exc) -> int | None:
    args = exc.args
    return args[1] if len(args) > 1 and isinstance(args[1], int) else None


def _message(exc) -> str:
    args = exc.args
    if len(args) >= 4 and args[3]:
        return str(args[3])
    if len(args) >= 3 and isinstance(args[1], int):
        return str(args[2])
    return str(args[0]) if args else type(exc).__name__


def _iso639(language: str) -> str:
    """The language subtag Mastodon takes: `en-GB` -> `en`; `ckb` stays `ckb` (ISO 639-3)."""
    return re.split(r"[-_]", language, maxsplit=1)[0].lower()


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _normal(text: str) -> str:
    return " ".join(text.split())


def _plain(content: str) -> str:
    """A status's HTML content as text (links keep their full text in hidden spans)."""
    import html  # ~1.5 ms: only when reading statuses back, never for validate

    content = re.sub(r"<br\s*/?>|</p>\s*<p>", "\n", content)
    return html.unescape(re.sub(r"<[^>]+>", "", content))


def _skeleton(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum()).casefold()
