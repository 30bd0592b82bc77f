"""`crosspost diff --base REF`: what a change does to the posts.

Both trees go through the same load -> plan -> render -> check; posts are matched by key and
compared by text, time and image. The base revision is taken with `git archive`, so untracked
files of the working tree never leak into it. Where the ledger is at hand, changed and removed
posts whose copy waits in a platform's scheduler are marked: the next run updates or deletes it.
"""

from __future__ import annotations

import json
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

from pipeline.errors import Problem, UsageError
from pipeline.prepare import Selection, prepare
from pipeline.render import RenderedPost

MARKER = "<!-- crosspost-preview -->"


@dataclass
class DiffResult:
    """Posts added, changed (old, new) and removed, plus the problems of the working tree."""

    base: str
    added: list[RenderedPost] = field(default_factory=list)
    changed: list[tuple[RenderedPost, RenderedPost]] = field(default_factory=list)
    removed: list[RenderedPost] = field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    #: key -> time (ISO) of the copy waiting in the platform's scheduler, from the ledger
    scheduled: dict[str, str] = field(default_factory=dict)

    def copy_note(self, key: str, removed: bool = False) -> str | None:
        """What the next run does to this post's scheduled copy, if it has one."""
        at = self.scheduled.get(key)
        if at is None:
            return None
        what = "deletes" if removed else "updates"
        return f"scheduled on the platform for {at}: the next run {what} that copy"


def _signature(post: RenderedPost) -> tuple:
    p = post.planned
    return (post.text, tuple(post.parts), p.due_at, p.expires_at, p.image, p.image_alt)


def diff_posts(
    root: Path, base: str, selection: Selection = Selection(), ledger: Path | None = None
) -> DiffResult:
    """Compare every rendered post of revision `base` with the working tree at `root`."""
    new = prepare(root, selection)
    with tempfile.TemporaryDirectory(prefix="crosspost-base-") as tmp:
        old = prepare(_export(root, base, Path(tmp)), selection)
    result = DiffResult(base, problems=new.problems)
    old_posts = {p.key: p for p in old.posts}
    new_posts = {p.key: p for p in new.posts}
    for key, post in new_posts.items():
        if key not in old_posts:
            result.added.append(post)
        elif _signature(old_posts[key]) != _signature(post):
            result.changed.append((old_posts[key], post))
        else:
            result.unchanged += 1
    result.removed = [p for k, p in old_posts.items() if k not in new_posts]
    if ledger is not None:
        from pipeline.ledger import Ledger

        histories = Ledger(ledger).read()
        touched = [n.key for _, n in result.changed] + [p.key for p in result.removed]
        for key in touched:
            hist = histories.get(key)
            if hist is not None and hist.copy and not hist.published:
                result.scheduled[key] = hist.copy["at"]
    return result


def _git(root: Path, *args: str) -> bytes:
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, check=False, timeout=120
        )
    except FileNotFoundError:
        raise UsageError("crosspost diff needs git on the PATH") from None
    if proc.returncode:
        message = proc.stderr.decode(errors="replace").strip().splitlines()
        raise UsageError(f"git {args[0]}: {message[-1] if message else 'failed'}")
    return proc.stdout


