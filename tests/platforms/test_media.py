"""Image facts adapters send along (Bluesky's aspect ratio): type and size from the bytes."""

from __future__ import annotations

import struct

import pytest

from pipeline.platforms.media import image_mime, image_size
from tests.conftest import PNG

GIF = b"GIF89a" + struct.pack("<HH", 640, 480) + b"\x00" * 8
# SOI, an APP0 segment of 16 bytes, then SOF0 with height 300 and width 1200.
JPEG = (
    b"\xff\xd8"
    + b"\xff\xe0"
    + struct.pack(">H", 16)
    + b"JFIF\x00" * 2
    + b"\x00\x00\x00\x00"
    + b"\xff\xc0"
    + struct.pack(">HBHH", 17, 8, 300, 1200)
    + b"\x00" * 12
)
WEBP_VP8X = (
    b"RIFF\x00\x00\x00\x00WEBPVP8X"
    + b"\x00" * 8
    + (799).to_bytes(3, "little")
    + (599).to_bytes(3, "little")
)


@pytest.mark.parametrize(
    ("data", "mime", "size"),
    [
        (PNG, "image/png", (1, 1)),
        (GIF, "image/gif", (640, 480)),
        (JPEG, "image/jpeg", (1200, 300)),
        (WEBP_VP8X, "image/webp", (800, 600)),
        (b"%PDF-1.7 not an image", None, None),
        (b"\xff\xd8\xff\xe0", "image/jpeg", None),  # cut short: no size, no crash
    ],
)
def test_type_and_size_from_the_bytes(data, mime, size):
    assert image_mime(data) == mime
    assert image_size(data) == size
