"""Problems and warnings are located from the file's node tree (composed by ruamel's C parser)
at the same line and column the round-trip loader records, for every key and item."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.source import Document, _parse, read_yaml
from tests.conftest import REPO

FILES = sorted(
    p
    for pattern in ("*.yaml", "campaigns/*.yaml", "tests/**/*.yaml", "pipeline/**/*.yaml")
    for p in REPO.glob(pattern)
    if p.is_file()
)


def _paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _paths(value, (*prefix, index))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_key_is_located_where_the_round_trip_loader_puts_it(path: Path):
    fast = read_yaml(path, path.name)
    if not isinstance(fast, Document) or fast.text is None:
        pytest.skip("not parsed by the fast loader")
    round_trip = Document(path.name, _parse(path.read_text(encoding="utf-8"), fast=False))
    for keys in _paths(fast.data):
        for loc in (keys, (*keys, "absent"), (*keys, 10_000)):
            assert fast.locate(loc) == round_trip.locate(loc), loc
