"""Planned posts -> text, through sandboxed Jinja2 templates and Babel-localised filters."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from jinja2 import (
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    pass_context,
)
from jinja2.sandbox import SandboxedEnvironment

from pipeline.errors import Problem
from pipeline.load import TEMPLATES_DIR, template_names
from pipeline.model import localise
from pipeline.plan import PlannedPost
from pipeline.source import utf8_problem


@dataclass
class RenderedPost:
    """A planned post with its text, and what `check` found about it."""

    planned: PlannedPost
    text: str
    template: str  # the file that produced it, relative to the repository root
    problems: list[Problem] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)  # thread parts; [text] when not a thread
    length: int = 0  # platform-weighted length of the longest part
    limit: int = 0

    @property
    def key(self) -> str:
        """The planned post's key."""
        return self.planned.key


class _Undefined(StrictUndefined):
    """StrictUndefined whose message says what *is* defined where a name was looked up."""

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:  # the sandbox refusing an attribute
            return f"{self._undefined_hint.rstrip('.')} (templates run in a sandbox)"
        obj, name = self._undefined_obj, self._undefined_name
        if isinstance(obj, SimpleNamespace):
            obj = vars(obj)
        if isinstance(obj, dict):
            known = ", ".join(sorted(map(str, obj))) or "nothing"
            return (
                f"{name!r} is undefined (here there is: {known}); data for templates "
                "goes under `vars` in the campaign or the event"
            )
        return super()._undefined_message


#: filters crosspost adds to Jinja's built-in ones
FILTERS = ("datetime", "date", "time", "timerange", "utm")

