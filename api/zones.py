"""Moments in the container's local time zone (terminal time), for answers people read."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@lru_cache(maxsize=256)
def zone(name: str | None) -> tzinfo:
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def local(moment: datetime | None, zone_name: str | None) -> datetime | None:
    return None if moment is None else moment.astimezone(zone(zone_name))


def local_iso(moment: datetime | None, zone_name: str | None) -> str | None:
    value = local(moment, zone_name)
    return None if value is None else value.isoformat(timespec="seconds")


def local_today(now: datetime, zone_name: str | None) -> date:
    return now.astimezone(zone(zone_name)).date()


def days_left(last_free_day: date | None, now: datetime, zone_name: str | None) -> int | None:
    """Whole days from today (in the container's zone) to the last free day; negative when past."""
    if last_free_day is None:
        return None
    return (last_free_day - local_today(now, zone_name)).days
