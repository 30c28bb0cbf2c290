"""Identifiers as people type them: ISO 6346 container numbers, B/L numbers, order references.

The api room imports only the store, so the ISO 6346 check is python-stdnum's, called here
directly (sync.containers does the same for the ingest side).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum import iso6346

_NOISE = re.compile(r"[\s\-./_]+")
_SHAPE = re.compile(r"^[A-Z]{3}[UJZR]\d{7}$")


@dataclass(frozen=True)
class ContainerCheck:
    """The verdict on a typed container number."""

    raw: str
    number: str | None  # the canonical number when valid
    reason: str | None = None  # why it is not valid
    suggestion: str | None = None  # the number with the right check digit, when only that is wrong

    @property
    def valid(self) -> bool:
        return self.number is not None


def check_container_number(raw: str) -> ContainerCheck:
    compact = _NOISE.sub("", raw).upper()
    if len(compact) != 11:
        return ContainerCheck(raw, None, f"{len(compact)} characters, expected 11")
    if not _SHAPE.match(compact):
        return ContainerCheck(raw, None, "expected 4 letters (owner + category U/J/Z/R) and 7 digits")
    expected = iso6346.calc_check_digit(compact[:10])
    if compact[-1] != expected:
        return ContainerCheck(
            raw,
            None,
            f"check digit is {compact[-1]}, expected {expected}",
            suggestion=compact[:10] + expected,
        )
    return ContainerCheck(raw, compact)


def normalize_bill_of_lading(raw: str) -> str | None:
    """The compact upper-case B/L number, or None when it cannot be one (same rule as the ingest side)."""
    compact = _NOISE.sub("", raw).upper()
    return compact if 6 <= len(compact) <= 40 and compact.isalnum() else None


def normalize_order_ref(raw: str) -> str:
    return raw.strip()
