"""The state of every planned post, from the ledger and the clock (`status`, `plan`, reports)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeline.ledger import IN_DOUBT, MISSED, PUBLISHED, SCHEDULED, Ledger, PostHistory
from pipeline.plan import PlannedPost

PENDING, DUE, FAILED, CANCELLED = "pending", "due", "failed", "cancelled"


@dataclass(frozen=True)
class PostState:
    """One row of `status`: a planned post (or a ledger record whose post is gone) and its state."""

    key: str
    campaign: str
    channel: str
    platform: str | None
    language: str | None
    due_at: datetime | None
    state: str
    remote_id: str | None = None
    url: str | None = None
    error: str | None = None
    planned: PlannedPost | None = None
    #: when the copy in the platform's scheduler is due (state `scheduled`)
    scheduled_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        """The `status --json` entry (DESIGN.md)."""
        from pipeline.report import iso

        return {
            "key": self.key,
            "campaign": self.campaign,
            "channel": self.channel,
            "platform": self.platform,
            "language": self.language,
            "due_at": iso(self.due_at),
            "state": self.state,
            "remote_id": self.remote_id,
            "url": self.url,
            "error": self._error(),
        }

    def _error(self) -> str | None:
        # DESIGN.md fixes the keys: a copy whose time differs from the post's says so here.
        if self.state == "scheduled" and self.scheduled_at and self.scheduled_at != self.due_at:
            from pipeline.report import iso

            return f"the copy in the platform's scheduler is due at {iso(self.scheduled_at)}"
        return None if self.state == "scheduled" else self.error

    def as_plan_json(self, now: datetime) -> dict[str, Any]:
        """The `plan --format json` entry (DESIGN.md), for outside schedulers."""
        from pipeline.report import iso

        return {
            "key": self.key,
            "campaign": self.campaign,
            "channel": self.channel,
            "platform": self.platform,
            "due_at": iso(self.due_at),
            "window_end": iso(self.planned.expires_at) if self.planned else None,
            "state": self.state,
            "native": native(self, now),
        }


def native(row: PostState, now: datetime) -> bool:
    """Whether the post is handed, or will be handed, to its platform's own scheduler.

    A post due sooner than its platform's shortest lead (Facebook: 20 min) goes out directly
    when due, like on any channel, so an outside scheduler must trigger a run for it.
    """
    if row.state == SCHEDULED:
        return True
    p = row.planned
    if p is None or row.state != PENDING or not p.channel.schedules_natively:
        return False
    from pipeline.native import scheduler_of

    cls = scheduler_of(p.channel)
    return cls is not None and p.due_at - now >= cls.lead_min


def state_of(post: PlannedPost, hist: PostHistory | None, now: datetime) -> str:
    """The DESIGN.md state of a planned post at `now`."""
    if hist is not None:
        if hist.published:
            return PUBLISHED
        if hist.in_doubt or hist.handing_in_doubt:
            return IN_DOUBT
        if hist.copy:
            return SCHEDULED
        if hist.last == MISSED:
            return MISSED
    if post.cancelled:
        return CANCELLED
    if now < post.due_at:
        return PENDING
    if now >= post.expires_at:
        return MISSED
    if hist is not None and hist.last == FAILED:
        return FAILED
    return DUE


def _copy(hist: PostHistory | None) -> tuple[str | None, datetime | None]:
    """(remote id, time) of the post's copy in the platform's scheduler, if any."""
    if hist is None or not hist.copy:
        return None, None
    at = hist.copy.get("at")
    return hist.copy.get("remote_id"), datetime.fromisoformat(at.replace("Z", "+00:00"))


def states(
    posts: list[PlannedPost], histories: dict[str, PostHistory], now: datetime
) -> list[PostState]:
    """A row per planned post, then a row per ledger history whose post no longer exists."""
    rows = []
    for post in posts:
        hist = histories.get(post.key)
        remote_id, url = hist.first if hist else (None, None)
        copy_id, copy_at = _copy(hist)
        rows.append(
            PostState(
                post.key,
                post.campaign.id,
                post.channel.name,
                post.platform,
                post.language,
                post.due_at,
                state_of(post, hist, now),
                remote_id or copy_id,
                url,
                hist.error if hist else None,
                post,
                copy_at,
            )
        )
    return rows


def orphans(histories: dict[str, PostHistory], known: set[str]) -> list[PostState]:
    """Rows for ledger records of posts no longer in any campaign."""
    rows = []
    for key, hist in sorted(histories.items()):
        if key in known:
            continue
        parts = key.split("/")
        if hist.published:
            state = PUBLISHED
        elif hist.in_doubt or hist.handing_in_doubt:
            state = IN_DOUBT
        elif hist.copy:
            state = SCHEDULED
        else:
            state = hist.last or FAILED
        remote_id, url = hist.first
        copy_id, copy_at = _copy(hist)
        rows.append(
            PostState(
                key,
                parts[0],
                parts[-1],
                None,
                None,
                None,
                state,
                remote_id or copy_id,
                url,
                hist.error or "no longer in the campaigns",
                scheduled_at=copy_at,
            )
        )
    return rows


def status_report(settings, selection, fmt: str, console, echo: Callable[..., None]) -> None:
    """`crosspost status`: every planned post with its state, per campaign and channel."""
    import json

    from pipeline.prepare import prepare

    prepared = prepare(settings.root, selection)
    histories = Ledger(settings.ledger).read()
    planned = [p.planned for p in prepared.posts] + prepared.cancelled
    planned.sort(key=lambda p: (p.campaign.id, p.channel.name, p.due_at, p.key))
    rows = states(planned, histories, settings.clock())
    everything = {p.key for p in prepared.plan.posts} | {p.key for p in prepared.plan.cancelled}
    selected_all = selection == type(selection)()
    if selected_all:
        rows += orphans(histories, everything)
    for problem in prepared.problems:
        echo(str(problem), err=True)
    if fmt == "json":
        echo(json.dumps({"posts": [r.as_json() for r in rows]}, ensure_ascii=False, indent=2))
    elif fmt == "markdown":
        echo(status_markdown(rows))
    else:
        status_table(rows, console)


_COLOURS = {
    PUBLISHED: "green",
    FAILED: "red",
    MISSED: "red",
    IN_DOUBT: "yellow",
    SCHEDULED: "cyan",
    DUE: "bold",
    CANCELLED: "dim",
}


def state_labels(prepared, ledger_path, now: datetime) -> dict[str, str]:
    """post key -> its state in words (with the scheduled copy's time), when there is a ledger."""
    from pipeline.report import iso

    if not ledger_path.exists():
        return {}
    rows = states([p.planned for p in prepared.posts], Ledger(ledger_path).read(), now)
    labels = {}
    for r in rows:
        if r.state == SCHEDULED and r.scheduled_at:
            labels[r.key] = f"scheduled on {r.platform} for {iso(r.scheduled_at)}"
        else:
            labels[r.key] = r.state
    return labels


def _detail(r: PostState) -> str:
    """The last column: the URL, the scheduled copy and its time, or the error."""
    from pipeline.report import iso

    if r.state == SCHEDULED and r.scheduled_at:
        return f"in the platform's scheduler for {iso(r.scheduled_at)} ({r.remote_id})"
    return r.url or r.error or ""


def status_table(rows: list[PostState], console) -> None:
    """Rows as one Rich table per campaign and channel, then a count of each state."""
    from collections import Counter
    from itertools import groupby

    from rich.table import Table
    from rich.text import Text

    from pipeline.report import iso

    ordered = sorted(rows, key=lambda r: (r.campaign, r.channel))
    for (campaign, channel), group in groupby(ordered, key=lambda r: (r.campaign, r.channel)):
        table = Table(title=f"{campaign} · {channel}", title_justify="left", expand=True)
        table.add_column("due (UTC)", no_wrap=True)
        table.add_column("post", no_wrap=True)
        table.add_column("state", no_wrap=True)
        table.add_column("url / error", overflow="fold", ratio=1)
        for r in group:
            short = r.key.removeprefix(r.campaign + "/").removesuffix("/" + r.channel)
            table.add_row(
                (iso(r.due_at) or "")[:16],
                short,
                Text(r.state, style=_COLOURS.get(r.state, "")),
                _detail(r),
            )
        console.print(table)
    counts = Counter(r.state for r in rows)
    console.print(", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "no posts")


def plan_table(rows: list[PostState], console) -> None:
    """`crosspost plan`: the timeline in due order, with local times and states."""
    from rich.table import Table
    from rich.text import Text

    from pipeline.report import iso, local

    table = Table(title="crosspost plan")
    for name in ("due (UTC)", "local", "post", "language", "state", "url / error"):
        table.add_column(name, overflow="fold")
    for r in rows:
        p = r.planned
        table.add_row(
            iso(r.due_at),
            local(p.due_at, p.campaign.zone),
            r.key,
            r.language,
            Text(r.state, style=_COLOURS.get(r.state, "")),
            _detail(r),
        )
    console.print(table)


def status_markdown(rows: list[PostState]) -> str:
    """Rows as a Markdown table."""
    from pipeline.report import iso

    lines = ["| due (UTC) | post | state | url / error |", "|---|---|---|---|"]
    for r in rows:
        detail = _detail(r).replace("|", "\\|")
        lines.append(f"| {iso(r.due_at) or ''} | `{r.key}` | {r.state} | {detail} |")
    return "\n".join(lines) + "\n"


def run_markdown(result, dry_run: bool) -> str:
    """A Markdown report of one run, for the GitHub job summary."""
    from collections import Counter

    title = "crosspost run (dry run)" if dry_run else "crosspost run"
    lines = [f"## {title}", ""]
    counts = Counter(o.state for o in result.outcomes)
    if result.outcomes:
        lines.append(", ".join(f"**{n}** {s}" for s, n in sorted(counts.items())))
    else:
        lines.append("Nothing was due.")
    lines.append("")
    bill = result.bill_lines()
    if bill:
        lines += [f"Cost: {line}" for line in bill] + [""]
    if result.invalid:
        lines.append("### Not published: invalid campaigns")
        lines.extend(f"- `{path}`" for path in result.invalid)
        lines.extend(f"  - `{p}`" for p in result.problems)
        lines.append("")
    order = [IN_DOUBT, FAILED, MISSED, PUBLISHED]
    for state in order + sorted(set(counts) - set(order)):
        chosen = [o for o in result.outcomes if o.state == state]
        if not chosen:
            continue
        lines += [
            f"### {state} ({len(chosen)})",
            "",
            "| post | channel | detail |",
            "|---|---|---|",
        ]
        for o in chosen:
            detail = o.detail.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| `{o.key}` | {o.channel} | {detail} |")
        lines.append("")
    return "\n".join(lines) + "\n"
