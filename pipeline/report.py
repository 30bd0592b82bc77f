"""How posts, plans and outcomes are shown: Rich text for people, JSON for programs,
Markdown for GitHub. Formatting only: every function takes data and returns or prints it."""

from __future__ import annotations

from datetime import datetime
from itertools import groupby
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from pipeline.plan import PlannedPost
from pipeline.prepare import Prepared
from pipeline.render import RenderedPost


def iso(dt: datetime | None) -> str | None:
    """An aware datetime as ISO-8601 UTC with Z."""
    return dt.isoformat().replace("+00:00", "Z") if dt else None


def local(dt: datetime, zone) -> str:
    """'2022-10-08 16:00 BST' in `zone`."""
    return dt.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def group_label(post: PlannedPost) -> str:
    what = f"event {post.event.id}" if post.event else "one-off posts"
    return f"{post.campaign.id} · {what}"


def group_key(post: RenderedPost):
    p = post.planned
    first = p.campaign.event_times[p.event.id][0] if p.event else p.due_at
    return (p.campaign.id, first, p.event.id if p.event else "")


# --- preview ------------------------------------------------------------------------------------


def preview_json(prepared: Prepared) -> dict[str, Any]:
    """`preview --format json` (DESIGN.md and issue #2)."""
    return {
        "posts": [post_json(p) for p in prepared.posts],
        "unscheduled": [
            {"campaign": u.campaign, "event": u.event, "reason": u.reason}
            for u in prepared.unscheduled
        ],
        "problems": [str(p) for p in prepared.repo.problems],
    }


def post_json(post: RenderedPost) -> dict[str, Any]:
    """One rendered post as JSON."""
    p = post.planned
    return {
        "key": p.key,
        "campaign": p.campaign.id,
        "event": p.event.id if p.event else None,
        "moment": p.moment,
        "channel": p.channel.name,
        "platform": p.platform,
        "language": p.language,
        "due_at": iso(p.due_at),
        "expires_at": iso(p.expires_at),
        "text": post.text,
        "parts": post.parts,
        "length": post.length,
        "limit": post.limit,
        "image": p.image,
        "image_alt": p.image_alt,
        "problems": [p.message for p in post.problems],
    }


def preview_text(prepared: Prepared, console: Console) -> None:
    """Every post as a panel, grouped by campaign and event, in time order."""
    posts = sorted(prepared.posts, key=lambda p: (group_key(p), p.planned.due_at, p.key))
    for _, group in groupby(posts, key=group_key):
        group = list(group)
        console.rule(Text(group_label(group[0].planned), style="bold"))
        for post in group:
            console.print(_panel(post))
    for u in prepared.unscheduled:
        console.print(f"[dim]{u.campaign} · event {u.event}: no posts ({u.reason})[/dim]")
    n, bad = len(prepared.posts), sum(1 for p in prepared.posts if p.problems)
    console.print(
        f"{n} post(s), {bad} with problems" if bad else f"{n} post(s), no problems",
        style="red" if bad else "green",
    )


def _panel(post: RenderedPost) -> Panel:
    p = post.planned
    zone = p.campaign.zone
    title = (
        f"{local(p.due_at, zone)} ({iso(p.due_at)}) · {p.moment} · {p.channel.name} · {p.language}"
    )
    body: list[Any] = []
    for i, part in enumerate(post.parts or [post.text]):
        if i:
            body.append(Text("── next part ──", style="dim"))
        body.append(Text(part))
    if p.image:
        body.append(Text(f"[image {p.image}: {p.image_alt}]", style="cyan"))
    for problem in post.problems:
        body.append(Text(f"✗ {problem.message}", style="bold red"))
    over = post.length > post.limit
    subtitle = Text(
        f"{post.length}/{post.limit}" + (" (thread)" if len(post.parts) > 1 else ""),
        style="red" if over else "green",
    )
    return Panel(
        Group(*body),
        title=title,
        title_align="left",
        subtitle=subtitle,
        subtitle_align="right",
        border_style="red" if post.problems else "blue",
    )


def preview_markdown(prepared: Prepared) -> str:
    """Every post as Markdown, grouped by campaign and event (for GitHub)."""
    lines = []
    posts = sorted(prepared.posts, key=lambda p: (group_key(p), p.planned.due_at, p.key))
    for _, group in groupby(posts, key=group_key):
        group = list(group)
        lines.append(f"### {group_label(group[0].planned)}\n")
        for post in group:
            lines.extend(post_markdown(post))
    for u in prepared.unscheduled:
        lines.append(f"- _{u.campaign} · event {u.event}: no posts ({u.reason})_")
    return "\n".join(lines) + "\n"


def post_markdown(post: RenderedPost, heading: str = "") -> list[str]:
    """One post as a Markdown block."""
    p = post.planned
    flag = " ⚠️" if post.problems else ""
    out = [
        f"**{heading}{local(p.due_at, p.campaign.zone)}** · `{p.moment}` · "
        f"`{p.channel.name}` · {p.language} · {post.length}/{post.limit}{flag}",
        "",
    ]
    for i, part in enumerate(post.parts or [post.text]):
        if i:
            out.append("> ―")
        out.extend(f"> {line}" if line else ">" for line in part.splitlines())
    if p.image:
        out.append(f"> 🖼 `{p.image}` — {p.image_alt}")
    out.extend(f"- ❌ {problem.message}" for problem in post.problems)
    out.append("")
    return out
