"""What every `crosspost` command shares: global options, settings, exit codes, friendly errors.

Exit codes (DESIGN.md): 0 fine, 1 invalid campaigns/templates/channels, 2 wrong usage,
3 some posts failed or were missed. No user mistake ends in a traceback: `friendly` turns
crosspost's own errors into messages and exit codes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path

import click

from pipeline.errors import CrosspostError, LedgerBusy, ProblemList, UsageError

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


def selection(kwargs):
    """The Selection given by the options of `selection_options` (taken out of `kwargs`)."""
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


def console(output: str | None = None):
    """A rich console on the terminal, or plain text into `output`."""
    from rich.console import Console

    if output:
        return Console(
            file=open(output, "w", encoding="utf-8"),
            width=100,
            force_terminal=False,
            color_system=None,
        )
    return Console(highlight=False, soft_wrap=False)


def write(text: str, output: str | None) -> None:
    """`text` into the file `output`, or on stdout."""
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=not text.endswith("\n"))


def print_warnings(prepared, s, err: bool) -> None:
    """The located warnings (short windows, risky threads): printed, never an exit code."""
    from pipeline.risks import warnings

    for warning in warnings(prepared.repo, [p.planned for p in prepared.posts], s.window_warning):
        click.echo(str(warning), err=err)
