"""A campaign's life, simulated: `crosspost run` at chosen instants against faulty fake platforms.

`Scenario` says what happens (a campaign's shape, then steps: runs at pretend times, with faults,
kills and races); `Simulation` makes it happen with the real CLI in subprocesses against the
loopback fakes, records what each step put on the platforms, and `check()` asserts the promises
of DESIGN.md afterwards. The hypothesis strategies live in test_simulation.py; explicit scenarios
(regressions) can be written by hand with the same classes.

Measuring "published outside its window": the fakes keep their real clock, and every post that
appears on a fake during a step is attributed to that step's pretend time (the platforms' lists
only grow, so the new ones are the tail). Duplicate refusal is switched off on the fakes (Graph's
is an invention of the fake anyway), so a post sent twice shows up twice - except on X when its
timeline cannot be read, where the engine relies on X's documented duplicate refusal on purpose.
Mastodon takes the same text twice (only its Idempotency-Key protects a re-send); Telegram can
never be looked at, so its posts may end in doubt, but never twice.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import PNG, Repo, crosspost, spawn
from tests.fakes.accounts import BSKY_EN, PAGE_EN, PAGE_TR, PAGES, TELEGRAM_CHAT, X_EN
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.fixtures import new_mastodon, new_telegram
from tests.fakes.graph import FakeGraph
from tests.fakes.server import FakeServer
from tests.fakes.x import FakeX

#: HTTP timeout of the runs; a "slow" fault answers later than this
HTTP_TIMEOUT = 2.0
ENV = {
    "CROSSPOST_HTTP_TIMEOUT": str(HTTP_TIMEOUT),
    "CROSSPOST_RETRY_ATTEMPTS": "4",
    "CROSSPOST_RETRY_BASE": "0.05",
    "CROSSPOST_RETRY_CAP": "1.5",
    "CROSSPOST_RETRY_BUDGET": "3",
    "CROSSPOST_LOCK_TIMEOUT": "20",
    # The fakes act on a request as it arrives: a Mastodon re-send with the same key may follow
    # at once (a real instance gets the 2 minutes of MastodonAccount.settle).
    "CROSSPOST_SETTLE_SECONDS": "0",
}

# --- the campaign ---------------------------------------------------------------------------

ZONE_OFFSET = timedelta(hours=1)  # Europe/London in May (BST): no DST change in these weeks
EVENTS = [  # (id, local start, title)
    ("soil", datetime(2030, 5, 10, 16, 0), "Living soil"),
    ("water", datetime(2030, 5, 11, 18, 0), "Water commons"),
    ("seeds", datetime(2030, 5, 13, 10, 0), "Seed libraries"),
]
#: id -> (before, expires or None (= until the event starts), image)
MOMENTS = {
    "announce": (timedelta(days=3), None, True),
    "reminder": (timedelta(days=1), timedelta(hours=2), False),
    "live": (timedelta(minutes=15), timedelta(minutes=30), False),
}
LAUNCH = (datetime(2030, 5, 6, 10, 0), timedelta(hours=12))  # one-off post: local time, expires
CHANNELS = ("facebook-en", "facebook-tr", "x-en")
#: channel -> platform of every channel a shape may have
PLATFORM_OF = {
    "facebook-en": "facebook",
    "facebook-tr": "facebook",
    "x-en": "x",
    "mastodon-en": "mastodon",
    "telegram-tr": "telegram",
}

LONG_X = (
    "{{ event.title }}: a conversation about how neighbourhoods grow their own food, share "
    "land and money, and decide together what to do with both.\n\n"
    "Our guests at {{ event.title }} come from three continents and bring stories of "
    "co-operatives, land trusts and community kitchens that outlived the crises that created "
    "them.\n\n"
    "On {{ event.starts | date }} we will ask what it takes to start, how to keep going when "
    "money is short, and how to make decisions together without burning out, with time for "
    "your questions.\n\n"
    "Join us on {{ event.starts | date }} at {{ event | timerange }}. Register: "
    "{{ vars.url | utm }}"
)
#: Turkish, long enough for a Bluesky thread (300 graphemes), with a hashtag and the link
LONG_BLUESKY = (
    "{{ event.title }}: mahallelerin kendi gıdasını nasıl yetiştirdiğini, toprağı ve parayı "
    "nasıl paylaştığını ve birlikte nasıl karar verdiğini konuşuyoruz. #müşterekler\n\n"
    "Konuklarımız üç kıtadan geliyor; krizlerden uzun yaşamış kooperatiflerin ve mahalle "
    "mutfaklarının hikâyelerini getiriyorlar.\n\n"
    "{{ event.starts | date }}, {{ event | timerange(tz='Europe/Istanbul') }}. "
    "Kayıt: {{ vars.url | utm }}"
)
TEMPLATES = {
    "announce/en.j2": "{{ event.title }}: {{ event.starts | date }}, {{ event | timerange }}. "
    "Register: {{ vars.url | utm }}",
    "announce/en.x.j2": LONG_X,
    "announce/tr.bluesky.j2": LONG_BLUESKY,
    "announce/tr.j2": "{{ event.title }}: {{ event.starts | date }}, "
    "{{ event | timerange(tz='Europe/Istanbul') }}. Kayıt: {{ vars.url | utm }}",
    "reminder/en.j2": "Tomorrow at {{ event.starts | time }}: {{ event.title }}. {{ vars.url }}",
    "reminder/tr.j2": "Yarın {{ event.starts | time(tz='Europe/Istanbul') }}: "
    "{{ event.title }}. {{ vars.url }}",
    "live/en.j2": "Starting in 15 minutes: {{ event.title }} {{ vars.url }}",
    "live/tr.j2": "15 dakika sonra başlıyoruz: {{ event.title }} {{ vars.url }}",
    "launch/en.j2": "A new series of conversations starts this month. {{ vars.url }}",
    "launch/tr.j2": "Bu ay yeni bir söyleşi dizisi başlıyor. {{ vars.url }}",
}
TITLES_TR = {
    "soil": "Canlı toprak",
    "water": "Su müşterekleri",
    "seeds": "Tohum kütüphaneleri",
}


@dataclass(frozen=True)
class Shape:
    """Which events, moments and channels the generated campaign has."""

    events: int = 3
    moments: tuple[str, ...] = ("announce", "reminder", "live")
    channels: tuple[str, ...] = CHANNELS
    launch: bool = True
    #: Facebook channels hand posts to Facebook's scheduler (native_simulation.py)
    native: bool = False

    def instants(self) -> list[datetime]:
        """Interesting pretend times: around every post's due time and window end (UTC)."""
        found = set()
        for due, expires in self.windows():
            for t in (
                due - timedelta(minutes=1),
                due,
                due + timedelta(minutes=1),
                due + (expires - due) / 2,
                expires - timedelta(seconds=1),
                expires,
            ):
                found.add(t)
        return sorted(found)

    def due_instants(self) -> list[datetime]:
        """Times when posts have just become due (a run then has something to send)."""
        return sorted({t for due, _ in self.windows() for t in (due, due + timedelta(minutes=1))})

    def windows(self) -> list[tuple[datetime, datetime]]:
        """(due, expires) in UTC of every (event, moment) and the launch post."""
        out = []
        for _, local, _ in EVENTS[: self.events]:
            start = (local - ZONE_OFFSET).replace(tzinfo=UTC)
            for moment in self.moments:
                before, expires, _ = MOMENTS[moment]
                due = start - before
                out.append((due, due + expires if expires else start))
        if self.launch:
            due = (LAUNCH[0] - ZONE_OFFSET).replace(tzinfo=UTC)
            out.append((due, due + LAUNCH[1]))
        return out

    def write(
        self,
        repo: Repo,
        graph_url: str,
        x_url: str,
        mastodon_url="",
        telegram_url="",
        bluesky_url="",
    ) -> None:
        """The campaign, templates, media and channels (pointed at the fakes)."""
        native = "" if self.native else ", native_scheduling: false"
        channels = {
            "mastodon-en": f'{{platform: mastodon, language: en, instance: "https://social.coop", '
            f'thread: true, api_base: "{mastodon_url}"{native}}}',
            "telegram-tr": f'{{platform: telegram, language: tr, chat: "{TELEGRAM_CHAT}", '
            f'api_base: "{telegram_url}"}}',
            "facebook-en": f'{{platform: facebook, language: en, page_id: "{PAGE_EN}", '
            f'api_base: "{graph_url}"{native}}}',
            "facebook-tr": f'{{platform: facebook, language: tr, page_id: "{PAGE_TR}", '
            f'api_base: "{graph_url}"{native}}}',
            "x-en": f'{{platform: x, language: en, thread: true, api_base: "{x_url}"}}',
            "bluesky-tr": f"{{platform: bluesky, language: tr, handle: {BSKY_EN.handle}, "
            f'thread: true, api_base: "{bluesky_url}"}}',
        }
        repo.write("channels.yaml", "".join(f"{n}: {channels[n]}\n" for n in self.channels))
        lines = [
            "id: life",
            "name: Commons talks",
            "timezone: Europe/London",
            f"channels: [{', '.join(self.channels)}]",
            "vars: {url: https://example.org/commons}",
            "moments:",
        ]
        for moment in self.moments:
            before, expires, image = MOMENTS[moment]
            spec = f"  - {{id: {moment}, before: {_duration(before)}, template: {moment}"
            spec += f", expires: {_duration(expires)}" if expires else ""
            lines.append(spec + (", image: true}" if image else "}"))
        if self.launch:
            lines += [
                "posts:",
                f'  - {{id: launch, at: "{LAUNCH[0]:%Y-%m-%dT%H:%M}", template: launch, '
                f"expires: {_duration(LAUNCH[1])}}}",
            ]
        lines.append("events:")
        languages = {"en"} | (
            {"tr"} if {"facebook-tr", "telegram-tr", "bluesky-tr"} & set(self.channels) else set()
        )

        def localised(en: str, tr: str) -> str:
            # Only the campaign's languages: a mapping with another language's key is not
            # recognised as localised (reported to the lead: it renders as a dict).
            texts = {"en": en, "tr": tr}
            return "{" + ", ".join(f'{k}: "{texts[k]}"' for k in sorted(languages)) + "}"

        for event_id, local, title in EVENTS[: self.events]:
            lines += [
                f"  - id: {event_id}",
                f'    starts: "{local:%Y-%m-%dT%H:%M}"',
                f'    ends: "{local + timedelta(hours=2):%Y-%m-%dT%H:%M}"',
                f"    title: {localised(title, TITLES_TR[event_id])}",
                f"    image: media/{event_id}.png",
                f"    image_alt: {localised(f'Poster of {title}', f'{TITLES_TR[event_id]} afişi')}",
            ]
            repo.write(f"media/{event_id}.png", PNG)
        repo.write("campaigns/life.yaml", "\n".join(lines) + "\n")
        for name, text in TEMPLATES.items():
            repo.write(f"templates/{name}", text)


