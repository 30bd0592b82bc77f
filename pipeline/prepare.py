"""The offline half of the pipeline in one call: load -> plan -> render -> check.

`validate`, `preview`, `plan`, `diff` and `run` all start here, so they see the same posts and
the same problems.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.check import check
from pipeline.errors import Problem
from pipeline.load import Repository, load
from pipeline.plan import Plan, PlannedPost, Unscheduled, plan
from pipeline.render import RenderedPost, Renderer


@dataclass(frozen=True)
class Selection:
    """Narrows every command to some campaigns, events, channels or languages."""

    campaign: str | None = None
    event: str | None = None
    channel: str | None = None
    language: str | None = None

    def keeps(self, post: PlannedPost) -> bool:
        """Whether the post is selected."""
        return (
            (self.campaign is None or post.campaign.id == self.campaign)
            and (self.event is None or (post.event and post.event.id == self.event))
            and (self.channel is None or post.channel.name == self.channel)
            and (self.language is None or post.language == self.language)
        )


@dataclass
class Prepared:
    """A repository with every selected post rendered and checked."""

    repo: Repository
    plan: Plan
    posts: list[RenderedPost]
    unscheduled: list[Unscheduled]
    cancelled: list[PlannedPost] = field(default_factory=list)
    #: ids of loaded campaigns with a post that has a problem: they publish nothing
    invalid: set[str] = field(default_factory=set)

    @property
    def problems(self) -> list[Problem]:
        """Every problem: loading ones first, then those of the rendered posts."""
        found = list(self.repo.problems)
        for post in self.posts:
            found.extend(post.problems)
        return sorted(set(found))

    def publishable(self) -> list[RenderedPost]:
        """Posts of campaigns without any problem, in due order."""
        return [p for p in self.posts if p.planned.campaign.id not in self.invalid]


def prepare(root: Path, selection: Selection = Selection()) -> Prepared:
    """Load, plan, render and check the repository at `root`."""
    repo = load(root)
    planned = plan(repo)
    renderer = Renderer(root)
    # Duplicate texts are judged over every post of a channel, not only the selected ones.
    rendered = check([renderer.render(p) for p in planned.posts], root)
    posts = [p for p in rendered if selection.keeps(p.planned)]
    unscheduled = [
        u
        for u in planned.unscheduled
        if (selection.campaign in (None, u.campaign)) and (selection.event in (None, u.event))
    ]
    cancelled = [p for p in planned.cancelled if selection.keeps(p)]
    invalid = {p.planned.campaign.id for p in rendered if p.problems}
    return Prepared(repo, planned, posts, unscheduled, cancelled, invalid)
