"""Messages for staff and customers, rendered from Jinja2 templates in English and Chinese.

    render_message("customer", "vessel_delayed", "zh", values, time_zone="Asia/Shanghai")

Templates live in `templates/<audience>/<name>.<language>.txt`; each has a `subject` and a `body`
block. Moments in `values` are aware UTC datetimes: templates show them with `at(...)` in the
container's local time (its IANA zone), days with `day(...)`, numbers with `num(...)`, so every
message states dates the way the reader's port keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

TEMPLATES = Path(__file__).resolve().parent / "templates"
LANGUAGES = ("en", "zh")
Audience = Literal["staff", "customer"]

_EN_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ZH_WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    language: str
    template: str


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # Plain text, never HTML: no autoescape; undefined names are template bugs, not blanks.
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def template_names(audience: Audience) -> list[str]:
    """Templates of an audience that exist in every language."""
    folder = TEMPLATES / audience
    names = {path.name.split(".")[0] for path in folder.glob("*.txt") if not path.name.startswith("_")}
    return sorted(
        name for name in names if all((folder / f"{name}.{lang}.txt").exists() for lang in LANGUAGES)
    )


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


class _Formats:
    """Dates, moments and numbers as a reader of `language` in `time_zone` expects them."""

    def __init__(self, language: str, time_zone: str | None) -> None:
        self.language = language
        self.zone_name = time_zone or "UTC"
        self.zone = _zone(time_zone)

    def at(self, moment: datetime | str | None) -> str:
        if moment is None or moment == "":
            return "—"
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        local = moment.astimezone(self.zone)
        if self.language == "zh":
            return f"{self.day(local.date())} {local:%H:%M}（{self.zone_name}）"
        return f"{self.day(local.date())} {local:%H:%M} ({self.zone_name})"

    def day(self, value: date | datetime | str | None) -> str:
        if value is None or value == "":
            return "—"
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        if isinstance(value, datetime):
            value = value.astimezone(self.zone).date()
        if self.language == "zh":
            return f"{value.year}年{value.month}月{value.day}日（{_ZH_WEEKDAYS[value.weekday()]}）"
        return f"{_EN_WEEKDAYS[value.weekday()]} {value.day} {_EN_MONTHS[value.month - 1]} {value.year}"

    @staticmethod
    def num(value: float | int | str | None, digits: int = 0) -> str:
        if value is None or value == "":
            return "—"
        text = f"{float(value):,.{digits}f}"
        return text[1:] if text.startswith("-") and not text.strip("-0.,") else text  # no "-0"

    def duration(self, hours: float | None) -> str:
        """'3.3 days (78 hours)' / '约 3.3 天（78 小时）'; under two days only hours."""
        if hours is None:
            return "—"
        whole = round(abs(hours))
        if self.language == "zh":
            if abs(hours) < 48:
                return f"{whole} 小时"
            return f"约 {abs(hours) / 24:.1f} 天（{whole} 小时）"
        if abs(hours) < 48:
            return f"{whole} hour{'s' if whole != 1 else ''}"
        return f"about {abs(hours) / 24:.1f} days ({whole} hours)"


def render_message(
    audience: Audience,
    name: str,
    language: str,
    values: dict[str, Any],
    *,
    time_zone: str | None = None,
) -> RenderedMessage:
    """Render template `name` for `audience` in `language` (en / zh) with `values`."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r} (known: {', '.join(LANGUAGES)})")
    path = f"{audience}/{name}.{language}.txt"
    try:
        template = _environment().get_template(path)
    except TemplateNotFound:
        known = ", ".join(template_names(audience)) or "none"
        raise ValueError(f"no {audience} template {name!r} (known: {known})") from None
    formats = _Formats(language, time_zone)
    context = template.new_context(
        {
            **values,
            "language": language,
            "time_zone": formats.zone_name,
            "at": formats.at,
            "day": formats.day,
            "num": formats.num,
            "duration": formats.duration,
        }
    )
    subject = "".join(template.blocks["subject"](context)).strip()
    body = "".join(template.blocks["body"](context)).strip() + "\n"
    return RenderedMessage(" ".join(subject.split()), body, language, name)
