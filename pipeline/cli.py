"""The `crosspost` command line: each command parses, calls into pipeline/, and prints.

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
from collections.abc import Callable
from functools import wraps
from pathlib import Path

import click

from pipeline.errors import CrosspostError, LedgerBusy, ProblemList, UsageError

log = logging.getLogger("crosspost")

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_POSTS = 0, 1, 2, 3


# --- global options, accepted before or after the command name -------------------------------


def _remember(ctx: click.Context, param: click.Parameter, value):
    if value not in (None, False):
        ctx.find_root().meta[f"crosspost.{param.name}"] = value
    return value


def global_options(f: Callable) -> Callable:
    """--root, --now, --ledger and -v, stored once for the whole command line."""
    opts = [
        click.option(
            "--root",
            type=click.Path(file_okay=False),
            expose_value=False,
            callback=_remember,
            help="The campaigns repository (default: .).",
        ),
        click.option(
            "--now",
            metavar="ISO-8601",
            expose_value=False,
            callback=_remember,
            help="Pretend it is this time (env CROSSPOST_NOW). No offset means UTC.",
        ),
        click.option(
            "--ledger",
            type=click.Path(dir_okay=False),
            expose_value=False,
            callback=_remember,
            help="The ledger file (default: state/ledger.jsonl; env CROSSPOST_LEDGER).",
        ),
        click.option(
            "-v",
            "--verbose",
            is_flag=True,
            expose_value=False,
            callback=_remember,
            help="Debug logging (env CROSSPOST_LOG_LEVEL).",
        ),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def settings():
    """The resolved global settings of this command line."""
    from pipeline.settings import resolve, setup_logging

    meta = click.get_current_context().find_root().meta
    s = resolve(
        meta.get("crosspost.root"),
        meta.get("crosspost.now"),
        meta.get("crosspost.ledger"),
        bool(meta.get("crosspost.verbose")),
    )
    setup_logging(s.log_level)
    return s


def selection_options(f: Callable) -> Callable:
    """--campaign, --event, --channel, --language: narrow the posts a command works on."""
    for name in ("language", "channel", "event", "campaign"):
        f = click.option(f"--{name}", metavar=name.upper(), help=f"Only this {name}.")(f)
    return f


def _selection(kwargs):
    from pipeline.prepare import Selection

    return Selection(**{k: kwargs.pop(k) for k in ("campaign", "event", "channel", "language")})


def friendly(f: Callable) -> Callable:
    """Turn crosspost's own errors into messages and exit codes instead of tracebacks."""

    @wraps(f)
    def wrapper(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except ProblemList as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            sys.exit(EXIT_INVALID)
        except UsageError as exc:
            raise click.UsageError(str(exc)) from None
        except LedgerBusy as exc:
            click.echo(f"crosspost: {exc}", err=True)
            sys.exit(EXIT_POSTS)
        except CrosspostError as exc:
            click.echo(f"crosspost: {exc}", err=True)
            sys.exit(EXIT_INVALID)
        except OSError as exc:
            click.echo(
                f"crosspost: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), err=True
            )
            sys.exit(EXIT_INVALID)

    return wrapper


def _console(output: str | None = None):
    from rich.console import Console

    if output:
        return Console(
            file=open(output, "w", encoding="utf-8"),
            width=100,
            force_terminal=False,
            color_system=None,
        )
    return Console(highlight=False, soft_wrap=False)


def _write(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=not text.endswith("\n"))


def _print_warnings(prepared, s, err: bool) -> None:
    """The located warnings (short windows, risky threads): printed, never an exit code."""
    from pipeline.risks import warnings

    for warning in warnings(prepared.repo, [p.planned for p in prepared.posts], s.window_warning):
        click.echo(str(warning), err=err)


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
    prepared = prepare(s.root, _selection(kwargs))
    problems = prepared.problems
    for problem in problems:
        click.echo(str(problem))
    _print_warnings(prepared, s, err=False)
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
    prepared = prepare(s.root, _selection(kwargs))
    if fmt == "json":
        _write(
            json.dumps(report.preview_json(prepared), ensure_ascii=False, indent=2) + "\n", output
        )
    elif fmt == "markdown":
        _write(report.preview_markdown(prepared), output)
    elif fmt == "html":
        from pipeline.html import preview_html
        from pipeline.status import state_labels

        _write(preview_html(prepared, state_labels(prepared, s.ledger, s.clock())), output)
    else:
        report.preview_text(prepared, _console(output))
    for problem in prepared.repo.problems:
        click.echo(str(problem), err=True)
    _print_warnings(prepared, s, err=True)
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
    prepared = prepare(s.root, _selection(kwargs))
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

        plan_table(rows, _console())
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
    _print_warnings(prepared, s, err=True)
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
    outcome = run_once(s, _selection(kwargs), dry_run=dry_run, echo=click.echo, stop=stop)
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
    status_report(s, _selection(kwargs), fmt, _console(), click.echo)
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
    sys.exit(serve(settings(), _selection(kwargs), seconds, click.echo))


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
    result = diff_posts(s.root, base, _selection(kwargs), ledger=s.ledger)
    _write(render_diff(result, fmt), output)
    for problem in result.problems:
        click.echo(str(problem), err=True)
    sys.exit(EXIT_INVALID if result.problems else EXIT_OK)


@cli.command()
@global_options
@click.argument("directory", type=click.Path(file_okay=False))
@click.option(
    "--languages",
    default="en",
    show_default=True,
    metavar="CODES",
    help="Languages of the sample's channels and templates, comma-separated (e.g. en,tr).",
)
@click.option(
    "--action",
    metavar="OWNER/REPO@REF",
    help="crosspost's GitHub action for the workflows (default: a placeholder to replace).",
)
@friendly
def init(directory, languages, action):
    """Write a new campaigns repository in DIRECTORY (new or empty) that validates as it is."""
    from pipeline import init as new

    when = settings().clock()
    chosen = new.Action.parse(action or new.DEFAULT_ACTION)
    written = new.init(Path(directory), new.parse_languages(languages), chosen, when)
    click.echo(f"wrote {len(written)} files in {directory}:", err=True)
    for path in written:
        click.echo(f"  {path}", err=True)
    if chosen.placeholder:
        click.echo(
            f"next: replace {chosen} in .github/workflows/*.yml and README.md with where "
            "crosspost is hosted (or run init again with --action OWNER/REPO@REF)",
            err=True,
        )
    click.echo(f"then: crosspost validate --root {directory}", err=True)


@cli.command()
@click.argument("kind", type=click.Choice(["campaign", "channels"]), default="campaign")
def schema(kind):
    """Print the JSON Schema (draft 2020-12) of campaign files (default) or of channels.yaml."""
    from pipeline.schema import dumps

    click.echo(dumps(kind), nl=False)


@cli.command()
@global_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@friendly
def doctor(as_json):
    """Check channels (one read-only call each), the ledger and the schedule's risks.

    Exit 0 when all is well, 3 when something needs a person, 1 for invalid campaigns.
    Never publishes.
    """
    from pipeline.doctor import doctor as examine
    from pipeline.doctor import render_text

    report = examine(settings())
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_text(report), nl=False)
    for problem in report.problems:
        click.echo(str(problem), err=True)
    sys.exit(report.exit_code)


@cli.command()
@global_options
@click.option(
    "--github-issue",
    is_flag=True,
    help="Keep one issue labelled `crosspost` open in $GITHUB_REPOSITORY while anything needs "
    "a person (API $GITHUB_API_URL, token $GITHUB_TOKEN with issues: write).",
)
@click.option(
    "--check-credentials",
    is_flag=True,
    help="Also check every channel's credentials (one read-only call each, as doctor does).",
)
@friendly
def alert(github_issue, check_credentials):
    """Open, update or close the one GitHub issue that lists what needs a person."""
    from pipeline.alert import alert as keep_issue

    if not github_issue:
        raise UsageError("say where to alert: --github-issue (the only place for now)")
    result = keep_issue(settings(), check_credentials)
    where = f" #{result.number}" + (f" {result.url}" if result.url else "") if result.number else ""
    messages = {
        "nothing": "nothing needs a person; no issue is open",
        "opened": f"opened issue{where}: {result.items} thing(s) need a person",
        "updated": f"updated issue{where}: {result.items} thing(s) need a person",
        "unchanged": f"issue{where} unchanged: {result.items} thing(s) need a person",
        "closed": f"closed issue{where}: nothing needs a person any more",
    }
    click.echo(f"alert: {messages[result.action]}")


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
