"""Container numbers (ISO 6346) and the other identifiers sources write loosely."""

from __future__ import annotations

import re
from functools import lru_cache

from stdnum import iso6346
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength

from quaysync.errors import InvalidContainerNumber

_NOISE = re.compile(r"[\s\-./_]+")
# Where a container number may hide in free text ("MSKU 123456-5", "TGHU6961213/40HC").
CONTAINER_IN_TEXT = re.compile(r"\b([A-Z]{3}[UJZR])\s?-?(\d{6})\s?-?(\d)\b")


_SHAPE = re.compile(r"^[A-Z]{3}[UJZR]\d{7}$")


@lru_cache(maxsize=65536)
def normalize_container_number(raw: str) -> str:
    """The canonical 11-character number, or InvalidContainerNumber saying what is wrong."""
    compact = _NOISE.sub("", raw).upper()
    if _SHAPE.match(compact):
        # The common case: the right shape; python-stdnum computes the check digit.
        expected = iso6346.calc_check_digit(compact[:10])
        if expected == compact[10]:
            return compact
        raise InvalidContainerNumber(raw, f"check digit is {compact[-1]}, expected {expected}")
    try:
        return iso6346.validate(compact)
    except InvalidChecksum:
        expected = iso6346.calc_check_digit(compact[:10])
        raise InvalidContainerNumber(raw, f"check digit is {compact[-1]}, expected {expected}") from None
    except InvalidLength:
        raise InvalidContainerNumber(raw, f"{len(compact)} characters, expected 11") from None
    except InvalidFormat:
        raise InvalidContainerNumber(
            raw, "expected 4 letters (owner + category U/J/Z/R) and 7 digits"
        ) from None


def find_container_numbers(text: str) -> list[str]:
    """Valid container numbers mentioned in free text, in order, without repeats."""
    found: list[str] = []
    for match in CONTAINER_IN_TEXT.finditer(text.upper()):
        candidate = "".join(match.groups())
        if iso6346.is_valid(candidate) and candidate not in found:
            found.append(candidate)
    return found


def normalize_bill_of_lading(raw: str) -> str | None:
    compact = _NOISE.sub("", raw).upper()
    return compact if 6 <= len(compact) <= 40 and compact.isalnum() else None