def _export(root: Path, base: str, into: Path) -> Path:
    """Write the repository as it is at `base` into `into`; the root of it there."""
    prefix = _git(root, "rev-parse", "--show-prefix").decode().strip()
    try:
        _git(root, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    except UsageError:
        raise UsageError(f"--base {base!r} is not a git revision of {root}") from None
    archive = _git(root, "archive", "--format=tar", base, *([prefix] if prefix else []))
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    exported = into / prefix
    exported.mkdir(parents=True, exist_ok=True)
    return exported


# --- output -------------------------------------------------------------------------------------


def render_diff(result: DiffResult, fmt: str) -> str:
    """The diff as text, markdown or json."""
    if fmt == "json":
        return json.dumps(_as_json(result), ensure_ascii=False, indent=2) + "\n"
    if fmt == "markdown":
        return _markdown(result)
    return _text(result)


def _as_json(result: DiffResult) -> dict[str, Any]:
    from pipeline.report import post_json

    removed = {p.key for p in result.removed}
    return {
        "base": result.base,
        "added": [post_json(p) for p in result.added],
        "changed": [{"old": post_json(o), "new": post_json(n)} for o, n in result.changed],
        "removed": [post_json(p) for p in result.removed],
        "scheduled": [
            {"key": key, "scheduled_at": at, "action": "delete" if key in removed else "update"}
            for key, at in sorted(result.scheduled.items())
        ],
        "unchanged": result.unchanged,
        "problems": [str(p) for p in result.problems],
    }


def _summary(result: DiffResult) -> str:
    return (
        f"{len(result.added)} added, {len(result.changed)} changed, "
        f"{len(result.removed)} removed, {result.unchanged} unchanged "
        f"(compared with {result.base})"
    )


def _when(post: RenderedPost) -> str:
    from pipeline.report import local

    return local(post.planned.due_at, post.planned.campaign.zone)


def _text(result: DiffResult) -> str:
    lines = [_summary(result), ""]
    for post in result.added:
        lines += [f"+ {post.key}  {_when(post)}", *(f"    {t}" for t in post.text.splitlines()), ""]
    for old, new in result.changed:
        lines.append(f"~ {new.key}")
        if note := result.copy_note(new.key):
            lines.append(f"    {note}")
        if old.planned.due_at != new.planned.due_at:
            lines.append(f"    time: {_when(old)} -> {_when(new)}")
        if old.text != new.text:
            lines += [
                *(f"  - {t}" for t in old.text.splitlines()),
                *(f"  + {t}" for t in new.text.splitlines()),
            ]
        lines.append("")
    for post in result.removed:
        note = result.copy_note(post.key, removed=True)
        lines += [f"- {post.key}  {_when(post)}", *([f"    {note}"] if note else []), ""]
    lines += [f"! {p}" for p in result.problems]
    return "\n".join(lines).rstrip() + "\n"


def _group(post: RenderedPost) -> str:
    p = post.planned
    return f"{p.campaign.id} · " + (f"event `{p.event.id}`" if p.event else "one-off posts")


def _markdown(result: DiffResult) -> str:
    from pipeline.report import post_markdown

    lines = [MARKER, "## crosspost: what this change does to the posts", "", _summary(result), ""]
    if result.problems:
        lines += ["### ❌ Problems", ""]
        lines += [f"- `{p}`" for p in result.problems]
        lines.append("")
    sections = [
        ("➕ Added", [(None, p) for p in result.added]),
        ("✏️ Changed", result.changed),
        ("➖ Removed", [(None, p) for p in result.removed]),
    ]
    for title, pairs in sections:
        if not pairs:
            continue
        lines += [f"### {title} ({len(pairs)})", ""]
        current = None
        for old, new in sorted(
            pairs, key=lambda pair: (_group(pair[1]), pair[1].planned.due_at, pair[1].key)
        ):
            if _group(new) != current:
                current = _group(new)
                lines += [f"#### {current}", ""]
            note = result.copy_note(new.key, removed=title.endswith("Removed"))
            if note:
                lines.append(f"📅 {note}")
            if old is None:
                lines += post_markdown(new)
                continue
            if old.planned.due_at != new.planned.due_at:
                lines.append(f"🕓 time: **{_when(old)}** → **{_when(new)}**")
            if old.text != new.text:
                lines += [
                    "<details><summary>old text</summary>",
                    "",
                    "```",
                    old.text,
                    "```",
                    "",
                    "</details>",
                    "",
                ]
            lines += post_markdown(new)
    if not (result.added or result.changed or result.removed):
        lines.append("No post changes.")
    return "\n".join(lines).rstrip() + "\n"
