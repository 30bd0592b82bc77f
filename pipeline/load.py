"""Load a campaigns repository: channels.yaml and campaigns/*.yaml into checked models.

Every problem is collected with its file, line and column; an invalid campaign is left out of
the repository (and its problems kept) so that the valid ones can still be planned and published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from pipeline.errors import Problem
from pipeline.load_channels import CHANNELS_FILE, load_channels
from pipeline.model import Campaign, Channel, Event, is_localised, known_language
from pipeline.problems import close_match, pydantic_problems
from pipeline.source import Document, read_yaml
from pipeline.times import parse_time

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
    loaded = load_channels(root)
    repo.channels, repo.channels_doc = loaded.channels, loaded.doc
    repo.problems.extend(loaded.problems)
    broken_channels = loaded.broken
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
        guess = close_match(template, known)
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
