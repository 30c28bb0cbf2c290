"""Wall-clock times for the workbook: Excel has no time zones, so every time is written as the
local time of one zone (the export's, or each container's own) and the headers say which.

The hot path is half a million event times: the database hands them over as UTC serial day
numbers and `from_utc_serial` adds the zone's offset, looked up once per zone and UTC hour. An
hour in which the zone's clock changes is never cached: its moments take the exact path.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=512)
def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ValueError, KeyError):  # a zone this machine does not know: UTC, and the Zone column says so
        return ZoneInfo("UTC")


_EXCEL_EPOCH = datetime(1899, 12, 30)
_EXCEL_EPOCH_UTC = _EXCEL_EPOCH.replace(tzinfo=UTC)
_DAY_SECONDS = 86_400.0
_LAST_SECOND = timedelta(minutes=59, seconds=59)
_OFFSET_CACHE_LIMIT = 500_000


class Clock:
    """Local times for the sheets: the export's one zone, or each row's own."""

    def __init__(self, now: datetime, fixed_zone: str | None) -> None:
        self.now = now
        self.fixed = fixed_zone
        self.label = fixed_zone or "local time"  # what the headers say
        self._today: dict[str, date] = {}
        # zone → UTC hour → offset in days: one dict per zone, looked up by a plain int (no
        # (zone, hour) tuple to build and hash per moment)
        self._offsets: dict[str, dict[int, float]] = {}

    def zone_name(self, row_zone: str | None) -> str:
        return self.fixed or row_zone or "UTC"

    def local(self, moment: datetime | None, zone_name: str) -> datetime | None:
        """An aware moment as the naive wall-clock time in the zone (Excel has no zones)."""
        if moment is None:
            return None
        return moment.astimezone(_zone(zone_name)).replace(tzinfo=None)

    def serial(self, moment: datetime | str | None, zone_name: str) -> float | None:
        """Excel's serial day number of the wall-clock time in the zone of a UTC moment: an aware
        datetime, a naive UTC datetime, or UTC text as SQLite stores it."""
        if moment is None:
            return None
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        delta = moment - _EXCEL_EPOCH
        return self.from_utc_serial(delta.days + delta.seconds / _DAY_SECONDS, zone_name)

    def from_utc_serial(self, utc: float, zone_name: str) -> float:
        """A UTC serial day number (as the database computes it) as the zone's local one, to the
        second: a Julian day in a double carries ~50 µs of noise, enough for a reader that
        truncates (LibreOffice) to show 09:30 as 09:29."""
        return self.local_seconds(utc, zone_name) / _DAY_SECONDS

    def local_seconds(self, utc: float, zone_name: str) -> int:
        """`from_utc_serial` in whole seconds since Excel's epoch (what xlsx.serial_text writes)."""
        hour = int(utc * 24)
        table = self._offsets.get(zone_name)
        offset = None if table is None else table.get(hour)
        if offset is None:
            offset = self._offset(zone_name, hour, utc)
        return round((utc + offset) * _DAY_SECONDS)

    def _offset(self, zone_name: str, hour: int, utc: float) -> float:
        """The zone's offset (in days) at UTC serial `utc` in UTC hour `hour`, cached by hour."""
        zone = _zone(zone_name)
        hour_start = _EXCEL_EPOCH_UTC + timedelta(hours=hour)
        first = hour_start.astimezone(zone).utcoffset() or timedelta()
        last = (hour_start + _LAST_SECOND).astimezone(zone).utcoffset() or timedelta()
        if first != last:  # the clock changes within this hour: this moment's own offset, uncached
            exact = (_EXCEL_EPOCH_UTC + timedelta(days=utc)).astimezone(zone).utcoffset() or timedelta()
            return exact.total_seconds() / _DAY_SECONDS
        table = self._offsets.setdefault(zone_name, {})
        if len(table) >= _OFFSET_CACHE_LIMIT:
            table.clear()
        offset = table[hour] = first.total_seconds() / _DAY_SECONDS
        return offset

    def today(self, zone_name: str) -> date:
        day = self._today.get(zone_name)
        if day is None:
            day = self._today[zone_name] = self.now.astimezone(_zone(zone_name)).date()
        return day
