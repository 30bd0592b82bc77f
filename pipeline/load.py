"""Load a campaigns repository: channels.yaml and campaigns/*.yaml into checked models.

Every problem is collected with its file, line and column; an invalid campaign is left out of
the repository (and its problems kept) so that the valid ones can still be planned and published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from pipeline.errors import Problem
from pipeline.model import (
    PLATFORM_KEYS,
    REQUIRED_KEYS,
    Campaign,
    Channel,
    Event,
    is_localised,
    known_language,
)
from pipeline.source import Document, read_yaml

CHANNELS_FILE = "channels.yaml"
CAMPAIGNS_DIR = "campaigns"
TEMPLATES_DIR = "templates"


@dataclass
class LoadedCampaign:
    """A campaign that passed every load check, with its times resolved to UTC."""

    id: str
    model: Campaign
    doc: Document
    zone: ZoneInfo
    channels: list[Channel]
    #: event id -> (starts, ends) as aware UTC datetimes; absent for events without a date
    event_times: dict[str, tuple[datetime, datetime | None]]
    #: one-off post id -> its time (aware UTC)
    post_times: dict[str, datetime]

    @property
    def languages(self) -> set[str]:
        """Languages of the campaign's channels."""
        return {c.language for c in self.channels}

    @property
    def path(self) -> str:
        """The campaign file, relative to the repository root."""
        return self.doc.path


@dataclass
class Repository:
    """Everything loaded from one campaigns repository."""

    root: Path
    channels: dict[str, Channel] = field(default_factory=dict)
    campaigns: list[LoadedCampaign] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: campaign files that have problems (they plan nothing)
    invalid: list[str] = field(default_factory=list)
    #: channels.yaml as read (for locating warnings about channels); None when unreadable
    channels_doc: Document | None = None


def load(root: Path) -> Repository:
    """Load and check the repository at `root`; problems are collected, never raised."""
    repo = Repository(root=root)
    broken_channels = _load_channels(repo)
    campaign_dir = root / CAMPAIGNS_DIR
    files = sorted(campaign_dir.glob("*.yaml")) + sorted(campaign_dir.glob("*.yml"))
    if not files:
        repo.problems.append(Problem(CAMPAIGNS_DIR, 1, 1, "no campaign files (*.yaml) found"))
    seen_ids: dict[str, str] = {}
    for path in files:
        shown = path.relative_to(root).as_posix()
        doc = read_yaml(path, shown)
        if isinstance(doc, Problem):
            repo.problems.append(doc)
            repo.invalid.append(shown)
            continue
        problems: list[Problem] = []
        campaign = _load_campaign(doc, repo, broken_channels, problems)
        if campaign and campaign.id in seen_ids:
            problems.append(
                doc.problem(
                    ("id",),
                    f"campaign id {campaign.id!r} is already used by {seen_ids[campaign.id]}",
                )
            )
        if problems or campaign is None:
            repo.problems.extend(problems)
            repo.invalid.append(shown)
        else:
            seen_ids[campaign.id] = shown
            repo.campaigns.append(campaign)
    return repo


# --- channels.yaml ------------------------------------------------------------------------------


def _load_channels(repo: Repository) -> set[str] | None:
    """Fill repo.channels; return the names of channels that have problems (None: all)."""
    path = repo.root / CHANNELS_FILE
    if not path.exists():
        repo.problems.append(
            Problem(
                CHANNELS_FILE,
                1,
                1,
                "file not found: every campaigns repository needs a channels.yaml (see README)",
            )
        )
        return None
    doc = read_yaml(path, CHANNELS_FILE)
    if isinstance(doc, Problem):
        repo.problems.append(doc)
        return None
    repo.channels_doc = doc
    if not isinstance(doc.data, dict) or not doc.data:
        repo.problems.append(
            doc.problem(
                (),
                "channels.yaml must map channel names to settings, e.g. "
                '`facebook-en: {platform: facebook, language: en, page_id: "123"}`',
            )
        )
        return None
    broken: set[str] = set()
    for name, entry in doc.data.items():
        problems = []
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
            problems.append(
                doc.problem(
                    (name,), f"channel name {name!r} may only use letters, digits, '-', '_' and '.'"
                )
            )
        elif not isinstance(entry, dict):
            problems.append(doc.problem((name,), f"channel {name!r} must be a mapping of settings"))
        elif "name" in entry:
            problems.append(
                doc.problem((name, "name"), "unknown key 'name' (the channel's name is its key)")
            )
        else:
            try:
                channel = Channel.model_validate(entry).model_copy(update={"name": name})
            except ValidationError as exc:
                problems.extend(pydantic_problems(doc, exc, prefix=(name,)))
            else:
                problems.extend(_check_channel(doc, channel))
                if not problems:
                    repo.channels[name] = channel
        if problems:
            broken.add(str(name))
            repo.problems.extend(problems)
    return broken


