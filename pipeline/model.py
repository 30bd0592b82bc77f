"""The shape of channels.yaml and campaigns/*.yaml, as pydantic models.

These models check structure and types only (`extra="forbid"`: a typo is an error). What needs
more than one field or file to judge — zones, times, templates, images, channel names — is
checked in `pipeline.load`, which knows where every key is in the files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StringConstraints

Id = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100),
]
#: text that may differ per language: one string for all, or {language: text}
Localised = str | dict[str, str]

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


@dataclass(frozen=True)
class Duration:
    """`1d12h`: calendar days (same wall-clock time) plus exact elapsed time."""

    days: int
    exact: timedelta

    @classmethod
    def parse(cls, value: Any) -> Duration:
        """Parse `15m`, `2h`, `1d`, `1d12h`, `90s`."""
        if isinstance(value, Duration):
            return value
        match = _DURATION.match(str(value).strip()) if isinstance(value, str) else None
        if not match or not any(match.groups()):
            raise ValueError(_duration_mistake(value))
        d, h, m, s = (int(g or 0) for g in match.groups())
        return cls(d, timedelta(hours=h, minutes=m, seconds=s))

    def __str__(self) -> str:
        secs = int(self.exact.total_seconds())
        parts = [(self.days, "d"), (secs // 3600, "h"), (secs % 3600 // 60, "m"), (secs % 60, "s")]
        return "".join(f"{n}{u}" for n, u in parts if n) or "0s"


def _duration_mistake(value: Any) -> str:
    """What is wrong with a value that is not a duration, and how to write it."""
    text = str(value).strip()
    if value is None or not text:
        return "the duration is empty: write e.g. 15m, 2h, 1d, 1d12h or 90s"
    if text.startswith("-"):
        return (
            f"{value!r}: a duration cannot be negative "
            f"(write {text[1:]}: `before` already counts back from the event)"
        )
    if re.fullmatch(r"(\d+[dhms])*\d+", text):
        return f"{value!r} ends without a unit: put d, h, m or s after every number, e.g. {text}m"
    return f"{value!r} is not a duration: write e.g. 15m, 2h, 1d, 1d12h or 90s"


DurationField = Annotated[Duration, BeforeValidator(Duration.parse)]


class Strict(BaseModel):
    """Base: unknown keys are errors; true/false must be written as YAML booleans."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


#: every platform crosspost publishes to, as written in channels.yaml
PLATFORMS = ("facebook", "x", "mastodon", "bluesky", "telegram")
#: platform-specific channel keys and the platforms that use them; any other platform's
#: channel using one is an error (DESIGN.md: a key the platform does not use is an error)
PLATFORM_KEYS: dict[str, tuple[str, ...]] = {
    "page_id": ("facebook",),
    "native_scheduling": ("facebook", "mastodon"),
    "thread": ("x", "mastodon", "bluesky", "telegram"),
    "long_posts": ("x",),
    "instance": ("mastodon",),
    "max_characters": ("mastodon",),
    "visibility": ("mastodon",),
    "handle": ("bluesky",),
    "service": ("bluesky",),
    "chat": ("telegram",),
}
#: keys a platform's channels must have
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "facebook": ("page_id",),
    "mastodon": ("instance",),
    "bluesky": ("handle",),
    "telegram": ("chat",),
}
_BASE_URL = r"^https?://[^/\s]+/?$"


class Channel(Strict):
    """One account or Page that posts go to."""

    name: str = ""  # filled from the mapping key
    platform: Literal["facebook", "x", "mastodon", "bluesky", "telegram"]
    language: str
    page_id: str | None = None
    #: None: the platform's default (true where it schedules natively); see `schedules_natively`
    native_scheduling: StrictBool | None = None
    thread: StrictBool = False
    long_posts: StrictBool = False
    instance: str | None = Field(default=None, pattern=_BASE_URL)
    max_characters: int | None = Field(default=None, ge=1)
    visibility: Literal["public", "unlisted"] | None = None
    handle: str | None = None
    service: str | None = Field(default=None, pattern=_BASE_URL)
    chat: str | None = None
    api_base: str | None = Field(default=None, pattern=_BASE_URL)
    env_prefix: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")

    @property
    def prefix(self) -> str:
        """Prefix of this channel's secret environment variables."""
        return self.env_prefix or re.sub(r"[^A-Za-z0-9]", "_", self.name).upper()

    @property
    def schedules_natively(self) -> bool:
        """Whether posts are handed to the platform's own scheduler (default: where it can)."""
        if self.platform not in PLATFORM_KEYS["native_scheduling"]:
            return False
        return True if self.native_scheduling is None else self.native_scheduling

    def keys_set(self) -> list[str]:
        """The platform-specific keys written for this channel (not left at their default)."""
        return [k for k in PLATFORM_KEYS if k in self.model_fields_set]


class Moment(Strict):
    """A post relative to every event's start."""

    id: Id
    before: DurationField
    template: str
    image: StrictBool = False
    expires: DurationField | None = None


class OneOffPost(Strict):
    """A post at an absolute time."""

    id: Id
    at: str
    template: str
    image: str | None = None
    image_alt: Localised | None = None
    expires: DurationField | None = None


class Event(Strict):
    """One event of the series."""

    id: Id
    starts: str | None = None
    ends: str | None = None
    title: Localised
    show_timezones: list[str] = []
    image: str | None = None
    image_alt: Localised | None = None
    vars: dict[str, Any] = {}
    cancelled: StrictBool = False


class Campaign(Strict):
    """One campaigns/<name>.yaml file."""

    id: Id | None = None
    name: str
    timezone: str
    channels: list[str] = Field(min_length=1)
    vars: dict[str, Any] = {}
    moments: list[Moment] = []
    posts: list[OneOffPost] = []
    events: list[Event] = []


def localise(value: Any, language: str, languages: set[str]) -> Any:
    """`value` for `language` when it is a mapping keyed by the campaign's languages."""
    if is_localised(value, languages):
        return value[language]
    return value


def is_localised(value: Any, languages: set[str]) -> bool:
    """Whether `value` is a {language: text} table: a mapping with a text for at least one of
    the campaign's languages, whose other keys are language codes too (texts for languages no
    channel uses yet are allowed, and ignored)."""
    return (
        isinstance(value, dict)
        and bool(set(value) & languages)
        and all(isinstance(k, str) and (k in languages or known_language(k)) for k in value)
    )


@lru_cache(maxsize=512)
def known_language(code: str) -> bool:
    """Whether CLDR (through Babel) knows the language code."""
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return False
    return True