def _duration(delta: timedelta) -> str:
    days, secs = delta.days, int(delta.seconds)
    out = f"{days}d" if days else ""
    out += f"{secs // 3600}h" if secs // 3600 else ""
    out += f"{secs % 3600 // 60}m" if secs % 3600 // 60 else ""
    return out or "0m"


# --- what happens ---------------------------------------------------------------------------

PLATFORMS = ("facebook", "x", "mastodon", "bluesky", "telegram")
FAULT_KINDS = ("500", "429", "429-long", "expired", "drop", "slow", "drop_after_accept")


@dataclass(frozen=True)
class Fault:
    """A fault switched on one fake for the next `count` matching calls of one step."""

    platform: str  # one of PLATFORMS
    kind: str  # one of FAULT_KINDS
    count: int = 1
    on: str = "publish"  # publish | lookup | upload (X and Mastodon; else publish)
    page: str | None = None  # Facebook: only this page's calls

    def apply(self, fakes: dict[str, FakeServer]) -> None:
        fake = fakes[self.platform]
        uploads = self.platform in ("x", "mastodon", "bluesky")
        on = "publish" if (self.on == "upload" and not uploads) else self.on
        path = f"/{self.page}/" if (self.page and self.platform == "facebook") else None
        opts: dict = {}
        kind, count = self.kind, self.count
        if kind == "429":
            opts["reset_in"] = 1  # a short reset: waited for within the run
        elif kind == "429-long":
            kind, opts["reset_in"] = "429", 3600  # beyond the retry budget
            count = 8 if self.platform == "facebook" else count  # Graph says no reset time
        elif kind == "slow":
            opts["seconds"] = HTTP_TIMEOUT + 0.6
        if kind == "expired" and self.platform == "bluesky":
            # The PDS's "expired" revokes the app password for good; here: an expired session.
            kind, opts = "error", {"status": 400, "error": "ExpiredToken", "message": "expired"}
        fake.fail_next(kind, count=count, on=on, path=path, **opts)


