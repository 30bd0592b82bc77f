"""`crosspost doctor`: is everything in place for the next runs, and does anything need a person?

Per channel: its secrets present and accepted by the platform (one read-only call each,
`Adapter.check_credentials`). The ledger: unreadable or torn lines, posts in doubt or failed.
The schedule: the next due posts, and its risks — short windows on channels without native
scheduling, and posts due after GitHub would disable the scheduled workflow (60 days without a
commit, in a public repository). Doctor never writes: not to a platform, not to the ledger.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.errors import FatalChannelError, Problem, PublishError
from pipeline.ledger import IN_DOUBT, Ledger, fold
from pipeline.model import Channel
from pipeline.native import stranded_copies
from pipeline.platforms import REGISTRY, adapter_class
from pipeline.platforms.base import redact
from pipeline.prepare import Prepared, prepare
from pipeline.risks import short_windows, span
from pipeline.settings import Settings, secret_values
from pipeline.status import FAILED, MISSED, PENDING, PostState, orphans, states

log = logging.getLogger(__name__)

#: levels of a finding, from fine to "a person must act"
OK, NOTE, WARNING, NEEDS_PERSON = "ok", "note", "warning", "needs-person"
#: GitHub disables scheduled workflows of a public repository after this long without activity
INACTIVITY_LIMIT = timedelta(days=60)
#: how many upcoming posts doctor lists
NEXT_POSTS = 5
#: how far back alert looks for missed posts
MISSED_RECENTLY = timedelta(days=7)


@dataclass(frozen=True)
class Finding:
    """One thing doctor (or alert) found: where, how serious, and what to do."""

    section: str  # channels | ledger | schedule
    level: str  # ok | note | warning | needs-person
    subject: str  # a channel name, a post key, a ledger line, ...
    message: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The `doctor --json` entry."""
        return {
            "section": self.section,
            "level": self.level,
            "subject": self.subject,
            "message": self.message,
            **self.data,
        }


@dataclass
class Report:
    """Everything doctor found, and the exit code it means."""

    now: datetime
    findings: list[Finding]
    problems: list[Problem]

    @property
    def needs_person(self) -> list[Finding]:
        """The findings a person must act on."""
        return [f for f in self.findings if f.level == NEEDS_PERSON]

    @property
    def exit_code(self) -> int:
        """1 invalid campaigns; 3 something needs a person; else 0."""
        if self.problems:
            return 1
        return 3 if self.needs_person else 0

    def as_json(self) -> dict[str, Any]:
        """`doctor --json`."""
        from pipeline.report import iso

        return {
            "now": iso(self.now),
            "exit_code": self.exit_code,
            "needs_person": len(self.needs_person),
            "problems": [str(p) for p in self.problems],
            "findings": [f.as_json() for f in self.findings],
        }


def doctor(settings: Settings, env: Mapping[str, str] | None = None) -> Report:
    """Check the channels, the ledger and the schedule of the repository at `settings.root`."""
    prepared = prepare(settings.root)
    now = settings.clock()
    findings = check_channels(prepared.repo.channels.values(), env)
    try:
        rows, torn, stranded = ledger_rows(prepared, settings.ledger, now)
    except OSError as exc:
        findings.append(
            Finding(
                "ledger",
                NEEDS_PERSON,
                str(settings.ledger),
                f"cannot read the ledger ({exc.strerror or exc}): no run can publish until it "
                "can; fix the file's permissions or restore it (never start from an empty "
                "ledger while posts are out: they would be sent again)",
            )
        )
        rows, torn, stranded = states(_planned(prepared), {}, now), [], []
    findings += ledger_findings(rows, torn, settings.ledger, now)
    findings += stranded
    findings += schedule_findings(prepared, rows, settings, now)
    return Report(now, findings, prepared.problems)


def _planned(prepared: Prepared):
    return sorted(
        [p.planned for p in prepared.posts] + prepared.cancelled, key=lambda p: (p.due_at, p.key)
    )


def ledger_rows(prepared: Prepared, path: Path, now: datetime):
    """Every planned post's state (plus ledger records of posts no longer planned), the
    ledger's torn lines, and the findings of copies stranded by a removed channel."""
    ledger = Ledger(path)
    records, torn = ledger.scan()
    histories = fold(records)
    everything = {p.key for p in prepared.plan.posts} | {p.key for p in prepared.plan.cancelled}
    rows = states(_planned(prepared), histories, now) + orphans(histories, everything)
    return rows, torn, stranded_findings(histories, prepared.repo.channels)


