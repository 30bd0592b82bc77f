"""What every platform adapter is, and the behaviour they share.

An adapter is one small class per platform: its limits as class attributes, `count(text)`,
`publish(post) -> Published` and `find(text, since)` for resolving in-doubt posts. Timeouts,
`api_base` redirection and secret redaction live here once, not in each adapter.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pipeline.errors import (
    FatalChannelError,
    NotSent,
    OutcomeUnknown,
    PublishError,
    TemporaryError,
)

if TYPE_CHECKING:
    import requests

    from pipeline.model import Channel

#: seconds for connecting and for each read of every platform call
DEFAULT_TIMEOUT = float(os.environ.get("CROSSPOST_HTTP_TIMEOUT", "10"))
#: pages of recent posts `find` reads at most before saying it cannot tell
FIND_PAGES = 3


@dataclass(frozen=True)
class Published:
    """Where a post went: the platform's id and a URL a person can open (either may be unknown)."""

    remote_id: str | None
    url: str | None


@dataclass(frozen=True)
class OutgoingPost:
    """One platform call's worth of post: a whole post, or one part of a thread."""

    key: str
    text: str
    image: Path | None = None
    image_alt: str | None = None
    #: remote id of the previous thread part; None for the first part or a single post
    reply_to: str | None = None
    #: index of this part in its thread (0 for a single post): part of an idempotency key
    part: int = 0
    #: the attempt token of this part (adapters with `AttemptTokens`), the same on every send
    token: str | None = None


class AttemptTokens:
    """Capability: the platform recognises a repeated send by a token chosen before sending.

    Bluesky: the record key; Mastodon: the Idempotency-Key. The publish engine asks for a token
    before a part's first send, writes it to the ledger's `sending` line before the call, passes
    it (`OutgoingPost.token`) to every later send of that part, in this run or a later one, and
    after an unknown outcome asks `find_attempt` instead of `find`.
    """

    def attempt_token(self, key: str, part: int) -> str:
        """A new token for the first send of part `part` of post `key`."""
        raise NotImplementedError

    def find_attempt(self, token: str, text: str, since: datetime) -> Published | None:
        """The post sent with `token`, if it is on the platform; None: it is not, send again.

        Raises `LookupUnavailable` when the platform will not say.
        """
        raise NotImplementedError


class LookupUnavailable(Exception):
    """The platform will not let us look at recent posts (e.g. an API tier without reads)."""


class IdempotentResend:
    """Capability: the platform takes an idempotency key and answers a repeat with the original.

    After an unknown outcome the engine may then send the very same request again instead of
    looking, but only once the first request cannot still be running (`settle`, real time after
    it was started) and while the platform still remembers the key (`idempotency_window`).
    """

    #: how long the platform keeps a key (counted from the first send, so a little less is used)
    idempotency_window: ClassVar[timedelta]
    #: how long after a send started the platform may still be working on it
    settle: ClassVar[timedelta]