def _check_channel(doc: Document, ch: Channel) -> list[Problem]:
    out = []
    if not known_language(ch.language):
        code = _language_code(ch.language)
        hint = f"did you mean {code!r}?" if code else "such as en, tr, ku, ckb"
        out.append(
            doc.problem(
                (ch.name, "language"),
                f"unknown language code {ch.language!r} (use a CLDR/BCP-47 code: {hint})",
            )
        )
    for key in REQUIRED_KEYS.get(ch.platform, ()):
        if getattr(ch, key) is None:
            article = "an" if key[0] in "aeiou" else "a"
            message = f"{ch.platform} channel {ch.name!r} needs {article} {key}"
            out.append(doc.problem((ch.name,), message))
    for key in ch.keys_set():
        platforms = PLATFORM_KEYS[key]
        if ch.platform not in platforms:
            names = " and ".join(", ".join(platforms).rsplit(", ", 1))
            out.append(
                doc.problem((ch.name, key), f"{key} is for {names} channels, not {ch.platform}")
            )
    return out


def _language_code(name: str) -> str | None:
    """The code of a language written by its English name ('Turkish' -> 'tr'), if any."""
    from babel import Locale

    names = Locale("en").languages
    return next((code for code, n in names.items() if n.lower() == name.strip().lower()), None)


# --- campaigns/*.yaml ---------------------------------------------------------------------------


def _load_campaign(
    doc: Document, repo: Repository, broken_channels: set[str] | None, problems: list[Problem]
) -> LoadedCampaign | None:
    if doc.data is None:
        problems.append(
            doc.problem((), "the file is empty: a campaign needs at least name, timezone, channels")
        )
        return None
    if not isinstance(doc.data, dict):
        problems.append(
            doc.problem(
                (),
                "a campaign file must be a mapping (id, name, timezone, "
                "channels, moments, events, ...)",
            )
        )
        return None
    try:
        model = Campaign.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(pydantic_problems(doc, exc))
        return None
    cid = model.id or Path(doc.path).stem
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", cid):
        problems.append(
            doc.problem(
                ("id",),
                f"campaign id {cid!r} may only use letters, digits, "
                "'-', '_' and '.' (it defaults to the file name)",
            )
        )

    zone = _zone(doc, ("timezone",), model.timezone, problems)

    channels = []
    if broken_channels is None:  # one message here, the reasons are in channels.yaml
        problems.append(
            doc.problem(("channels",), f"cannot use these channels: fix {CHANNELS_FILE} first")
        )
    for i, name in enumerate(model.channels if broken_channels is not None else ()):
        if name in repo.channels:
            channels.append(repo.channels[name])
        elif name in broken_channels:
            problems.append(
                doc.problem(("channels", i), f"channel {name!r} has problems in {CHANNELS_FILE}")
            )
        else:
            known = ", ".join(sorted(repo.channels)) or "none"
            problems.append(
                doc.problem(
                    ("channels", i), f"unknown channel {name!r} (channels.yaml has: {known})"
                )
            )
    for i, name in enumerate(model.channels):
        if name in model.channels[:i]:
            problems.append(doc.problem(("channels", i), f"channel {name!r} is listed twice"))
    languages = {c.language for c in channels}

    _unique_ids(doc, ("moments",), [m.id for m in model.moments], "moment", problems)
    _unique_ids(doc, ("posts",), [p.id for p in model.posts], "post", problems)
    _unique_ids(doc, ("events",), [e.id for e in model.events], "event", problems)

    for name, value in model.vars.items():
        _check_localised(doc, ("vars", name), value, languages, problems, required=False)

    for i, moment in enumerate(model.moments):
        _check_template(doc, repo, ("moments", i, "template"), moment.template, channels, problems)
        if moment.before.days == 0 and not moment.before.exact and moment.expires is None:
            problems.append(
                doc.problem(
                    ("moments", i, "before"),
                    "a moment at the event's start needs `expires` (its window would be empty)",
                )
            )

    post_times: dict[str, datetime] = {}
    for i, post in enumerate(model.posts):
        _check_template(doc, repo, ("posts", i, "template"), post.template, channels, problems)
        if zone and (at := _time(doc, ("posts", i, "at"), post.at, zone, problems)):
            post_times[post.id] = at
        _check_image(doc, repo, ("posts", i), post.image, post.image_alt, languages, problems)

    event_times: dict[str, tuple[datetime, datetime | None]] = {}
    for i, event in enumerate(model.events):
        times = _check_event(doc, repo, i, event, model, zone, languages, problems)
        if times:
            event_times[event.id] = times

    if problems or zone is None:
        return None
    return LoadedCampaign(cid, model, doc, zone, channels, event_times, post_times)