def stranded_findings(histories, channels) -> list[Finding]:
    """Copies in a platform's scheduler that no run can reach, because their channel is gone
    from channels.yaml: they publish at their time unless a person deletes them."""
    return [
        Finding(
            "ledger",
            NEEDS_PERSON,
            c.key,
            c.message(),
            {"key": c.key, "channel": c.channel, "remote_id": c.remote_id, "at": c.at},
        )
        for c in stranded_copies(histories, channels)
    ]


# --- channels -----------------------------------------------------------------------------------


def check_channels(channels, env: Mapping[str, str] | None = None) -> list[Finding]:
    """Each channel's secrets, and the platform's answer to one read-only call."""
    findings = []
    for channel in channels:
        findings.append(check_channel(channel, env))
        reminder = (
            adapter_class(channel.platform).setup_reminder if channel.platform in REGISTRY else None
        )
        if reminder:
            findings.append(
                Finding("channels", NOTE, channel.name, reminder, {"platform": channel.platform})
            )
    return findings


def check_channel(channel: Channel, env: Mapping[str, str] | None = None) -> Finding:
    """One channel's credentials, checked without writing anything."""

    def finding(level: str, message: str, **data) -> Finding:
        return Finding(
            "channels", level, channel.name, message, {"platform": channel.platform, **data}
        )

    if channel.platform not in REGISTRY:
        return finding(WARNING, f"crosspost cannot publish to {channel.platform} yet: not checked")
    cls = adapter_class(channel.platform)
    variables = cls.secret_variables(channel)
    try:
        adapter = cls(channel, env)
    except FatalChannelError as exc:
        return finding(NEEDS_PERSON, exc.message, variables=variables)
    try:
        account = adapter.check_credentials()
    except NotImplementedError:
        return finding(
            NOTE,
            f"secrets present ({', '.join(variables)}); crosspost has no credential check "
            f"for {channel.platform} yet",
            variables=variables,
        )
    except FatalChannelError as exc:
        return finding(NEEDS_PERSON, exc.message, variables=variables)
    except PublishError as exc:
        return finding(
            WARNING,
            f"could not check the credentials ({exc.kind}: {exc.message}); try again later",
            variables=variables,
        )
    except Exception as exc:  # a bug of ours must not hide the other channels' results
        message = redact(f"{type(exc).__name__}: {exc}", secret_values(env))
        log.debug("credential check of %s failed", channel.name, exc_info=True)
        return finding(WARNING, f"internal error while checking: {message}", variables=variables)
    finally:
        adapter.close()
    return finding(OK, f"credentials accepted: {account}", account=account, variables=variables)


# --- ledger -------------------------------------------------------------------------------------


def resolve_command(key: str) -> str:
    """The command that settles a post in doubt, once a person has looked."""
    return f"crosspost resolve {key} --published URL  (or: crosspost resolve {key} --not-sent)"


def ledger_findings(rows: list[PostState], torn, path: Path, now: datetime) -> list[Finding]:
    """Torn lines, posts in doubt, failed posts."""
    out = []
    for line, key in torn:
        out.append(
            Finding(
                "ledger",
                WARNING,
                f"{path.name}:{line}",
                f"line {line} is not a complete record and is ignored"
                + (f" (post {key})" if key else "")
                + "; a run was probably killed while writing it. If it was the outcome of a "
                "send, that post is reported in doubt",
                {"line": line, "key": key},
            )
        )
    out += attention(rows, now, missed_since=None)
    if not out:
        out.append(Finding("ledger", OK, path.name, "no post in doubt or failed, no torn line"))
    return out


def attention(rows: list[PostState], now: datetime, missed_since: datetime | None) -> list[Finding]:
    """Posts that need a person: in doubt, failed, and (when `missed_since` is given) missed
    with a due time after it."""
    out = []
    for r in rows:
        data = {"key": r.key, "channel": r.channel, "error": r.error}
        if r.state == IN_DOUBT:
            out.append(
                Finding(
                    "ledger",
                    NEEDS_PERSON,
                    r.key,
                    f"in doubt: {r.error or 'a send was started and its outcome is unknown'}. "
                    "Look on the platform, then settle it",
                    {**data, "resolve": resolve_command(r.key)},
                )
            )
        elif r.state == FAILED:
            out.append(
                Finding(
                    "ledger",
                    NEEDS_PERSON,
                    r.key,
                    f"failed: {r.error or 'unknown error'} (retried while its window is open)",
                    data,
                )
            )
        elif (
            r.state == MISSED
            and missed_since is not None
            and r.due_at is not None
            and r.due_at >= missed_since
        ):
            out.append(
                Finding("ledger", NEEDS_PERSON, r.key, f"missed: {r.error or 'never sent'}", data)
            )
    return out


# --- schedule -----------------------------------------------------------------------------------


