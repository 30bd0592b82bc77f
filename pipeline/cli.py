"""The `crosspost` command line: each command parses, calls into pipeline/, and prints.

Here: the group, the commands that work on campaigns and posts (validate, preview, plan, diff,
run, status, resolve, daemon) and `main`. Shared options and error handling are in
pipeline/cli_base.py; init, schema, doctor and alert in pipeline/cli_ops.py.

Exit codes (DESIGN.md): 0 fine, 1 invalid campaigns/templates/channels, 2 wrong usage,
3 some posts failed or were missed. No user mistake ends in a traceback.
"""

from __future__ import annotations

import gc
import json
import logging
import signal
import sys
import threading
from pathlib import Path

import click

from pipeline.cli_base import (
    EXIT_INVALID,
    EXIT_OK,
    console,
    friendly,
    global_options,
    print_warnings,
    selection,
    selection_options,
    settings,
    write,
)
from pipeline.cli_ops import alert, doctor, init, schema
from pipeline.errors import UsageError

log = logging.getLogger("crosspost")

# --- commands ---------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@global_options
@click.version_option(package_name="crosspost")
def cli():
    """crosspost: campaign YAML -> posts in every language -> platforms, exactly once."""


@cli.command()
@global_options
@selection_options
@friendly
def validate(**kwargs):
    """Load everything, render every post and check platform limits. Touches no network."""
    from pipeline.prepare import prepare

    s = settings()
    prepared = prepare(s.root, selection(kwargs))
    problems = prepared.problems
    for problem in problems:
        click.echo(str(problem))
    print_warnings(prepared, s, err=False)
    n = len(prepared.posts)
    click.echo(
        f"{len(problems)} problem(s) in {n} post(s)"
        if problems
        else f"ok: {n} post(s) in {len(prepared.repo.campaigns)} campaign(s)",
        err=True,
    )
    sys.exit(EXIT_INVALID if problems else EXIT_OK)


@cli.command()
@global_options
@selection_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "html", "json"]),
    default="text",
    show_default=True,
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to FILE.")
@friendly
def preview(fmt, output, **kwargs):
    """Every rendered post with its time, channel and length against the limit."""
    from pipeline import report
    from pipeline.prepare import prepare

    s = settings()
    prepared = prepare(s.root, selection(kwargs))
    if fmt == "json":
        write(
            json.dumps(report.preview_json(prepared), ensure_ascii=False, indent=2) + "\n", output
        )
    elif fmt == "markdown":
        write(report.preview_markdown(prepared), output)
    elif fmt == "html":
        from pipeline.html import preview_html
        from pipeline.status import state_labels

        write(preview_html(prepared, state_labels(prepared, s.ledger, s.clock())), output)
    else:
        report.preview_text(prepared, console(output))
    for problem in prepared.repo.problems:
        click.echo(str(problem), err=True)
    print_warnings(prepared, s, err=True)
    sys.exit(EXIT_INVALID if prepared.problems else EXIT_OK)


def _date_option(value: str | None, end: bool):
    if value is None:
        return None
    from datetime import timedelta

    from pipeline.settings import parse_now

    when = parse_now(value)
    if end and len(value.strip()) == 10:  # a bare date includes that whole day
        when += timedelta(days=1)
    return when


