"""Cell values → the text a person sees in the cell."""

from __future__ import annotations

from collections.abc import Iterable
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


# Cell values whose text is remembered while a grid is rendered. Each type has its own table so
# no value meets an equal one of another type: True == 1 == 1.0 as dict keys, yet they show as
# "TRUE", "1" and "1"; 10**16 and 1e16 are equal too, yet show differently.
_REMEMBERED = (datetime, date, time, timedelta)


def render_rows(rows: Iterable[list[object]]) -> list[list[str]]:
    """A reader's rows as text, rendered row by row.

    Sheets repeat the same dates and amounts thousands of times (one vessel, one ETA): the text of
    each distinct value is remembered for this grid only, so most non-text cells cost one dict
    lookup inlined in the comprehension (a function call per cell costs more than the lookup).
    Floats and date-like values live in separate tables, see `_REMEMBERED`; bools and ints are
    never remembered (rare, and they are the values that compare equal to floats).
    """
    moments: dict[object, str] = {}
    floats: dict[float, str] = {}
    moment_text, float_text = moments.get, floats.get

    def first_time(value: object) -> str:
        text = render_cell(value)
        kind = value.__class__
        if kind is float:
            floats[value] = text  # type: ignore[index]
        elif kind in _REMEMBERED and getattr(value, "tzinfo", None) is None:
            moments[value] = text  # aware moments equal across zones show their own offsets
        return text

    # Every rendered text is non-empty, so `or` only falls through on a value seen the first time.
    return [
        [
            value
            if (kind := value.__class__) is str
            else (float_text(value) if kind is float else moment_text(value))  # type: ignore[arg-type]
            or first_time(value)
            for value in row
        ]
        for row in rows
    ]  # type: ignore[misc]