def _check_event(doc, repo, i, event: Event, model: Campaign, zone, languages, problems):
    at = ("events", i)
    _check_localised(doc, (*at, "title"), event.title, languages, problems)
    for j, name in enumerate(event.show_timezones):
        _zone(doc, (*at, "show_timezones", j), name, problems)
    for name, value in event.vars.items():
        _check_localised(doc, (*at, "vars", name), value, languages, problems, required=False)
    _check_image(doc, repo, at, event.image, event.image_alt, languages, problems)
    if not event.image and not event.cancelled and event.starts:
        for moment in model.moments:
            if moment.image:
                problems.append(
                    doc.problem(
                        at,
                        f"moment {moment.id!r} attaches the event's "
                        f"image, but event {event.id!r} has no image: give the event "
                        "`image` and `image_alt`, or drop `image: true` from the moment",
                    )
                )
    if event.starts is None:
        if event.ends is not None:
            problems.append(doc.problem((*at, "ends"), "`ends` without `starts`"))
        return None
    if zone is None:
        return None
    starts = _time(doc, (*at, "starts"), event.starts, zone, problems)
    ends = _time(doc, (*at, "ends"), event.ends, zone, problems) if event.ends else None
    if starts and ends and ends <= starts:
        problems.append(
            doc.problem(
                (*at, "ends"), f"the event ends ({event.ends}) before it starts ({event.starts})"
            )
        )
    return (starts, ends) if starts else None


def _unique_ids(doc, at, ids, what, problems):
    seen = set()
    for i, ident in enumerate(ids):
        if ident in seen:
            problems.append(doc.problem((*at, i, "id"), f"duplicate {what} id {ident!r}"))
        seen.add(ident)


def _zone(doc, at, name, problems) -> ZoneInfo | None:
    try:
        if not isinstance(name, str) or not name or name.startswith(("/", ".")):
            raise ValueError
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        hint = "use an IANA name such as Europe/London or Europe/Istanbul"
        if isinstance(name, str) and re.fullmatch(r"(GMT|UTC)\s*[+-]\s*\d{1,2}(:?\d\d)?", name):
            hint = (
                "a fixed offset is not a zone: use the IANA name of a place, such as "
                "Europe/Paris, so that daylight saving time is right"
            )
        problems.append(doc.problem(at, f"unknown time zone {name!r} ({hint})"))
        return None


def parse_time(text: str, zone: ZoneInfo) -> datetime:
    """An ISO-8601 time as aware UTC; one without offset is read in `zone`.

    Raises ValueError for text that is not a time, and for a wall-clock time that does not
    exist (DST gap) or exists twice (DST overlap) in `zone`: those need an explicit offset.
    """
    if re.fullmatch(r"\d{4}-\d\d-\d\d", text.strip()):
        raise ValueError(
            f"{text!r} is not a date and time (no time of day): write e.g. {text.strip()}T16:00 "
            f"(in the campaign's zone) or {text.strip()}T16:00+01:00"
        )
    if not re.fullmatch(
        r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?", text.strip()
    ):
        raise ValueError(
            f"{text!r} is not a date and time: write e.g. 2022-10-08T16:00 "
            "(in the campaign's zone) or 2022-10-08T16:00+01:00"
        )
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:  # e.g. 2030-02-30 or 25:00
        raise ValueError(f"{text!r} is not a real date and time ({exc})") from None
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    first, second = value.replace(tzinfo=zone, fold=0), value.replace(tzinfo=zone, fold=1)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != value:
        raise ValueError(
            f"{text} does not exist in {zone.key} (the clocks skip it for daylight "
            "saving time): give an explicit offset, e.g. "
            f"{value.isoformat(timespec='minutes')}{_offset(second)}"
        )
    if first.utcoffset() != second.utcoffset():
        raise ValueError(
            f"{text} happens twice in {zone.key} (the clocks go back): give an "
            f"explicit offset: {value.isoformat(timespec='minutes')}{_offset(first)}"
            f" or {value.isoformat(timespec='minutes')}{_offset(second)}"
        )
    return first.astimezone(UTC)


