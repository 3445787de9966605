"""Lenient date parsing for front matter written by people and scrapers."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}

# 2018-07-11, 2018/7/11, 2018-07-11 00:02:8, 2018-07-11T00:02:08.123Z, ... +02:00
_NUMERIC = re.compile(
    r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"
    r"(?:[T ]+(?P<H>\d{1,2}):(?P<M>\d{1,2})(?::(?P<S>\d{1,2})(?:[.,]\d+)?)?)?"
    r"\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)
# 11 July 2018, 11 Jul. 2018
_DAY_MONTH_YEAR = re.compile(r"^(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?P<mon>[a-z]+)\.?,?\s+(?P<y>\d{4})$", re.I)
# July 11, 2018
_MONTH_DAY_YEAR = re.compile(r"^(?P<mon>[a-z]+)\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})$", re.I)
# Jekyll file names: 2018-07-11-some-title.md
_FILE_NAME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-")


def _to_naive_utc(value: datetime) -> datetime:
    """Dates are compared across posts, so every one is naive UTC."""
    if value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _offset(text: str | None) -> int:
    """Minutes east of UTC for a ``Z``/``+02:00``/``-0500`` suffix."""
    if not text or text.upper() in ("Z", "UTC", "GMT"):
        return 0
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return sign * (int(digits[:2]) * 60 + int(digits[2:]))


def parse_date(value: object) -> datetime | None:
    """Parse a front-matter date value; return naive UTC, or ``None`` when it is not a date.

    Accepts ``datetime``/``date`` objects and strings such as ``2018-07-11 00:02:8``,
    ``2018-07-11T00:02:08Z``, ``2018-07-11``, ``11 July 2018`` and ``July 11, 2018``.
    Impossible dates (``2024-13-45``) give ``None`` rather than raising.
    """
    if isinstance(value, datetime):
        try:
            return _to_naive_utc(value)
        except OverflowError:  # an aware datetime.min/max cannot be shifted to UTC
            return None
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if not isinstance(value, str):
        return None
    text = value.strip().strip("'\"").strip()
    try:
        if match := _NUMERIC.match(text):
            parts = match.groupdict()
            parsed = datetime(
                int(parts["y"]),
                int(parts["m"]),
                int(parts["d"]),
                int(parts["H"] or 0),
                int(parts["M"] or 0),
                int(parts["S"] or 0),
            )
            minutes = _offset(parts["tz"])
            if minutes:
                parsed -= timedelta(minutes=minutes)
            return parsed
        match = _DAY_MONTH_YEAR.match(text) or _MONTH_DAY_YEAR.match(text)
        if match and (month := _MONTHS.get(match["mon"].lower())):
            return datetime(int(match["y"]), month, int(match["d"]))
    except (ValueError, OverflowError):  # OverflowError: an offset pushes year 1 or 9999 out of range
        return None
    return None


def date_from_file_name(name: str) -> datetime | None:
    """The date of a Jekyll-style file name (``2018-07-11-slug.md``), if it has one."""
    match = _FILE_NAME.match(name)
    if not match:
        return None
    try:
        return datetime(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