class Adapter:
    """Base class of the platform adapters."""

    platform: ClassVar[str]
    #: maximum length of one post, as `count` measures it
    max_length: ClassVar[int]
    #: image MIME types the platform takes, and their maximum size in bytes
    image_types: ClassVar[Mapping[str, int]]
    #: environment variable suffixes: `<PREFIX>_<SUFFIX>` must be set to publish
    secret_names: ClassVar[tuple[str, ...]]
    #: a warning for every channel of this platform with `thread: true`, when threads on it
    #: may fail in a way the campaign cannot prevent (None: none)
    thread_caveat: ClassVar[str | None] = None
    #: `find` can look at recent posts (False: an unknown outcome is left to a person)
    can_look: ClassVar[bool] = True
    #: the platform refuses a text it has just published (X), so when `find` cannot look, a
    #: single post may be sent again blindly: a refusal proves it is there
    refuses_duplicates: ClassVar[bool] = False
    #: a reminder `doctor` gives for every channel of this platform: a setting outside
    #: crosspost's reach that silently breaks publishing (None: none)
    setup_reminder: ClassVar[str | None] = None

    def __init__(
        self,
        channel: Channel,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ):
        self.channel = channel
        self.timeout = timeout or DEFAULT_TIMEOUT
        self.secrets = self.read_secrets(channel, os.environ if env is None else env)

    @classmethod
    def count(cls, text: str) -> int:
        """The length of `text` as the platform counts it."""
        return len(text)

    @classmethod
    def limit(cls, channel: Channel, image: bool = False) -> int:
        """The longest text (as `count` measures) one post of `channel` may have.

        `image`: the post carries an image (Telegram's caption is shorter than a message).
        """
        return cls.max_length

    @classmethod
    def span_counter(cls, text: str) -> Callable[[int, int, str], int | None] | None:
        """For splitting `text` into a thread: a faster way to count its candidate parts
        (see `pipeline.threads.SpanCounter`), or None to count each part as a text."""
        return None

    @classmethod
    def secret_variables(cls, channel: Channel) -> list[str]:
        """The environment variable names this channel needs."""
        return [f"{channel.prefix}_{name}" for name in cls.secret_names]

    @classmethod
    def read_secrets(cls, channel: Channel, env: Mapping[str, str]) -> dict[str, str]:
        """The channel's secrets from `env`; a missing one is fatal for the channel."""
        # Secrets pasted into CI settings often end with a newline: it is never part of a token.
        values = {var: (env.get(var) or "").strip() for var in cls.secret_variables(channel)}
        missing = [var for var, value in values.items() if not value]
        if missing:
            raise FatalChannelError(
                f"channel {channel.name}: set the environment variable(s) {', '.join(missing)} "
                "(in GitHub Actions: repository secrets of these names, passed in the `env:` "
                "of the step that runs crosspost; docs/setup.md)"
            )
        return dict(zip(cls.secret_names, values.values(), strict=True))

    def redact(self, text: str) -> str:
        """`text` with every secret of this channel replaced by `***`."""
        return redact(text, self.secrets.values())

    @classmethod
    def fit_count(cls, text: str) -> int:
        """A length that is at most `max_length` exactly when the text fits every limit.

        Splitting threads uses it; platforms with a second limit (Bluesky's bytes) override it.
        """
        return cls.count(text)

    @classmethod
    def over_limit(cls, text: str, channel: Channel, image: bool = False) -> str | None:
        """Why `text` is too long for one post of `channel` (None: it fits)."""
        length, limit = cls.count(text), cls.limit(channel, image)
        if length <= limit:
            return None
        what = " for a photo's caption" if image and limit < cls.max_length else ""
        return f"the text is {length} long, over the {cls.platform} limit of {limit}{what}"

    #: the date of the prices `cost` uses (platforms that bill per post)
    prices_as_of: ClassVar[str | None] = None

    @classmethod
    def cost(cls, text: str) -> float | None:
        """What the platform bills for sending this post or part, in US dollars (None: nothing)."""
        return None

    def publish(self, post: OutgoingPost) -> Published:
        """Send one post (or thread part). Raises a `PublishError` subclass on failure."""
        raise NotImplementedError

    def check_credentials(self) -> str:
        """One read-only call: the account as the platform sees it (e.g. "@sea_coop").

        Raises FatalChannelError naming the environment variable and what to do when the
        platform refuses the credentials or they belong to another account; TemporaryError or
        RateLimited for network trouble. `crosspost doctor` calls it; it never writes.
        """
        raise NotImplementedError

    def find(self, text: str, since: datetime) -> Published | None:
        """A post with this text published at or after `since`, if the platform shows one.

        Raises `LookupUnavailable` when the platform will not say.
        """
        raise NotImplementedError

    def _once(self, name: str, build: Callable[[], Any]) -> Any:
        """`build()` on first use, the same object after: one connection pool for a whole run."""
        built = self.__dict__.setdefault("_built", {})
        if name not in built:
            built[name] = build()
        return built[name]

    def close(self) -> None:
        """Release connections."""
        for thing in self.__dict__.pop("_built", {}).values():
            session = thing if hasattr(thing, "mount") else getattr(thing, "session", None)
            if session is not None:
                session.close()

    # --- errors: one place for every adapter ----------------------------------------------------

    def call(self, what: str, may_have_arrived: bool, function, /, *args, **kwargs) -> Any:
        """`function(*args, **kwargs)`, every failure raised as a typed error without secrets.

        `may_have_arrived`: a failure after sending may leave a post online (publishing), so it
        is `OutcomeUnknown` rather than `TemporaryError`. The error is raised outside the
        `except` block with its chain cut: the SDKs' and requests' exceptions quote URLs, and
        Graph URLs carry the token. Exceptions nobody recognises (bugs) propagate as they are.
        """
        try:
            return function(*args, **kwargs)
        except Exception as exc:
            error = self._typed(exc, what, may_have_arrived)
            if error is None:
                raise
        error.__cause__ = error.__context__ = None
        raise error

    def translate(self, exc: Exception, what: str, may_have_arrived: bool) -> Exception | None:
        """The typed error for an exception of the platform's SDK; None when not one of them."""
        return None

    def _typed(self, exc: Exception, what: str, may_have_arrived: bool) -> Exception | None:
        if isinstance(exc, OutcomeUnknown) and not may_have_arrived:
            error = TemporaryError(exc.message)  # nothing was being published
        elif isinstance(exc, PublishError | LookupUnavailable):
            error = exc
        else:
            error = self.translate(exc, what, may_have_arrived)
            network = _requests_error(exc) if error is None else None
            if network is not None:
                error = network_error(network, f"{what} on {self.channel.name}", may_have_arrived)
            if error is None:
                return None
        if isinstance(error, PublishError):
            error.message = self.redact(error.message)
            error.args = (error.message, *error.args[1:])
        else:
            error.args = tuple(self.redact(str(a)) for a in error.args)
        return error


