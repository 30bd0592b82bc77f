"""The shape of channels.yaml and campaigns/*.yaml, as pydantic models.

These models check structure and types only (`extra="forbid"`: a typo is an error). What needs
more than one field or file to judge — zones, times, templates, images, channel names — is
checked in `pipeline.load`, which knows where every key is in the files.
"""

from __future__ import annotations

import re
import sys
import types
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal


def _without_pydantic_plugins() -> None:
    """Build crosspost's models without looking for pydantic plugins: it uses none, and the
    look-up imports importlib.metadata and reads every installed package's entry points
    (~15 ms of each command's start-up, once per process, for nothing).

    pydantic asks `pydantic.plugin._loader.get_plugins()` whenever it builds a validator: a
    stand-in module answers "none"; anything else pydantic may want from that module comes
    from the real one.
    """
    name = "pydantic.plugin._loader"
    if name in sys.modules:
        return
    stand_in = types.ModuleType(name, "crosspost stand-in: no pydantic plugins")

    def real(attribute: str) -> Any:
        if attribute.startswith("__"):  # the import system asks for __path__ and such
            raise AttributeError(attribute)
        import importlib

        del sys.modules[name]
        try:
            module = importlib.import_module(name)
        finally:
            sys.modules[name] = stand_in
        return getattr(module, attribute)

    stand_in.get_plugins = lambda: ()  # type: ignore[attr-defined]
    stand_in.__getattr__ = real  # type: ignore[attr-defined]
    sys.modules[name] = stand_in


_without_pydantic_plugins()

from pydantic import (  # noqa: E402 (after the stand-in)
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.json_schema import SkipJsonSchema  # noqa: E402

# The descriptions and examples below are what editors show on hover, through the JSON Schema
# that `crosspost schema` generates from these models (pipeline/schema.py): keep them short.

Id = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100),
]
#: the shape of a language code (pattern for editors only: `known_language` is the real check;
#: every code Babel knows but "root" has this shape)
LANGUAGE_CODE = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$"
#: text that may differ per language: one string for all, or {language: text}
Localised = Annotated[
    str | dict[str, str],
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "description": "One text per language code (en, tr, ku, ...).",
                    "propertyNames": {"pattern": LANGUAGE_CODE},
                    "additionalProperties": {"type": "string"},
                    "minProperties": 1,
                },
            ]
        }
    ),
]
#: a date and time as `times.parse_time` reads it; without offset it is in the campaign's zone
Time = Annotated[
    str,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\s*\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?\s*$",
        }
    ),
]

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


DurationField = Annotated[
    Duration,
    BeforeValidator(Duration.parse),
    WithJsonSchema({"type": "string", "pattern": r"^\s*(?=\d)(\d+d)?(\d+h)?(\d+m)?(\d+s)?\s*$"}),
]


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

    name: SkipJsonSchema[str] = ""  # filled from the mapping key
    platform: Literal["facebook", "x", "mastodon", "bluesky", "telegram"] = Field(
        description="Where this channel posts. Secrets, from the environment: facebook "
        "<PREFIX>_PAGE_TOKEN; x <PREFIX>_API_KEY, _API_SECRET, _ACCESS_TOKEN, "
        "_ACCESS_TOKEN_SECRET; mastodon <PREFIX>_ACCESS_TOKEN; bluesky <PREFIX>_APP_PASSWORD; "
        "telegram <PREFIX>_BOT_TOKEN.",
        examples=["facebook", "x"],
    )
    language: str = Field(
        description="Language of its posts, a CLDR/BCP-47 code: templates/<name>/<language>.j2.",
        examples=["en", "tr", "ku", "ckb"],
        json_schema_extra={"pattern": LANGUAGE_CODE},
    )
    page_id: str | None = Field(
        default=None,
        description="facebook: the Page's numeric id, quoted. Token: <PREFIX>_PAGE_TOKEN.",
        examples=["104123456789"],
    )
    #: None: the platform's default (true where it schedules natively); see `schedules_natively`
    native_scheduling: StrictBool | None = Field(
        default=None,
        description="facebook, mastodon: hand posts to the platform's scheduler days ahead "
        "(default true).",
        examples=[True],
    )
    thread: StrictBool = Field(
        default=False,
        description="x, mastodon, bluesky, telegram: split an over-long text into a numbered "
        "thread instead of refusing it.",
        examples=[True],
    )
    long_posts: StrictBool = Field(
        default=False,
        description="x: the account has X Premium (one post up to 25,000 weighted characters).",
        examples=[False],
    )
    instance: str | None = Field(
        default=None,
        pattern=_BASE_URL,
        description="mastodon (required): the account's server. Token: <PREFIX>_ACCESS_TOKEN.",
        examples=["https://social.coop"],
    )
    max_characters: int | None = Field(
        default=None,
        ge=1,
        description="mastodon: the instance's post length limit (default 500).",
        examples=[500],
    )
    visibility: Literal["public", "unlisted"] | None = Field(
        default=None,
        description="mastodon: who sees the posts (default public).",
        examples=["public"],
    )
    handle: str | None = Field(
        default=None,
        description="bluesky (required): the account's handle. Secret: <PREFIX>_APP_PASSWORD.",
        examples=["sea.bsky.social"],
    )
    service: str | None = Field(
        default=None,
        pattern=_BASE_URL,
        description="bluesky: the account's PDS (default https://bsky.social).",
        examples=["https://bsky.social"],
    )
    chat: str | None = Field(
        default=None,
        description="telegram (required): the channel's @username or numeric chat id; the bot "
        "must be its admin. Token: <PREFIX>_BOT_TOKEN.",
        examples=["@sea_kurdi", "-1001234567890"],
    )
    api_base: str | None = Field(
        default=None,
        pattern=_BASE_URL,
        description="Send this channel's API calls to another scheme+host (tests, proxies).",
        examples=["http://127.0.0.1:8081"],
    )
    env_prefix: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Prefix of its secret environment variables (default: the channel name "
        "upper-cased, other characters as _: x-en -> X_EN_API_KEY).",
        examples=["X_MAIN"],
    )

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


