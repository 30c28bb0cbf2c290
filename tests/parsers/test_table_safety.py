"""Malformed and hostile attachments: each one is refused before any reader opens it, with its reason.

The fixtures in fixtures/tables/bad/ are real bytes built by make_fixtures.py. A sparse-sheet bomb
(cells at A1 and XFD1048576) would abort this very process inside calamine if the check let it
through, so the test passing is itself the proof that the check runs first.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path

import pytest

from parsers.tables import read_tables, safety, table_observations
from parsers.tables.spreadsheetml import read_spreadsheetml
from quaysync.errors import BadInputError, LayoutChangedError
from quaysync.model import ParseContext

BAD = Path(__file__).parent / "fixtures" / "tables" / "bad"
GOOD = Path(__file__).parent / "fixtures" / "tables"

# (fixture, the reason the rejection must give)
REJECTED = [
    ("bomb_ratio.xlsx", "xlsx rejected: entry 'xl/worksheets/sheet1.xml' compresses 685:1"),
    (
        "bomb_declared_size.xlsx",
        "xlsx rejected: declared uncompressed size 3.0 GB exceeds the 200.0 MB limit",
    ),
    ("bomb_forged_size.xlsx", "inflates beyond its declared 1.0 KB (forged zip header)"),
    ("entity_bomb.xlsx", "xlsx part 'xl/sharedStrings.xml' rejected: XML with a DOCTYPE/ENTITY declaration"),
    ("external_entity.xlsx", "xlsx part 'xl/worksheets/sheet1.xml' rejected: XML with a DOCTYPE/ENTITY"),
    ("sparse_bomb.xlsx", "spans 1,048,576 rows × 16,384 columns, above the 10,000,000-cell limit"),
    ("truncated.xlsx", "xlsx rejected: not a readable zip archive (truncated or corrupt"),
    ("corrupt_sheet_xml.xlsx", "xlsx could not be read:"),
    ("word_document.xlsx", "not a spreadsheet: a Word document (.docx)"),
    ("opendocument.ods", "an OpenDocument file (.ods/.odt), which is not supported"),
    ("encrypted.xlsx", "encrypted workbook: password-protected files cannot be read"),
    ("word_97.xls", "not a spreadsheet: an OLE2 Word document (.doc)"),
    ("pdf_named.xlsx", "not a spreadsheet: the bytes are a PDF document"),
    ("empty.csv", "empty file: 0 bytes"),
    ("binary_garbage.xls", "not a spreadsheet: binary content (NUL bytes) of no known format"),
    ("html_without_table.xls", "HTML without any <table>: nothing to read"),
    ("spreadsheetml_entities.xls", "SpreadsheetML rejected: XML with a DOCTYPE/ENTITY declaration"),
    ("broken_quotes.csv", "malformed CSV at row 2: field larger than field limit"),
]


@pytest.mark.parametrize(("name", "reason"), REJECTED, ids=[name for name, _ in REJECTED])
def test_bad_attachment_is_rejected_with_its_reason(name: str, reason: str) -> None:
    with pytest.raises(BadInputError) as caught:
        read_tables(name, (BAD / name).read_bytes())
    assert str(caught.value).startswith(f"{name}: ")
    assert reason in str(caught.value)
    assert caught.value.kind == "bad_input"


def test_every_bad_fixture_is_covered() -> None:
    covered = {name for name, _ in REJECTED} | {"no_header.csv"}
    assert {path.name for path in BAD.iterdir()} == covered


def test_csv_without_a_header_is_a_layout_change() -> None:
    [table] = read_tables("no_header.csv", (BAD / "no_header.csv").read_bytes())
    with pytest.raises(LayoutChangedError, match="no header row in table 'csv'"):
        table_observations(table, ParseContext(source="mail:x", source_ref="m"), parser="table/1")


def _zip(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names, which is the point
        with zipfile.ZipFile(buffer, "w", method) as archive:
            for name, data in entries.items():
                archive.writestr(name.split("#")[0], data)
    return buffer.getvalue()


def test_too_many_zip_entries() -> None:
    entries = {f"xl/media/i{index}.xml": b"<x/>" for index in range(safety.MAX_ZIP_ENTRIES + 1)}
    with pytest.raises(BadInputError, match=r"2002 zip entries exceed the limit of 2000"):
        read_tables("many.xlsx", _zip({"xl/workbook.xml": b"<workbook/>", **entries}))


def test_duplicate_entry_names_are_refused() -> None:
    content = _zip(
        {
            "xl/workbook.xml": b"<workbook/>",
            "xl/worksheets/sheet1.xml#1": b"<a/>",
            "xl/worksheets/sheet1.xml#2": b"<b/>",
        }
    )
    with pytest.raises(BadInputError, match=r"two entries named 'xl/worksheets/sheet1\.xml'"):
        read_tables("dup.xlsx", content)


def test_only_stored_and_deflate_compression_are_accepted() -> None:
    content = _zip({"xl/workbook.xml": b"<workbook/>"}, method=zipfile.ZIP_BZIP2)
    with pytest.raises(BadInputError, match="compression method 12"):
        read_tables("bz.xlsx", content)


def test_input_size_limit() -> None:
    content = (GOOD / "status_gbk.csv").read_bytes()
    with pytest.raises(BadInputError, match=r"file too big: 370 bytes exceeds the 100 bytes limit"):
        read_tables("s.csv", content, max_bytes=100)
    assert read_tables("s.csv", content, max_bytes=len(content))


def test_wide_sheet_bound_counts_two_letter_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    cells = b"".join(
        b'<row r="%d"><c r="A%d"><v>1</v></c><c r="ZZ%d"><v>2</v></c></row>' % (n, n, n) for n in (1, 9)
    )
    sheet = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>' + cells
    )
    content = _zip(
        {"xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": sheet + b"</sheetData></worksheet>"}
    )
    monkeypatch.setattr(safety, "MAX_SHEET_CELLS", 9 * 702 - 1)  # ZZ is column 702
    with pytest.raises(BadInputError, match=r"spans 9 rows × 702 columns"):
        safety.inspect_xlsx(content)
    monkeypatch.setattr(safety, "MAX_SHEET_CELLS", 9 * 702)
    safety.inspect_xlsx(content)


def test_doctype_is_found_anywhere_in_an_xml_part() -> None:
    safety.reject_xml_declarations(b"<a>Hello! <!-- a comment! --> <![CDATA[x]]></a>", "part")
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>'
    hostile_documents = (
        b"<!DOCTYPE a><a/>",
        b"<a/>\n<!doctype a>",
        b"<?xml?><!ENTITY x 'y'>",
        utf16.encode("utf-16"),  # with a BOM
        utf16.encode("utf-16-le"),
        utf16.encode("utf-16-be"),
    )
    for hostile in hostile_documents:
        with pytest.raises(BadInputError, match="DOCTYPE/ENTITY declaration"):
            safety.reject_xml_declarations(hostile, "part")


def test_defusedxml_refuses_entities_even_past_the_byte_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("parsers.tables.spreadsheetml.reject_xml_declarations", lambda data, what: None)
    with pytest.raises(BadInputError, match=r"SpreadsheetML rejected: (EntitiesForbidden|DTDForbidden)"):
        read_spreadsheetml((BAD / "spreadsheetml_entities.xls").read_bytes())


def test_magic_decides_the_format() -> None:
    assert safety.sniff_format((GOOD / "discharge_list_en.xlsx").read_bytes()) == "xlsx"
    assert safety.sniff_format((GOOD / "legacy_discharge.xls").read_bytes()) == "xls"
    assert safety.sniff_format((GOOD / "portal_export_html.xls").read_bytes()) == "html"
    assert safety.sniff_format((GOOD / "spreadsheetml_2003.xls").read_bytes()) == "spreadsheetml"
    assert safety.sniff_format((GOOD / "status_utf16.tsv").read_bytes()) == "text"
    assert safety.sniff_format("箱号,状态\n".encode("utf-16-le")) == "text"  # UTF-16 without a BOM
    with pytest.raises(BadInputError, match="neither SpreadsheetML nor HTML"):
        safety.sniff_format(b'<?xml version="1.0"?><invoice/>')
    with pytest.raises(BadInputError, match="a PNG image"):
        safety.sniff_format(b"\x89PNG\r\n\x1a\n....")


def test_utf16_without_bom_reads() -> None:
    [table] = read_tables("s.txt", "Container\tStatus\r\nMSCU1234566\t可提\r\n".encode("utf-16-le"))
    assert table.name == "tsv" and table.rows[1] == ["MSCU1234566", "可提"]


def test_macro_enabled_workbook_is_not_rejected_and_keeps_its_kind() -> None:
    report = safety.inspect_xlsx((GOOD / "availability_bilingual.xlsm").read_bytes())
    assert report.kind == "xlsm"
    assert safety.inspect_xlsx((GOOD / "discharge_list_en.xlsx").read_bytes()).kind == "xlsx"