def _offset(dt: datetime) -> str:
    secs = int(dt.utcoffset().total_seconds())
    sign = "+" if secs >= 0 else "-"
    return f"{sign}{abs(secs) // 3600:02d}:{abs(secs) % 3600 // 60:02d}"


def _time(doc, at, text, zone, problems) -> datetime | None:
    try:
        return parse_time(text, zone)
    except ValueError as exc:
        problems.append(doc.problem(at, str(exc)))
        return None


def _check_localised(doc, at, value: Any, languages: set[str], problems, required=True):
    """A localised value must give a text for every language of the campaign's channels."""
    if not isinstance(value, dict) or not languages:
        return
    if not required and not is_localised(value, languages):
        return  # an ordinary mapping, not a translation table
    for lang in sorted(languages - set(value)):
        problems.append(
            doc.problem(
                at, f"no {lang!r} text (the campaign posts in {', '.join(sorted(languages))})"
            )
        )
    if required:
        # Texts for languages no channel uses yet are fine; codes CLDR does not know are typos.
        for lang in sorted(lang for lang in set(value) - languages if not known_language(lang)):
            problems.append(
                doc.problem(
                    (*at, lang),
                    f"unknown language code {lang!r} (the campaign posts "
                    f"in {', '.join(sorted(languages))})",
                )
            )


def _check_image(doc, repo: Repository, at, image, alt, languages, problems):
    if image is None:
        if alt is not None:
            problems.append(doc.problem((*at, "image_alt"), "image_alt without image"))
        return
    path = (repo.root / image).resolve()
    if not path.is_relative_to(repo.root.resolve()):
        problems.append(doc.problem((*at, "image"), f"image {image!r} is outside the repository"))
    elif not path.is_file():
        problems.append(doc.problem((*at, "image"), f"image file not found: {image}"))
    if alt is None:
        problems.append(
            doc.problem(
                (*at, "image"),
                "image without image_alt: describe the image "
                "for people who cannot see it, in every language",
            )
        )
    elif isinstance(alt, dict):
        _check_localised(doc, (*at, "image_alt"), alt, languages, problems)
    if isinstance(alt, dict):
        for lang, text in alt.items():
            if not str(text).strip():
                problems.append(doc.problem((*at, "image_alt", lang), "empty alt text"))


def _check_template(doc, repo: Repository, at, template: str, channels, problems):
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", template) or ".." in template:
        problems.append(
            doc.problem(
                at, f"template name {template!r} may only use letters, digits, '-', '_' and '.'"
            )
        )
        return
    folder = repo.root / TEMPLATES_DIR / template
    if not folder.is_dir():  # one message for the misspelt name, not one per channel
        known = sorted(p.name for p in folder.parent.glob("*") if p.is_dir())
        guess = _close(template, known)
        hint = (
            f"did you mean {guess[0]!r}?" if guess else f"templates: {', '.join(known) or 'none'}"
        )
        problems.append(
            doc.problem(
                at, f"unknown template {template!r}: no folder {TEMPLATES_DIR}/{template} ({hint})"
            )
        )
        return
    for ch in channels:
        names = template_names(template, ch.language, ch.platform)
        if not any((repo.root / TEMPLATES_DIR / n).is_file() for n in names):
            what = " or ".join(f"{TEMPLATES_DIR}/{n}" for n in names)
            problems.append(doc.problem(at, f"missing template for channel {ch.name}: {what}"))


def template_names(template: str, language: str, platform: str) -> list[str]:
    """Template files for a post, most specific first (relative to templates/)."""
    return [f"{template}/{language}.{platform}.j2", f"{template}/{language}.j2"]


# --- pydantic errors -> located problems -------------------------------------------------------

