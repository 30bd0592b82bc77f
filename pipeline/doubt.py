"""Settling a post left in doubt: did the interrupted send reach the platform?

A `sending` record as a post's last line means a run stopped between asking the platform to
publish and hearing its answer. Nothing is sent again before this is settled, by whichever way
the adapter offers (capabilities in pipeline/platforms/base.py), in this order:

1. an idempotent resend (IdempotentResend): the same request with the same key, answered by the
   platform with the original post if there is one, while the key is remembered;
2. looking: by the attempt token sent with the post (AttemptTokens), else by its text (`find`);
3. blind: where the platform cannot be looked at but refuses duplicates, a single post is sent
   again and a refusal proves it is there; otherwise a person decides (`crosspost resolve`).

Each function takes the channel's publishing run (pipeline/channel_run.py) as `run`: it owns the
adapter, the clock and the ledger records.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from pipeline.errors import PublishError
from pipeline.ledger import FAILED, IN_DOUBT, PUBLISHED, PostHistory
from pipeline.platforms.base import AttemptTokens, IdempotentResend, LookupUnavailable
from pipeline.render import RenderedPost

#: a post may be found on the platform a little before our clock said we sent it
LOOKUP_MARGIN = timedelta(minutes=10)


def resolve(run, post: RenderedPost, hist: PostHistory) -> bool:
    """Find out whether the part in doubt is on the platform. True: carry on with the post."""
    part = hist.sending if hist.sending is not None else max(hist.parts, default=-1) + 1
    if run.fatal or run.adapter is None:
        run.outcome(post, IN_DOUBT, f"cannot look on the platform: {run.fatal}")
        return False
    if part >= len(post.parts):
        run.leave_in_doubt(
            post,
            hist,
            part,
            "the post's text changed since it was sent; check the platform by hand",
        )
        return False
    # It cannot have gone out before it was due, nor before the send we doubt was started.
    sent = _parse_ts(hist.sending_since or hist.updated_at)
    if isinstance(run.adapter, IdempotentResend):
        decided = _resend_with_key(run, post, hist, part, sent)
        if decided is not None:
            return decided
    since = min(post.planned.due_at, sent) - LOOKUP_MARGIN
    token = hist.tokens.get(part)
    try:
        if token and isinstance(run.adapter, AttemptTokens):
            found = run.adapter.find_attempt(token, post.parts[part], since)
        else:
            found = run.adapter.find(post.parts[part], since)
    except LookupUnavailable as exc:
        return _resolve_blind(run, post, hist, part, str(exc))
    except PublishError as exc:
        run.outcome(
            post,
            IN_DOUBT,
            f"could not look on the platform ({exc.message}); the next run tries again",
        )
        return False
    if found:
        run.record(
            post,
            hist,
            PUBLISHED,
            part=part,
            remote_id=found.remote_id,
            url=found.url,
            error="found on the platform after an interrupted send",
        )
        return True
    run.record(
        post,
        hist,
        FAILED,
        part=part,
        error="not on the platform after an interrupted send; sending it again",
    )
    return True


def _resend_with_key(run, post, hist, part: int, sent: datetime) -> bool | None:
    """Settle a doubt by sending the same request again, where the platform answers a
    repeated idempotency key with the original post. None: look instead (the key may be
    forgotten). Times are real (the ledger's), not `--now`: the platform's clock counts.
    """
    age = datetime.now(UTC) - sent
    settle = _seconds_env("CROSSPOST_SETTLE_SECONDS", run.adapter.settle)
    if age < settle:
        # An old server without the key lock doubles a repeat sent while the first runs.
        run.leave_in_doubt(
            post,
            hist,
            part,
            f"the send started {age.total_seconds():.0f} s ago may still be running on "
            f"{run.channel.name}; a run after {settle.total_seconds():.0f} s sends it again "
            "with the same idempotency key",
        )
        return False
    window = run.adapter.idempotency_window - LOOKUP_MARGIN
    if age < window and post.planned.in_window(run.clock()):
        hist.sending = None  # the platform answers the repeat with the original, if any
        return True
    return None


def ask_a_person(run, post, part: int) -> str:
    """What a person checks on the platform, and how they record what they found."""
    return (
        f"check whether part {part + 1}/{len(post.parts)} "
        f'"{post.parts[part][:40]}…" is on {run.channel.name}, then record it with '
        f"`crosspost resolve {post.key} --published URL` or `--not-sent`"
    )


def _resolve_blind(run, post, hist, part: int, why: str) -> bool:
    """No way to look: where the platform refuses duplicates (a capability of the adapter),
    a single post is re-sent and a refusal proves it is there; else a person decides."""
    if len(post.parts) > 1 or not run.adapter.refuses_duplicates:
        run.leave_in_doubt(
            post, hist, part, f"cannot look up posts ({why}); {ask_a_person(run, post, part)}"
        )
        return False
    if not post.planned.in_window(run.clock()):
        run.leave_in_doubt(
            post,
            hist,
            part,
            f"cannot look up posts ({why}) and the window is "
            "closed, so it is not re-sent; check the platform by hand",
        )
        return False
    # Re-sending is safe: if it went out before, the platform refuses the duplicate.
    hist.sending = None
    return True


def _seconds_env(name: str, default: timedelta) -> timedelta:
    """A duration from the environment in seconds (tests shorten waits), else `default`."""
    value = os.environ.get(name)
    return timedelta(seconds=float(value)) if value else default


def _parse_ts(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC) - timedelta(days=1)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
