"""A campaign's life with native scheduling: the campaign changes while copies wait on Facebook.

The same machinery as simulation.py (real CLI in subprocesses, loopback fakes, faults, kills,
two runs at once), with Facebook channels that hand posts to the fake Graph's scheduler, and
with changes between runs: a template edited, an event moved or cancelled, a moment removed,
the ledger deleted or its last lines lost. The fake Graph's clock follows each run's --now, so
copies are published by "Facebook" when their time comes, whether or not a run comes.

Invariants (DESIGN.md, issue 9):
- per post, never more than one copy on Facebook (scheduled or published), at any step;
- after every run with a healthy Facebook, each copy still waiting carries the campaign's latest
  text and time, and none waits for a post that no longer exists (except copies within 10
  minutes of their time, which are left alone on purpose);
- nothing is published outside its window: a direct post at the run's time, a copy at its due
  time (of the version of the post current when it was handed over or last updated);
- after settling, the ledger and Facebook agree, nothing is in doubt, and every post that a
  healthy run could hand over (after its last change) or publish in its window is published.

Ledger loss happens only before the first post is due: a lost ledger after a direct publish
re-sends it (the direct path trusts the ledger; only scheduled copies are adopted by text).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from tests.reliability.simulation import (
    EVENTS,
    PLATFORMS,
    ZONE_OFFSET,
    Scenario,
    Shape,
    Simulation,
    Step,
    StepRecord,
)

#: what may change between two runs
CHANGES = ("edit", "move", "cancel", "remove-moment", "lose-ledger", "truncate-ledger")
LEAD_MIN, LEAD_MAX, FREEZE = timedelta(minutes=20), timedelta(days=28), timedelta(minutes=10)


@dataclass(frozen=True)
class NativeStep(Step):
    """A step, with a change of the campaigns (or the ledger) made just before its run."""

    change: str | None = None
    #: which event (index) a move or cancel applies to
    target: int = 0


class NativeSimulation(Simulation):
    """A scenario with native scheduling on the Facebook channels, and changes between runs."""

    def __init__(self, scenario: Scenario):
        shape = replace(scenario.shape, native=True)
        super().__init__(replace(scenario, shape=shape))
        self.versions: dict[str, list[tuple[datetime, object]]] = {}
        self.edits = 0
        self.removed: set[int] = set()

    def _set_up(self) -> None:
        super()._set_up()
        self.all_texts = dict(self.by_text)
        self._remember(datetime(2000, 1, 1, tzinfo=UTC))

    def _remember(self, at: datetime) -> None:
        """Re-read the campaigns: the current version of every post, every text ever planned."""
        current = {p.key: p for p in self._posts()}
        for key, post in current.items():
            history = self.versions.setdefault(key, [])
            if not history or _sig(history[-1][1]) != _sig(post):
                history.append((at, post))
        for key, history in self.versions.items():
            if key not in current and history[-1][1] is not None:
                history.append((at, None))
        self.all_texts.update(self.by_text)

    def _text_key(self, account: str, text: str) -> str:
        return self.all_texts[(account, text)][0]

    # -- steps ---------------------------------------------------------------------------------
    def step(self, step: Step) -> StepRecord:
        self.graph.clock = lambda: step.at
        change = getattr(step, "change", None)
        if change:
            self._change(change, getattr(step, "target", 0), step.at)
        record = super().step(step)
        self._check_once_each(step.at)
        healthy = record.healthy["facebook"] and not step.kill
        if healthy and all(code in (0, 3) for code in record.codes):
            self._check_copies_follow(step.at)
        return record

    def _change(self, change: str, target: int, at: datetime) -> None:
        path = self.repo.root / "campaigns/life.yaml"
        text = path.read_text()
        live = [i for i in range(self.scenario.shape.events) if i not in self.removed]
        event_id = EVENTS[live[target % len(live)]][0] if live else None
        if change == "edit":
            self.edits += 1
            for lang in ("en", "tr"):
                name = f"templates/reminder/{lang}.j2"
                body = (self.repo.root / name).read_text().split(" ·")[0]
                self.repo.write(name, f"{body} ·{self.edits}")
        elif change == "move" and event_id:
            text = _shift(text, event_id, timedelta(hours=1))
        elif change == "cancel" and event_id:
            text = text.replace(
                f"  - id: {event_id}\n", f"  - id: {event_id}\n    cancelled: true\n"
            )
            self.removed.add(live[target % len(live)])
        elif change == "remove-moment":
            text = re.sub(r"  - \{id: reminder, [^\n]*\n", "", text)
        elif change == "lose-ledger":
            self.repo.ledger.unlink(missing_ok=True)
        elif change == "truncate-ledger" and self.repo.ledger.exists():
            lines = self.repo.ledger.read_bytes().splitlines(keepends=True)
            kept = lines[: max(0, len(lines) - 3)]
            self.repo.ledger.write_bytes(
                b"".join(kept) + (lines[-3][:17] if len(lines) >= 3 else b"")
            )
        path.write_text(text)
        self.notes.append(f"change: {change}")
        self._remember(at)

    # -- invariants ----------------------------------------------------------------------------
    def facebook_posts(self) -> list[dict]:
        from tests.fakes.accounts import PAGE_EN, PAGE_TR

        return [
            dict(p, account=page) for page in (PAGE_EN, PAGE_TR) for p in self.graph.posts(page)
        ]

    def _check_once_each(self, at: datetime) -> None:
        keys = Counter(
            self._text_key(p["account"], p["message"] or "") for p in self.facebook_posts()
        )
        twice = [k for k, n in keys.items() if n > 1]
        assert not twice, f"two copies on Facebook after the run at {at}: {twice}"

    def _check_copies_follow(self, at: datetime) -> None:
        for p in self.facebook_posts():
            if p["is_published"]:
                continue
            when = p["scheduled_publish_time"]
            if when - at <= LEAD_MIN:
                continue  # left alone on purpose, or too close to be replaced
            key = self._text_key(p["account"], p["message"] or "")
            post = self.versions[key][-1][1]
            assert post is not None, f"{key} no longer exists but its copy waits for {when}"
            assert (p["message"], when) == (post.text, post.planned.due_at), (
                f"{key}: the copy says {p['message']!r} at {when}, the campaign "
                f"{post.text!r} at {post.planned.due_at} (run at {at})"
            )

    def check(self) -> None:
        """The invariants at the end (after `run()`); X keeps the checks of simulation.py."""
        settle = self.settle_at()
        self._check_once_each(settle)
        posts = self.facebook_posts()
        for p in posts:
            key = self._text_key(p["account"], p["message"] or "")
            if p["scheduled_publish_time"] is not None:
                assert p["is_published"], f"{key}: a copy still waits after settling"
                self._check_copy_time(key, p)
        for record in self.records:
            for account, text in record.new:
                if account == "x":
                    continue
                key = self._text_key(account, text)
                direct = [
                    p for p in posts if p["message"] == text and p["scheduled_publish_time"] is None
                ]
                if direct:
                    post = self._version_at(key, record.at)
                    assert post is not None and post.planned.in_window(record.at), (
                        f"{key} published directly at {record.at}, outside its window"
                    )
        self._check_ledger(settle, posts)

    def _version_at(self, key: str, at: datetime):
        found = None
        for since, post in self.versions.get(key, []):
            if since <= at:
                found = post
        return found

    def _check_copy_time(self, key: str, p: dict) -> None:
        when = p["scheduled_publish_time"]
        dues = {post.planned.due_at for _, post in self.versions[key] if post is not None}
        assert when in dues, f"{key}: a copy published at {when}, none of its due times {dues}"
        gone = [since for since, post in self.versions[key] if post is None]
        assert (
            not gone
            or when < gone[-1] + FREEZE
            or any(post is not None and since > gone[-1] for since, post in self.versions[key])
        ), f"{key}: its copy was published at {when}, after the post was removed"

    def _check_ledger(self, settle: datetime, posts: list[dict]) -> None:
        from pipeline.ledger import Ledger
        from tests.conftest import crosspost

        status = crosspost(
            "status", "--json", "--root", self.repo.root, "--now", settle.isoformat(), env=self.env
        )
        assert status.code == 0, status.output
        rows = {r["key"]: r for r in status.json()["posts"]}
        histories = Ledger(self.repo.ledger).read()
        on = {}
        for p in posts:
            on[self._text_key(p["account"], p["message"] or "")] = p
        for key, history in self.versions.items():
            post = history[-1][1]
            if post is None or post.planned.platform != "facebook":
                continue
            state = rows[key]["state"]
            assert state != "in-doubt", f"{key} in doubt after settling: {rows[key]['error']}"
            assert (state == "published") == (key in on), (
                f"{key}: the ledger says {state}, Facebook has {on.get(key)}"
            )
            hist = histories.get(key)
            if state == "published" and hist and hist.first[0]:
                assert hist.first[0] == on[key]["id"], f"{key}: ledger id {hist.first[0]}"
            last_change = history[-1][0]
            chances = [
                r.at
                for r in self.records
                if r.healthy["facebook"]
                and (
                    post.planned.in_window(r.at)
                    or (
                        r.at >= last_change
                        and post.planned.due_at - LEAD_MAX <= r.at <= post.planned.due_at - LEAD_MIN
                    )
                )
            ]
            if chances and post.planned.due_at <= settle:
                assert state == "published", (
                    f"{key} is {state} although a healthy run came at {chances[0]}: "
                    f"{rows[key]['error']}"
                )

    def run(self) -> None:
        for step in self.scenario.steps:
            self.step(step)
        for _ in range(2):
            self.step(NativeStep(self.settle_at()))

    def settle_at(self) -> datetime:
        """Inside the window of the latest post of the campaign as it is now, after every step."""
        current = [h[-1][1] for h in self.versions.values() if h[-1][1] is not None]
        last = max(step.at for step in self.scenario.steps) if self.scenario.steps else None
        if not current:
            return last or self.scenario.settle_at()
        latest = max(current, key=lambda p: (p.planned.due_at, p.planned.expires_at)).planned
        settle = latest.due_at + (latest.expires_at - latest.due_at) / 2
        return max(settle, last) if last else settle


def _sig(post) -> tuple:
    if post is None:
        return (None,)
    p = post.planned
    return (post.text, p.due_at, p.expires_at, p.image, p.image_alt)


def _shift(text: str, event_id: str, delta: timedelta) -> str:
    """The campaign with one event's start and end moved by `delta`."""
    block = re.search(rf"  - id: {event_id}\n(?:    [^\n]*\n)*", text)
    part = block.group(0)

    def move(match):
        when = datetime.fromisoformat(match.group(2)) + delta
        return f'{match.group(1)}"{when:%Y-%m-%dT%H:%M}"'

    moved = re.sub(r'((?:starts|ends): )"([^"]+)"', move, part)
    return text.replace(part, moved)


def quiet_instants(shape: Shape) -> list[datetime]:
    """Noon UTC of the campaign's days: far from every due time, old or moved."""
    first = min(due for due, _ in shape.windows())
    start = (first - timedelta(days=3)).replace(hour=12, minute=0, second=0, microsecond=0)
    last = max(due for due, _ in shape.windows())
    days = (last - start).days + 1
    return [start + timedelta(days=n) for n in range(days)]


def first_due(shape: Shape) -> datetime:
    return min(due for due, _ in shape.windows())


def simulate_native(scenario: Scenario) -> set[str]:
    """Run a native scenario and check its invariants; the story is in the failure message."""
    import subprocess

    with NativeSimulation(scenario) as sim:
        try:
            sim.run()
            sim.check()
            return sim.events() | {n for n in sim.notes if n.startswith("change")}
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n\n--- what happened ---\n{sim.summary()}") from None
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"a run hung: {exc}\n\n{sim.summary()}") from None


__all__ = ["CHANGES", "PLATFORMS", "ZONE_OFFSET", "NativeStep", "simulate_native"]
