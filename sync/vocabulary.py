"""What sources' words mean: status phrases, release words and hold lists → codes and states.

Tables, not code: to teach quaysync a new word, add a row. Phrases are matched on a normalized
form (lower case, single spaces, no surrounding punctuation): exactly first, then as a prefix
("delivered 07/26/2021 19:35"), then — for Chinese, which has no spaces — as a substring.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class StatusMeaning:
    """What a status phrase says. Any part may be None (the phrase says nothing about it)."""

    event_code: str | None = None  # DISC, GTOT, GTIN, LOAD, ARRI, DEPA, AVPU, CUSR, CUSI
    available: bool | None = None
    lifecycle: str | None = None  # a lifecycle state the phrase implies without an event
    empty: bool | None = None


# Status phrases (status, available, ready_for_pick_up, vessel_status, cy_location columns).
STATUS_PHRASES: dict[str, StatusMeaning] = {
    # on the water / not yet here
    "on vessel": StatusMeaning(available=False, lifecycle="IN_TRANSIT"),
    "on board": StatusMeaning(available=False, lifecycle="IN_TRANSIT"),
    "on ship": StatusMeaning(available=False, lifecycle="IN_TRANSIT"),
    "in transit": StatusMeaning(available=False, lifecycle="IN_TRANSIT"),
    "not discharged": StatusMeaning(available=False, lifecycle="IN_TRANSIT"),
    "loaded": StatusMeaning(event_code="LOAD", available=False),
    "在船上": StatusMeaning(available=False, lifecycle="IN_TRANSIT"),
    "未卸船": StatusMeaning(available=False, lifecycle="IN_TRANSIT"),
    "已装船": StatusMeaning(event_code="LOAD", available=False),
    "运输中": StatusMeaning(available=False, lifecycle="IN_TRANSIT"),
    # the vessel
    "arrived": StatusMeaning(event_code="ARRI"),
    "berthed": StatusMeaning(event_code="ARRI"),
    "working": StatusMeaning(event_code="ARRI"),
    "departed": StatusMeaning(event_code="DEPA"),
    "sailed": StatusMeaning(event_code="DEPA"),
    "已到港": StatusMeaning(event_code="ARRI"),
    "已靠泊": StatusMeaning(event_code="ARRI"),
    "已离港": StatusMeaning(event_code="DEPA"),
    # in the terminal
    "discharged": StatusMeaning(event_code="DISC"),
    "in yard": StatusMeaning(event_code="DISC"),
    "grounded": StatusMeaning(event_code="DISC"),
    "yard": StatusMeaning(event_code="DISC"),
    "已卸船": StatusMeaning(event_code="DISC"),
    "已卸": StatusMeaning(event_code="DISC"),
    "在场": StatusMeaning(event_code="DISC"),
    # pick-up
    "available": StatusMeaning(event_code="AVPU", available=True),
    "available for pickup": StatusMeaning(event_code="AVPU", available=True),
    "available for pick up": StatusMeaning(event_code="AVPU", available=True),
    "ready for pickup": StatusMeaning(event_code="AVPU", available=True),
    "yes": StatusMeaning(available=True),
    "y": StatusMeaning(available=True),
    "no": StatusMeaning(available=False),
    "n": StatusMeaning(available=False),
    "not available": StatusMeaning(available=False),
    "unavailable": StatusMeaning(available=False),
    "hold": StatusMeaning(available=False),
    "on hold": StatusMeaning(available=False),
    "可提": StatusMeaning(event_code="AVPU", available=True),
    "可提柜": StatusMeaning(event_code="AVPU", available=True),
    "可以提柜": StatusMeaning(event_code="AVPU", available=True),
    "不可提": StatusMeaning(available=False),
    "不可提柜": StatusMeaning(available=False),
    "扣留": StatusMeaning(available=False),
    # gone
    "delivered": StatusMeaning(event_code="GTOT", available=False),
    "gated out": StatusMeaning(event_code="GTOT", available=False),
    "gate out": StatusMeaning(event_code="GTOT", available=False),
    "picked up": StatusMeaning(event_code="GTOT", available=False),
    "out gated": StatusMeaning(event_code="GTOT", available=False),
    "已提柜": StatusMeaning(event_code="GTOT", available=False),
    "已提": StatusMeaning(event_code="GTOT", available=False),
    "已出闸": StatusMeaning(event_code="GTOT", available=False),
    "empty returned": StatusMeaning(event_code="GTIN", available=False, empty=True),
    "empty in": StatusMeaning(event_code="GTIN", available=False, empty=True),
    "已还空": StatusMeaning(event_code="GTIN", available=False, empty=True),
    "已还箱": StatusMeaning(event_code="GTIN", available=False, empty=True),
    # customs
    "customs released": StatusMeaning(event_code="CUSR"),
    "customs cleared": StatusMeaning(event_code="CUSR"),
    "海关放行": StatusMeaning(event_code="CUSR"),
    "已放行": StatusMeaning(event_code="CUSR"),
    "customs inspection": StatusMeaning(event_code="CUSI", available=False),
    "customs exam": StatusMeaning(event_code="CUSI", available=False),
    "查验": StatusMeaning(event_code="CUSI", available=False),
    "海关查验": StatusMeaning(event_code="CUSI", available=False),
}

# Release columns (customs_release, carrier_release, freight_release, tmf, usda_hold, line_hold).
RELEASED = "released"
HOLD = "hold"
INSPECTION = "inspection"
RELEASE_WORDS: dict[str, str] = {
    "released": RELEASED,
    "release": RELEASED,
    "cleared": RELEASED,
    "clear": RELEASED,
    "paid": RELEASED,
    "ok": RELEASED,
    "yes": RELEASED,
    "y": RELEASED,
    "no hold": RELEASED,
    "none": RELEASED,
    "no": RELEASED,
    "customs released": RELEASED,
    "海关放行": RELEASED,
    "已放行": RELEASED,
    "放行": RELEASED,
    "已付": RELEASED,
    "无": RELEASED,
    "hold": HOLD,
    "on hold": HOLD,
    "holds": HOLD,
    "not released": HOLD,
    "not cleared": HOLD,
    "unpaid": HOLD,
    "pending": HOLD,
    "扣留": HOLD,
    "未放行": HOLD,
    "未付": HOLD,
    "待放行": HOLD,
    "inspection": INSPECTION,
    "exam": INSPECTION,
    "customs exam": INSPECTION,
    "intensive exam": INSPECTION,
    "查验": INSPECTION,
    "海关查验": INSPECTION,
}
# Words that state nothing ("N/A" in a release column is not a release).
NOTHING = frozenset({"", "n/a", "na", "-", "--", "tbd", "tba", "unknown", "null", "none yet", "/"})

# Hold lists ("CUSTOMS, FREIGHT", "Line hold / USDA", "No"): facet keywords.
HOLD_FACETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("customs", ("customs", "cbp", "海关", "ams")),
    ("freight", ("freight", "运费")),
    ("line", ("line", "carrier", "船公司")),
    ("usda", ("usda", "agriculture", "检疫")),
    ("tmf", ("tmf", "traffic mitigation")),
)
NO_HOLDS = frozenset({"no", "none", "no holds", "n", "无", "没有", "released", "0"})

_SPACES = re.compile(r"\s+")
_EDGE_PUNCTUATION = " \t.:;,-_*!?()[]{}'\"。：；，、！？（）【】"
_HAS_CJK = re.compile(r"[\u4e00-\u9fff]")


@lru_cache(maxsize=8192)
def normalize_phrase(text: str) -> str:
    return _SPACES.sub(" ", text).strip(_EDGE_PUNCTUATION).lower()


@lru_cache(maxsize=8192)
def status_meaning(text: str) -> StatusMeaning | None:
    """The meaning of a status phrase, or None when the vocabulary does not know it."""
    phrase = normalize_phrase(text)
    if not phrase or phrase in NOTHING:
        return None
    if phrase in STATUS_PHRASES:
        return STATUS_PHRASES[phrase]
    # Longest known phrase that the text starts with ("delivered 07/26/2021 19:35", "in yard (#b004)").
    for known in sorted(STATUS_PHRASES, key=len, reverse=True):
        if len(known) > 2 and (phrase.startswith(known + " ") or phrase.startswith(known + "(")):
            return STATUS_PHRASES[known]
    if _HAS_CJK.search(phrase):
        for known in sorted(STATUS_PHRASES, key=len, reverse=True):
            if _HAS_CJK.search(known) and known in phrase:
                return STATUS_PHRASES[known]
    return None


@lru_cache(maxsize=8192)
def release_state(text: str) -> str | None:
    """'released' / 'hold' / 'inspection' for a release column's word; None when it says nothing."""
    phrase = normalize_phrase(text)
    if phrase in NOTHING:
        return None
    if phrase in RELEASE_WORDS:
        return RELEASE_WORDS[phrase]
    for word, state in sorted(RELEASE_WORDS.items(), key=lambda item: len(item[0]), reverse=True):
        if len(word) > 2 and (phrase.startswith(word + " ") or (_HAS_CJK.search(word) and word in phrase)):
            return state
    return None


@lru_cache(maxsize=8192)
def hold_facets(text: str) -> dict[str, str] | None:
    """Facet → state from a hold list; {} means 'no holds'; None means the text says nothing."""
    phrase = normalize_phrase(text)
    if phrase in NOTHING:
        return None
    if phrase in NO_HOLDS:
        return {}
    facets = {facet: HOLD for facet, keywords in HOLD_FACETS if any(word in phrase for word in keywords)}
    return facets or {"other": HOLD}
