"""The platforms crosspost can publish to: an explicit, lazy registry.

Adapter modules import their SDK (tweepy, facebook-sdk, Mastodon.py, requests) only inside the
methods that talk to the network, so `validate`, `preview`, `plan` and `status` can read limits
and count lengths without paying for, or depending on, the SDKs.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.platforms.base import Adapter

REGISTRY: dict[str, str] = {
    "facebook": "pipeline.platforms.facebook:FacebookPage",
    "x": "pipeline.platforms.x:XAccount",
    "mastodon": "pipeline.platforms.mastodon:MastodonAccount",
    "bluesky": "pipeline.platforms.bluesky:BlueskyAccount",
    "telegram": "pipeline.platforms.telegram:TelegramChannel",
}


def adapter_class(platform: str) -> type[Adapter]:
    """The adapter class for a platform name of channels.yaml."""
    module, _, attr = REGISTRY[platform].partition(":")
    return getattr(import_module(module), attr)
