"""Working hours in the reviewer's own time zone, including daylight saving."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from oncoroute_matcher.domain.availability import (
    fits,
    parse_working_hours,
    working_intervals,
    works_at,
)

pytestmark = pytest.mark.unit


def test_parse_rejects_bad_hours_with_the_reason() -> None:
    for bad, why in [("weekdays 9-5", "write e.g."), ("mon-fri 18:00-08:00", "after the start"),
                     ("mon-fri 25:00-26:00", "not a time"), ("xyz 08:00-09:00", "days are")]:
        with pytest.raises(ValueError, match=why):
            parse_working_hours(bad)
    assert len(parse_working_hours("mon-thu 08:00-18:00|fri 08:00-13:00|sat-sun 00:00-24:00")) == 3


def test_intervals_follow_the_local_clock_across_daylight_saving() -> None:
    # London moves to BST on Sunday 29 March 2026: 09:00 local is 09:00 UTC on Friday
    # and 08:00 UTC on Monday
    start = datetime(2026, 3, 27, 0, 0, tzinfo=UTC)
    got = working_intervals("mon-fri 09:00-17:00", "Europe/London", start,
                            start + timedelta(days=4))
    assert [(s.astimezone(UTC).hour, e.astimezone(UTC).hour) for s, e in got] == [(9, 17), (8, 16)]


def test_works_at_and_fits() -> None:
    now = datetime(2026, 3, 4, 16, 0, tzinfo=UTC)  # Wednesday
    got = working_intervals("mon-fri 08:00-18:00", "UTC", now, now + timedelta(hours=24))
    assert works_at(got, now) and not works_at(got, now + timedelta(hours=3))
    # 2h today + 8h tomorrow until 16:00 = 10h
    assert fits(got, timedelta(hours=10)) and not fits(got, timedelta(hours=10, minutes=1))
