"""Helpers every portal-family parser shares: decoding, cell text, label/value and header tables.

Parsers key on a page's structure (element classes, table headers, JSON member names), never on
terminal-specific text, and keep the portal's words verbatim apart from whitespace: runs of
whitespace (including non-breaking spaces) become one space and the ends are trimmed.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import charset_normalizer
from bs4 import BeautifulSoup, NavigableString, Tag

from quaysync.errors import BadInputError, LayoutChangedError
from quaysync.model import Observation, ParseContext

# Raw values as the portals give them: mostly strings, but JSON portals also state booleans and
# numbers, and the reference expectations keep those types (see the package docstring).
RawValue = str | bool | int | float | None
Fields = dict[str, RawValue]

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# C0 control characters that never appear in a real page (tab, LF, CR, FF are fine).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")


def decode(content: bytes, *, what: str) -> str:
    """Bytes → text: BOM, then strict UTF-8, then charset detection; garbage → BadInputError."""
    if not isinstance(content, bytes | bytearray):
        raise BadInputError(f"{what}: expected bytes, got {type(content).__name__}")
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            try:
                return content.decode(encoding)
            except UnicodeDecodeError as error:
                raise BadInputError(f"{what}: undecodable {encoding} bytes ({error.reason})") from error
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        best = charset_normalizer.from_bytes(bytes(content)).best()
        if best is None:
            raise BadInputError(f"{what}: bytes are not text in any known encoding") from None
        text = str(best)
    if len(_CONTROL.findall(text[:20000])) > 2:
        raise BadInputError(f"{what}: bytes decode to binary data, not a page")
    return text


def load_json(content: bytes, *, what: str) -> Any:
    """A JSON response; text that is not JSON means the endpoint answered something else."""
    text = decode(content, what=what)
    if not text.strip():
        raise LayoutChangedError(f"{what}: empty response where JSON was expected")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise LayoutChangedError(f"{what}: response is not JSON ({error.msg} at {error.pos})") from error


def soup(content: bytes, *, what: str) -> BeautifulSoup:
    return BeautifulSoup(decode(content, what=what), "lxml")


def clean(text: str | None) -> str:
    """The portal's text with whitespace runs (incl. NBSP) collapsed and the ends trimmed."""
    return " ".join((text or "").split())


def text_of(element: Tag | NavigableString | None) -> str:
    if element is None:
        return ""
    return clean(element.get_text(" "))


def strings_of(element: Tag) -> list[str]:
    """The non-blank text pieces of an element, each cleaned, in document order."""
    return [piece for piece in (clean(s) for s in element.stripped_strings) if piece]


def or_none(value: str | None) -> str | None:
    """Blank → None, for portals whose reference expectations treat an empty cell as 'nothing'."""
    return value if value else None


def require(found: Any, what: str, missing: str) -> Any:
    """Return `found`, or raise LayoutChangedError naming what the page lacks."""
    if found is None or found == [] or found == {}:
        raise LayoutChangedError(f"{what}: {missing} not found; the page layout changed")
    return found


def require_keys(record: Mapping[str, Any], keys: Iterable[str], what: str) -> None:
    missing = [key for key in keys if key not in record]
    if missing:
        raise LayoutChangedError(f"{what}: missing JSON member(s) {', '.join(missing)}; the API changed")


def label_value_rows(table: Tag, *, label_cell: str = "td", value_cell: str = "td") -> dict[str, str]:
    """Walk a label/value table (label cell followed by its value cell, several pairs per row).

    Labels lose a trailing colon; the first occurrence of a label wins.
    """
    pairs: dict[str, str] = {}
    for row in table.find_all("tr"):
        cells = [cell for cell in row.find_all([label_cell, value_cell], recursive=False)]
        for index in range(0, len(cells) - 1, 2):
            label = text_of(cells[index]).rstrip(":").strip()
            if label:
                pairs.setdefault(label, text_of(cells[index + 1]))
    return pairs


def header_index(headers: Iterable[str], wanted: Mapping[str, str], what: str) -> dict[str, int]:
    """Map field → column index by header text (prefix match after cleaning, case-insensitive)."""
    cleaned = [clean(header).lower() for header in headers]
    found: dict[str, int] = {}
    for field, header in wanted.items():
        target = header.lower()
        index = next((i for i, text in enumerate(cleaned) if text.startswith(target)), None)
        if index is None:
            raise LayoutChangedError(f"{what}: column {header!r} not found in headers {cleaned}")
        found[field] = index
    return found


def not_found(context: ParseContext, container_no: str, words: str, *, parser: str) -> Observation:
    """The page's own statement that it does not know this container."""
    return context.observe({"container_no": container_no, "not_found": words}, parser=parser)


def observe_all(
    context: ParseContext,
    records: Iterable[Fields],
    *,
    parser: str,
    meanings: Mapping[str, str | None] | None = None,
) -> list[Observation]:
    """One observation per record; identical records (a page listing a row twice) count once.

    `meanings`: fields named by the captured convention rather than by what they hold (see
    `quaysync.model.Observation.meanings`).
    """
    observations: list[Observation] = []
    seen: set[str] = set()
    for fields in records:
        identity = json.dumps(fields, sort_keys=True, default=str)
        if identity in seen:
            continue
        seen.add(identity)
        observations.append(context.observe(fields, parser=parser, meanings=meanings))
    return observations
