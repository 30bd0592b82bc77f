"""Bluesky link cards (app.bsky.embed.external), built by the client from the page's Open Graph
tags, as Bluesky's own apps do. Optional by design: any failure means no card, never a failed
post, and `CROSSPOST_LINK_CARDS=0` switches them off (tests: no page is ever fetched from the
internet).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pipeline.platforms.media import image_mime

log = logging.getLogger(__name__)

#: the most of a linked page read to build its card, and the longest a card may take
CARD_PAGE_BYTES = 512_000
CARD_TIMEOUT = 5.0


def build_card(url: str, http, upload) -> dict | None:
    """A link card from the page's Open Graph tags (thumbnail uploaded with `upload`), or None."""
    import html

    response = http.get(url, timeout=CARD_TIMEOUT, stream=True, headers={"Accept": "text/html"})
    with response:
        if response.status_code != 200 or "html" not in response.headers.get("content-type", ""):
            return None
        page = response.raw.read(CARD_PAGE_BYTES, decode_content=True).decode("utf-8", "replace")

    def meta(name: str) -> str:
        for tag in re.findall(r"<meta\b[^>]*>", page, re.IGNORECASE):
            if re.search(rf"""(?:property|name)\s*=\s*["']{re.escape(name)}["']""", tag, re.I):
                content = re.search(r"""content\s*=\s*(["'])(.*?)\1""", tag, re.IGNORECASE | re.S)
                if content:
                    return html.unescape(content.group(2)).strip()
        return ""

    title = meta("og:title") or meta("twitter:title")
    if not title:
        match = re.search(r"<title[^>]*>(.*?)</title>", page, re.IGNORECASE | re.S)
        title = html.unescape(match.group(1)).strip() if match else ""
    if not title:
        return None
    external: dict[str, Any] = {
        "uri": url,
        "title": title[:300],
        "description": (meta("og:description") or meta("description"))[:1000],
    }
    image = meta("og:image")
    if image:
        from urllib.parse import urljoin

        try:
            thumb = http.get(urljoin(url, image), timeout=CARD_TIMEOUT, stream=True)
            with thumb:
                data = thumb.raw.read(1_000_001, decode_content=True)
            if thumb.status_code == 200 and len(data) <= 1_000_000 and image_mime(data):
                external["thumb"] = upload(data)
        except Exception as exc:  # a card without a picture is still a card
            log.info("no thumbnail for the card of %s: %s", url, type(exc).__name__)
    return {"$type": "app.bsky.embed.external", "external": external}
