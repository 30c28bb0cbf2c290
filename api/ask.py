"""Ask: a customer's question as typed in a chat → one ready sentence per container, B/L or order.

    answer(session, "柜子到哪了 MSKU1234565?")
    → {"language": "zh",
       "text": "您的集装箱 MSKU1234565 已于 11月20日 14:30 卸船，目前可提柜，免费期至 11月25日。",
       "answers": [{"kind": "container", "key": "MSKU1234565", "found": true,
                    "sentence": ..., "data": {...}}]}

Numbers are found in free text (ISO 6346 container numbers, B/L numbers, order references, with
or without a keyword such as "BL", "提单", "order", "订单"); the language is Chinese when the
question has any CJK character, else English. Sentences come from Jinja2 templates
(api/templates/ask/{zh,en}.j2) with dates in the container's local time zone. Read-only: an
unknown number is answered with how to get it tracked, never added here.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum import iso6346

from api import queries
from api.numbers import check_container_number, normalize_bill_of_lading
from api.zones import local
from store.tables import ContainerStatusRow, OrderLinkRow

TEMPLATES = Path(__file__).resolve().parent / "templates" / "ask"
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_EDGE_BEFORE, _EDGE_AFTER = r"(?<![A-Z0-9])", r"(?![A-Z0-9])"
CONTAINER = re.compile(_EDGE_BEFORE + r"([A-Z]{3}[UJZR])[ -]?(\d{6})[ -]?(\d)" + _EDGE_AFTER)
WITHOUT_CHECK_DIGIT = re.compile(_EDGE_BEFORE + r"([A-Z]{3}[UJZR])[ -]?(\d{6})" + _EDGE_AFTER)
_LABEL = r"\s*(?:NO\.?|NUMBER|#|:|：|号|號)?\s*[:：]?\s*"
BILL_WITH_KEYWORD = re.compile(
    r"(?:(?<![A-Z])(?:B/?L|MBL|HBL)(?![A-Z])|BILL OF LADING|提单号?|提單號?)"
    + _LABEL
    + r"([A-Z0-9][A-Z0-9-]{5,39})"
)
ORDER_WITH_KEYWORD = re.compile(
    r"(?:(?<![A-Z])(?:ORDER|PO)(?![A-Z-])|订单号?|訂單號?)" + _LABEL + r"([A-Z0-9][A-Z0-9_/-]{2,39})"
)
BARE_ORDER = re.compile(_EDGE_BEFORE + r"(PO-?\d{3,})" + _EDGE_AFTER)
BARE_BILL = re.compile(_EDGE_BEFORE + r"([A-Z]{4}\d{6,12})" + _EDGE_AFTER)
TOKEN = re.compile(_EDGE_BEFORE + r"([A-Z0-9][A-Z0-9-]{5,39})" + _EDGE_AFTER)

NAMES = {
    "zh": {
        "facet_names": {
            "customs": "海关",
            "freight": "运费",
            "line": "船公司",
            "usda": "USDA",
            "tmf": "TMF",
            "other": "其他",
        },
        "lifecycle_names": {
            "UNKNOWN": "状态未知",
            "IN_TRANSIT": "在途",
            "ARRIVED": "已到港未卸船",
            "DISCHARGED": "已卸船",
            "GATED_OUT": "已提柜",
            "EMPTY_RETURNED": "已还空箱",
        },
        "kind_names": {"container": "集装箱", "bill_of_lading": "提单", "order": "订单"},
    },
    "en": {
        "facet_names": {
            "customs": "customs",
            "freight": "freight",
            "line": "line",
            "usda": "USDA",
            "tmf": "TMF",
            "other": "other",
        },
        "lifecycle_names": {
            "UNKNOWN": "without status",
            "IN_TRANSIT": "in transit",
            "ARRIVED": "arrived, not discharged",
            "DISCHARGED": "discharged",
            "GATED_OUT": "picked up",
            "EMPTY_RETURNED": "returned empty",
        },
        "kind_names": {"container": "container", "bill_of_lading": "bill of lading", "order": "order"},
    },
}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Mention:
    kind: str  # container / bill_of_lading / order / invalid_container / incomplete_container
    key: str  # the normalized number (as typed, for an invalid container)
    explicit: bool = True  # said with a keyword or in a known shape (answer even when unknown)
    suggestion: str | None = None
    reason: str | None = None


def language_of(text: str) -> str:
    return "zh" if _CJK.search(text) else "en"


def find_mentions(text: str) -> list[Mention]:
    """Containers, B/Ls and orders named in `text`, in order of appearance, without repeats."""
    upper = text.upper()
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, Mention]] = []

    def original(match: re.Match[str], group: int) -> str:
        """The text as typed (order references keep their case) where upper-casing kept positions."""
        start, end = match.span(group)
        return text[start:end] if len(upper) == len(text) else match.group(group)

    def free(start: int, end: int) -> bool:
        return all(end <= left or start >= right for left, right in taken)

    def add(start: int, end: int, mention: Mention) -> None:
        taken.append((start, end))
        if all(known.kind != mention.kind or known.key != mention.key for _, known in found):
            found.append((start, mention))

    for match in CONTAINER.finditer(upper):
        check = check_container_number("".join(match.groups()))
        if check.number:
            add(match.start(), match.end(), Mention("container", check.number))
        else:
            add(
                match.start(),
                match.end(),
                Mention("invalid_container", "".join(match.groups()), True, check.suggestion, check.reason),
            )
    for match in WITHOUT_CHECK_DIGIT.finditer(upper):
        if free(match.start(), match.end()):
            body = "".join(match.groups())
            full = body + iso6346.calc_check_digit(body)
            add(
                match.start(),
                match.end(),
                Mention("incomplete_container", body, True, full, "no check digit"),
            )
    for pattern, kind in ((BILL_WITH_KEYWORD, "bill_of_lading"), (ORDER_WITH_KEYWORD, "order")):
        for match in pattern.finditer(upper):
            start, end = match.span(1)
            if not free(start, end):
                continue
            raw = original(match, 1).strip("-")
            if not any(character.isdigit() for character in raw):
                continue  # "order status", "BL released": a keyword without a number
            key = normalize_bill_of_lading(raw) if kind == "bill_of_lading" else raw
            if key:
                add(start, end, Mention(kind, key))
    for pattern, kind in ((BARE_ORDER, "order"), (BARE_BILL, "bill_of_lading")):
        for match in pattern.finditer(upper):
            start, end = match.span(1)
            if free(start, end):
                add(start, end, Mention(kind, original(match, 1) if kind == "order" else match.group(1)))
    for match in TOKEN.finditer(upper):
        start, end = match.span(1)
        if free(start, end) and any(character.isdigit() for character in match.group(1)):
            # a bare token is only a subject when the store knows it (checked in `answer`)
            add(start, end, Mention("unknown_kind", original(match, 1), explicit=False))
    return [mention for _, mention in sorted(found, key=lambda item: item[0])]


class Templates:
    """The zh/en sentence templates (plain text: no HTML escaping)."""

    def __init__(self, folder: Path = TEMPLATES) -> None:
        self.environment = Environment(
            loader=FileSystemLoader(folder),
            autoescape=False,
            undefined=StrictUndefined,
            keep_trailing_newline=False,
        )
        self.modules: dict[str, Any] = {}

    def module(self, language: str) -> Any:
        if language not in self.modules:
            names = NAMES[language]

            def when(moment: datetime | None, zone_name: str | None) -> str:
                value = local(moment, zone_name)
                if value is None:
                    return "—"
                if language == "zh":
                    return f"{value.month}月{value.day}日 {value:%H:%M}"
                return f"{MONTHS[value.month - 1]} {value.day} at {value:%H:%M}"

            def day(value: date | None) -> str:
                if value is None:
                    return "—"
                return (
                    f"{value.month}月{value.day}日"
                    if language == "zh"
                    else f"{MONTHS[value.month - 1]} {value.day}"
                )

            template = self.environment.get_template(f"{language}.j2")
            self.modules[language] = template.make_module({**names, "when": when, "day": day})
        return self.modules[language]


_TEMPLATES = Templates()


def _resolve(session: Session, mention: Mention) -> Mention | None:
    """What an unqualified token names in the store (B/L or order), or None."""
    bill = normalize_bill_of_lading(mention.key)
    if bill and queries.shipment_exists(session, bill):
        return Mention("bill_of_lading", bill)
    links = OrderLinkRow.__table__
    if session.execute(select(links.c.id).where(links.c.order_ref == mention.key).limit(1)).first():
        return Mention("order", mention.key)
    return None


def _lifecycle_counts(containers: list[dict[str, Any]]) -> list[tuple[str, int]]:
    counts = Counter(container["lifecycle"] for container in containers)
    order = ("DISCHARGED", "ARRIVED", "IN_TRANSIT", "GATED_OUT", "EMPTY_RETURNED", "UNKNOWN")
    return [(state, counts[state]) for state in order if counts[state]]


def answer(
    session: Session, question: str, *, language: str | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """Sentences and data for every subject of the question."""
    now = now or datetime.now(UTC)
    language = language or language_of(question)
    sentences = _TEMPLATES.module(language)
    answers: list[dict[str, Any]] = []
    for mention in find_mentions(question):
        if mention.kind == "unknown_kind":
            resolved = _resolve(session, mention)
            if resolved is None:
                continue
            mention = resolved
        entry: dict[str, Any] = {"kind": mention.kind, "key": mention.key, "found": False, "data": None}
        if mention.kind == "incomplete_container":
            suggestion = mention.suggestion or ""
            tracked = session.get(ContainerStatusRow, suggestion) is not None
            entry.update(suggestion=suggestion, reason=mention.reason)
            entry["sentence"] = str(sentences.incomplete(mention.key, suggestion, tracked))
        elif mention.kind == "invalid_container":
            suggestion = mention.suggestion or ""
            tracked = bool(suggestion) and session.get(ContainerStatusRow, suggestion) is not None
            entry.update(suggestion=suggestion, reason=mention.reason)
            entry["sentence"] = str(
                sentences.invalid(mention.key, mention.key[-1], suggestion[-1:], suggestion, tracked)
            )
        elif mention.kind == "container":
            data = queries.container_status(session, mention.key, now)
            entry.update(found=data is not None, data=data)
            entry["sentence"] = str(
                sentences.container(data) if data else sentences.unknown("container", mention.key)
            )
        elif mention.kind == "bill_of_lading":
            data = queries.shipment(session, mention.key, now)
            entry.update(found=data is not None, data=data)
            entry["sentence"] = str(
                sentences.bill(data) if data else sentences.unknown("bill_of_lading", mention.key)
            )
        else:
            data = queries.order(session, mention.key, now)
            entry.update(found=data is not None, data=data)
            entry["sentence"] = str(
                sentences.order(data, _lifecycle_counts(data["containers"]))
                if data
                else sentences.unknown("order", mention.key)
            )
        answers.append(entry)
    text = ("" if language == "zh" else " ").join(entry["sentence"] for entry in answers)
    return {
        "question": question,
        "language": language,
        "text": text or str(sentences.nothing()),
        "answers": answers,
    }
