"""Value types shared by the config sections: durations, schedules, time zones, secrets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, SecretStr, ValidationInfo

from quaysync.secrets import SecretReferenceError, SecretsResolver


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta | None:
    """'90s', '5m', '1h30m', '2d' → timedelta; None when the text is not a duration."""
    compact = text.strip().lower().replace(" ", "")
    if not compact or _DURATION_PART.sub("", compact):
        return None
    seconds = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in _DURATION_PART.findall(compact))
    return timedelta(seconds=seconds)


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str) and (parsed := parse_duration(value)) is not None:
        return parsed
    raise ValueError(f"{value!r} is not a duration (e.g. 30s, 5m, 2h, 1h30m, 3d)")


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    PlainSerializer(lambda delta: f"{delta.total_seconds():g}s", return_type=str),
]


@dataclass(frozen=True)
class Schedule:
    """When a source runs: a 5-field cron expression, or an interval ('5m' or 'every 5m')."""

    text: str
    cron: str | None = None
    interval: timedelta | None = None

    def __str__(self) -> str:
        return self.text


def _schedule(value: Any) -> Schedule:
    if isinstance(value, Schedule):
        return value
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a cron expression or interval")
    text = value.strip()
    interval_text = text[len("every ") :] if text.lower().startswith("every ") else text
    interval = parse_duration(interval_text)
    if interval is not None:
        if interval.total_seconds() < 1:
            raise ValueError(f"{value!r}: an interval must be at least 1s")
        return Schedule(text, interval=interval)
    if len(text.split()) == 5:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(text)
        except ValueError as error:
            raise ValueError(f"{value!r} is not a valid cron expression: {error}") from None
        return Schedule(text, cron=text)
    raise ValueError(f"{value!r} is not a cron expression or interval (e.g. '*/5 * * * *', '5m', 'every 2h')")


ScheduleSpec = Annotated[Schedule, BeforeValidator(_schedule), PlainSerializer(str, return_type=str)]


def _time_zone(value: Any) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{value!r} is not an IANA time zone (e.g. America/Los_Angeles, Asia/Shanghai)"
        ) from None
    return str(value)


TimeZoneName = Annotated[str, BeforeValidator(_time_zone)]


@dataclass(frozen=True)
class HoursWindow:
    """Local hours a source may run in, e.g. 06:00-22:00 (may wrap past midnight)."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def _hours(value: Any) -> HoursWindow:
    if isinstance(value, HoursWindow):
        return value
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", str(value))
    if not match:
        raise ValueError(f"{value!r} is not a window of local hours (e.g. 06:00-22:00)")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59:
        raise ValueError(f"{value!r} has an hour or minute out of range")
    return HoursWindow(time(h1, m1), time(0, 0) if h2 == 24 else time(h2, m2))


ActiveHours = Annotated[HoursWindow, BeforeValidator(_hours), PlainSerializer(str, return_type=str)]


def _secret(value: Any, info: ValidationInfo) -> SecretStr:
    if isinstance(value, SecretStr):
        return value
    resolver = (info.context or {}).get("secrets")
    if not isinstance(resolver, SecretsResolver):
        resolver = SecretsResolver()
    try:
        return SecretStr(resolver.resolve(str(value)))
    except SecretReferenceError as error:
        raise ValueError(str(error)) from None


# A secret option: `${ENV_VAR}` or `secret:NAME` in config.yaml, a SecretStr once loaded.
Secret = Annotated[SecretStr, BeforeValidator(_secret)]
