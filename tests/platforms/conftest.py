"""Fixtures every adapter test file shares."""

from __future__ import annotations

import pytest

from tests.conftest import PNG


@pytest.fixture
def image(tmp_path):
    """A small valid PNG on disk, for posts with a photo."""
    path = tmp_path / "poster.png"
    path.write_bytes(PNG)
    return path
