"""`plan --ics FILE`: the posting schedule as an iCalendar file, for the team's calendar app.

One event per planned post, at its due time. Each event's UID is derived from the post key only,
so importing a newer file updates the events already there instead of adding copies; DTSTAMP
and LAST-MODIFIED say when the file was made. The posts of a cancelled event stay in the file
as cancelled entries (STATUS:CANCELLED, same UID, higher SEQUENCE): a calendar that imported
them before then marks them cancelled instead of keeping them as if they were still coming.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from icalendar import Calendar, Event

from pipeline.model import localise
from pipeline.plan import PlannedPost
from pipeline.render import RenderedPost

PRODID = "-//crosspost//posting plan//EN"
#: how long each post's entry lasts in the calendar: long enough to be seen, short enough
#: not to hide the others
DURATION = timedelta(minutes=15)
#: SEQUENCE of a planned post's entry, and of a cancelled one: RFC 5545 calendars take the
#: entry with the higher SEQUENCE as the newer revision of the same UID. (An event cancelled and
#: then restored goes back to 0; calendars that compare SEQUENCE keep it cancelled until they
#: import it afresh: what a person who saw it cancelled should check anyway.)
PLANNED, CANCELLED = 0, 1


def uid(key: str) -> str:
    """The stable UID of a post's calendar entry."""
    return f"{hashlib.sha1(key.encode('utf-8')).hexdigest()}@crosspost"


def summary(p: PlannedPost) -> str:
    """'[x-en · en] reminder: The Women's Economy of Rojava'."""
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


def cancelled_description(p: PlannedPost) -> str:
    """Why nothing goes out, then where and when it would have."""
    return "\n".join(
        [
            f"Cancelled: event {p.event.id if p.event else '?'} is cancelled; nothing is posted.",
            "",
            "—",
            f"post: {p.key}",
            f"channel: {p.channel.name} ({p.platform}, {p.language})",
            f"was due: {p.due_at:%Y-%m-%d %H:%M} UTC",
        ]
    )


def calendar(
    posts: list[RenderedPost],
    stamp: datetime | None = None,
    cancelled: Sequence[PlannedPost] = (),
) -> Calendar:
    """The iCalendar of `posts` and of the `cancelled` posts of cancelled events; `stamp`
    (default: now) is their DTSTAMP."""
    stamp = (stamp or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "crosspost plan")
    entries = [(post.planned, summary(post.planned), description(post), PLANNED) for post in posts]
    entries += [
        (p, f"Cancelled: {summary(p)}", cancelled_description(p), CANCELLED) for p in cancelled
    ]
    for p, title, text, sequence in entries:
        event = Event()
        event.add("uid", uid(p.key))
        event.add("sequence", sequence)
        event.add("dtstamp", stamp)
        event.add("last-modified", stamp)
        event.add("dtstart", p.due_at.astimezone(UTC))
        event.add("dtend", p.due_at.astimezone(UTC) + DURATION)
        event.add("summary", title)
        event.add("description", text)
        event.add("categories", [p.platform, p.language, p.campaign.id])
        if sequence == CANCELLED:
            event.add("status", "CANCELLED")
        # A posting slot does not make the team busy.
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal


def write_ics(
    posts: list[RenderedPost],
    path: Path,
    stamp: datetime | None = None,
    cancelled: Sequence[PlannedPost] = (),
) -> None:
    """Write the iCalendar of `posts` (and of `cancelled` ones, marked so) to `path`."""
    path.write_bytes(calendar(posts, stamp, cancelled).to_ical())
