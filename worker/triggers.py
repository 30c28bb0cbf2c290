"""APScheduler triggers from a source's schedule: interval or cron, jitter, and active hours.

- A cron expression is read as standard crontab, in the source's time zone (a portal's `0 7 * * 1-5`
  is 07:00 at the terminal, Monday to Friday). APScheduler 3.x numbers weekdays from Monday = 0,
  unlike cron; day-of-week fields are translated into day names so `1-5` keeps meaning Mon-Fri.
- `jitter` adds a random delay of up to that long to each tick (no two portals hit at :00).
- `active_hours` (local hours in the source's zone, e.g. 06:00-22:00 while the portal is staffed)
  wraps the trigger so that ticks outside the window are skipped: the next run is the first tick
  inside the next window, and the job's next run time shows it.

Triggers are pickled into the job store, so everything here is a module-level class.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from quaysync.config.types import HoursWindow, Schedule

CRON_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # cron numbering: 0 (and 7) = Sunday
_MAX_HOPS = 500


def _cron_day(token: str) -> int:
    word = token.strip().lower()
    if word[:3] in CRON_DAY_NAMES:
        return CRON_DAY_NAMES.index(word[:3])
    number = int(word)
    if not 0 <= number <= 7:
        raise ValueError(f"day of week {token!r} is out of range 0-7")
    return number % 7


def cron_day_of_week(field: str) -> str:
    """A crontab day-of-week field (0/7 = Sunday) as APScheduler day names ('1-5' → 'mon,...,fri')."""
    if field.strip() == "*":
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"step {step_text!r} in day of week must be at least 1")
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            low, high = base.split("-", 1)
            first, last = _cron_day(low), _cron_day(high)
            if high.strip() == "7":
                last = 7  # '5-7' is Friday to Sunday
        else:
            first = last = _cron_day(base)
            if step_text:
                last = 6
        if last < first:
            raise ValueError(f"day-of-week range {base!r} runs backwards")
        days.update(day % 7 for day in range(first, last + 1, step))
    return ",".join(CRON_DAY_NAMES[day] for day in sorted(days))


def cron_trigger(expression: str, time_zone: str, jitter_seconds: int | None = None) -> CronTrigger:
    minute, hour, day, month, day_of_week = expression.split()
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=cron_day_of_week(day_of_week),
        timezone=ZoneInfo(time_zone),
        jitter=jitter_seconds,
    )


class WindowTrigger(BaseTrigger):
    """Another trigger's ticks, but only those inside local `window` hours of `time_zone`."""

    __slots__ = ("inner", "time_zone", "window")

    def __init__(self, inner: BaseTrigger, window: HoursWindow, time_zone: str) -> None:
        self.inner = inner
        self.window = window
        self.time_zone = time_zone

    def inside(self, moment: datetime) -> bool:
        return self.window.contains(moment.astimezone(ZoneInfo(self.time_zone)).time())

    def next_opening(self, moment: datetime) -> datetime:
        """The first moment after `moment` at which the window opens (local time)."""
        zone = ZoneInfo(self.time_zone)
        local = moment.astimezone(zone)
        opening = datetime.combine(local.date(), self.window.start, tzinfo=zone)
        if opening <= local:
            opening = datetime.combine(local.date() + timedelta(days=1), self.window.start, tzinfo=zone)
        return opening

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        candidate = self.inner.get_next_fire_time(previous_fire_time, now)
        for _ in range(_MAX_HOPS):
            if candidate is None or self.inside(candidate):
                return candidate
            # Outside the window: ask the inner trigger for its first tick once the window opens.
            candidate = self.inner.get_next_fire_time(None, self.next_opening(candidate))
        return None

    def __getstate__(self) -> dict[str, object]:
        return {"version": 1, "inner": self.inner, "window": self.window, "time_zone": self.time_zone}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.inner = state["inner"]  # type: ignore[assignment]
        self.window = state["window"]  # type: ignore[assignment]
        self.time_zone = state["time_zone"]  # type: ignore[assignment]

    def __str__(self) -> str:
        return f"{self.inner} within {self.window} {self.time_zone}"

    def __repr__(self) -> str:
        return f"<WindowTrigger ({self.inner!r}, window={self.window}, time_zone={self.time_zone!r})>"


def build_trigger(
    schedule: Schedule,
    *,
    time_zone: str = "UTC",
    jitter: timedelta = timedelta(0),
    active_hours: HoursWindow | None = None,
    start_date: datetime | None = None,
) -> BaseTrigger:
    """The trigger for a source's schedule (see the module docstring)."""
    jitter_seconds = round(jitter.total_seconds()) or None
    trigger: BaseTrigger
    if schedule.interval is not None:
        trigger = IntervalTrigger(
            seconds=schedule.interval.total_seconds(),
            jitter=jitter_seconds,
            timezone=ZoneInfo(time_zone),
            start_date=start_date,
        )
    else:
        assert schedule.cron is not None
        trigger = cron_trigger(schedule.cron, time_zone, jitter_seconds)
    if active_hours is not None:
        trigger = WindowTrigger(trigger, active_hours, time_zone)
    return trigger


def period(schedule: Schedule, time_zone: str = "UTC", now: datetime | None = None) -> timedelta:
    """The usual gap between two ticks (an interval, or the gap between a cron's next two ticks)."""
    if schedule.interval is not None:
        return schedule.interval
    assert schedule.cron is not None
    trigger = cron_trigger(schedule.cron, time_zone)
    now = now or datetime.now(UTC)
    first = trigger.get_next_fire_time(None, now)
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1)) if first else None
    if first is None or second is None:
        return timedelta(days=1)
    return second - first
