"""Load channels.yaml: every channel's settings, checked against its platform's needs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from pipeline.errors import Problem
from pipeline.model import PLATFORM_KEYS, REQUIRED_KEYS, Channel, known_language
from pipeline.problems import pydantic_problems
from pipeline.source import Document, read_yaml

CHANNELS_FILE = "channels.yaml"


@dataclass
class LoadedChannels:
    """channels.yaml as loaded: the valid channels, and the problems of the others."""

    channels: dict[str, Channel] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: names of the channels that have problems; None when the whole file is unusable
    broken: set[str] | None = None
    #: the file as read (for locating warnings about channels); None when unreadable
    doc: Document | None = None


def load_channels(root: Path) -> LoadedChannels:
    """Load and check `root`/channels.yaml; problems are collected, never raised."""
    loaded = LoadedChannels()
    path = root / CHANNELS_FILE
    if not path.exists():
        loaded.problems.append(
            Problem(
                CHANNELS_FILE,
                1,
                1,
                "file not found: every campaigns repository needs a channels.yaml (see README)",
            )
        )
        return loaded
    doc = read_yaml(path, CHANNELS_FILE)
    if isinstance(doc, Problem):
        loaded.problems.append(doc)
        return loaded
    loaded.doc = doc
    if not isinstance(doc.data, dict) or not doc.data:
        loaded.problems.append(
            doc.problem(
                (),
                "channels.yaml must map channel names to settings, e.g. "
                '`facebook-en: {platform: facebook, language: en, page_id: "123"}`',
            )
        )
        return loaded
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
                problems.extend(pydantic_problems(doc, exc, prefix=(name,), channels=True))
            else:
                problems.extend(_check_channel(doc, channel))
                if not problems:
                    loaded.channels[name] = channel
        if problems:
            broken.add(str(name))
            loaded.problems.extend(problems)
    loaded.broken = broken
    return loaded


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
