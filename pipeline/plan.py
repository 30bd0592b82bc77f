"""Every post a repository will ever publish, with its key, due time and window.

A pure function of the loaded campaigns: no clock, no files, no network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pipeline.load import LoadedCampaign, Repository
from pipeline.model import Channel, Duration, Event, localise

#: how long a one-off post may still go out after its time, unless it says `expires`
ONE_OFF_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class PlannedPost:
    """One post on one channel, at one time."""

    key: str
    campaign: LoadedCampaign = field(compare=False, repr=False)
    event: Event | None = field(compare=False, repr=False)
    moment: str
    channel: Channel = field(compare=False, repr=False)
    template: str
    due_at: datetime  # aware, UTC
    expires_at: datetime  # aware, UTC; the window is [due_at, expires_at)
    image: str | None = None  # path relative to the repository root
    image_alt: str | None = None
    cancelled: bool = False

    @property
    def language(self) -> str:
        """The post's language (its channel's)."""
        return self.channel.language

    @property
    def platform(self) -> str:
        """The post's platform (its channel's)."""
        return self.channel.platform

    def in_window(self, now: datetime) -> bool:
        """Whether the post may go out at `now`."""
        return self.due_at <= now < self.expires_at


@dataclass(frozen=True)
class Unscheduled:
    """An event that plans no posts, and why."""

    campaign: str
    event: str
    reason: str


@dataclass
class Plan:
    """The posts of a repository in due order, and the events that plan none."""

    posts: list[PlannedPost]
    cancelled: list[PlannedPost]
    unscheduled: list[Unscheduled]


def plan(repo: Repository) -> Plan:
    """Plan every post of every valid campaign of `repo`."""
    posts, cancelled, unscheduled = [], [], []
    for campaign in repo.campaigns:
        for post in plan_campaign(campaign):
            (cancelled if post.cancelled else posts).append(post)
        for event in campaign.model.events:
            if event.cancelled:
                unscheduled.append(Unscheduled(campaign.id, event.id, "cancelled"))
            elif event.id not in campaign.event_times:
                unscheduled.append(Unscheduled(campaign.id, event.id, "no date yet"))
    order = lambda p: (p.due_at, p.key)  # noqa: E731
    return Plan(sorted(posts, key=order), sorted(cancelled, key=order), unscheduled)


def plan_campaign(campaign: LoadedCampaign) -> list[PlannedPost]:
    """The planned posts of one campaign (cancelled events' posts marked as such)."""
    model, out = campaign.model, []
    for event in model.events:
        if event.id not in campaign.event_times:
            continue
        starts, _ = campaign.event_times[event.id]
        dues = [shift_back(starts, m.before, campaign.zone) for m in model.moments]
        for moment, due in zip(model.moments, dues, strict=True):
            expires = (
                shift_forward(due, moment.expires, campaign.zone)
                if moment.expires
                else default_expiry(due, dues, starts)
            )
            image = (event.image, event.image_alt) if moment.image else (None, None)
            out += _per_channel(
                campaign,
                f"{event.id}/{moment.id}",
                event,
                moment.id,
                moment.template,
                due,
                expires,
                *image,
                event.cancelled,
            )
    for post in model.posts:
        due = campaign.post_times[post.id]
        expires = (
            shift_forward(due, post.expires, campaign.zone)
            if post.expires
            else due + ONE_OFF_WINDOW
        )
        out += _per_channel(
            campaign,
            post.id,
            None,
            post.id,
            post.template,
            due,
            expires,
            post.image,
            post.image_alt,
        )
    return out


def default_expiry(due: datetime, dues: list[datetime], starts: datetime) -> datetime:
    """Where an event moment's window ends unless it says `expires`: when the next moment of
    the same event is due, or when the event starts, whichever is first.

    A run that comes late (GitHub drops and delays scheduled runs) then publishes only the
    latest moment that is due, instead of the announcement, the reminder and the "starting
    soon" post of one event at once. Every moment goes to every channel of the campaign, so
    the next moment on a channel is the next moment of the event.
    """
    return min([d for d in dues if d > due] + [starts])


def _per_channel(
    campaign, path, event, moment, template, due, expires, image, image_alt, cancelled=False
) -> list[PlannedPost]:
    """The same post on each of the campaign's channels, in the channel's language."""
    return [
        PlannedPost(
            key=f"{campaign.id}/{path}/{channel.name}",
            campaign=campaign,
            event=event,
            moment=moment,
            channel=channel,
            template=template,
            due_at=due,
            expires_at=expires,
            image=image,
            image_alt=localise(image_alt, channel.language, campaign.languages) if image else None,
            cancelled=cancelled,
        )
        for channel in campaign.channels
    ]


def shift_back(instant: datetime, duration: Duration, zone: ZoneInfo) -> datetime:
    """`instant` minus `duration`: days on the wall clock of `zone`, then exact time."""
    return _shift(instant, -duration.days, -duration.exact, zone)


def shift_forward(instant: datetime, duration: Duration, zone: ZoneInfo) -> datetime:
    """`instant` plus `duration`: days on the wall clock of `zone`, then exact time."""
    return _shift(instant, duration.days, duration.exact, zone)


def _shift(instant: datetime, days: int, exact: timedelta, zone: ZoneInfo) -> datetime:
    if days:
        wall = instant.astimezone(zone).replace(tzinfo=None) + timedelta(days=days)
        # fold=0 reads a time in a DST gap with the offset from before the gap, which moves it
        # forward by the gap once in UTC, and picks the first of two times in an overlap.
        instant = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    return (instant + exact).astimezone(UTC)
