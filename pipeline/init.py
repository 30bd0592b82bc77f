"""`crosspost init DIR`: a new campaigns repository that validates as it is written.

The files come from pipeline/skeleton/ (texts kept as files, so they read as what they are) and
from the few lines here that depend on the languages asked, today's date and the action's
reference. Everything is written into a temporary sibling folder first and then moved into
place, so a refusal or a failure leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline.errors import UsageError

#: The action the generated workflows use, as `uses: OWNER/REPO@REF`. crosspost's public home is
#: not fixed yet: until it is, the generated workflows carry this placeholder and `init` says to
#: replace it (or to pass `--action`). Set it here once crosspost is published.
DEFAULT_ACTION = "<owner>/crosspost@v1"
#: languages written with real texts; other languages get the English text to translate
TRANSLATED = ("en", "tr")
#: the sample campaign's zone: a place, not an offset, so that summer time is right
ZONE = "Europe/London"
TEMPLATES = ("announce", "reminder", "live")

SKELETON = files("pipeline") / "skeleton"

#: the localised texts of the sample campaign
TEXTS = {
    "series": {"en": "Open Conversations", "tr": "Açık Sohbetler"},
    "about": {
        "en": "An evening with the people behind our work: what we do, why, and how to join in.",
        "tr": "Çalışmalarımızın arkasındaki insanlarla bir akşam: ne yapıyoruz, neden yapıyoruz "
        "ve nasıl katılabilirsiniz.",
    },
    "title": {"en": "Meet the team", "tr": "Ekibimizle tanışın"},
}


@dataclass(frozen=True)
class Action:
    """Where crosspost's action lives: `uses: {repository}@{ref}`."""

    repository: str
    ref: str

    @classmethod
    def parse(cls, text: str) -> Action:
        """`OWNER/REPO@REF`, as in a workflow's `uses:`."""
        repository, at, ref = text.strip().partition("@")
        if not at or not ref or repository.count("/") != 1 or " " in text.strip():
            raise UsageError(f"--action {text!r}: write OWNER/REPO@REF, e.g. example/crosspost@v1")
        return cls(repository, ref)

    @property
    def placeholder(self) -> bool:
        """Whether this is the default that names no real repository yet."""
        return "<" in self.repository

    def __str__(self) -> str:
        return f"{self.repository}@{self.ref}"


def parse_languages(text: str) -> list[str]:
    """`en,tr` -> ["en", "tr"]: known CLDR codes, each once, in the order given."""
    from pipeline.model import known_language

    codes = list(dict.fromkeys(c.strip() for c in text.split(",") if c.strip()))
    if not codes:
        raise UsageError("--languages: give at least one language code, e.g. en or en,tr")
    unknown = [c for c in codes if not known_language(c)]
    if unknown:
        raise UsageError(
            f"--languages: unknown language code(s) {', '.join(map(repr, unknown))} "
            "(use CLDR/BCP-47 codes such as en, tr, ku, ckb)"
        )
    return codes