def redact(text: str, secrets) -> str:
    """Replace every secret (and its URL-encoded form) in `text` with `***`."""
    from urllib.parse import quote, quote_plus

    for secret in secrets:
        secret = (secret or "").strip()
        if not secret:
            continue
        forms = {secret, quote(secret, safe=""), quote_plus(secret)}
        # X access tokens are "<user id>-<secret>": the user id is public, but it is also the
        # token's prefix, so it is hidden too (e.g. in URLs that urllib3 logs at DEBUG).
        head, dash, _ = secret.partition("-")
        if dash and head.isdigit() and len(head) >= 8:
            forms.add(head)
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, "***")
    # Tokens in query strings that we do not know by value (e.g. from a paging URL).
    text = re.sub(r"(access_token=)[^&\s'\"]+", r"\1***", text)
    # Telegram bot tokens travel in every URL path (/bot<id>:<secret>/sendMessage).
    return BOT_TOKEN.sub("bot***", text)


#: a Telegram bot token as it appears in Bot API URLs
BOT_TOKEN = re.compile(r"bot\d+:[A-Za-z0-9_-]+")


def http_session(api_base: str | None, hosts: list[str], timeout: float) -> requests.Session:
    """A requests session whose calls time out, and go to `api_base` instead of `hosts`.

    `hosts` are `https://host` prefixes the SDK hard-codes; each is rewritten to `api_base`
    (scheme and host replaced, path kept) by a transport adapter, so the SDK code runs unchanged.
    """
    import requests
    from requests.adapters import HTTPAdapter

    class _Adapter(HTTPAdapter):
        def __init__(self, base: str | None):
            super().__init__(max_retries=0)
            self.base = base.rstrip("/") if base else None

        def send(self, request, **kwargs):
            if self.base:
                for host in hosts:
                    if request.url.startswith(host):
                        request.url = self.base + request.url[len(host) :]
                        break
            # SDKs pass no timeout (tweepy) or None (facebook-sdk): never wait forever.
            if kwargs.get("timeout") is None:
                kwargs["timeout"] = timeout
            return super().send(request, **kwargs)

    session = requests.Session()
    adapter = _Adapter(api_base)
    for host in hosts:
        session.mount(host, adapter)
    return session


def network_error(exc: Exception, what: str, may_have_arrived: bool) -> PublishError:
    """Translate a requests/urllib3 failure into the error that says what to do about it.

    A failure to connect means nothing reached the platform: retry. A timeout or a dropped
    connection after the request was sent means the platform may have acted on it: when
    `may_have_arrived` (a publish), that is `OutcomeUnknown`, which must never be retried blindly.
    The message carries no URL, since URLs can carry tokens.
    """
    import requests

    if isinstance(exc, requests.ConnectTimeout):
        return NotSent(f"{what}: timed out connecting")
    if isinstance(exc, requests.exceptions.InvalidJSONError):
        return unreadable_answer(what, type(exc).__name__, may_have_arrived)
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.ReadTimeout):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        text = type(reason).__name__ if reason is not None else ""
        if any(k in text for k in ("NewConnection", "ConnectTimeout", "NameResolution")):
            return NotSent(f"{what}: could not connect ({text})")
    if not may_have_arrived:
        return TemporaryError(f"{what}: the connection failed ({type(exc).__name__})")
    kind = "no answer in time" if isinstance(exc, requests.Timeout) else "the connection dropped"
    return OutcomeUnknown(f"{what}: {kind} after the request was sent; the post may be online")


def unreadable_answer(what: str, detail: str, may_have_arrived: bool) -> PublishError:
    """An answer the SDK could not read: the platform may well have acted on the request."""
    message = f"{what}: unreadable answer from the platform ({detail})"
    if may_have_arrived:
        return OutcomeUnknown(message + "; the post may be online")
    return TemporaryError(message)


def _requests_error(exc: BaseException) -> Exception | None:
    """The requests exception `exc` is or wraps (tweepy.API re-raises them as its own)."""
    import requests

    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None or isinstance(seen, requests.RequestException):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
