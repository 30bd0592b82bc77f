"""Shared fixtures: a campaigns repository built in a temporary folder, a fixed clock,
a temporary ledger, and the real CLI run in a subprocess or in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings

from tests.environment import cli_env  # also used by benchmarks/run.py, without pytest

pytest_plugins = ["tests.fakes.fixtures"]

# In CI, property tests run the same examples every time (a red CI must be reproducible);
# on a developer's machine they explore new ones, and each failure becomes an @example.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO = Path(__file__).resolve().parents[1]

# Tests never read or write the user's cache of X lengths (pipeline/platforms/xtext.py).
os.environ["CROSSPOST_CACHE_DIR"] = tempfile.mkdtemp(prefix="crosspost-test-cache-")
# Bluesky link cards fetch the linked page: tests never reach the internet (the card tests
# switch them on for pages served by the fake on 127.0.0.1).
os.environ["CROSSPOST_LINK_CARDS"] = "0"

#: a valid PNG of 1x1 pixel
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082"
)

CHANNELS = """\
facebook-en: {platform: facebook, language: en, page_id: "1001"}
facebook-tr: {platform: facebook, language: tr, page_id: "1002"}
x-en: {platform: x, language: en, thread: true}
"""

CAMPAIGN = """\
id: spring
name: Spring talks
timezone: Europe/London
channels: [facebook-en, facebook-tr, x-en]
vars:
  url: https://example.org/talks
moments:
  - {id: announce, before: 7d, template: announce, image: true}
  - {id: live, before: 15m, template: live, expires: 30m}
events:
  - id: first
    starts: "2030-04-10T16:00"
    ends: "2030-04-10T18:00"
    title: {en: "Seeds of change", tr: "Değişimin tohumları"}
    show_timezones: [Europe/London, Europe/Istanbul]
    image: media/first.png
    image_alt: {en: "A seedling", tr: "Bir fide"}
"""

TEMPLATES = {
    "announce/en.j2": "{{ event.title }}: {{ event.starts | date }} at "
    "{% for z in event.show_timezones %}{{ event | timerange(tz=z) }}{% if not loop.last %}"
    " / {% endif %}{% endfor %}. {{ vars.url | utm }}",
    "announce/tr.j2": "{{ event.title }}: {{ event.starts | date }}, "
    "{{ event | timerange(tz='Europe/Istanbul') }}. {{ vars.url }}",
    "live/en.j2": "Starting in 15 minutes: {{ event.title }} {{ vars.url }}",
    "live/tr.j2": "15 dakika sonra başlıyoruz: {{ event.title }} {{ vars.url }}",
}


@dataclass
class Repo:
    """A campaigns repository in a temporary folder."""

    root: Path

    def write(self, relative: str, text: str | bytes) -> Path:
        """Write a file (text is dedented); returns its path."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    @property
    def ledger(self) -> Path:
        return self.root / "state" / "ledger.jsonl"

    def ledger_records(self) -> list[dict]:
        if not self.ledger.exists():
            return []
        return [json.loads(line) for line in self.ledger.read_text().splitlines() if line]


@pytest.fixture
def repo(tmp_path) -> Repo:
    """A small valid repository: 3 channels (2 Facebook Pages, 1 X), one event, 2 moments."""
    r = Repo(tmp_path / "repo")
    r.write("channels.yaml", CHANNELS)
    r.write("campaigns/spring.yaml", CAMPAIGN)
    for name, text in TEMPLATES.items():
        r.write(f"templates/{name}", text)
    r.write("media/first.png", PNG)
    return r


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json(self):
        return json.loads(self.stdout)


@pytest.fixture
def cli():
    """Run the CLI in-process (fast): cli("validate", "--root", path) -> Result."""

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        from pipeline.cli import cli as command

        runner = CliRunner()
        res = runner.invoke(command, [str(a) for a in args], env=env, catch_exceptions=False)
        return Result(res.exit_code, res.stdout, res.stderr)

    return invoke


def spawn(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start the real console command without waiting for it (for signals and races)."""
    return subprocess.Popen([sys.executable, "-m", "pipeline", *map(str, args)],
                            env=cli_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def crosspost(*args: str, env: dict[str, str] | None = None, timeout: float = 60,
              cwd: Path | None = None) -> Result:
    """Run the real console command in a subprocess, as a user would."""
    proc = subprocess.run([sys.executable, "-m", "pipeline", *map(str, args)], env=cli_env(env),
                          capture_output=True, text=True, timeout=timeout, cwd=cwd)
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def run_cli():
    """The real CLI in a subprocess (for publishing, signals and secrets)."""
    return crosspost