@dataclass(frozen=True)
class Kill:
    """SIGKILL of the run: while the platform holds a publish, just after it, or after requests.

    mode "hold": the `skip`+1-th `on` call (publish or lookup) on `platform` is held and killed
    while it waits; "after": the same call is answered, then the process is killed `delay` s
    later; "requests": killed `delay` s after the fakes have received `requests` more calls.
    `tear`: then the ledger's last line is cut to this fraction of its length (when the last
    line is an outcome: a `sending` line whose call went out is, by construction, complete).
    """

    mode: str = "hold"
    platform: str = "facebook"
    on: str = "publish"  # the call held: publish, or lookup (resolving a post in doubt)
    skip: int = 0
    requests: int = 0
    delay: float = 0.0
    tear: float | None = None


@dataclass(frozen=True)
class Step:
    """`crosspost run --now at` (two of them started together when `pair`), faults, a kill."""

    at: datetime
    faults: tuple[Fault, ...] = ()
    pair: bool = False
    #: how long the second of a pair waits for the ledger (CROSSPOST_LOCK_TIMEOUT)
    pair_wait: float = 20.0
    kill: Kill | None = None


@dataclass(frozen=True)
class Scenario:
    shape: Shape
    steps: tuple[Step, ...]
    #: X answers timeline reads with 403 (Free tier): in-doubt posts cannot be looked up
    x_lookups_forbidden: bool = False

    def settle_at(self) -> datetime:
        """A time inside the last windows, after every step: the settling runs run then."""
        last = max(step.at for step in self.steps) if self.steps else None
        windows = self.shape.windows()
        due, expires = max(windows, key=lambda w: (w[0], w[1]))
        settle = due + (expires - due) / 2
        return max(settle, last) if last else settle


