"""Mail bodies: plain-text "key: value" notices and the visible text of HTML bodies.

A notice reads like

    船名：COSCO SHIPPING ARIES
    预计到港：2026-11-02 22:00

    箱号：CSNU1234565
    提单号：COSU1234567890

    箱号：CBHU7654321 / 状态：已卸船 / 免柜期：2026-11-25

Keys before the first container key are the notice's own (they apply to every container); each
container key opens a record that collects the keys after it; one value may name several
containers ("Affected containers: A, B, C"), each gets its own observation. Only known keys
count, matched whole (so "Original ETA" is never read as "ETA"); values stay verbatim. The keys are
NOTICE_KEYS plus the table header vocabulary (`parsers.tables.FIELD_ALIASES`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from bs4 import BeautifulSoup
from stdnum import iso6346

from parsers.tables import FIELD_ALIASES
from quaysync.model import Observation, ParseContext

# Keys as notices write them (compared lower case, single-spaced, without a trailing '.').
NOTICE_KEYS: dict[str, tuple[str, ...]] = {
    "container_no": ("container", "container no", "container number", "containers", "cntr no", "cntr",
                     "affected containers", "equipment", "箱号", "柜号", "集装箱号", "箱号码"),
    "mbl_no": ("b/l", "b/l no", "bl no", "bl", "bill of lading", "mbl", "mbl no", "master b/l", "提单号",
               "提单", "主提单号"),
    "vessel": ("vessel", "vessel name", "ship", "船名"),
    "voyage": ("voyage", "voy", "voyage no", "航次"),
    "eta": ("eta", "new eta", "revised eta", "estimated arrival", "预计到港", "新预计到港", "预计到港时间",
            "预抵时间", "新预计到港时间"),
    "ata": ("ata", "actual arrival", "实际到港", "实际到港时间"),
    "etd": ("etd", "预计离港"),
    "status": ("status", "container status", "状态", "箱状态"),
    "last_free_day": ("last free day", "lfd", "free time until", "free time expires", "免柜期", "免费期",
                      "免箱期", "免堆期", "免费期至"),
    "customs_release": ("customs", "customs status", "customs release", "海关", "海关状态", "清关状态"),
    "freight_release": ("freight", "freight status", "运费", "运费状态"),
    "event_time": ("release time", "inspection time", "event time", "放行时间", "查验时间"),
    "discharge_date": ("discharge time", "discharge date", "discharged", "卸船时间", "卸船日期", "卸货时间"),
    "gate_out_date": ("gate out", "gate out time", "提柜时间", "出闸时间"),
    "terminal": ("terminal", "码头", "卸货码头"),
    "port_of_discharge": ("port of discharge", "pod", "卸货港", "目的港"),
    "port_of_loading": ("port of loading", "pol", "装货港"),
    "container_spec": ("size/type", "size type", "type", "箱型", "箱型尺寸"),
    "weight": ("weight", "gross weight", "重量", "毛重"),
    "yard_location": ("yard location", "location in yard", "堆场位置", "场位"),
    "available": ("available", "availability", "可提", "是否可提"),
    "holds": ("holds", "hold", "扣留"),
    "demurrage": ("demurrage", "滞箱费", "滞期费"),
    "appointment_date": ("appointment", "appointment time", "预约时间"),
    "carrier": ("carrier", "line", "shipping line", "船公司"),
    "customer": ("consignee", "customer", "收货人"),
}  # fmt: skip
# A key that holds two fields: "Vessel / Voyage: MSC PAMELA / 123E".
COMBINED_KEYS: dict[str, tuple[str, str]] = {
    "vessel / voyage": ("vessel", "voyage"), "vessel/voyage": ("vessel", "voyage"),
    "船名/航次": ("vessel", "voyage"), "船名 / 航次": ("vessel", "voyage"), "船名航次": ("vessel", "voyage"),
}  # fmt: skip
CONTAINER_NUMBER = re.compile(r"(?<![A-Z0-9])([A-Z]{3}[UJZ])\s?(\d{6})\s?(\d)(?![A-Z0-9])")
_LOOSE_NUMBER = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{3,4}\s?\d{4,8}(?![A-Za-z0-9])")
_SEPARATOR = r"(?:^|\s/\s|\s\|\s|[;；|\t]|\s{2,})"


def normalize_key(key: str) -> str:
    key = key.replace("\u3000", " ").replace("（", "(").replace("）", ")")
    return " ".join(key.split()).strip(" .·:：").lower()


@dataclass(frozen=True)
class NoticeKeys:
    """Known keys (normalized) → field, or a pair of fields for combined keys; and their pattern."""

    fields: Mapping[str, str | tuple[str, str]]
    pattern: re.Pattern[str]

    @classmethod
    def of(cls, fields: Mapping[str, str | tuple[str, str]]) -> NoticeKeys:
        keys = sorted((key for key in fields if key), key=len, reverse=True)  # longest first
        alternatives = "|".join(r"\s*".join(re.escape(word) for word in key.split(" ")) for key in keys)
        pattern = re.compile(rf"{_SEPARATOR}\s*(?P<key>{alternatives})\s*\.?\s*[:：]\s*", re.IGNORECASE)
        return cls(dict(fields), pattern)


def notice_keys(extra: Mapping[str, Iterable[str]] | None = None) -> NoticeKeys:
    """The notice vocabulary; a template's own words (`extra`) come first."""
    if not extra:
        return _default_keys()
    return NoticeKeys.of(_key_fields(extra))


