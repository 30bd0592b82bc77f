"""Pydantic's validation errors translated into located problems (`file:line:col: message`).

The one place where pydantic's error types become words for campaign writers: loading
channels.yaml and campaign files both report wrong keys through `pydantic_problems`.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from pipeline.errors import Problem
from pipeline.source import Document

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


def pydantic_problems(
    doc: Document, exc: ValidationError, prefix: tuple = (), channels: bool = False
) -> list[Problem]:
    """Translate pydantic's errors into located problems, one per wrong key.

    `channels` says that `doc` is channels.yaml (every entry a `Channel`), not a campaign.
    """
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
        typos = [u[-1] for u in unknown if u[:-1] == loc[:-1] and close_match(u[-1], [key])]
        if kind == "missing" and typos:
            continue  # reported as a misspelling on the unknown key
        hint = ""
        if kind == "extra_forbidden":
            hint = _allowed_keys_hint(full, key, channels)
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


def close_match(word: str, candidates: list[str]) -> list[str]:
    """Candidates that `word` is probably a misspelling of."""
    import difflib

    return difflib.get_close_matches(word, candidates, n=1, cutoff=0.75)


def _allowed_keys_hint(loc: tuple, key: str, channels: bool) -> str:
    from pipeline import model

    owner = {0: model.Campaign}.get(len(loc) - 1)
    names = {"moments": model.Moment, "posts": model.OneOffPost, "events": model.Event}
    if len(loc) >= 3 and loc[0] in names:
        owner = names[loc[0]]
    if channels:
        owner = model.Channel
    if owner is None:
        return ""
    allowed = [f for f in owner.model_fields if f != "name" or owner is not model.Channel]
    if guess := close_match(str(key), allowed):
        return f": did you mean {guess[0]!r}?"
    extra = "; data for templates goes under `vars`" if "vars" in allowed else ""
    return f" (allowed: {', '.join(allowed)}{extra})"
