"""The schedule's risks, as located warnings: short windows, and threads a platform may refuse.

Warnings are not problems: `validate`, `preview` and `plan` print them as
`path:line:col: warning: message` and the exit code does not change. They are pure functions of
the loaded repository and its plan: no clock, no network.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from pipeline.errors import LocatedWarning
from pipeline.load import Repository
from pipeline.plan import PlannedPost
from pipeline.platforms import REGISTRY, adapter_class

#: where to read about triggering runs from outside
TRIGGER_DOC = "docs/github-actions.md#runs-at-exact-times"


def warnings(repo: Repository, posts: Iterable[PlannedPost], threshold: timedelta):
    """Every warning about `repo` and the planned `posts`, in file order."""
    return sorted([*thread_warnings(repo), *window_warnings(posts, threshold)])


def window_warnings(posts: Iterable[PlannedPost], threshold: timedelta) -> list[LocatedWarning]:
    """One warning per moment or one-off post whose window is shorter than `threshold` on
    channels without native scheduling: GitHub often starts scheduled runs hours late, so such
    a post is likely missed unless runs are triggered from outside."""
    groups: dict[tuple[str, str, int], list[PlannedPost]] = {}
    for post in short_windows(posts, threshold):
        groups.setdefault(_where(post), []).append(post)
    out = []
    for (_, kind, index), group in groups.items():
        first = group[0]
        window = min(p.expires_at - p.due_at for p in group)
        channels = ", ".join(sorted({p.channel.name for p in group}))
        what = "moment" if kind == "moments" else "post"
        message = (
            f"{what} {first.moment!r} has a window of {span(window)} on {channels} "
            f"({len(group)} post{'s' if len(group) != 1 else ''}), shorter than "
            f"{span(threshold)}: GitHub often starts scheduled runs hours late, so such a post "
            f"is likely missed. Give it a longer `expires` (at least {span(threshold)}), or "
            f"trigger runs from outside at its due time ({TRIGGER_DOC})"
        )
        problem = first.campaign.doc.problem((kind, index), message)
        out.append(LocatedWarning(problem.path, problem.line, problem.col, problem.message))
    return out


def short_windows(posts: Iterable[PlannedPost], threshold: timedelta) -> list[PlannedPost]:
    """The posts on channels without native scheduling whose window is shorter than
    `threshold` (cancelled ones left out)."""
    return [
        p
        for p in posts
        if not p.cancelled
        and not p.channel.schedules_natively
        and p.expires_at - p.due_at < threshold
    ]


def _where(post: PlannedPost) -> tuple[str, str, int]:
    """(campaign, "moments" or "posts", index) of the YAML entry that plans `post`."""
    model = post.campaign.model
    if post.event is not None:
        index = next(i for i, m in enumerate(model.moments) if m.id == post.moment)
        return post.campaign.id, "moments", index
    index = next(i for i, p in enumerate(model.posts) if p.id == post.moment)
    return post.campaign.id, "posts", index


def thread_warnings(repo: Repository) -> list[LocatedWarning]:
    """One warning per channel with `thread: true` on a platform that may refuse threads."""
    out = []
    doc = repo.channels_doc
    for name, channel in repo.channels.items():
        if not channel.thread or channel.platform not in REGISTRY or doc is None:
            continue
        caveat = adapter_class(channel.platform).thread_caveat
        if caveat:
            problem = doc.problem((name, "thread"), f"channel {name!r}: {caveat}")
            out.append(LocatedWarning(problem.path, problem.line, problem.col, problem.message))
    return out


def span(delta: timedelta) -> str:
    """A duration as written in campaigns: 30m, 1h30m, 2d."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "0s"
    parts = [
        (seconds // 86400, "d"),
        (seconds % 86400 // 3600, "h"),
        (seconds % 3600 // 60, "m"),
        (seconds % 60, "s"),
    ]
    return "".join(f"{n}{unit}" for n, unit in parts if n)
