"""The files inside the malformed corpus: bombs, corrupt workbooks, broken EDIFACT, garbage.

Built in memory, deterministically; nothing here is ever written to disk or opened by a reader
except the parsers under test.
"""

from __future__ import annotations

import io
import random
import zipfile
from datetime import UTC, datetime
from functools import lru_cache

from sandbox.mail.documents import csv_report, xlsx_report
from sandbox.world import World

SENT = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


@lru_cache(maxsize=1)
def _world() -> World:
    return World(seed=7, containers=120)


def numbers(count: int = 3) -> list[str]:
    """The first World containers (seed 7): the corpus talks about real boxes."""
    return [box.container_number for box in _world().containers[:count]]


def good_csv() -> bytes:
    rows = [[number, "MAERSK", "Yes", "2026-11-08"] for number in numbers()]
    return csv_report(["Container No.", "Line", "Available", "Last Free Day"], rows)


def small_xlsx(rows: list[list[str | int | None]] | None = None) -> bytes:
    return xlsx_report(
        title_rows=["Sandbox Container Terminal"],
        header=["Container No.", "Line", "Available", "Last Free Day"],
        rows=rows or [[number, "MAERSK", "Yes", "2026-11-08"] for number in numbers()],
        moment=SENT,
    )


def rezip(blob: bytes, replace: dict[str, bytes], *, drop: tuple[str, ...] = ()) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(blob))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename in drop:
                continue
            target.writestr(info, replace.get(info.filename, source.read(info.filename)))
    return output.getvalue()


def zip_bomb_xlsx() -> bytes:
    """A workbook whose sheet inflates from ~50 KB to 50 MB (deflate's ratio limit, ~1000:1)."""
    row = b'<row r="1"><c r="A1" t="inlineStr"><is><t>Container No.</t></is></c></row>'
    sheet = (
        b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><sheetData>' + row + b" " * 50_000_000 + b"</sheetData></worksheet>"
    )
    return rezip(small_xlsx(), {"xl/worksheets/sheet1.xml": sheet})


def entity_bomb_xlsx() -> bytes:
    """Billion laughs in the shared strings and the sheet: entities expand to gigabytes."""
    doctype = (
        b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            b'<!ENTITY lol%d "%s">' % (level, (b"&lol%d;" % (level - 1) if level > 1 else b"&lol;") * 10)
            for level in range(1, 10)
        )
        + b"]>"
    )
    sheet = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        + doctype.replace(b"lolz", b"worksheet")
        + b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>'
    )
    strings = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        + doctype.replace(b"lolz", b"sst")
        + b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
        b'uniqueCount="1"><si><t>&lol9;</t></si></sst>'
    )
    return rezip(small_xlsx(), {"xl/worksheets/sheet1.xml": sheet, "xl/sharedStrings.xml": strings})


def garbage(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def edi_bytes(segments: list[str]) -> bytes:
    return ("\r\n".join(segments) + "\r\n").encode()


def codeco_segments(number: str) -> list[str]:
    return [
        "UNA:+.? '",
        "UNB+UNOC:3+SBXCT+QUAYSYNC+261103:0900+BAD1'",
        "UNH+BAD101+CODECO:D:95B:UN:ITG14'",
        "BGM+36+BAD1361103+9'",
        f"EQD+CN+{number}+45G1:102:5++3+5'",
        "DTM+7:202611030800:203'",
        "LOC+165+USLGB:139:6'",
        "CNT+16:1'",
        "UNT+7+BAD101'",
        "UNZ+1+BAD1'",
    ]
