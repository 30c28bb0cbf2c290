"""Dates and times as terminals and carriers write them, read in the source's time zone.

Terminals publish local time without a zone ("10/25/2021 1:49 PM"); carriers write
"2026-11-20 14:30", "2026年11月20日 14:30", EDIFACT "202611201430". We find the date (and time)
in the text, attach the source's IANA zone, and hand back UTC. Text with an explicit offset
keeps its offset. Results are cached: a batch repeats the same few strings many times.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

_MONTHS = {
    name: index
    for index, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}
_TIME = r"(?:[ T]+(\d{1,2})[:：时](\d{2})(?:[:：分](\d{2}))?(?:\.\d+)?\s*([AaPp]\.?[Mm]\.?)?)?"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("iso", re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME + r"\s*(Z|[+-]\d{2}:?\d{2})?")),
    ("cn", re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?" + _TIME)),
    ("mdy", re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?!\d)" + _TIME)),
    ("dmy_name", re.compile(r"(\d{1,2})[- ]([A-Za-z]{3})[A-Za-z]*[- ,]+(\d{4}|\d{2})" + _TIME)),
    ("mdy_name", re.compile(r"([A-Za-z]{3})[A-Za-z]*\.? (\d{1,2}),? (\d{4})" + _TIME)),
    ("compact", re.compile(r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?$")),
)


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if year < 100 else year


def _clock(hour: str | None, minute: str | None, second: str | None, meridiem: str | None) -> time | None:
    if hour is None:
        return None
    hours = int(hour)
    if meridiem:
        is_pm = meridiem.lower().startswith("p")
        if hours == 12:
            hours = 0 if not is_pm else 12
        elif is_pm:
            hours += 12
    return time(hours, int(minute or 0), int(second or 0))


@lru_cache(maxsize=16384)
def find_date_time(text: str) -> tuple[date, time | None, str | None] | None:
    """(date, local time or None, explicit UTC offset or None) found in `text`, or None."""
    stripped = text.strip()
    if not stripped:
        return None
    for kind, pattern in _PATTERNS:
        match = pattern.search(stripped)
        if not match:
            continue
        groups = match.groups()
        try:
            if kind == "iso":
                day = date(int(groups[0]), int(groups[1]), int(groups[2]))
                return day, _clock(*groups[3:7]), groups[7]
            if kind == "cn":
                return date(int(groups[0]), int(groups[1]), int(groups[2])), _clock(*groups[3:7]), None
            if kind == "mdy":
                first, second = int(groups[0]), int(groups[1])
                # US portals write month/day; a first number over 12 can only be a day.
                month, day_of_month = (second, first) if first > 12 else (first, second)
                return date(_year(groups[2]), month, day_of_month), _clock(*groups[3:7]), None
            if kind == "dmy_name":
                month = _MONTHS.get(groups[1].lower())
                if month is None:
                    continue
                return date(_year(groups[2]), month, int(groups[0])), _clock(*groups[3:7]), None
            if kind == "mdy_name":
                month = _MONTHS.get(groups[0].lower())
                if month is None:
                    continue
                return date(int(groups[2]), month, int(groups[1])), _clock(*groups[3:7]), None
            if kind == "compact":
                day = date(int(groups[0]), int(groups[1]), int(groups[2]))
                clock = time(int(groups[3]), int(groups[4]), int(groups[5] or 0)) if groups[3] else None
                return day, clock, None
        except ValueError:  # 13th month, 31 February, 25 o'clock: not a date
            return None
    return None


@lru_cache(maxsize=16384)
def parse_local_datetime(text: str, zone: str) -> datetime | None:
    """A moment written in `zone`'s local time (or with its own offset) → aware UTC; None if no date.

    A date without a time is read as local midnight.
    """
    found = find_date_time(text)
    if found is None:
        return None
    day, clock, offset = found
    local = datetime.combine(day, clock or time(0, 0))
    if offset:
        if offset == "Z":
            return local.replace(tzinfo=UTC)
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4]))
        return local.replace(tzinfo=timezone(sign * delta)).astimezone(UTC)
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


@lru_cache(maxsize=16384)
def parse_day(text: str) -> date | None:
    """A calendar day (last free day, ETA day) as written; no zone conversion: it is a local day."""
    found = find_date_time(text)
    return found[0] if found else None