_MESSAGES = {
    "missing": "missing required key {key!r}",
    "extra_forbidden": "unknown key {key!r}{hint}",
    "string_type": "{key!r} must be text (put the value in quotes)",
    "bool_type": "{key!r} must be true or false",
    "bool_parsing": "{key!r} must be true or false",
    "list_type": "{key!r} must be a list",
    "dict_type": "{key!r} must be a mapping",
    "model_type": "{key!r} must be a mapping",
    "too_short": "{key!r} must not be empty",
    "literal_error": "{key!r}: {input!r} is not one of {expected}",
}
#: a string that does not match its field's pattern, per field name
_PATTERNS = {
    "id": "{input!r} is not a valid id: use letters, digits, '-', '_' and '.' "
    "(no '/' or spaces), starting with a letter or digit",
    "api_base": "{input!r} is not a base URL: give the scheme and host only, "
    "e.g. http://127.0.0.1:8081",
    "env_prefix": "{input!r} is not a valid prefix: use letters, digits and '_', "
    "not starting with a digit",
}
#: what pydantic adds to `loc` for the member of a union (`Localised = str | dict[str, str]`)
_UNION_MEMBERS = {"str", "int", "bool"}


def _union_member(part: Any) -> bool:
    return isinstance(part, str) and ("[" in part or part in _UNION_MEMBERS)


def pydantic_problems(doc: Document, exc: ValidationError, prefix: tuple = ()) -> list[Problem]:
    """Translate pydantic's errors into located problems, one per wrong key."""
    errors = []
    for err in exc.errors(include_url=False):
        # Union members add their type name to loc ("str", "dict[str,str]"); drop those parts.
        loc = tuple(p for p in err["loc"] if not _union_member(p))
        errors.append((loc, err))
    locs = {loc for loc, _ in errors}
    unknown = {loc for loc, err in errors if err["type"] == "extra_forbidden"}
    out: dict[tuple, Problem] = {}
    for loc, err in errors:
        whole_union = bool(err["loc"]) and _union_member(err["loc"][-1])
        if whole_union and any(len(o) > len(loc) and o[: len(loc)] == loc for o in locs):
            continue  # a deeper error in the same value (e.g. one language's text) says more
        full = (*prefix, *loc)
        key = next((p for p in reversed(loc) if isinstance(p, str)), "value")
        kind = err["type"]
        typos = [u[-1] for u in unknown if u[:-1] == loc[:-1] and _close(u[-1], [key])]
        if kind == "missing" and typos:
            continue  # reported as a misspelling on the unknown key
        hint = ""
        if kind == "extra_forbidden":
            hint = _allowed_keys_hint(doc, full, key)
        if whole_union and kind in {"string_type", "dict_type"}:
            message = (
                f"{key!r} must be text, or a mapping from language to text "
                "such as {en: ..., tr: ...}"
            )
        elif kind == "string_pattern_mismatch":
            message = f"{key!r}: " + _PATTERNS.get(key, "{input!r} is not allowed here").format(
                input=err["input"]
            )
        elif kind in _MESSAGES:
            message = _MESSAGES[kind].format(
                key=key, hint=hint, input=err.get("input"), **err.get("ctx", {})
            )
        else:
            message = f"{key!r}: {err['msg'].removeprefix('Value error, ')}"
        out.setdefault(loc[:-1] if kind == "missing" else loc, doc.problem(full, message))
    return list(out.values())


def _close(word: str, candidates: list[str]) -> list[str]:
    """Candidates that `word` is probably a misspelling of."""
    import difflib

    return difflib.get_close_matches(word, candidates, n=1, cutoff=0.75)


def _allowed_keys_hint(doc: Document, loc: tuple, key: str) -> str:
    from pipeline import model

    owner = {0: model.Campaign}.get(len(loc) - 1)
    names = {"moments": model.Moment, "posts": model.OneOffPost, "events": model.Event}
    if len(loc) >= 3 and loc[0] in names:
        owner = names[loc[0]]
    if doc.path == CHANNELS_FILE:
        owner = model.Channel
    if owner is None:
        return ""
    allowed = [f for f in owner.model_fields if f != "name" or owner is not model.Channel]
    if guess := _close(str(key), allowed):
        return f": did you mean {guess[0]!r}?"
    extra = "; data for templates goes under `vars`" if "vars" in allowed else ""
    return f" (allowed: {', '.join(allowed)}{extra})"
