"""Cell values → the text a person sees in the cell."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

_ONE_SECOND = timedelta(seconds=1)


def render_datetime(value: datetime) -> str:
    """'YYYY-MM-DD' for whole days, 'YYYY-MM-DD HH:MM', or with ':SS' when seconds are shown."""
    if value.microsecond:
        # Excel stores times as fractions of a day: 14:30 comes back as 14:29:59.999987.
        value = value.replace(microsecond=0) + (_ONE_SECOND if value.microsecond >= 500_000 else timedelta())
    if not (value.hour or value.minute or value.second):
        return value.date().isoformat()
    return value.isoformat(" ", "minutes" if not value.second else "seconds")


def render_float(value: float) -> str:
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.15g}"  # Excel shows 15 significant digits: 0.1 + 0.2 is "0.3"


def render_time(value: time) -> str:
    return value.isoformat("minutes" if not value.second else "seconds")


def render_duration(value: timedelta) -> str:
    seconds = round(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}" + (f":{seconds:02d}" if seconds else "")


def render_cell(value: object) -> str:
    """Any value a reader returns (calamine, xlrd, our own) as display text; None is ''."""
    kind = value.__class__
    if kind is str:
        return value  # type: ignore[return-value]
    if kind is float:
        return render_float(value)  # type: ignore[arg-type]
    if kind is datetime:
        return render_datetime(value)  # type: ignore[arg-type]
    if kind is bool:
        return "TRUE" if value else "FALSE"
    if kind is int:
        return str(value)
    if kind is date:
        return value.isoformat()  # type: ignore[attr-defined]
    if kind is time:
        return render_time(value)  # type: ignore[arg-type]
    if kind is timedelta:
        return render_duration(value)  # type: ignore[arg-type]
    if value is None:
        return ""
    return str(value)


# Sheets repeat the same dates and amounts thousands of times (one vessel, one ETA): remembering
# their text skips most of the formatting. Keyed by type so True never meets 1.0 (equal as keys).
_CACHE_LIMIT = 50_000
_datetime_text: dict[datetime, str] = {}
_float_text: dict[float, str] = {}


def _render_cached(value: object) -> str:
    kind = value.__class__
    if kind is datetime:
        text = _datetime_text.get(value)  # type: ignore[call-overload]
        if text is None:
            if len(_datetime_text) > _CACHE_LIMIT:
                _datetime_text.clear()
            text = _datetime_text[value] = render_datetime(value)  # type: ignore[index, arg-type]
        return text
    if kind is float:
        text = _float_text.get(value)  # type: ignore[call-overload]
        if text is None:
            if len(_float_text) > _CACHE_LIMIT:
                _float_text.clear()
            text = _float_text[value] = render_float(value)  # type: ignore[index, arg-type]
        return text
    return render_cell(value)


def render_row(row: list[object]) -> list[str]:
    """A row as text; rows of plain strings (the common case) go through without a copy."""
    for value in row:
        if value.__class__ is not str:
            # The date-time lookup is inlined (a call per cell costs more than the lookup); only
            # datetimes are keys there, so no other value can match one by accident.
            known = _datetime_text.get
            return [
                value if value.__class__ is str else (known(value) or _render_cached(value))  # type: ignore[misc]
                for value in row
            ]
    return row  # type: ignore[return-value]


@contextmanager
def bulk_allocation() -> Iterator[None]:
    """Pause the cyclic garbage collector while building hundreds of thousands of rows/objects.

    Nothing built here forms reference cycles, yet each allocation burst triggers full collections
    that rescan every row already built (measured: 40-60 % of the time on a 100,000-row sheet).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
