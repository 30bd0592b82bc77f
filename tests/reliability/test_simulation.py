"""Random campaign lives against faulty platforms: the promises of DESIGN.md hold after each.

Each example generates a small campaign (2-3 events, moments with different windows, 2-3
channels including an X or a Bluesky thread channel), then runs the real `crosspost run` at
random instants across its life, with random faults drawn per step: 5xx, 429 (short reset and
beyond the retry budget), timeouts (a "slow" answer past CROSSPOST_HTTP_TIMEOUT), dropped
connections before and after the platform accepted the post, SIGKILL while the platform holds
the request, just after it answered or after a random number of calls, a torn last ledger
line, and two runs started together. Two clean settling runs follow inside the last window;
then simulation.Simulation.check asserts: nothing twice on any platform; every post whose window
saw a run while its platform was healthy is published; nothing went out outside its window; the
ledger and the platforms agree (published <=> every part on the platform, same ids), in-doubt
only where nobody can look.

A short, reproducible run by default (derandomized, no example database); CROSSPOST_SOAK=1 runs
CROSSPOST_SOAK_EXAMPLES (default 300) random ones.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime

import pytest
from hypothesis import HealthCheck, Phase, event, example, given, settings
from hypothesis import strategies as st

from tests.fakes.accounts import PAGE_EN, PAGE_TR
from tests.reliability.simulation import (
    FAULT_KINDS,
    MOMENTS,
    Fault,
    Kill,
    Scenario,
    Shape,
    Step,
    simulate,
)

SOAK = os.environ.get("CROSSPOST_SOAK") == "1"
EXAMPLES = int(os.environ.get("CROSSPOST_SOAK_EXAMPLES", "300")) if SOAK else 12

shapes = st.builds(
    Shape,
    events=st.integers(2, 3),
    moments=st.lists(st.sampled_from(sorted(MOMENTS)), min_size=2, max_size=3, unique=True).map(
        lambda ms: tuple(m for m in MOMENTS if m in ms)
    ),
    channels=st.sampled_from(
        [
            ("facebook-en", "x-en"),
            ("facebook-tr", "x-en"),
            ("facebook-en", "facebook-tr", "x-en"),
            ("mastodon-en", "telegram-tr", "x-en"),
            ("facebook-en", "mastodon-en", "telegram-tr"),
            ("facebook-en", "x-en", "bluesky-tr"),
            ("facebook-tr", "bluesky-tr"),
        ]
    ),
    launch=st.booleans(),
)

faults = st.builds(
    Fault,
    platform=st.sampled_from(["facebook", "x", "mastodon", "bluesky", "telegram"]),
    kind=st.sampled_from(FAULT_KINDS),
    count=st.integers(1, 3),
    on=st.sampled_from(["publish", "publish", "publish", "lookup", "upload"]),
    page=st.sampled_from([None, None, PAGE_EN, PAGE_TR]),
)

kills = st.builds(
    Kill,
    mode=st.sampled_from(["hold", "after", "requests"]),
    platform=st.sampled_from(["facebook", "x", "mastodon", "bluesky", "telegram"]),
    on=st.sampled_from(["publish", "publish", "lookup"]),
    skip=st.integers(0, 3),
    requests=st.integers(0, 5),
    delay=st.sampled_from([0.0, 0.001, 0.005, 0.02, 0.1]),
    tear=st.one_of(st.none(), st.floats(0, 0.99)),
)


def at(when: str) -> datetime:
    """'05-07 15:01' (UTC, May 2030, the campaign's weeks) -> an aware datetime."""
    day, _, clock = when.partition(" ")
    return datetime.fromisoformat(f"2030-{day}T{clock or '12:00'}+00:00")


@st.composite
def scenarios(draw) -> Scenario:
    shape = draw(shapes)
    instants, due = shape.instants(), shape.due_instants()
    steps = []
    for _ in range(draw(st.integers(2, 6))):
        kind = draw(st.sampled_from(["run", "run", "run", "pair", "kill", "kill"]))
        # A kill needs a call to interrupt: kills come when posts have just become due.
        when = draw(st.sampled_from(due if kind == "kill" else instants))
        steps.append(
            Step(
                when,
                faults=tuple(draw(st.lists(faults, max_size=2))),
                pair=kind == "pair",
                pair_wait=draw(st.sampled_from([20.0, 0.1])) if kind == "pair" else 20.0,
                kill=draw(kills) if kind == "kill" else None,
            )
        )
    steps.sort(key=lambda step: step.at)
    return Scenario(shape, tuple(steps), x_lookups_forbidden=draw(st.booleans()))


#: how both kinds of random lives run: reproducible in CI, shrunk only in soaks
LIVES = settings(
    deadline=None,
    derandomize=not SOAK,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=[Phase.explicit, Phase.generate] + ([Phase.shrink] if SOAK else []),
    print_blob=True,
)


@pytest.mark.timeout(1800 if not SOAK else 0)
@settings(LIVES, max_examples=EXAMPLES)
@given(scenarios())
# Explicit lives, so that every kind of crash is in each CI run whatever the draw:
# Facebook drops its answer; killed while it looks the post up, the ledger's last line torn.
@example(
    Scenario(
        Shape(events=2, moments=("announce", "live")),
        (
            Step(at("05-07 15:01"), faults=(Fault("facebook", "drop_after_accept"),)),
            Step(at("05-07 16:00"), kill=Kill("hold", "facebook", on="lookup", tear=0.4)),
            Step(at("05-09")),
        ),
    )
)
# Killed while Facebook holds the announcement; then late in its window.
@example(
    Scenario(
        Shape(events=2, moments=("announce", "live")),
        (Step(at("05-07 15:01"), kill=Kill("hold", "facebook")), Step(at("05-09"))),
    )
)
# X holds the 2nd part of a thread and cannot show its timeline: left to a person, nothing resent.
@example(
    Scenario(
        Shape(events=2, moments=("announce", "reminder")),
        (
            Step(at("05-07 15:01"), kill=Kill("hold", "x", skip=1)),
            Step(at("05-07 16:00"), faults=(Fault("facebook", "slow"),)),
            Step(at("05-09 15:30"), pair=True),
        ),
        x_lookups_forbidden=True,
    )
)
# Killed just after X answered; a dropped Facebook answer; two runs together, rate limited.
@example(
    Scenario(
        Shape(events=3, moments=("announce", "reminder", "live"), launch=True),
        (
            Step(at("05-06 09:00"), kill=Kill("after", "x", delay=0.001)),
            Step(at("05-07 15:00"), faults=(Fault("facebook", "drop_after_accept", 2),)),
            Step(at("05-10 14:50"), pair=True, faults=(Fault("x", "429-long"),)),
        ),
    )
)
# Killed while Mastodon holds a status, then while Telegram holds a message: Mastodon's is sent
# again with its key (the original comes back), Telegram's is left to a person; a gateway 502.
@example(
    Scenario(
        Shape(events=2, moments=("announce", "live"), channels=("mastodon-en", "telegram-tr")),
        (
            Step(at("05-07 15:01"), kill=Kill("hold", "mastodon")),
            Step(at("05-07 15:02"), kill=Kill("hold", "telegram")),
            Step(at("05-09 17:46"), faults=(Fault("mastodon", "slow"), Fault("telegram", "500"))),
            Step(at("05-09 17:50")),
        ),
    )
)
# Bluesky: killed while the PDS holds the 2nd part of a thread, then a 500 and a dropped create
# (each settled by getRecord on its record key), an expired session, two runs together.
@example(
    Scenario(
        Shape(events=2, moments=("announce", "live"), channels=("facebook-tr", "bluesky-tr")),
        (
            Step(at("05-07 15:01"), kill=Kill("hold", "bluesky", skip=1)),
            Step(
                at("05-07 16:00"),
                faults=(Fault("bluesky", "500"), Fault("bluesky", "drop_after_accept")),
            ),
            Step(at("05-10 14:46"), pair=True, faults=(Fault("bluesky", "expired"),)),
        ),
    )
)
def test_random_campaign_lives_keep_the_promises(scenario):
    for label in sorted(simulate(scenario)):
        event(label)


# --- native scheduling: the campaign changes while copies wait on Facebook -------------------

from tests.reliability.native_simulation import (  # noqa: E402
    CHANGES,
    NativeStep,
    first_due,
    quiet_instants,
    simulate_native,
)

NATIVE_EXAMPLES = int(os.environ.get("CROSSPOST_SOAK_EXAMPLES", "300")) if SOAK else 6
LEDGER_CHANGES = ("lose-ledger", "truncate-ledger")

native_shapes = st.builds(
    Shape,
    events=st.integers(2, 3),
    moments=st.just(("announce", "reminder", "live")),
    channels=st.sampled_from([("facebook-en",), ("facebook-en", "facebook-tr")]),
    launch=st.booleans(),
    native=st.just(True),
)
native_faults = st.builds(
    Fault,
    platform=st.just("facebook"),
    kind=st.sampled_from(FAULT_KINDS),
    count=st.integers(1, 3),
    on=st.sampled_from(["publish", "publish", "lookup", "any"]),
    page=st.sampled_from([None, PAGE_EN]),
)


@st.composite
def native_scenarios(draw) -> Scenario:
    shape = draw(native_shapes)
    quiet, due = quiet_instants(shape), shape.due_instants()
    steps = []
    for _ in range(draw(st.integers(3, 6))):
        kind = draw(st.sampled_from(["run", "run", "change", "change", "pair", "kill"]))
        when = draw(st.sampled_from(quiet if kind in ("change", "kill") else quiet + due))
        change = draw(st.sampled_from(CHANGES)) if kind == "change" else None
        steps.append(
            NativeStep(
                when,
                faults=tuple(draw(st.lists(native_faults, max_size=1))),
                pair=kind == "pair",
                kill=draw(kills.map(lambda k: replace(k, platform="facebook", on="publish")))
                if kind == "kill"
                else None,
                change=change,
                target=draw(st.integers(0, 2)),
            )
        )
    steps.sort(key=lambda step: step.at)
    # A lost ledger only before anything is due and before any other change: a copy whose
    # text changed while the ledger was lost cannot be recognised and would be doubled, a known
    # limit (README, "A limit: a lost ledger and a changed text together"), not checked here.
    changed = False
    for i, step in enumerate(steps):
        if step.change in LEDGER_CHANGES and (changed or step.at >= first_due(shape)):
            steps[i] = replace(step, change=None)
        changed = changed or (step.change is not None and step.change not in LEDGER_CHANGES)
    return Scenario(shape, tuple(steps))


@pytest.mark.timeout(1800 if not SOAK else 0)
@settings(LIVES, max_examples=NATIVE_EXAMPLES)
@given(native_scenarios())
# Handed over early; the ledger lost; killed mid-hand-over; edited, moved, a moment removed.
@example(
    Scenario(
        Shape(
            events=2,
            moments=("announce", "reminder", "live"),
            channels=("facebook-en", "facebook-tr"),
            native=True,
        ),
        (
            NativeStep(at("05-04 12:00"), kill=Kill("hold", "facebook", skip=1)),
            NativeStep(at("05-04 12:00"), change="lose-ledger"),
            NativeStep(at("05-05 12:00")),
            NativeStep(at("05-06 12:00"), change="edit"),
            NativeStep(at("05-07 12:00"), change="move", target=1),
            NativeStep(at("05-08 12:00"), change="remove-moment", pair=True),
            NativeStep(at("05-09 12:00"), change="cancel", target=0),
        ),
    )
)
def test_native_lives_keep_one_copy_per_post_with_the_latest_text(scenario):
    for label in sorted(simulate_native(scenario)):
        event(label)