_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Sandbox(SandboxedEnvironment):
    """The sandbox, with a shorter way for the lookups every template makes most.

    `campaign.name`, `event.starts` and `vars.guest` are ~8 lookups a post; the sandbox answers
    each by trying the attribute, catching AttributeError for a dict key, and checking the value
    is safe. For the context's own namespaces and dicts the answer is known: a namespace holds
    only data (never a function or a str.format), and a dict's key is its item unless dict has
    an attribute of that name (which Jinja would prefer, so that case takes the usual way).
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        kind = type(obj)
        if kind is SimpleNamespace and not attribute.startswith("_"):
            try:
                return obj.__dict__[attribute]
            except KeyError:
                pass
        elif kind is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except (KeyError, TypeError):
                pass
        return super().getattr(obj, attribute)


class Renderer:
    """Renders posts of one repository; compiled templates are cached across posts."""

    def __init__(self, root: Path):
        self.root = root
        self.env = _Sandbox(
            loader=FileSystemLoader(str(root / TEMPLATES_DIR)),
            undefined=_Undefined,
            autoescape=False,
            keep_trailing_newline=False,
            auto_reload=False,
        )
        self.env.filters.update(
            datetime=_datetime, date=_date, time=_time, timerange=_timerange, utm=_utm
        )
        # Per repository: the template chosen for (template, language, platform), and context
        # parts shared by many posts (see `context`).
        self._templates: dict[tuple[str, ...], Any] = {}
        self._contexts: dict[tuple, Any] = {}

    def _select(self, names: list[str]):
        # select_template stats every missing per-platform override again for every post.
        key = tuple(names)
        template = self._templates.get(key)
        if template is None:
            template = self._templates[key] = self.env.select_template(names)
            # A template's globals are a ChainMap over the environment's, copied into every
            # post's context key by key in Python; nothing changes them after loading, so a
            # plain dict with the same items is copied in C.
            template.globals = dict(template.globals)
        return template

    def render(self, post: PlannedPost) -> RenderedPost:
        """Render one post; a template problem is recorded on the post, never raised."""
        names = template_names(post.template, post.language, post.platform)
        shown = f"{TEMPLATES_DIR}/{names[-1]}"
        try:
            template = self._select(names)
            shown = f"{TEMPLATES_DIR}/{template.name}"
            text = template.render(context(post, self._contexts)).strip()
        except TemplateSyntaxError as exc:
            where = f"{TEMPLATES_DIR}/{exc.name}" if exc.name else shown
            message = exc.message or "invalid template"
            if message.startswith("No filter named"):
                message += f" (crosspost adds {', '.join(FILTERS)} to Jinja's built-in filters)"
            return RenderedPost(
                post,
                "",
                where,
                [
                    Problem(
                        where,
                        exc.lineno or 1,
                        1,
                        f"template syntax: {message} (rendering {post.key})",
                    )
                ],
            )
        except TemplateNotFound as exc:
            if exc.name in names:  # the post's own template (load checks it exists)
                message = "template not found"
            else:  # `{% include %}`, `{% import %}` or `{% extends %}` of a missing file
                message = f"{TEMPLATES_DIR}/{exc.name} not found (names are relative to templates/)"
            return RenderedPost(
                post,
                "",
                shown,
                [Problem(shown, _template_line(exc), 1, f"{message} (rendering {post.key})")],
            )
        except UnicodeDecodeError as exc:
            where = _failing_file(exc) or shown
            problem = utf8_problem((self.root / where).read_bytes(), exc, where)
            message = f"{problem.message} (rendering {post.key})"
            return RenderedPost(post, "", where, [replace(problem, message=message)])
        except (
            TemplateError,
            ValueError,
            TypeError,
            KeyError,
            LookupError,
            AttributeError,
            ArithmeticError,
        ) as exc:
            line = _template_line(exc)
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            return RenderedPost(
                post, "", shown, [Problem(shown, line, 1, f"{message} (rendering {post.key})")]
            )
        problems = []
        if not text:
            problems.append(
                Problem(shown, 1, 1, f"the template renders an empty post (rendering {post.key})")
            )
        return RenderedPost(post, text, shown, problems)


def _failing_file(exc: BaseException) -> str | None:
    """The template file (relative to the root) whose reading raised `exc`, if known."""
    import traceback  # only for a template that failed

    for frame, _ in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_locals.get("filename")
        if isinstance(filename, str) and filename.endswith(".j2"):
            path = Path(filename)
            return f"{TEMPLATES_DIR}/{path.parent.name}/{path.name}"
    return None


def _template_line(exc: BaseException) -> int:
    """The template line where a render error happened (Jinja rewrites tracebacks so)."""
    import traceback  # only for a template that failed

    line = 1
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename.endswith(".j2"):
            line = lineno
    return line


def context(post: PlannedPost, cache: dict | None = None) -> dict[str, Any]:
    """The template context of DESIGN.md for one post.

    `cache` (a dict kept for one repository) holds what is the same for many posts: the
    campaign's and each event's values localised to each language. Every post still gets its
    own `vars` dict and namespaces, so nothing one template does is seen by another.
    """
    campaign, lang = post.campaign, post.language
    cache = {} if cache is None else cache
    zone = campaign.zone
    key = (id(campaign), lang)
    shared = cache.get(key)
    if shared is None:
        languages = campaign.languages
        shared = cache[key] = (
            {k: localise(v, lang, languages) for k, v in campaign.model.vars.items()},
            (campaign.id, campaign.model.name, zone.key),
            campaign,  # kept alive, so that its id() is not reused while cached
        )
    campaign_vars, (campaign_id, campaign_name, zone_name), _ = shared
    ctx: dict[str, Any] = {
        "campaign": SimpleNamespace(id=campaign_id, name=campaign_name, timezone=zone_name),
        "moment": SimpleNamespace(id=post.moment, template=post.template),
        "channel": SimpleNamespace(name=post.channel.name, platform=post.platform, language=lang),
        "language": lang,
        "due_at": post.due_at.astimezone(zone),
    }
    merged = dict(campaign_vars)
    if post.event is not None:
        event = post.event
        key = (id(campaign), event.id, lang)
        shared = cache.get(key)
        if shared is None:
            languages = campaign.languages
            starts, ends = campaign.event_times[event.id]
            shared = cache[key] = (
                {k: localise(v, lang, languages) for k, v in event.vars.items()},
                dict(
                    id=event.id,
                    title=localise(event.title, lang, languages),
                    starts=starts.astimezone(zone),
                    ends=ends.astimezone(zone) if ends else None,
                    image=event.image,
                    image_alt=(
                        localise(event.image_alt, lang, languages) if event.image_alt else None
                    ),
                ),
            )
        event_vars, fields = shared
        merged.update(event_vars)
        ctx["event"] = SimpleNamespace(
            **fields, show_timezones=list(event.show_timezones) or [zone.key]
        )
    ctx["vars"] = merged
    return ctx


# --- filters ------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _locale(language: str):
    from babel import Locale

    return Locale.parse(language.replace("-", "_"))


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(
            f"unknown time zone {name!r} given as tz= (use an IANA name such as "
            "Europe/London or Europe/Istanbul)"
        ) from None


def _setting(ctx, tz: str | None) -> tuple[Any, ZoneInfo]:
    return _locale(ctx["language"]), _zone(tz or ctx["campaign"].timezone)


def _aware(value: Any, what: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"the {what} filter needs a date and time, not {value!r}")
    return value


# Babel's formatting costs 20-100 µs a call, and the same event time is formatted for every
# moment and channel of its language: results are cached. They depend only on the instant, the
# format, the zone and the language (each filter converts to the zone first).


@lru_cache(maxsize=4096)
def _format(kind: str, value: datetime, format: str, zone: ZoneInfo, language: str) -> str:
    from babel.dates import format_date, format_datetime, format_time

    locale = _locale(language)
    if kind == "datetime":
        return format_datetime(value, format, tzinfo=zone, locale=locale)
    if kind == "date":
        return format_date(value.astimezone(zone), format, locale=locale)
    return format_time(value, format, tzinfo=zone, locale=locale)


@pass_context
def _datetime(ctx, value, format: str = "medium", tz: str | None = None) -> str:
    _, zone = _setting(ctx, tz)
    return _format("datetime", _aware(value, "datetime"), format, zone, ctx["language"])


@pass_context
def _date(ctx, value, format: str = "long", tz: str | None = None) -> str:
    _, zone = _setting(ctx, tz)
    return _format("date", _aware(value, "date"), format, zone, ctx["language"])


@pass_context
def _time(ctx, value, format: str = "short", tz: str | None = None) -> str:
    _, zone = _setting(ctx, tz)
    return _format("time", _aware(value, "time"), format, zone, ctx["language"])


@pass_context
def _timerange(ctx, event, tz: str | None = None) -> str:
    """'16:00–18:00 GMT+1': the event's times in `tz`, with that zone's offset."""
    _, zone = _setting(ctx, tz)
    starts = _aware(getattr(event, "starts", None), "timerange")
    return _format_range(starts, getattr(event, "ends", None), zone, ctx["language"])


@lru_cache(maxsize=4096)
def _format_range(starts: datetime, ends: datetime | None, zone: ZoneInfo, language: str) -> str:
    from babel.dates import format_datetime, format_interval

    locale = _locale(language)
    if ends is None:
        span = format_datetime(starts, "HH:mm", tzinfo=zone, locale=locale)
    else:
        span = format_interval(starts, ends, "Hm", tzinfo=zone, locale=locale)
    return f"{span} {_short_gmt(format_datetime(starts, 'OOOO', tzinfo=zone, locale=locale))}"


def _short_gmt(long_form: str) -> str:
    """CLDR's short localised GMT format ('GMT+1'), which Babel 2.18 renders as 'None'."""

    def shorten(m: re.Match) -> str:
        hours, minutes = int(m[2]), m[3]
        if not hours and minutes == "00":
            return ""
        return f"{m[1]}{hours}" + ("" if minutes == "00" else f":{minutes}")

    return re.sub(r"([+-−])(\d\d):(\d\d)", shorten, long_form).strip()