def init(target: Path, languages: list[str], action: Action, now: datetime) -> list[str]:
    """Write a new campaigns repository at `target`; return the paths written."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"{target} is not an empty directory: init writes a new one only")
    content = build(languages, action, now)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        for relative, text in content.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        staging.chmod(0o777 & ~_umask())
        if target.exists():
            target.rmdir()  # empty, checked above
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return sorted(content)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def build(languages: list[str], action: Action, now: datetime) -> dict[str, str]:
    """Every file of the new repository: relative path -> text."""
    from pipeline import schema

    out = {
        "channels.yaml": channels_yaml(languages),
        "campaigns/open-conversations.yaml": campaign_yaml(languages, now),
        "media/.gitkeep": "",
        ".gitignore": _skeleton("gitignore"),
        "README.md": _fill(_skeleton("README.md"), action),
        ".github/workflows/publish.yml": _fill(_skeleton("workflows/publish.yml"), action).replace(
            "@@SECRETS@@", _secrets_env(languages)
        ),
        ".github/workflows/preview.yml": _fill(_skeleton("workflows/preview.yml"), action),
        ".github/workflows/doctor.yml": _fill(_skeleton("workflows/doctor.yml"), action).replace(
            "@@SECRETS@@", _secrets_env(languages)
        ),
    }
    for kind in schema.KINDS:
        out[schema.FILES[kind]] = schema.dumps(kind)
    for template in TEMPLATES:
        for language in languages:
            out[f"templates/{template}/{language}.j2"] = template_text(template, language)
    return out


def _skeleton(name: str) -> str:
    return SKELETON.joinpath(*name.split("/")).read_text(encoding="utf-8")


def _fill(text: str, action: Action) -> str:
    url = f"https://github.com/{action.repository}"
    return (
        text.replace("@@ACTION_REPOSITORY@@", action.repository)
        .replace("@@ACTION_REF@@", action.ref)
        .replace("@@ACTION@@", str(action))
        .replace("@@CROSSPOST_URL@@", url)
    )


# --- what depends on the languages ---------------------------------------------------------------


def channel_names(languages: list[str]) -> list[str]:
    """One Facebook Page per language, so that every language's templates are posted and
    checked, and one X account in the first language."""
    return [f"facebook-{lang}" for lang in languages] + [f"x-{languages[0]}"]


def _prefix(name: str) -> str:
    from pipeline.model import Channel

    return Channel(name=name, platform="x", language="en").prefix


def _secret_names(name: str) -> list[str]:
    prefix = _prefix(name)
    if name.startswith("facebook-"):
        return [f"{prefix}_PAGE_TOKEN"]
    suffixes = ("API_KEY", "API_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET")
    return [f"{prefix}_{s}" for s in suffixes]


def _secrets_env(languages: list[str]) -> str:
    names = [s for channel in channel_names(languages) for s in _secret_names(channel)]
    return "\n".join(f"          {n}: ${{{{ secrets.{n} }}}}" for n in names)


def channels_yaml(languages: list[str]) -> str:
    """channels.yaml: the channels, each with the secrets it needs in a comment."""
    from pipeline.schema import modeline

    lines = [
        modeline("channels", 0),
        "# Where the posts go: one entry per Facebook Page or X account, named as you like.",
        "# Each posts in one language, with the texts of templates/<template>/<language>.j2.",
        "# Secrets never live here: each channel's come from the environment variables named",
        "# below (on GitHub: repository secrets, passed in .github/workflows/publish.yml).",
        "",
    ]
    for lang in languages:
        name = f"facebook-{lang}"
        lines += [
            f"{name}:",
            "  platform: facebook",
            f"  language: {lang}",
            "  # The Page's numeric id (the Page's About > Page transparency, or its settings).",
            "  # This one is an example: replace it with your Page's.",
            f'  page_id: "10000000000000{languages.index(lang) + 1}"',
            f"  # Secret: {_secret_names(name)[0]}, a Page access token for this Page.",
            "",
        ]
    name = f"x-{languages[0]}"
    secrets = _secret_names(name)
    lines += [
        f"{name}:",
        "  platform: x",
        f"  language: {languages[0]}",
        "  # Secrets: the X app's consumer keys and this account's access token (read and write):",
        f"  # {secrets[0]}, {secrets[1]},",
        f"  # {secrets[2]}, {secrets[3]}.",
        "  # Posts over 280 characters are refused by `crosspost validate`; `thread: true` would",
        "  # split them into a numbered thread instead.",
    ]
    return "\n".join(lines) + "\n"


def _localised(key: str, languages: list[str], indent: int) -> list[str]:
    pad = " " * indent
    out = [f"{pad}{key}:"]
    for lang in languages:
        text = TEXTS[key].get(lang)
        note = "" if text else f"  # translate into {_language_name(lang)}"
        out.append(
            f"{pad}  {lang}: {json.dumps(text or TEXTS[key]['en'], ensure_ascii=False)}{note}"
        )
    return out


def campaign_yaml(languages: list[str], now: datetime) -> str:
    """The sample campaign: one event about a month from `now`, three moments."""
    from pipeline.schema import modeline

    zone = ZoneInfo(ZONE)
    day = (now.astimezone(zone) + timedelta(days=30)).date()
    starts = datetime.combine(day, time(18, 0))
    ends = starts + timedelta(hours=2)
    channels = ", ".join(channel_names(languages))
    lines = [
        modeline("campaign", 1),
        "# A sample campaign written by `crosspost init`: one event, announced two weeks ahead,",
        '# recalled the day before, and "starting now" 15 minutes before. Change it to yours, or',
        "# copy it for a new campaign; then `crosspost validate` and `crosspost preview`.",
        "",
        "name: Open Conversations",
        f"timezone: {ZONE}          # times below without an offset are in this IANA zone",
        f"channels: [{channels}]",
        "",
        "# Data for the templates: {{ vars.series }}. A mapping keyed by language gives one",
        "# text per language.",
        "vars:",
        "  register_url: https://example.org/register   # your sign-up page",
        *_localised("series", languages, 2),
        *_localised("about", languages, 2),
        "",
        "# Posts relative to every event's start, each with the texts of templates/<template>/.",
        "moments:",
        "  - {id: announce, before: 14d, template: announce}",
        "  - {id: reminder, before: 1d, template: reminder}",
        "  # A post may go out from its time until `expires` after it; later it is reported",
        "  # missed, never posted late. GitHub often starts scheduled runs an hour or more late,",
        "  # so validate warns about windows under 2 hours on channels that cannot schedule",
        "  # posts themselves (X). 2h keeps this post safe there; its text still fits then, as",
        "  # the event is still on. (Facebook gets it days ahead and posts it on the minute.)",
        "  - {id: live, before: 15m, template: live, expires: 2h}",
        "",
        "events:",
        "  - id: meet-the-team",
        f'    starts: "{starts:%Y-%m-%dT%H:%M}"',
        f'    ends: "{ends:%Y-%m-%dT%H:%M}"',
        *_localised("title", languages, 4),
    ]
    return "\n".join(lines) + "\n"


def template_text(template: str, language: str) -> str:
    """A post's template: the sample's text in `language`, or the English one to translate."""
    if language in TRANSLATED:
        return _skeleton(f"templates/{template}/{language}.j2")
    note = (
        f"{{#- Translate this text into {_language_name(language)} ({language}): it is the "
        "English sample. -#}\n"
    )
    return note + _skeleton(f"templates/{template}/en.j2")


def _language_name(code: str) -> str:
    from babel import Locale

    return Locale.parse(code.replace("-", "_")).get_display_name("en") or code
