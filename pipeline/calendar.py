"""`plan --ics FILE`: the posting schedule as an iCalendar file, for the team's calendar app.

One event per planned post, at its due time. Each event's UID is derived from the post key only,
so importing a newer file updates the events already there instead of adding copies; DTSTAMP
and LAST-MODIFIED say when the file was made.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from icalendar import Calendar, Event

from pipeline.model import localise
from pipeline.render import RenderedPost

PRODID = "-//crosspost//posting plan//EN"
#: how long each post's entry lasts in the calendar: long enough to be seen, short enough
#: not to hide the others
DURATION = timedelta(minutes=15)


def uid(key: str) -> str:
    """The stable UID of a post's calendar entry."""
    return f"{hashlib.sha1(key.encode('utf-8')).hexdigest()}@crosspost"


def summary(post: RenderedPost) -> str:
    """'[x-en · en] reminder: The Women's Economy of Rojava'."""
    p = post.planned
    if p.event is not None:
        subject = localise(p.event.title, p.language, p.campaign.languages)
    else:
        subject = p.campaign.model.name
    return f"[{p.channel.name} · {p.language}] {p.moment}: {subject}"


def description(post: RenderedPost) -> str:
    """The post's text (thread parts numbered), then where and when it goes out."""
    p = post.planned
    parts = post.parts or [post.text]
    if len(parts) > 1:
        text = "\n\n".join(f"[{i}/{len(parts)}]\n{part}" for i, part in enumerate(parts, 1))
    else:
        text = parts[0] or "(no text)"
    lines = [
        text,
        "",
        "—",
        f"post: {p.key}",
        f"channel: {p.channel.name} ({p.platform}, {p.language})",
        f"due: {p.due_at:%Y-%m-%d %H:%M} UTC, window until {p.expires_at:%Y-%m-%d %H:%M} UTC",
        f"length: {post.length}/{post.limit}",
    ]
    if p.image:
        lines.append(f"image: {p.image} — {p.image_alt or '(no alt text)'}")
    lines.extend(f"PROBLEM: {problem.message}" for problem in post.problems)
    return "\n".join(lines)


def calendar(posts: list[RenderedPost], stamp: datetime | None = None) -> Calendar:
    """The iCalendar of `posts`; `stamp` (default: now) is their DTSTAMP."""
    stamp = (stamp or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "crosspost plan")
    for post in posts:
        p = post.planned
        event = Event()
        event.add("uid", uid(p.key))
        event.add("dtstamp", stamp)
        event.add("last-modified", stamp)
        event.add("dtstart", p.due_at.astimezone(UTC))
        event.add("dtend", p.due_at.astimezone(UTC) + DURATION)
        event.add("summary", summary(post))
        event.add("description", description(post))
        event.add("categories", [p.platform, p.language, p.campaign.id])
        # A posting slot does not make the team busy.
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal


def write_ics(posts: list[RenderedPost], path: Path, stamp: datetime | None = None) -> None:
    """Write the iCalendar of `posts` to `path`."""
    path.write_bytes(calendar(posts, stamp).to_ical())
