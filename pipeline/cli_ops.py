"""Operations commands: set up a campaigns repository (init, schema), look after it (doctor, alert).

Defined here as plain commands; pipeline/cli.py adds them to the `crosspost` group.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from pipeline.cli_base import friendly, global_options, settings
from pipeline.errors import UsageError


@click.command()
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


@click.command()
@click.argument("kind", type=click.Choice(["campaign", "channels"]), default="campaign")
def schema(kind):
    """Print the JSON Schema (draft 2020-12) of campaign files (default) or of channels.yaml."""
    from pipeline.schema import dumps

    click.echo(dumps(kind), nl=False)


@click.command()
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


@click.command()
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
