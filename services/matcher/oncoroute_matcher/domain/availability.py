"""When a reviewer works, and whether they can finish a review before a deadline.

Working hours are written in the reviewer's own time zone, e.g. `mon-fri 08:00-18:00` or
`mon-thu 08:00-18:00|fri 08:00-13:00`; each day's window is placed in that zone, so daylight
saving is handled. A reviewer without working hours, or on call, works at any hour.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SEGMENT = re.compile(
    r"^\s*(?P<d1>[a-z]{3})(?:-(?P<d2>[a-z]{3}))?\s+"
    r"(?P<h1>\d{2}):(?P<m1>\d{2})-(?P<h2>\d{2}):(?P<m2>\d{2})\s*$")

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Window:
    """One weekly window: these weekdays (0 = Monday), from `start` to `end` local time."""

    days: frozenset[int]
    start: time
    end: time | None  # None: midnight at the end of the day (24:00)


@lru_cache(maxsize=4096)
def parse_working_hours(text: str) -> tuple[Window, ...]:
    windows: list[Window] = []
    for part in text.lower().split("|"):
        m = _SEGMENT.match(part)
        if not m:
            raise ValueError(f"working hours {part.strip()!r}: write e.g. mon-fri 08:00-18:00")
        d1, d2 = m["d1"], m["d2"] or m["d1"]
        if d1 not in DAYS or d2 not in DAYS:
            raise ValueError(f"working hours {part.strip()!r}: days are {', '.join(DAYS)}")
        i, j = DAYS.index(d1), DAYS.index(d2)
        days = frozenset(range(i, j + 1)) if i <= j else frozenset([*range(i, 7), *range(0, j + 1)])
        h1, m1, h2, m2 = int(m["h1"]), int(m["m1"]), int(m["h2"]), int(m["m2"])
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
            raise ValueError(f"working hours {part.strip()!r}: not a time of day")
        start, end = time(h1, m1), (None if h2 == 24 else time(h2, m2))
        if end is not None and end <= start:
            raise ValueError(f"working hours {part.strip()!r}: the end must be after the start")
        windows.append(Window(days, start, end))
    return tuple(windows)


def working_intervals(hours: str, timezone: str, start: datetime,
                      end: datetime) -> list[Interval]:
    """The reviewer's working time within [start, end), in order."""
    zone = ZoneInfo(timezone)
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    out: list[Interval] = []
    day = first
    windows = parse_working_hours(hours)
    while day <= last:
        for w in windows:
            if day.weekday() in w.days:
                s = datetime.combine(day, w.start, tzinfo=zone)
                e = (datetime.combine(day, w.end, tzinfo=zone) if w.end is not None
                     else datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone))
                s, e = max(s, start), min(e, end)
                if s < e:
                    out.append((s, e))
        day += timedelta(days=1)
    out.sort()
    return out


def works_at(intervals: Sequence[Interval], at: datetime) -> bool:
    return any(s <= at < e for s, e in intervals)


def fits(intervals: Sequence[Interval], work: timedelta) -> bool:
    """True when `work` hours of working time are there within the intervals."""
    left = work
    for s, e in intervals:
        left -= e - s
        if left <= timedelta(0):
            return True
    return left <= timedelta(0)


def overlaps(periods: Sequence[Interval], start: datetime, end: datetime) -> bool:
    return any(s < end and start < e for s, e in periods)