@lru_cache(maxsize=1)
def _default_keys() -> NoticeKeys:
    return NoticeKeys.of(_key_fields({}))


def _key_fields(extra: Mapping[str, Iterable[str]]) -> dict[str, str | tuple[str, str]]:
    index: dict[str, str | tuple[str, str]] = {}
    # A template's own words first, then the notice words, then the table header vocabulary.
    for vocabulary in (extra, NOTICE_KEYS, FIELD_ALIASES):
        for field_name, aliases in vocabulary.items():
            for alias in aliases:
                index.setdefault(normalize_key(alias), field_name)
    for alias, pair in COMBINED_KEYS.items():
        index[normalize_key(alias)] = pair
    return index


@dataclass(frozen=True, slots=True)
class NoticeProblem:
    line_number: int
    reason: str
    raw: str


@dataclass
class NoticeReading:
    observations: list[Observation] = field(default_factory=list)
    problems: list[NoticeProblem] = field(default_factory=list)
    shared: dict[str, str] = field(default_factory=dict)  # the notice's own keys (vessel, ETA, ...)


def key_values(line: str, keys: NoticeKeys | Mapping[str, str | tuple[str, str]]) -> list[tuple[str, str]]:
    """The known (key, value) pairs of one line; several pairs may share a line ("A：1 / B：2")."""
    if not isinstance(keys, NoticeKeys):
        keys = NoticeKeys.of(keys)
    matches = list(keys.pattern.finditer(line))
    pairs = []
    for position, match in enumerate(matches):
        end = matches[position + 1].start() if position + 1 < len(matches) else len(line)
        value = line[match.end() : end].strip().strip("/|;；").strip()
        pairs.append((normalize_key(match.group("key")), value))
    return pairs


def notice_observations(
    text: str,
    context: ParseContext,
    *,
    parser: str,
    source_ref: str | None = None,
    extra_keys: Mapping[str, Iterable[str]] | None = None,
    shared: Mapping[str, str] | None = None,
) -> NoticeReading:
    """Observations of a key: value notice, one per container it names."""
    keys = notice_keys(extra_keys)
    reading = NoticeReading(shared=dict(shared or {}))
    groups: list[_Group] = []  # one per container key; its numbers share the keys that follow it
    for line_number, line in enumerate(text.splitlines(), start=1):
        for key, value in key_values(line, keys):
            target = keys.fields.get(key)
            if target is None:
                continue
            if target == "container_no":
                groups.append(_Group(line_number, _container_numbers(value, line_number, line, reading)))
                continue
            destination = groups[-1].fields if groups else reading.shared
            if isinstance(target, tuple):
                parts = [part.strip() for part in re.split(r"\s*/\s*", value, maxsplit=1)]
                for name, part in zip(target, parts, strict=False):
                    destination.setdefault(name, part)
            else:
                destination.setdefault(target, value)
    for group in groups:
        for number in group.numbers:
            fields = {**reading.shared, **group.fields, "container_no": number}
            ref = f"{source_ref or context.source_ref}#line={group.line_number}:{number}"
            reading.observations.append(context.observe(fields, parser=parser, source_ref=ref))
    return reading


@dataclass
class _Group:
    line_number: int
    numbers: list[str]
    fields: dict[str, str] = field(default_factory=dict)


def _container_numbers(value: str, line_number: int, line: str, reading: NoticeReading) -> list[str]:
    """The valid container numbers in a value; invalid ones become problems, never observations."""
    found: list[str] = []
    invalid = 0
    for match in CONTAINER_NUMBER.finditer(value.upper()):
        number = "".join(match.groups())
        if iso6346.is_valid(number):
            found.append(number)
        else:
            invalid += 1
            reading.problems.append(
                NoticeProblem(line_number, f"{number}: invalid ISO 6346 check digit", line.strip())
            )
    if not found and not invalid:
        loose = _LOOSE_NUMBER.findall(value)
        reason = f"{loose[0]!r} is not an ISO 6346 container number" if loose else "no container number"
        reading.problems.append(NoticeProblem(line_number, f"{reason} in {value!r}", line.strip()))
    return found


# -- HTML bodies -----------------------------------------------------------------------------

_BLOCK_TAGS = ("p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section", "article",
               "header", "footer", "blockquote", "pre", "dt", "dd")  # fmt: skip


def html_text(html: str | bytes, *, without_tables: bool = False) -> str:
    """The visible text of an HTML body, one line per line break or block (for key: value reading)."""
    soup = BeautifulSoup(html, "lxml")
    for hidden in soup(["script", "style", "head", "title", "template"]):
        hidden.decompose()
    if without_tables:
        for table in soup.find_all("table"):
            table.decompose()
    for line_break in soup.find_all("br"):
        line_break.replace_with("\n")
    for block in soup.find_all(_BLOCK_TAGS):
        block.insert_before("\n")
        block.insert_after("\n")
    for cell in soup.find_all(["td", "th"]):
        cell.insert_after("  ")  # cells of a layout table read as separate pairs
    text = soup.get_text()
    lines = (" ".join(line.replace("\xa0", " ").split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)
