"""Campaign times: ISO-8601 text read in the campaign's zone, refused where DST makes it unclear."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def parse_time(text: str, zone: ZoneInfo) -> datetime:
    """An ISO-8601 time as aware UTC; one without offset is read in `zone`.

    Raises ValueError for text that is not a time, and for a wall-clock time that does not
    exist (DST gap) or exists twice (DST overlap) in `zone`: those need an explicit offset.
    """
    if re.fullmatch(r"\d{4}-\d\d-\d\d", text.strip()):
        raise ValueError(
            f"{text!r} is not a date and time (no time of day): write e.g. {text.strip()}T16:00 "
            f"(in the campaign's zone) or {text.strip()}T16:00+01:00"
        )
    if not re.fullmatch(
        r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?", text.strip()
    ):
        raise ValueError(
            f"{text!r} is not a date and time: write e.g. 2022-10-08T16:00 "
            "(in the campaign's zone) or 2022-10-08T16:00+01:00"
        )
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:  # e.g. 2030-02-30 or 25:00
        raise ValueError(f"{text!r} is not a real date and time ({exc})") from None
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    first, second = value.replace(tzinfo=zone, fold=0), value.replace(tzinfo=zone, fold=1)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != value:
        raise ValueError(
            f"{text} does not exist in {zone.key} (the clocks skip it for daylight "
            "saving time): give an explicit offset, e.g. "
            f"{value.isoformat(timespec='minutes')}{_offset(second)}"
        )
    if first.utcoffset() != second.utcoffset():
        raise ValueError(
            f"{text} happens twice in {zone.key} (the clocks go back): give an "
            f"explicit offset: {value.isoformat(timespec='minutes')}{_offset(first)}"
            f" or {value.isoformat(timespec='minutes')}{_offset(second)}"
        )
    return first.astimezone(UTC)


def _offset(dt: datetime) -> str:
    secs = int(dt.utcoffset().total_seconds())
    sign = "+" if secs >= 0 else "-"
    return f"{sign}{abs(secs) // 3600:02d}:{abs(secs) % 3600 // 60:02d}"
