"""Lenient date parsing: every form docs/design.md lists, offsets to naive UTC, never an exception."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from index.dates import date_from_file_name, parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018-07-11 00:02:8", datetime(2018, 7, 11, 0, 2, 8)),
        ("2018-07-11T00:02:08Z", datetime(2018, 7, 11, 0, 2, 8)),
        ("2018-07-11", datetime(2018, 7, 11)),
        ("11 July 2018", datetime(2018, 7, 11)),
        ("July 11, 2018", datetime(2018, 7, 11)),
        ("11 Jul. 2018", datetime(2018, 7, 11)),
        ("2018-07-11T00:02:08+02:00", datetime(2018, 7, 10, 22, 2, 8)),
        ("2018-07-11 00:02:08 +02:00", datetime(2018, 7, 10, 22, 2, 8)),
        ("2018-07-11T00:02:08-0500", datetime(2018, 7, 11, 5, 2, 8)),
        ("2018-07-11T00:02:08.123Z", datetime(2018, 7, 11, 0, 2, 8)),
        ("  '2018-07-11'  ", datetime(2018, 7, 11)),
    ],
)
def test_every_documented_form(text: str, expected: datetime) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    ["2024-13-45", "2024-02-30", "0000-01-01", "31 Smarch 2018", "yesterday", "", "~", "2018", "10:00"],
)
def test_impossible_or_unknown_dates_give_none(text: str) -> None:
    assert parse_date(text) is None


@pytest.mark.parametrize("text", ["0001-01-01 00:00 +01:00", "9999-12-31T23:59 -05:00"])
def test_offset_pushing_out_of_range_gives_none(text: str) -> None:
    # Regression: these raised OverflowError (not ValueError) before.
    assert parse_date(text) is None


def test_date_and_datetime_objects() -> None:
    aware = datetime(2018, 7, 11, 2, 0, tzinfo=timezone(timedelta(hours=2)))
    assert parse_date(aware) == datetime(2018, 7, 11, 0, 0)
    assert parse_date(date(2018, 7, 11)) == datetime(2018, 7, 11)
    assert parse_date(datetime.min.replace(tzinfo=timezone(timedelta(hours=1)))) is None


@pytest.mark.parametrize("value", [None, 12345, 1.5, ["2018-07-11"], {"a": "b"}, True])
def test_non_text_values_give_none(value: object) -> None:
    assert parse_date(value) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("2018-07-11-chinese-group.md", datetime(2018, 7, 11)),
        ("2018-13-45-bad.md", None),
        ("chinese-group.md", None),
        ("2018-07-11.md", None),
    ],
)
def test_date_from_file_name(name: str, expected: datetime | None) -> None:
    assert date_from_file_name(name) == expected


@given(st.text(max_size=60))
@example("0001-01-01 00:00 +01:00")
@example("9999-12-31T23:59 -05:00")
@example("2018-07-11\x00")
@example("2018-07-11\u2028")
@example("")
def test_parse_date_never_raises_and_is_naive(text: str) -> None:
    result = parse_date(text)
    assert result is None or (isinstance(result, datetime) and result.tzinfo is None)


_OFFSETS: st.SearchStrategy[tzinfo] = st.integers(-14 * 60, 14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@given(
    st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(9999, 12, 30)),
    st.none() | _OFFSETS,
    st.sampled_from(["%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%z", "%d %B %Y", "%B %d, %Y"]),
)
@example(datetime(1000, 1, 2), timezone(timedelta(hours=14)), "%Y-%m-%dT%H:%M:%S%z")
@example(datetime(9999, 12, 30, 23, 59, 59), timezone(timedelta(hours=-14)), "%Y-%m-%dT%H:%M:%S%z")
def test_parse_date_round_trips_formatted_dates(naive: datetime, zone: tzinfo | None, fmt: str) -> None:
    value = naive.replace(tzinfo=zone)
    result = parse_date(value.strftime(fmt))
    assert result is not None
    assert result.tzinfo is None
    whole = value.replace(microsecond=0)
    if fmt.endswith("%z") and whole.tzinfo is not None:
        assert result == whole.astimezone(UTC).replace(tzinfo=None)
    elif "%H" in fmt:
        assert result == whole.replace(tzinfo=None)
    else:
        assert result == datetime(value.year, value.month, value.day)