@cli.command()
@global_options
@selection_options
@click.option("--from", "start", metavar="DATE", help="Only posts due at or after DATE.")
@click.option("--until", metavar="DATE", help="Only posts due before DATE (a date: through it).")
@click.option("--ics", type=click.Path(dir_okay=False), help="Also write an iCalendar file.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@friendly
def plan(start, until, ics, fmt, **kwargs):
    """The timeline of every planned post (past ones too) with its state."""
    from pipeline.ledger import Ledger
    from pipeline.prepare import prepare
    from pipeline.status import states

    s = settings()
    prepared = prepare(s.root, selection(kwargs))
    lo, hi = _date_option(start, False), _date_option(until, True)
    planned = sorted(
        [p.planned for p in prepared.posts] + prepared.cancelled, key=lambda p: (p.due_at, p.key)
    )
    planned = [
        p for p in planned if (lo is None or p.due_at >= lo) and (hi is None or p.due_at < hi)
    ]
    rows = states(planned, Ledger(s.ledger).read(), s.clock())
    if ics:
        from pipeline.calendar import write_ics

        by_key = {p.key: p for p in prepared.posts}
        write_ics(
            [by_key[p.key] for p in planned if p.key in by_key],
            Path(ics),
            cancelled=[p for p in planned if p.cancelled],
        )
    if fmt == "json":
        now = s.clock()
        posts = [r.as_plan_json(now) for r in rows]
        click.echo(json.dumps({"posts": posts}, ensure_ascii=False, indent=2))
    else:
        from pipeline.costs import bills
        from pipeline.status import plan_table

        plan_table(rows, console())
        # What the listed posts cost where platforms bill per post (X): in all, and still to send.
        texts = {p.key: (p.planned.platform, p.parts) for p in prepared.posts}
        done = {"published", "scheduled", "missed", "cancelled"}
        for label, chosen in (
            ("in all", rows),
            ("still to send", [r for r in rows if r.state not in done]),
        ):
            parts = [
                (texts[r.key][0], t) for r in chosen if r.key in texts for t in texts[r.key][1]
            ]
            for bill in bills(parts):
                click.echo(f"expected cost: {bill.line(label)}")
    for problem in prepared.problems:
        click.echo(str(problem), err=True)
    print_warnings(prepared, s, err=True)
    sys.exit(EXIT_INVALID if prepared.problems else EXIT_OK)


@cli.command()
@global_options
@selection_options
@click.option(
    "--dry-run", is_flag=True, help="Show what would be published now; send nothing, write nothing."
)
@click.option(
    "--summary",
    type=click.Path(dir_okay=False),
    help="Append a Markdown report of this run to FILE (e.g. $GITHUB_STEP_SUMMARY).",
)
@friendly
def run(dry_run, summary, **kwargs):
    """Publish everything due now, exactly once, and record it in the ledger."""
    from pipeline.publish import run as run_once

    s = settings()
    stop = threading.Event()
    # SIGTERM (a CI timeout, a service manager) finishes the post in flight and records it.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    outcome = run_once(s, selection(kwargs), dry_run=dry_run, echo=click.echo, stop=stop)
    if summary:
        from pipeline.status import run_markdown

        with open(summary, "a", encoding="utf-8") as f:
            f.write(run_markdown(outcome, dry_run))
    sys.exit(outcome.exit_code)


@cli.command()
@global_options
@selection_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see DESIGN.md).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default=None)
@friendly
def status(as_json, fmt, **kwargs):
    """Every planned post with its state from the ledger, per campaign and channel."""
    from pipeline.status import status_report

    s = settings()
    fmt = "json" if as_json else (fmt or "text")
    status_report(s, selection(kwargs), fmt, console(), click.echo)
    sys.exit(EXIT_OK)


@cli.command()
@global_options
@click.argument("key")
@click.option("--published", metavar="URL|ID", help="The post is on the platform, here.")
@click.option(
    "--not-sent",
    is_flag=True,
    help="The post is not on the platform: send it again while its window is open.",
)
@friendly
def resolve(key, published, not_sent):
    """Settle a post left in doubt, after looking on the platform yourself."""
    from pipeline.ledger import Ledger, resolve_by_hand

    if bool(published) == bool(not_sent):
        raise UsageError("say either --published URL|ID or --not-sent")
    record = resolve_by_hand(Ledger(settings().ledger), key, published)
    click.echo(f"{key}: recorded {record['state']} ({record['error']})")


@cli.command()
@global_options
@selection_options
@click.option(
    "--every",
    default="1m",
    show_default=True,
    metavar="DURATION",
    help="How often to run (e.g. 30s, 1m, 5m).",
)
@friendly
def daemon(every, **kwargs):
    """Run `run` on a schedule until SIGTERM or SIGINT."""
    from pipeline.daemon import serve
    from pipeline.model import Duration

    try:
        interval = Duration.parse(every)
    except ValueError as exc:
        raise UsageError(f"--every: {exc}") from None
    seconds = interval.days * 86400 + interval.exact.total_seconds()
    if seconds < 1:
        raise UsageError("--every must be at least 1s")
    sys.exit(serve(settings(), selection(kwargs), seconds, click.echo))


@cli.command()
@global_options
@selection_options
@click.option("--base", required=True, metavar="REF", help="The git revision to compare with.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to FILE.")
@friendly
def diff(base, fmt, output, **kwargs):
    """Posts added, changed and removed between git revision REF and the working tree."""
    from pipeline.diff import diff_posts, render_diff

    s = settings()
    result = diff_posts(s.root, base, selection(kwargs), ledger=s.ledger)
    write(render_diff(result, fmt), output)
    for problem in result.problems:
        click.echo(str(problem), err=True)
    sys.exit(EXIT_INVALID if result.problems else EXIT_OK)


# The operations commands (pipeline/cli_ops.py); `--help` lists every command by name.
for _command in (init, schema, doctor, alert):
    cli.add_command(_command)


def main() -> None:
    """Console entry point."""
    try:
        cli(prog_name="crosspost")
    except KeyboardInterrupt:
        sys.exit(130)
    except SystemExit:
        # Every command ends here. On its way out Python collects garbage over every object
        # still alive (pydantic's schemas, Jinja's templates, Babel's locale data...): ~40 ms
        # of a 0.3 s `validate`, freeing nothing a finished process needs. Frozen objects are
        # left out of those collections; they are still released, and atexit still runs.
        gc.freeze()
        raise
    except Exception as exc:  # a bug of ours: say so without a traceback that could leak
        from pipeline.platforms.base import redact
        from pipeline.settings import secret_values

        log.debug("internal error", exc_info=True)
        message = redact(f"{type(exc).__name__}: {exc}", secret_values())
        click.echo(
            f"crosspost: internal error ({message}); run with -v for details, and please report it",
            err=True,
        )
        sys.exit(70)
