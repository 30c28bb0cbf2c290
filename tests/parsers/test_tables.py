"""Spreadsheets, CSV and HTML tables → observations, on real files of the shapes carriers send."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest

from parsers.tables import (
    FIELD_ALIASES,
    HeaderMatcher,
    Table,
    html_tables,
    normalize_header,
    read_tables,
    render_cell,
    table_observations,
    tables_observations,
)
from parsers.tables.workbook import _read_xls_with_xlrd
from quaysync.errors import BadInputError, LayoutChangedError
from quaysync.model import FIELDS, ParseContext

FIXTURES = Path(__file__).parent / "fixtures" / "tables"
PARSER = "table/1"
SEEN = datetime(2026, 11, 5, 15, 0, tzinfo=UTC)


@pytest.fixture
def parse_context() -> ParseContext:
    return ParseContext(source="mail:carrier-desk", source_ref="<abc@mail.example>", observed_at=SEEN)


def read(name: str) -> list[Table]:
    return read_tables(name, (FIXTURES / name).read_bytes())


def by_container(observations: list) -> dict[str, dict]:
    return {o.fields["container_no"]: dict(o.fields) for o in observations}


def test_english_discharge_list_with_title_rows_blank_rows_and_a_total_line(
    parse_context: ParseContext,
) -> None:
    [table] = read("discharge_list_en.xlsx")
    reading = table_observations(table, parse_context, parser=PARSER)

    assert table.name == "Discharge List"
    assert table.rows[1][0].startswith("Discharge list for vessel MSC ANNA")  # merged title: top-left only
    assert reading.header_row == 4
    assert reading.columns["container_no"] == "Container No."
    assert reading.columns["last_free_day"] == "Last Free Day"
    assert [o.source_ref for o in reading.observations] == [
        f"<abc@mail.example>#Discharge List!R{row}" for row in (5, 6, 8, 9, 10)
    ]
    first, second, third, wrong, duplicate = reading.observations
    assert first.fields["eta"] == "2026-11-05 06:00"  # an Excel date-time
    assert first.fields["discharge_date"] == "2026-11-05 14:30"
    assert first.fields["last_free_day"] == "2026-11-10"  # an Excel date: a whole day
    assert third.fields["last_free_day"] == "11/12/2026"  # a date typed as text stays as typed
    assert first.fields["demurrage"] == "0" and second.fields["demurrage"] == "245"
    assert third.fields["demurrage"] == "37.5"
    assert second.fields["Remark"] == "exam requested"  # unmapped column, kept under its header
    assert third.fields["discharge_date"] == ""  # an empty cell is "", not missing
    assert wrong.fields["container_no"] == "EMCU7001125"  # bad check digit: sync's business, kept
    assert duplicate.content_hash() == third.content_hash()
    assert duplicate.source_ref != third.source_ref
    assert all(o.parser == PARSER and o.source == "mail:carrier-desk" for o in reading.observations)
    assert all(o.observed_at == SEEN and o.subject == "container" for o in reading.observations)

    problems = {p.row_number: p.reason for p in reading.problems}
    assert set(problems) == {11, 12, 14}  # rows 7 and 13 are blank: skipped, not problems
    assert problems[11] == "no container_no in column 'Container No.'"
    assert problems[12].startswith("summary line ('Total: 5 containers')")
    assert "no digit" in problems[14]
    assert reading.problems[0].raw[1] == "MEDUXY999999"


def test_chinese_availability_list_and_the_other_sheets(parse_context: ParseContext) -> None:
    tables = read("availability_zh.xlsx")
    assert [(t.name, t.hidden) for t in tables] == [("可提柜清单", False), ("说明", False), ("codes", True)]

    readings = tables_observations(tables, parse_context, parser=PARSER)
    assert [r.table_name for r in readings] == ["可提柜清单"]  # notes and lookup sheets have no header
    [reading] = readings
    assert reading.header_row == 3
    assert reading.columns == {
        "container_no": "箱号",
        "mbl_no": "提单号",
        "vessel": "船名",
        "voyage": "航次",
        "container_spec": "箱型",
        "eta": "预计到港",
        "discharge_date": "卸船时间",
        "status": "状态",
        "customs_release": "海关",
        "last_free_day": "免柜期",
        "yard_location": "堆场位置",
        "demurrage": "滞箱费",
    }
    rows = by_container(reading.observations)
    assert rows["OOLU8812348"]["status"] == "可提"
    assert rows["OOLU8812348"]["customs_release"] == "查验"
    assert rows["OOLU8812348"]["备注"] == "海关查验"
    assert rows["CMAU4123456"]["discharge_date"] == "2026-11-03 22:15"
    assert rows["TCLU5550008"]["last_free_day"] == "2026年11月12日"
    assert rows["CMAU4123456"]["序号"] == "1"  # integers without ".0"
    assert [(p.row_number, p.reason) for p in reading.problems] == [
        (7, "summary line ('合计'), not a container_no")
    ]
    with pytest.raises(LayoutChangedError, match="container_no"):
        table_observations(tables[1], parse_context, parser=PARSER)


def test_macro_enabled_workbook_is_read_for_values_with_bilingual_headers(
    parse_context: ParseContext,
) -> None:
    content = (FIXTURES / "availability_bilingual.xlsm").read_bytes()
    assert b"xl/vbaProject.bin" in content
    [table] = read_tables("availability_bilingual.xlsm", content)
    reading = table_observations(table, parse_context, parser=PARSER)
    assert reading.columns["mbl_no"] == "提单号\nB/L No."
    assert reading.columns["last_free_day"] == "免费期 (Free Time)"
    assert by_container(reading.observations)["CSQU3045123"]["status"] == "Customs hold 海关扣留"


def test_gbk_csv_with_a_title_line_and_quoted_commas(parse_context: ParseContext) -> None:
    content = (FIXTURES / "status_gbk.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")  # really GBK bytes
    [table] = read_tables("status_gbk.csv", content)
    reading = table_observations(table, parse_context, parser=PARSER)
    assert table.name == "csv" and reading.header_row == 3
    rows = by_container(reading.observations)
    assert rows["TRHU6875483"]["status"] == "海关查验, 待放行"
    assert rows["HLXU8200558"]["vessel"] == "中远海运白羊座"
    assert rows["HLXU8200558"]["terminal"] == "盐田国际"
    assert rows["SEGU4567898"]["last_free_day"] == ""


def test_utf16_tab_separated_export(parse_context: ParseContext) -> None:
    [table] = read("status_utf16.tsv")
    reading = table_observations(table, parse_context, parser=PARSER)
    assert table.name == "tsv" and reading.header_row == 1
    rows = by_container(reading.observations)
    assert rows["TGHU7654320"]["status"] == "Hold - Customs"
    assert rows["MSCU1234566"]["yard_location"] == "B03-12-2"
    assert rows["MSCU1234566"]["last_free_day"] == "11/10/2026"


def test_semicolon_csv_with_bom_and_decimal_commas(parse_context: ParseContext) -> None:
    [table] = read("status_semicolon_bom.csv")
    reading = table_observations(table, parse_context, parser=PARSER)
    assert reading.header_row == 2
    assert table.rows[1][0] == "Container Number"  # the BOM is not part of the first cell
    rows = by_container(reading.observations)
    assert rows["MSKU7654328"]["demurrage"] == "1.250,00 EUR"
    assert rows["CMAU4123456"]["last_free_day"] == "10.11.2026"


def test_html_pretending_to_be_xls_in_gb2312_with_spans(parse_context: ParseContext) -> None:
    content = (FIXTURES / "portal_export_html.xls").read_bytes()
    assert content.lstrip().startswith(b"<html")
    [table] = read_tables("portal_export_html.xls", content)
    reading = table_observations(table, parse_context, parser=PARSER)
    assert table.name == "html table 1" and reading.header_row == 2
    rows = by_container(reading.observations)
    assert rows["OOLU8812348"]["vessel"] == "COSCO ARIES / 045E"
    # The rowspan keeps the next row aligned: its own cells land under their own headers.
    assert rows["TCLU5550008"]["vessel"] == ""
    assert rows["TCLU5550008"]["discharge_date"] == "2026-11-04 02:05"
    assert rows["TCLU5550008"]["yard_location"] == "C11-05-3"
    assert rows["MAEU9012340"]["customs_release"] == "否\n查验"  # <br> is a line break
    assert rows["MAEU9012340"]["appointment_date"] == ""  # &nbsp; shows nothing


def test_real_legacy_xls_via_calamine_and_the_xlrd_fallback(parse_context: ParseContext) -> None:
    content = (FIXTURES / "legacy_discharge.xls").read_bytes()
    assert content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE2 compound file
    tables = read_tables("legacy_discharge.xls", content)
    assert [t.name for t in tables] == ["Discharge", "Info"]
    [reading] = tables_observations(tables, parse_context, parser=PARSER)
    assert reading.header_row == 3
    rows = by_container(reading.observations)
    assert rows["CSQU3045123"]["discharge_date"] == "2026-11-02 23:05"
    assert rows["CSQU3045123"]["last_free_day"] == "2026-11-09"
    assert rows["TRHU6875483"]["discharge_date"] == "not discharged"
    # xlrd reads the same cells (it is the fallback for BIFF files calamine refuses).
    fallback = _read_xls_with_xlrd(content, RuntimeError("calamine refused"))
    assert [t.name for t in fallback] == ["Discharge", "Info"]
    assert fallback[0].rows[2:] == [row[: len(fallback[0].rows[2])] for row in tables[0].rows[2:]]


def test_spreadsheetml_2003_with_skipped_rows_and_cells(parse_context: ParseContext) -> None:
    [table] = read("spreadsheetml_2003.xls")
    reading = table_observations(table, parse_context, parser=PARSER)
    assert table.name == "Vessel Schedule"
    assert reading.header_row == 3  # ss:Index="3" skipped row 2
    rows = by_container(reading.observations)
    assert rows["SEGU4567898"] == {
        "container_no": "SEGU4567898",
        "vessel": "EVER GIVEN",
        "eta": "2026-11-07 18:00",
        "fees": "125.5",
    }
    assert rows["MSCU1234566"]["vessel"] == "" and rows["MSCU1234566"]["eta"] == "2026-11-08"


def test_header_found_below_logo_blank_and_title_rows(parse_context: ParseContext) -> None:
    table = Table(
        name="Sheet1",
        rows=[
            [],
            ["", "", ""],
            ["Container"],  # a lone title word that happens to be an alias
            ["Discharge list for vessel EVER ACE / 0123W", "", ""],
            ["Note: times are local", "Container list", "Vessel"],
            ["Ｃｏｎｔａｉｎｅｒ　Ｎｏ．", "VESSEL NAME", "eta (local)"],
            ["MSCU1234566", "EVER ACE", "2026-11-07"],
        ],
    )
    reading = table_observations(table, parse_context, parser=PARSER)
    assert reading.header_row == 6
    assert reading.columns == {
        "container_no": "Ｃｏｎｔａｉｎｅｒ　Ｎｏ．",
        "vessel": "VESSEL NAME",
        "eta": "eta (local)",
    }
    assert dict(reading.observations[0].fields) == {
        "container_no": "MSCU1234566",
        "vessel": "EVER ACE",
        "eta": "2026-11-07",
    }


def test_extra_aliases_from_a_mail_template(parse_context: ParseContext) -> None:
    table = Table(
        name="t", rows=[["Kasten-Nr.", "Schiff", "Freistellung"], ["MSCU1234566", "MSC ANNA", "ja"]]
    )
    with pytest.raises(LayoutChangedError):
        table_observations(table, parse_context, parser=PARSER)
    reading = table_observations(
        table,
        parse_context,
        parser="mail.hapag-de/1",
        extra_aliases={
            "container_no": ["Kasten-Nr."],
            "vessel": ["Schiff"],
            "customs_release": ["Freistellung"],
        },
    )
    assert dict(reading.observations[0].fields) == {
        "container_no": "MSCU1234566",
        "vessel": "MSC ANNA",
        "customs_release": "ja",
    }
    assert reading.observations[0].parser == "mail.hapag-de/1"


def test_repeated_headers_unnamed_columns_duplicate_headers_and_short_rows(
    parse_context: ParseContext,
) -> None:
    table = Table(
        name="page export",
        rows=[
            ["Container No.", "Remark", "Status", "Remark", ""],
            ["MSCU1234566", "a", "Discharged", "b", "stray note"],
            ["Container No.", "Remark", "Status", "Remark", ""],  # page 2 repeats the header
            ["TGHU7654320"],  # a short row: the missing cells are empty
            ["   ", "", "", "", ""],  # whitespace only: blank
        ],
        first_column=3,  # the sheet's data starts at column C
    )
    reading = table_observations(table, parse_context, parser=PARSER)
    first, second = reading.observations
    assert dict(first.fields) == {
        "container_no": "MSCU1234566",
        "Remark": "a",
        "status": "Discharged",
        "Remark [2]": "b",
        "column G": "stray note",
    }
    assert dict(second.fields) == {
        "container_no": "TGHU7654320",
        "Remark": "",
        "status": "",
        "Remark [2]": "",
    }
    assert [(p.row_number, p.reason) for p in reading.problems] == [(3, "repeated header row")]


def test_bill_of_lading_and_vessel_subjects(parse_context: ParseContext) -> None:
    bills = Table(name="bl", rows=[["B/L No.", "Customer", "PO#"], ["MEDUXY123456", "ACME Toys", "PO-7781"]])
    reading = table_observations(bills, parse_context, parser=PARSER, subject="bill_of_lading")
    [observation] = reading.observations
    assert observation.subject == "bill_of_lading"
    assert dict(observation.fields) == {
        "mbl_no": "MEDUXY123456",
        "customer": "ACME Toys",
        "order_ref": "PO-7781",
    }
    vessels = Table(
        name="v", rows=[["Vessel", "Voyage", "ETA", "Berth"], ["MSC ANNA", "FA545W", "2026-11-05", "B4"]]
    )
    [call] = table_observations(vessels, parse_context, parser=PARSER, subject="vessel_call").observations
    assert call.subject == "vessel_call" and call.fields["vessel"] == "MSC ANNA"  # no digit needed


def test_no_header_says_what_was_looked_for(parse_context: ParseContext) -> None:
    [table] = read_tables("x.csv", b"MSCU1234566,MSC ANNA\nTGHU7654320,MSC ANNA\n")
    with pytest.raises(LayoutChangedError, match=r"container_no column \(such as 'container'"):
        table_observations(table, parse_context, parser=PARSER)
    with pytest.raises(LayoutChangedError, match="no header row in table 'csv'"):
        tables_observations([table], parse_context, parser=PARSER)


def test_aliases_cover_the_vocabulary_words_and_normalize() -> None:
    assert set(FIELD_ALIASES) <= set(FIELDS)
    matcher = HeaderMatcher(FIELD_ALIASES)
    cases = {
        "箱号": "container_no",
        "柜号": "container_no",
        "集装箱号": "container_no",
        "Container No.": "container_no",
        "CNTR": "container_no",
        "提单号": "mbl_no",
        "B/L No.": "mbl_no",
        "Bill of Lading": "mbl_no",
        "MBL": "mbl_no",
        "船名": "vessel",
        "Vessel": "vessel",
        "航次": "voyage",
        "Voyage": "voyage",
        "预计到港": "eta",
        "ETA": "eta",
        "实际到港": "ata",
        "ATA": "ata",
        "状态": "status",
        "Status": "status",
        "免费期": "last_free_day",
        "免柜期": "last_free_day",
        "Free time": "last_free_day",
        "Last Free Day": "last_free_day",
        "LFD": "last_free_day",
        "卸船时间": "discharge_date",
        "Discharge": "discharge_date",
        "海关": "customs_release",
        "Customs": "customs_release",
        "提柜": "appointment_date",
        "Pick-up": "appointment_date",
        "Appointment": "appointment_date",
        "堆场位置": "yard_location",
        "Yard location": "yard_location",
        "费用": "fees",
        "滞箱费": "demurrage",
        "Demurrage": "demurrage",
        "箱型": "container_spec",
        "Size/Type": "container_spec",
        "船公司": "carrier",
        "Line": "carrier",
        "Carrier": "carrier",
        "码头": "terminal",
        "Terminal": "terminal",
        "订单号": "order_ref",
        "PO": "order_ref",
        "客户": "customer",
        "Customer": "customer",
        "last_free_day": "last_free_day",
        "ETA\n(预计到港)": "eta",
    }
    assert {header: matcher.field_for(header) for header in cases} == cases
    for unmapped in ("Date", "Remarks", "备注", "Container Type Code", "", "No."):
        assert matcher.field_for(unmapped) is None, unmapped
    assert normalize_header("  Container   No.\n") == normalize_header("CONTAINER_NO") == "containerno"


def test_cells_render_as_a_person_sees_them() -> None:
    assert render_cell(12.0) == "12"
    assert render_cell(0.1 + 0.2) == "0.3"
    assert render_cell(-3.25) == "-3.25"
    assert render_cell(1e20) == "1e+20"
    assert render_cell(True) == "TRUE" and render_cell(False) == "FALSE"
    assert render_cell(7) == "7" and render_cell(None) == ""
    assert render_cell(datetime(2026, 11, 5, 14, 29, 59, 999_987)) == "2026-11-05 14:30"  # Excel float noise
    assert render_cell(datetime(2026, 11, 5, 14, 30, 15)) == "2026-11-05 14:30:15"
    assert render_cell(datetime(2026, 11, 5)) == "2026-11-05"
    assert render_cell(date(2026, 11, 5)) == "2026-11-05"
    assert render_cell(time(7, 30)) == "07:30"
    assert render_cell(timedelta(hours=36)) == "36:00"
    assert render_cell("  as typed  ") == "  as typed  "


def test_grids_render_every_cell_as_render_cell_does_even_where_values_compare_equal() -> None:
    from parsers.tables.cells import render_rows

    # True == 1 == 1.0 and 10**16 == 1e16 as dict keys; equal aware moments differ in offset.
    utc, plus_two = UTC, timezone(timedelta(hours=2))
    rows: list[list[object]] = [
        [1.0, True, 1, "1", datetime(2026, 11, 5, 12, 0, tzinfo=utc)],
        [True, 1.0, 1, 1e16, datetime(2026, 11, 5, 14, 0, tzinfo=plus_two)],
        [1, 1.0, True, 10**16, datetime(2026, 11, 5)],
        [0.0, False, 0, "", date(2026, 11, 5)],
        [False, 0.0, None, time(7, 30), timedelta(hours=36)],
        [datetime(2026, 11, 5), date(2026, 11, 5), 1.0, True, datetime(2026, 11, 5)],
    ]
    assert render_rows(rows) == [[render_cell(value) for value in row] for row in rows]
    assert render_rows(iter(rows))[1][:2] == ["TRUE", "1"]


def test_table_rows_become_the_observations_context_observe_makes() -> None:
    # table_observations builds Observation itself (see there): it must stay what observe builds.
    context = ParseContext(
        source="mail:carrier-desk",
        source_ref="<abc@mail.example>",
        observed_at=SEEN,
        time_zone="Asia/Shanghai",
    )
    [table] = read("discharge_list_en.xlsx")
    reading = table_observations(table, context, parser=PARSER)
    assert reading.observations
    for observation in reading.observations:
        expected = context.observe(
            dict(observation.fields), parser=PARSER, subject="container", source_ref=observation.source_ref
        )
        assert observation == expected and type(observation.fields) is dict


def test_html_tables_of_a_mail_body_with_layout_tables() -> None:
    body = """<html><head><style>td{color:red}</style><script>var t = "<table>";</script></head><body>
    <table class="layout"><tr><td>
        <p>Dear customer, your containers are available:</p>
        <table><tr><th>Container</th><th>Status</th></tr>
               <tr><td> MSCU1234566 </td><td>Available<br>for   pick-up</td></tr></table>
    </td></tr></table>
    <table><tr><td colspan="2">Totals</td></tr><tr><td>1</td><td>2</td><td>3</td></tr></table>
    </body></html>"""
    tables = html_tables(body)
    assert [t.name for t in tables] == ["html table 1", "html table 2", "html table 3"]
    assert tables[1].rows == [["Container", "Status"], ["MSCU1234566", "Available\nfor pick-up"]]
    assert len(tables[0].rows) == 1  # the layout table's own row only
    assert tables[2].rows == [["Totals", ""], ["1", "2", "3"]]
    assert html_tables(body.encode("utf-8")) == tables
    assert html_tables("") == []


def test_encoding_hint_is_used_when_it_fits_and_ignored_when_wrong(parse_context: ParseContext) -> None:
    content = "箱号,状态\nMSCU1234566,已卸船\n".encode("gb2312")
    for hint in ("gb2312", "GBK", "utf-8", "no-such-charset", None):
        [table] = read_tables("s.csv", content, encoding_hint=hint)
        assert table.rows[1] == ["MSCU1234566", "已卸船"], hint


def test_format_comes_from_the_bytes_and_the_name_is_only_shown() -> None:
    book = openpyxl.Workbook()
    book.active.append(["Container", "Status"])
    book.active.append(["MSCU1234566", "Available"])
    buffer = io.BytesIO()
    book.save(buffer)
    [table] = read_tables("../../etc/passwd.csv", buffer.getvalue())
    assert table.rows[1] == ["MSCU1234566", "Available"]
    with pytest.raises(BadInputError) as caught:
        read_tables("C:\\Users\\ops\\evil\x1b[31m.xlsx", b"%PDF-1.4 ...")
    assert str(caught.value) == "evil[31m.xlsx: not a spreadsheet: the bytes are a PDF document"


def test_sheet_starting_right_of_column_a_keeps_row_numbers_and_column_labels(
    parse_context: ParseContext,
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["C3"] = "Container"
    sheet["D3"] = "Status"
    sheet["C4"] = "MSCU1234566"
    sheet["D4"] = "Discharged"
    sheet["F4"] = "note without header"
    buffer = io.BytesIO()
    book.save(buffer)
    [table] = read_tables("s.xlsx", buffer.getvalue())
    assert table.first_column == 3
    reading = table_observations(table, parse_context, parser=PARSER)
    assert reading.header_row == 3
    assert reading.observations[0].source_ref.endswith("!R4")
    assert reading.observations[0].fields["column F"] == "note without header"


def _workbook_bytes(build) -> bytes:  # type: ignore[no-untyped-def]
    book = openpyxl.Workbook()
    build(book.active)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("bands", [2, 3, 5])
def test_big_sheet_parsed_in_parallel_bands_equals_one_piece(
    monkeypatch: pytest.MonkeyPatch, bands: int
) -> None:
    def build(sheet) -> None:  # type: ignore[no-untyped-def]
        sheet["D2"] = "Availability report"
        sheet.append([])
        sheet.append([None, None, "Container No.", "ETA", "Status", "Demurrage"])
        for number in range(300):
            row = 5 + number + number // 50  # a blank row every 50 rows
            sheet.cell(row=row, column=3, value=f"MSCU{number:07d}")
            sheet.cell(row=row, column=4, value=datetime(2026, 11, 5, number % 24, 30))
            sheet.cell(row=row, column=5, value="Discharged" if number % 3 else "On vessel")
            if number % 7 == 0:
                sheet.cell(row=row, column=8, value=float(number))  # a column further right, now and then

    content = _workbook_bytes(build)
    [one_piece] = read_tables("a.xlsx", content)
    monkeypatch.setattr("parsers.tables.workbook.BAND_MIN_BYTES", 1)
    monkeypatch.setattr("parsers.tables.bands.band_count", lambda: bands)
    calls: list[int] = []
    original = __import__("parsers.tables.bands", fromlist=["split_sheet"]).split_sheet

    def spy(xml: bytes, count: int):  # type: ignore[no-untyped-def]
        pieces = original(xml, count)
        calls.append(len(pieces or []))
        return pieces

    monkeypatch.setattr("parsers.tables.bands.split_sheet", spy)
    results: list[object] = []
    original_rows = __import__("parsers.tables.workbook", fromlist=["banded_rows"]).banded_rows

    def rows_spy(*args):  # type: ignore[no-untyped-def]
        results.append(original_rows(*args))
        return results[-1]

    monkeypatch.setattr("parsers.tables.workbook.banded_rows", rows_spy)
    [banded] = read_tables("a.xlsx", content)
    assert calls == [bands]
    assert len(results) == 1 and results[0] is not None  # the bands made the table, not the fallback
    assert banded == one_piece
    assert banded.first_column == 3 and banded.rows[3][0] == "Container No."


def test_sheets_that_do_not_split_safely_stay_in_one_piece() -> None:
    from parsers.tables.bands import split_sheet

    rows = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (n, n, n) for n in range(1, 50))
    sheet = b"<worksheet><sheetData>" + rows + b"</sheetData></worksheet>"
    bands = split_sheet(sheet, 2)
    assert bands is not None
    pieces = [(b"".join(xml), first_row) for xml, first_row in bands]  # a band's XML comes in pieces
    assert len(pieces) == 2 and pieces[0][1] == 0
    second, first_row = pieces[1]
    assert second.startswith(b'<worksheet><sheetData><row r="%d">' % (first_row + 1)) and 20 < first_row < 30
    assert b"".join(xml[22:-24] for xml, _ in pieces) == rows  # every row once, in order
    assert all(
        xml.startswith(b"<worksheet><sheetData>") and xml.endswith(b"</worksheet>") for xml, _ in pieces
    )
    assert split_sheet(sheet, 1) is None
    assert split_sheet(sheet.replace(b"<v>7</v>", b"<v><![CDATA[7]]></v>"), 2) is None
    assert split_sheet(sheet.replace(b"sheetData", b"x:sheetData"), 2) is None
    assert split_sheet(b"<worksheet><sheetData><row><c><v>1</v></c></row></sheetData></worksheet>", 2) is None
