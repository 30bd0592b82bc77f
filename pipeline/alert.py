"""`crosspost alert --github-issue`: one open GitHub issue while anything needs a person.

What needs a person: posts in doubt (each with the `crosspost resolve` command that settles
it), failed posts, posts missed in the last 7 days, channels whose credentials failed (from the
ledger, and from doctor's checks with `--check-credentials`), campaigns that do not validate,
and a schedule GitHub has probably disabled (the 60-day rule). The issue, labelled `crosspost`,
is created (with the label) when something comes up, its body edited only when the list
changes, and closed with a comment once all is clear. Never a second open issue.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.doctor import (
    MISSED_RECENTLY,
    NEEDS_PERSON,
    Finding,
    attention,
    check_channels,
    ledger_rows,
    resolve_command,
    sixty_day_rule,
)
from pipeline.github import GitHub
from pipeline.platforms.base import redact
from pipeline.prepare import prepare
from pipeline.settings import Settings, secret_values
from pipeline.status import FAILED, PENDING

LABEL = "crosspost"
LABEL_COLOR = "d93f0b"
LABEL_DESCRIPTION = "crosspost needs a person (kept up to date by crosspost alert)"
TITLE = "crosspost needs a person"
#: first line of the body: says the issue is crosspost's own
MARKER = "<!-- crosspost-alert -->"
#: GitHub refuses issue bodies over 65,536 characters
MAX_BODY = 65_536
#: longest text of one listed item
MAX_ITEM = 600
DOCS = "docs/github-actions.md#the-alert-issue"


@dataclass(frozen=True)
class AlertResult:
    """What `alert` did: opened, updated, unchanged, closed or nothing; and the issue."""

    action: str
    number: int | None
    url: str | None
    items: int


@dataclass
class Needs:
    """What needs a person: findings, problems of invalid campaigns, and (with
    `--check-credentials`) channel name -> what the platform said today."""

    items: list[Finding]
    problems: list[str]
    checked: dict[str, str] | None
    #: channels the check could not reach (network trouble): their earlier result stands
    unsure: frozenset[str] = frozenset()


def needs_person(
    settings: Settings, check_credentials: bool, env: Mapping[str, str] | None = None
) -> Needs:
    """Everything that needs a person now (the credentials only when checked)."""
    prepared = prepare(settings.root)
    now = settings.clock()
    rows, _, stranded = ledger_rows(prepared, settings.ledger, now)
    items = attention(rows, now, missed_since=now - MISSED_RECENTLY) + stranded
    items += [f for _, f in sorted(_credential_failures(rows).items())]
    upcoming = [r.planned for r in rows if r.planned is not None and r.state == PENDING]
    items += [f for f in sixty_day_rule(settings.root, upcoming, now) if f.level == NEEDS_PERSON]
    checked, unsure = None, frozenset()
    if check_credentials:
        found = check_channels(prepared.repo.channels.values(), env)
        checked = {f.subject: f.message for f in found if f.level == NEEDS_PERSON}
        unsure = frozenset(f.subject for f in found if "could not check" in f.message)
    return Needs(items, [str(p) for p in prepared.problems], checked, unsure)


#: the hidden line of the body that remembers the last credential check between runs
_CHECKED = re.compile(r"^<!-- crosspost-credentials (\{.*\}) -->$", re.M)


def carried_over(body: str | None) -> dict[str, str]:
    """The failed credential checks recorded in an issue body (the daily check's result, kept
    by the publish runs' alerts, which do not check credentials themselves)."""
    match = _CHECKED.search(body or "")
    if not match:
        return {}
    try:
        data = json.loads(match.group(1))
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def with_checked(items: list[Finding], checked: dict[str, str]) -> list[Finding]:
    """`items` with the credential check's failures; they replace the ledger's word on the
    same channel (the platform's answer is the newer one)."""
    kept = [f for f in items if not (f.section == "channels" and f.subject in checked)]
    return kept + [
        Finding("channels", NEEDS_PERSON, name, message, {"checked": True})
        for name, message in sorted(checked.items())
    ]


def _credential_failures(rows) -> dict[str, Finding]:
    """Channels whose posts failed for a reason only a person can fix (a token, a role)."""
    out = {}
    for r in rows:
        if r.state == FAILED and (r.error or "").startswith("fatal:") and r.channel not in out:
            out[r.channel] = Finding(
                "channels",
                NEEDS_PERSON,
                r.channel,
                r.error.removeprefix("fatal:").strip(),
                {"channel": r.channel, "platform": r.platform},
            )
    return out


def render_body(items: list[Finding], problems: list[str], limit: int = MAX_BODY) -> str:
    """The issue body: a deterministic function of the list (no clock), so that an unchanged
    list leaves the issue alone; summarised until it fits GitHub's limit."""
    for cap in (None, 200, 100, 50, 20, 10, 5, 2, 1):
        body = _body(items, problems, cap)
        if len(body) <= limit:
            return body
    return body[: limit - 200] + "\n\n… (cut to fit GitHub's limit: `crosspost doctor` lists all)\n"


def _body(items: list[Finding], problems: list[str], cap: int | None) -> str:
    total = len(items) + (1 if problems else 0)
    lines = [
        MARKER,
        f"crosspost needs a person for **{total}** thing{'s' if total != 1 else ''}. This issue "
        "is kept up to date by `crosspost alert` after every publish run, and closes itself "
        f"once all is clear. How to settle each kind: {DOCS} in crosspost's documentation.",
    ]

    def section(title: str, chosen: list[Finding], what: str, render) -> None:
        if not chosen:
            return
        lines.extend(
            ["", f"### {title} ({len(chosen)})", "", what, ""]
            if what
            else ["", f"### {title} ({len(chosen)})", ""]
        )
        shown = chosen if cap is None else chosen[:cap]
        for f in shown:
            lines.extend(render(f))
        if len(shown) < len(chosen):
            lines.append(f"- … and {len(chosen) - len(shown)} more (`crosspost doctor` lists all)")

    def short(text: str) -> str:
        text = " ".join(text.split())
        return text if len(text) <= MAX_ITEM else text[: MAX_ITEM - 1] + "…"

    def post(f: Finding) -> list[str]:
        return [f"- `{f.subject}`: {short(f.message)}"]

    doubt = [f for f in items if "resolve" in f.data]
    section(
        "Posts in doubt",
        doubt,
        "A send was started and nobody knows whether it arrived. Look on the platform, then "
        "record what you found:",
        lambda f: [
            f"- `{f.subject}`: {short(f.message)}",
            f"  - on the platform: `crosspost resolve {f.subject} --published URL`",
            f"  - not there: `crosspost resolve {f.subject} --not-sent`",
        ],
    )
    failed = [f for f in items if f.message.startswith("failed:") and f.section == "ledger"]
    section("Failed posts", failed, "Retried by every run while their window is open.", post)
    missed = [f for f in items if f.message.startswith("missed:")]
    section(
        "Posts missed in the last 7 days",
        missed,
        "Their window closed before they could go out: post them by hand if they still matter.",
        post,
    )
    gone = [f for f in items if "remote_id" in f.data]
    section(
        "Copies waiting for a channel removed from channels.yaml",
        gone,
        "No run can reach them any more; they publish at their time. Delete each in the "
        "platform's planner, or restore its channel:",
        post,
    )
    channels = [f for f in items if f.section == "channels"]
    section(
        "Channels whose credentials failed",
        channels,
        "",
        lambda f: [f"- **{f.subject}**: {short(f.message)}"],
    )
    schedule = [f for f in items if f.section == "schedule"]
    section("Schedule", schedule, "", lambda f: [f"- {short(f.message)}"])
    if problems:
        shown = problems if cap is None else problems[: max(cap, 1)]
        lines += [
            "",
            f"### Campaigns that do not validate ({len(problems)} problem(s))",
            "",
            "An invalid campaign publishes nothing until it is fixed (`crosspost validate`):",
            "",
            *[f"- `{short(p)}`" for p in shown],
        ]
        if len(shown) < len(problems):
            lines.append(f"- … and {len(problems) - len(shown)} more")
    checked = {f.subject: f.message for f in items if f.data.get("checked")}
    if checked:
        safe = {k: v.replace("--", "- -") for k, v in checked.items()}
        lines += ["", f"<!-- crosspost-credentials {json.dumps(safe, sort_keys=True)} -->"]
    return "\n".join(lines) + "\n"


def alert(
    settings: Settings,
    check_credentials: bool = False,
    env: Mapping[str, str] | None = None,
    github: GitHub | None = None,
) -> AlertResult:
    """Bring the one `crosspost` issue in line with what needs a person now."""
    needs = needs_person(settings, check_credentials, env)
    source = os.environ if env is None else env
    secrets = [*secret_values(env), *[source.get("GITHUB_TOKEN") or ""]]
    gh = github or GitHub.from_env(env)
    try:
        issues = gh.open_issues(LABEL)
        before = carried_over(issues[0].get("body") if issues else None)
        checked = before if needs.checked is None else dict(needs.checked)
        for name in needs.unsure & set(before):
            checked[name] = before[name]
        items = with_checked(needs.items, checked)
        count = len(items) + (1 if needs.problems else 0)
        body = redact(render_body(items, needs.problems), secrets) if count else None
        return _apply(gh, issues, body, count, settings.clock())
    finally:
        if github is None:
            gh.close()


def _apply(gh: GitHub, issues: list[dict], body: str | None, count: int, now) -> AlertResult:
    from pipeline.report import iso

    issue, extras = (issues[0], issues[1:]) if issues else (None, [])
    for extra in extras:  # a second one (made by hand, or by a listing that lagged) goes
        gh.comment(extra["number"], f"Closed: crosspost keeps its list in #{issue['number']}.")
        gh.edit_issue(extra["number"], state="closed", state_reason="not_planned")
    if body is None:
        if issue is None:
            return AlertResult("nothing", None, None, 0)
        gh.comment(
            issue["number"],
            f"All clear at {iso(now)}: nothing needs a person any more. crosspost opens a new "
            "issue if something comes up.",
        )
        gh.edit_issue(issue["number"], state="closed", state_reason="completed")
        return AlertResult("closed", issue["number"], issue.get("html_url"), 0)
    if issue is None:
        gh.ensure_label(LABEL, LABEL_COLOR, LABEL_DESCRIPTION)
        issue = gh.create_issue(TITLE, body, [LABEL])
        # A listing right after a create may miss it: look again, keep the oldest.
        again = gh.open_issues(LABEL)
        if again and again[0]["number"] != issue["number"]:
            gh.comment(
                issue["number"], f"Closed: crosspost keeps its list in #{again[0]['number']}."
            )
            gh.edit_issue(issue["number"], state="closed", state_reason="not_planned")
            return _apply(gh, gh.open_issues(LABEL), body, count, now)
        return AlertResult("opened", issue["number"], issue.get("html_url"), count)
    if (issue.get("body") or "").replace("\r\n", "\n") == body:
        return AlertResult("unchanged", issue["number"], issue.get("html_url"), count)
    gh.edit_issue(issue["number"], body=body)
    return AlertResult("updated", issue["number"], issue.get("html_url"), count)


__all__ = ["AlertResult", "alert", "needs_person", "render_body", "resolve_command"]