# --- running it -----------------------------------------------------------------------------


@dataclass
class StepRecord:
    at: datetime
    healthy: dict[str, bool]
    #: (platform account, text) that appeared during the step
    new: list[tuple[str, str]] = field(default_factory=list)
    codes: list[int | None] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)


class Simulation:
    """One scenario against fresh fakes and a fresh repository."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.records: list[StepRecord] = []
        self.notes: list[str] = []
        self._tmp = tempfile.TemporaryDirectory(prefix="crosspost-sim-")
        self.repo = Repo(Path(self._tmp.name) / "repo")
        self.graph = FakeGraph(PAGES)
        self.x = FakeX([X_EN])
        self.mastodon = new_mastodon()
        self.telegram = new_telegram()
        self.bluesky = FakeBluesky([BSKY_EN])
        self.fakes: dict[str, FakeServer] = {
            "facebook": self.graph,
            "x": self.x,
            "mastodon": self.mastodon,
            "bluesky": self.bluesky,
            "telegram": self.telegram,
        }

    # -- set-up --------------------------------------------------------------------------------
    def __enter__(self) -> Simulation:
        for fake in self.fakes.values():
            fake.start()
        try:
            self._set_up()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _set_up(self) -> None:
        # Duplicate refusal would hide a second send; X's is relied on only without lookups.
        self.graph.duplicate_window = timedelta(0)
        if self.scenario.x_lookups_forbidden:
            self.x.lookups_forbidden = True
        else:
            self.x.duplicate_window = timedelta(0)
        self.scenario.shape.write(
            self.repo,
            self.graph.base_url,
            self.x.base_url,
            self.mastodon.base_url,
            self.telegram.base_url,
            self.bluesky.base_url,
        )
        self.env = {
            **ENV,
            "FACEBOOK_EN_PAGE_TOKEN": PAGES[PAGE_EN][0],
            "FACEBOOK_TR_PAGE_TOKEN": PAGES[PAGE_TR][0],
            **self.x.env("X_EN"),
            **self.mastodon.env("MASTODON_EN"),
            **self.telegram.env("TELEGRAM_TR"),
            **self.bluesky.env("BLUESKY_TR"),
        }
        self.posts = self._posts()

    def __exit__(self, *exc) -> None:
        for fake in self.fakes.values():
            fake.release()
            fake.stop()
        self._tmp.cleanup()

    def _posts(self):
        """key -> the rendered post, and (account, text) -> (key, part index)."""
        from pipeline.prepare import prepare

        prepared = prepare(self.repo.root)
        assert not prepared.problems, prepared.problems
        self.by_key = {p.key: p for p in prepared.posts}
        self.by_text: dict[tuple[str, str], tuple[str, int]] = {}
        for post in prepared.posts:
            for i, part in enumerate(post.parts):
                self.by_text[(self._account(post.planned.channel.name), part)] = (post.key, i)
        return prepared.posts

    @staticmethod
    def _account(channel: str) -> str:
        return {
            "facebook-en": PAGE_EN,
            "facebook-tr": PAGE_TR,
            "x-en": "x",
            "mastodon-en": "mastodon",
            "telegram-tr": "telegram",
            "bluesky-tr": "bsky",
        }[channel]

    # -- platforms -----------------------------------------------------------------------------
    def on_platforms(self) -> list[tuple[str, str, str]]:
        """(account, text, remote id) of everything on the fakes, oldest first per account."""
        out = []
        for page in (PAGE_EN, PAGE_TR):
            out += [(page, p["message"] or "", p["id"]) for p in self.graph.posts(page)]
        out += [("x", t["text"], t["id"]) for t in self.x.tweets(X_EN.username)]
        out += [("mastodon", s["text"], s["id"]) for s in self.mastodon.statuses()]
        out += [
            ("telegram", m["text"] if m["photo"] is None else m["caption"], str(m["message_id"]))
            for m in self.telegram.messages(TELEGRAM_CHAT)
        ]
        out += [("bsky", p["value"]["text"], p["uri"]) for p in self.bluesky.posts()]
        return out

    # -- steps ---------------------------------------------------------------------------------
    def run(self) -> None:
        for step in self.scenario.steps:
            self.step(step)
        settle = self.scenario.settle_at()
        for n in range(2):
            record = self.step(Step(settle))
            if n == 1:
                assert record.new == [], f"a repeated settling run published {record.new}"

    def step(self, step: Step) -> StepRecord:
        before = Counter((a, t) for a, t, _ in self.on_platforms())
        unhealthy = {f.platform for f in step.faults}
        if step.kill:
            unhealthy |= set(PLATFORMS)
        record = StepRecord(step.at, {p: p not in unhealthy for p in PLATFORMS})
        for fault in step.faults:
            fault.apply(self.fakes)
        now = step.at.isoformat().replace("+00:00", "Z")
        args = ("run", "--root", self.repo.root, "--now", now)
        try:
            if step.kill:
                self._killed(step.kill, args, record)
            elif step.pair:
                waits = [ENV["CROSSPOST_LOCK_TIMEOUT"], str(step.pair_wait)]
                env = [{**self.env, "CROSSPOST_LOCK_TIMEOUT": wait} for wait in waits]
                procs = [spawn(*args, env=e) for e in env]
                for proc in procs:
                    out, err = proc.communicate(timeout=90)
                    record.codes.append(proc.returncode)
                    record.outputs.append(out + err)
                busy = any("another crosspost run" in o for o in record.outputs)
                self.notes.append("two runs: one busy" if busy else "two runs: one after the other")
            else:
                result = crosspost(*args, env=self.env, timeout=90)
                record.codes.append(result.code)
                record.outputs.append(result.output)
        finally:
            for fake in self.fakes.values():
                fake.clear_faults()
                fake.release()
        after = Counter((a, t) for a, t, _ in self.on_platforms())
        record.new = sorted((after - before).elements())
        self.records.append(record)
        for code, output in zip(record.codes, record.outputs, strict=True):
            assert "Traceback" not in output, output
            assert code in (0, 3, None), f"exit {code} at {now}:\n{output}"
        return record

    def _killed(self, kill: Kill, args, record: StepRecord) -> None:
        fake = self.fakes[kill.platform]
        if kill.mode in ("hold", "after"):
            if kill.skip:  # let `skip` calls through
                fake.fail_next("slow", count=kill.skip, on=kill.on, seconds=0)
            fake.fail_next("hold", on=kill.on)
        baseline = self._calls()
        proc = spawn(*args, env=self.env)
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if kill.mode in ("hold", "after") and fake.held.is_set():
                break
            if kill.mode == "requests" and self._calls() >= baseline + kill.requests:
                break
            time.sleep(0.002)
        if kill.mode == "after" and fake.held.is_set():
            fake.release()
        if proc.poll() is None:
            if kill.delay:
                time.sleep(kill.delay)
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
        killed = proc.returncode == -signal.SIGKILL
        self.notes.append(f"killed ({kill.mode})" if killed else "a kill came too late")
        record.codes.append(None if killed else proc.returncode)
        record.outputs.append(out + err)
        fake.release()
        if killed and kill.tear is not None:
            self._tear(kill.tear)

    def _calls(self) -> int:
        return sum(len(fake.log) for fake in self.fakes.values())

    def _tear(self, fraction: float) -> None:
        """Cut the ledger's last line, as if the process died while writing it."""
        path = self.repo.ledger
        if not path.exists():
            return
        data = path.read_bytes()
        body = data.rstrip(b"\n")
        start = body.rfind(b"\n") + 1
        last = body[start:]
        if not last or json.loads(last).get("state") == "sending":
            return  # a `sending` line is complete before its call goes out
        path.write_bytes(body[:start] + last[: int(len(last) * fraction)])
        self.notes.append(f"tore a {json.loads(last)['state']} line")

    # -- the promises --------------------------------------------------------------------------
    def check(self) -> None:
        """Assert every invariant (after `run()`)."""
        settle = self.scenario.settle_at()
        on = self.on_platforms()
        # 1. nothing twice, nothing unknown
        counts = Counter((a, t) for a, t, _ in on)
        twice = [f"{a}: {t[:60]!r} x{n}" for (a, t), n in counts.items() if n > 1]
        assert not twice, "published more than once:\n" + "\n".join(twice)
        unknown = [(a, t) for a, t, _ in on if (a, t) not in self.by_text]
        assert not unknown, f"on the platforms but not a planned post: {unknown}"

        # 3. nothing outside its window
        for record in self.records:
            for account, text in record.new:
                key, part = self.by_text[(account, text)]
                planned = self.by_key[key].planned
                assert planned.in_window(record.at), (
                    f"{key} part {part} went out at {record.at:%Y-%m-%d %H:%M:%S}, outside "
                    f"its window {planned.due_at} - {planned.expires_at}"
                )

        # 4. the ledger and the platforms agree
        from pipeline.ledger import Ledger

        histories = Ledger(self.repo.ledger).read()
        status = crosspost(
            "status", "--json", "--root", self.repo.root, "--now", settle.isoformat(), env=self.env
        )
        assert status.code == 0, status.output
        states = {p["key"]: p for p in status.json()["posts"]}
        remote: dict[str, dict[int, str]] = {}
        for account, text, remote_id in on:
            key, part = self.by_text[(account, text)]
            remote.setdefault(key, {})[part] = remote_id
        honest = []
        for key, post in self.by_key.items():
            row, parts = states[key], remote.get(key, {})
            hist = histories.get(key)
            all_there = len(parts) == len(post.parts)
            state = row["state"]
            if state == "in-doubt":
                # Only without any way to look may a post be left to a person.
                platform = post.planned.platform
                assert platform == "telegram" or (
                    self.scenario.x_lookups_forbidden and platform == "x"
                ), f"{key} still in doubt after settling with healthy platforms: {row['error']}"
                honest.append(key)
                continue
            assert (state == "published") == all_there, (
                f"{key}: the ledger says {state}, the platform has parts "
                f"{sorted(parts)} of {len(post.parts)}"
            )
            known = dict(hist.parts) if hist else {}
            assert set(known) == set(parts), (
                f"{key} ({state}): the ledger knows parts {sorted(known)}, the platform has "
                f"{sorted(parts)}"
            )
            for i, (remote_id, _) in known.items():
                if remote_id is not None:
                    assert remote_id == parts[i], f"{key} part {i}: ledger id {remote_id}"
            assert state in ("published", "missed", "pending"), f"{key}: {state} after settling"
            if state == "pending":
                assert post.planned.due_at > settle

        # 2. never lost: a run in the window with a healthy platform published it
        for key, post in self.by_key.items():
            if key in honest:
                continue
            chances = [
                r.at
                for r in self.records
                if r.healthy[post.planned.platform] and post.planned.in_window(r.at)
            ]
            if chances:
                assert states[key]["state"] == "published", (
                    f"{key} is {states[key]['state']} although a healthy run came in its "
                    f"window at {chances[0]:%Y-%m-%d %H:%M:%S}: {states[key]['error']}"
                )

    def events(self) -> set[str]:
        """What this scenario exercised (for hypothesis' statistics)."""
        found = set(self.notes)
        text = self.repo.ledger.read_text(errors="replace") if self.repo.ledger.exists() else ""
        for line in text.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                found.add("a torn ledger line")
                continue
            error, state = rec.get("error") or "", rec["state"]
            if state == "in-doubt":
                found.add("left in doubt: " + re.sub(r" on \S+", "", error.split(":")[0])[:40])
            elif "interrupted send" in error:
                found.add(("found" if state == "published" else "not found") + " after a send")
            elif state == "missed":
                found.add("missed")
            elif state == "failed":
                found.add(f"failed: {error.split(':')[0]}")
            elif state == "published" and rec.get("parts", 1) > 1:
                found.add("a thread part published")
        return found

    def summary(self) -> str:
        """What happened, for a failure report."""
        lines = []
        for r in self.records:
            lines.append(f"{r.at:%m-%d %H:%M:%S} healthy={r.healthy} codes={r.codes} new={r.new}")
            lines += ["    " + o.replace("\n", "\n    ") for o in r.outputs if o.strip()]
        lines.append("ledger:")
        if self.repo.ledger.exists():
            text = self.repo.ledger.read_text(errors="replace")
            lines += ["    " + line for line in text.splitlines()]
        return "\n".join(lines)


def simulate(scenario: Scenario) -> set[str]:
    """Run a scenario and check the invariants; on failure, the story is in the message.

    Returns what the scenario exercised (labels for hypothesis' statistics).
    """
    with Simulation(scenario) as sim:
        try:
            sim.run()
            sim.check()
            return sim.events()
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n\n--- what happened ---\n{sim.summary()}") from None
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"a run hung: {exc}\n\n{sim.summary()}") from None