def schedule_findings(
    prepared: Prepared, rows: list[PostState], settings: Settings, now: datetime
) -> list[Finding]:
    """The next posts, short windows ahead, and the 60-day rule."""
    from pipeline.report import iso

    upcoming = [r.planned for r in rows if r.planned is not None and r.state == PENDING]
    out = []
    for p in upcoming[:NEXT_POSTS]:
        how = "handed to the platform's scheduler" if p.channel.schedules_natively else "run"
        out.append(
            Finding(
                "schedule",
                OK,
                p.key,
                f"next: due {iso(p.due_at)}, window until {iso(p.expires_at)} ({how})",
                {"key": p.key, "due_at": iso(p.due_at), "window_end": iso(p.expires_at)},
            )
        )
    if not upcoming:
        out.append(Finding("schedule", NOTE, "plan", "no post is planned after now"))
    for p in short_windows(upcoming, settings.window_warning):
        out.append(
            Finding(
                "schedule",
                WARNING,
                p.key,
                f"a window of {span(p.expires_at - p.due_at)} on {p.channel.name}, which does not "
                "schedule natively: GitHub often starts scheduled runs hours late, so it is "
                "likely missed. Give it a longer `expires`, or trigger a run from outside at "
                f"{iso(p.due_at)} (docs/github-actions.md#runs-at-exact-times)",
                {"key": p.key, "due_at": iso(p.due_at), "window_end": iso(p.expires_at)},
            )
        )
    out += sixty_day_rule(settings.root, upcoming, now)
    return out


def last_commit(root: Path, run: Callable[..., Any] = subprocess.run) -> datetime | None:
    """The time of the last commit of the git repository holding `root` (None: no git)."""
    try:
        done = run(
            ["git", "-C", str(root), "log", "-1", "--format=%ct"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    text = done.stdout.strip()
    if done.returncode != 0 or not text.isdigit():
        return None
    return datetime.fromtimestamp(int(text), UTC)


def sixty_day_rule(root: Path, upcoming, now: datetime) -> list[Finding]:
    """Posts due after GitHub would disable the schedule of a public repository."""
    from pipeline.report import iso

    last = last_commit(root)
    if last is None:
        return [
            Finding(
                "schedule",
                NOTE,
                "60-day rule",
                "the campaigns repository is not a git repository (or has no commit): the "
                "60-day rule of GitHub's scheduled workflows was not checked",
            )
        ]
    deadline = last + INACTIVITY_LIMIT
    late = [p for p in upcoming if p.due_at >= deadline]
    if not late:
        return [
            Finding(
                "schedule",
                OK,
                "60-day rule",
                f"last commit {iso(last)}; every planned post is due before {iso(deadline)}",
                {"last_commit": iso(last), "deadline": iso(deadline)},
            )
        ]
    passed = now >= deadline
    message = (
        f"{len(late)} post(s) are due after {iso(deadline)}, 60 days after the last commit "
        f"({iso(last)}), the first {late[0].key} at {iso(late[0].due_at)}. GitHub disables "
        "the scheduled workflows of a public repository after 60 days without activity"
        + (
            ": that day has passed, so scheduled runs have probably stopped. Re-enable the "
            "workflow (Actions > publish > Enable workflow, or `gh workflow enable publish.yml`)"
            " and push a commit"
            if passed
            else ": push a commit to the default branch before then (any change, e.g. the "
            "next campaign), or re-enable the workflow when GitHub emails that it disabled it"
        )
    )
    return [
        Finding(
            "schedule",
            NEEDS_PERSON if passed else WARNING,
            "60-day rule",
            message,
            {
                "last_commit": iso(last),
                "deadline": iso(deadline),
                "posts": [p.key for p in late],
            },
        )
    ]


# --- output -------------------------------------------------------------------------------------

_TITLES = {"channels": "channels", "ledger": "ledger", "schedule": "schedule"}


def render_text(report: Report) -> str:
    """The report for people: one line per finding, grouped by section."""
    from pipeline.report import iso

    lines = [f"crosspost doctor at {iso(report.now)}"]
    for section, title in _TITLES.items():
        found = [f for f in report.findings if f.section == section]
        if not found:
            continue
        lines += ["", title]
        for f in found:
            lines.append(f"  {f.level:<12} {f.subject}: {f.message}")
            if "resolve" in f.data:
                lines.append(f"  {'':<12} {f.data['resolve']}")
    if report.problems:
        lines += [
            "",
            f"{len(report.problems)} problem(s) in the campaigns (run crosspost validate)",
        ]
    n = len(report.needs_person)
    lines += [
        "",
        f"{n} thing(s) need a person" if n else "all well: nothing needs a person",
    ]
    return "\n".join(lines) + "\n"
