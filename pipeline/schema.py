"""`crosspost schema`: JSON Schema (draft 2020-12) of campaign and channel files, for editors.

Generated from the pydantic models that `validate` uses (pipeline/model.py), so the two cannot
drift; schema/*.schema.json are this module's output, committed (a test compares them). The
schema is a typing aid: zones, templates, files and cross-file references are `validate`'s job.
`validate` never imports this module.
"""

from __future__ import annotations

import json
from typing import Any

from pipeline.model import PLATFORM_KEYS, PLATFORMS, REQUIRED_KEYS, Campaign, Channel

DRAFT = "https://json-schema.org/draft/2020-12/schema"
KINDS = ("campaign", "channels")
#: where the files live in a campaigns repository, and the line that points an editor at them
FILES = {"campaign": "schema/campaign.schema.json", "channels": "schema/channels.schema.json"}
#: a channel's name, as load_channels.load_channels accepts it
CHANNEL_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


def modeline(kind: str, depth: int) -> str:
    """The `# yaml-language-server: $schema=...` line of a file `depth` folders below the root."""
    return f"# yaml-language-server: $schema={'../' * depth}{FILES[kind]}"


def campaign_schema() -> dict[str, Any]:
    """The schema of one campaigns/<name>.yaml file."""
    schema = _titled(Campaign.model_json_schema())
    schema["title"] = "crosspost campaign"
    schema["description"] = (
        "One campaigns/<name>.yaml file: events, moments relative to them, one-off posts. "
        "`crosspost validate` checks the rest (zones, templates, images, channel names)."
    )
    return {"$schema": DRAFT, **schema}


def channels_schema() -> dict[str, Any]:
    """The schema of channels.yaml: channel name -> Channel."""
    channel = _titled(Channel.model_json_schema())
    channel["allOf"] = _platform_rules()
    return {
        "$schema": DRAFT,
        "title": "crosspost channels",
        "description": (
            "channels.yaml: one entry per account or Page that posts go to, keyed by the "
            "channel's name. Secrets never go here: they come from environment variables "
            "named after the channel (see env_prefix)."
        ),
        "type": "object",
        "minProperties": 1,
        "propertyNames": {"pattern": CHANNEL_NAME},
        "additionalProperties": {"$ref": "#/$defs/Channel"},
        "examples": [{"facebook-en": {"platform": "facebook", "language": "en", "page_id": "1"}}],
        "$defs": {"Channel": channel},
    }


def _platform_rules() -> list[dict[str, Any]]:
    """Per platform: the keys it needs, and the other platforms' keys refused (model tables)."""
    rules = []
    for platform in PLATFORMS:
        refused = {key: False for key, users in PLATFORM_KEYS.items() if platform not in users}
        then: dict[str, Any] = {"properties": refused} if refused else {}
        if needed := REQUIRED_KEYS.get(platform):
            then["required"] = list(needed)
            # a key written without a value is null in YAML, and not a value for validate
            then.setdefault("properties", {}).update({k: {"not": {"type": "null"}} for k in needed})
        rules.append(
            {
                "if": {"properties": {"platform": {"const": platform}}, "required": ["platform"]},
                "then": then,
            }
        )
    return rules


def _titled(node: Any) -> Any:
    """Give every property a title, as pydantic does except where a type brings its own schema
    (durations): an editor shows it on hover."""
    if isinstance(node, dict):
        for name, prop in node.get("properties", {}).items():
            if isinstance(prop, dict):
                prop.setdefault("title", name.replace("_", " ").title())
        for value in node.values():
            _titled(value)
    elif isinstance(node, list):
        for value in node:
            _titled(value)
    return node


def schema(kind: str) -> dict[str, Any]:
    """The schema of `kind` (campaign or channels)."""
    if kind == "campaign":
        return campaign_schema()
    if kind == "channels":
        return channels_schema()
    raise ValueError(f"unknown schema {kind!r}: choose one of {', '.join(KINDS)}")


def dumps(kind: str) -> str:
    """The schema as the committed file holds it."""
    return json.dumps(schema(kind), indent=2, ensure_ascii=False) + "\n"