_ID = "Letters, digits, '-', '_' and '.', starting with a letter or digit."
_TEMPLATE = "Folder under templates/ holding <language>.j2 (and <language>.<platform>.j2)."
_EXPIRES = (
    "How long after its due time the post may still go out; later it is missed. "
    "Durations: 15m, 2h, 1d, 1d12h, 90s."
)
_IMAGE_ALT = "Alt text of the image, in every language: {en: ..., tr: ...}."


class Moment(Strict):
    """A post relative to every event's start."""

    id: Id = Field(description=f"The moment's id. {_ID}", examples=["announce", "reminder"])
    before: DurationField = Field(
        description="How long before the event starts it is due: 15m, 2h, 1d, 1d12h, 90s. "
        "Days are calendar days at the same wall-clock time.",
        examples=["14d", "1d", "15m"],
    )
    template: str = Field(description=_TEMPLATE, examples=["announce"])
    image: StrictBool = Field(
        default=False, description="Attach the event's image.", examples=[True]
    )
    expires: DurationField | None = Field(
        default=None,
        description=f"{_EXPIRES} Default: until the event's next moment or its start.",
        examples=["30m", "2h"],
    )


class OneOffPost(Strict):
    """A post at an absolute time."""

    id: Id = Field(description=f"The post's id. {_ID}", examples=["launch"])
    at: Time = Field(
        description="When it is due: ISO 8601, in the campaign's timezone unless an offset "
        "is given.",
        examples=["2022-08-25T10:00", "2022-08-25T10:00+01:00"],
    )
    template: str = Field(description=_TEMPLATE, examples=["launch"])
    image: str | None = Field(
        default=None,
        description="An image file in the repository, attached to the post.",
        examples=["media/series.png"],
    )
    image_alt: Localised | None = Field(
        default=None, description=_IMAGE_ALT, examples=[{"en": "A green banner"}]
    )
    expires: DurationField | None = Field(
        default=None, description=f"{_EXPIRES} Default: 24h.", examples=["24h"]
    )


class Event(Strict):
    """One event of the series."""

    id: Id = Field(description=f"The event's id. {_ID}", examples=["aboriya-jin"])
    starts: Time | None = Field(
        default=None,
        description="Start, ISO 8601 in the campaign's timezone unless an offset is given. "
        "Without it the event has no posts yet.",
        examples=["2022-10-08T16:00"],
    )
    ends: Time | None = Field(
        default=None, description="End, like starts.", examples=["2022-10-08T18:00"]
    )
    title: Localised = Field(
        description="The event's title: one text, or one per language.",
        examples=[{"en": "The Women's Economy of Rojava", "tr": "Rojava'nın kadın ekonomisi"}],
    )
    show_timezones: list[str] = Field(
        default=[],
        description="IANA time zones that templates show the time in (event | timerange(tz=...)).",
        examples=[["Europe/London", "Europe/Istanbul"]],
    )
    image: str | None = Field(
        default=None,
        description="The event's image file, attached by moments with image: true.",
        examples=["media/aboriya-jin.jpg"],
    )
    image_alt: Localised | None = Field(
        default=None, description=_IMAGE_ALT, examples=[{"en": "Poster of the talk"}]
    )
    vars: dict[str, Any] = Field(
        default={},
        description="Data for templates, over the campaign's vars; a mapping keyed by "
        "language is localised.",
        examples=[{"guest": "Aboriya Jin"}],
    )
    cancelled: StrictBool = Field(
        default=False,
        description="true: no more posts for this event (posts handed to a platform are deleted).",
        examples=[True],
    )


class Campaign(Strict):
    """One campaigns/<name>.yaml file."""

    id: Id | None = Field(
        default=None,
        description=f"The campaign's id (default: the file name without .yaml). {_ID}",
        examples=["gamechangers-2022"],
    )
    name: str = Field(
        description="The campaign's name.", examples=["Conversations with Gamechangers"]
    )
    timezone: str = Field(
        description="IANA time zone of times written without an offset.",
        examples=["Europe/London", "Europe/Istanbul", "America/New_York"],
    )
    channels: list[str] = Field(
        min_length=1,
        description="Names of channels in channels.yaml that the campaign posts to.",
        examples=[["facebook-en", "x-en"]],
    )
    vars: dict[str, Any] = Field(
        default={},
        description="Data for templates ({{ vars.name }}); a mapping keyed by language is "
        "localised.",
        examples=[{"register_url": "https://example.org/register"}],
    )
    moments: list[Moment] = Field(
        default=[],
        description="Posts relative to every event's start.",
        examples=[[{"id": "reminder", "before": "1d", "template": "reminder"}]],
    )
    posts: list[OneOffPost] = Field(
        default=[],
        description="One-off posts at absolute times.",
        examples=[[{"id": "launch", "at": "2022-08-25T10:00", "template": "launch"}]],
    )
    events: list[Event] = Field(
        default=[],
        description="The events of the series.",
        examples=[[{"id": "first", "starts": "2022-10-08T16:00", "title": "First talk"}]],
    )


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