@pass_context
def _utm(
    ctx,
    url: str,
    source: str | None = None,
    medium: str = "social",
    campaign: str | None = None,
    content: str | None = None,
) -> str:
    """`url` with UTM parameters added (its own query kept, existing utm_* replaced)."""
    return _with_utm(
        str(url),
        source or ctx["channel"].platform,
        medium,
        campaign or ctx["campaign"].id,
        content or ctx["moment"].id,
    )


_UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_content")


@lru_cache(maxsize=4096)
def _with_utm(url: str, source, medium, campaign, content) -> str:
    parts, kept = _url_without_utm(url)
    # urlencode joins its pairs with "&": the URL's own pairs are encoded once per URL, and the
    # UTM values (few, shared by many posts) once each.
    utm = "&".join(
        f"{k}={_quoted(v)}"
        for k, v in zip(_UTM, (source, medium, campaign, content), strict=True)
        if v
    )
    query = f"{kept}&{utm}" if kept and utm else kept or utm
    return urlunsplit(parts._replace(query=query))


@lru_cache(maxsize=1024)
def _url_without_utm(url: str):
    """The URL split, and its own query (without utm_* pairs) encoded as urlencode does."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in _UTM]
    return parts, urlencode(query)


@lru_cache(maxsize=1024)
def _quoted(value) -> str:
    return quote_plus(str(value))
