"""The native-scheduling capability: a platform that publishes a post at a given time by itself.

An adapter that can (Facebook; Mastodon with `scheduled_at`) mixes `NativeScheduler` in and
implements its six methods; everything else — what to hand over, when to edit, when to give up
on a copy, how to settle an unknown outcome — is decided once, platform-free, in
pipeline/native.py. The class attributes bound what the engine asks of the platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from pipeline.platforms.base import OutgoingPost

#: what a copy's fingerprint covers; `changed` sets passed to `edit` are made of these
TEXT, IMAGE, ALT, AT = "text", "image", "alt", "at"


@dataclass(frozen=True)
class Handed:
    """A copy in the platform's scheduler: the id to edit, confirm and delete it by, and every
    other id the platform gave it (a Facebook photo has a photo id and a post id)."""

    remote_id: str
    ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScheduledCopy:
    """One entry of the platform's list of scheduled posts."""

    remote_id: str
    text: str
    at: datetime | None


@dataclass(frozen=True)
class Confirmation:
    """What the platform says about one copy: `scheduled`, `published` (with `url`) or `gone`.

    `text` and `at` are the copy's current text and time when the platform says them, so that
    an edit whose outcome is unknown can be settled by looking.
    """

    state: str
    url: str | None = None
    text: str | None = None
    at: datetime | None = None


class NativeScheduler:
    """Mixin for adapters whose platform schedules posts itself.

    Every method raises the typed errors of `pipeline.errors`, like `Adapter.publish`; a copy
    that no longer exists is never an error (`unschedule` succeeds, `confirm` says `gone`).
    """

    #: hand over only posts due between `lead_min` and `lead_max` from now
    lead_min: ClassVar[timedelta] = timedelta(minutes=20)
    lead_max: ClassVar[timedelta] = timedelta(days=28)
    #: no change is attempted this close to a copy's time (the platform may be publishing it)
    freeze: ClassVar[timedelta] = timedelta(minutes=10)
    #: a copy still unpublished this long after its time is deleted and published directly
    grace: ClassVar[timedelta] = timedelta(minutes=15)

    @classmethod
    def editable(cls, changed: frozenset[str], has_image: bool) -> bool:
        """Whether `edit` can apply `changed` in place (else: delete and hand over again)."""
        return True

    def hand_over(self, post: OutgoingPost, at: datetime) -> Handed:
        """Give the post to the platform's scheduler, to be published at `at` exactly."""
        raise NotImplementedError

    def edit(self, remote_id: str, post: OutgoingPost, at: datetime, changed: frozenset[str]):
        """Change a copy in place: its text and/or time (only what `editable` allows)."""
        raise NotImplementedError

    def unschedule(self, remote_id: str, ids: tuple[str, ...] = ()) -> None:
        """Delete a copy; one that is already gone is fine."""
        raise NotImplementedError

    def scheduled_copies(self) -> list[ScheduledCopy]:
        """Every post waiting in the account's scheduler (all pages of the list)."""
        raise NotImplementedError

    def confirm(self, remote_id: str) -> Confirmation:
        """Whether a copy is still scheduled, published (and where), or gone."""
        raise NotImplementedError

    def has_room(self, copies: list[ScheduledCopy], at: datetime) -> bool:
        """Whether the platform takes one more copy due `at`, beside `copies` (the account's
        list); platforms that limit scheduled posts per day or in all say so here."""
        return True


def native_scheduler(adapter_cls) -> type[NativeScheduler] | None:
    """The adapter class when it claims the capability, else None."""
    return (
        adapter_cls
        if isinstance(adapter_cls, type) and issubclass(adapter_cls, NativeScheduler)
        else None
    )
