"""The sandbox portal family's parser, on pages captured from the sandbox portal (pinned clock, seed 7).

Fixtures: tests/parsers/fixtures/sandbox/ (regenerate with tests/sandbox/capture_sandbox_fixtures.py;
tests/sandbox/test_portal_fixture_drift.py keeps them honest against the live portal).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from parsers.portals import families, parse_page
from parsers.portals.sandbox import (
    FAMILY,
    PAGES,
    classify_page,
    parse_detail,
    parse_export,
    parse_results,
    parse_vessels,
    read_pager,
)
from quaysync.errors import (
    AccountLocked,
    BadInputError,
    CaptchaRequired,
    LayoutChangedError,
    LoginRejected,
    MaintenanceWindow,
    PortalError,
    SessionExpired,
)
from quaysync.model import FIELDS, ParseContext

FIXTURES = Path(__file__).parent / "fixtures" / "sandbox"
SEEN_AT = datetime(2026, 11, 8, 0, 0, tzinfo=UTC)
CONTEXT = ParseContext(
    source="portal:sandbox",
    source_ref="http://127.0.0.1:8765/Search.aspx",
    observed_at=SEEN_AT,
    time_zone="America/Los_Angeles",
)
RESULT_FIELDS = {
    "container_no", "carrier", "container_spec", "vessel", "voyage", "mbl_no", "status", "available",
    "customs_release", "freight_release", "usda_hold", "tmf", "holds", "last_free_day", "demurrage",
    "yard_location", "appointment_date", "discharge_date", "gate_out_date",
}  # fmt: skip


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fields_of(observations) -> list[dict[str, str | None]]:
    return [dict(observation.fields) for observation in observations]


KINDS = {
    "login_en.html": "login", "login_zh.html": "login",
    "login_failed_en.html": "login_failed", "login_failed_zh.html": "login_failed",
    "account_locked_en.html": "account_locked", "account_locked_zh.html": "account_locked",
    "captcha_en.html": "captcha", "captcha_zh.html": "captcha",
    "maintenance_en.html": "maintenance", "maintenance_zh.html": "maintenance",
    "session_expired_en.html": "session_expired", "session_expired_zh.html": "session_expired",
    "frameset_en.html": "frameset", "frameset_zh.html": "frameset",
    "menu_en.html": "menu", "menu_zh.html": "menu",
    "search_en.html": "search", "search_zh.html": "search",
    "search_rejected_en.html": "search_rejected", "search_rejected_zh.html": "search_rejected",
    "results_en_p1.html": "results", "results_en_p2.html": "results",
    "results_zh_p1.html": "results", "results_zh_p2.html": "results",
    "detail_en.html": "detail", "detail_zh.html": "detail",
    "detail_not_found_en.html": "detail", "detail_not_found_zh.html": "detail",
    "vessels_en.html": "vessels", "vessels_zh.html": "vessels",
    "server_error_500.html": "error", "server_error_502.html": "error", "server_error_503.html": "error",
    "results_v2_en.html": "unknown", "results_v2_zh.html": "unknown",
    "detail_v2_en.html": "unknown", "detail_v2_zh.html": "unknown",
    "vessels_v2_en.html": "unknown", "vessels_v2_zh.html": "unknown",
}  # fmt: skip


@pytest.mark.parametrize(("name", "kind"), sorted(KINDS.items()))
def test_classify_page(name: str, kind: str) -> None:
    assert classify_page(fixture(name)) == kind


def test_every_html_fixture_is_classified_by_this_test() -> None:
    assert {path.name for path in FIXTURES.glob("*.html")} == set(KINDS)


def test_classify_odd_bytes() -> None:
    assert classify_page(b"") == "unknown"
    assert classify_page(b"\x00\x01\x02 not a page") == "unknown"
    assert classify_page(fixture("export_en.xlsx")) == "unknown"


def test_results_page_in_english() -> None:
    observations = parse_results(fixture("results_en_p1.html"), CONTEXT)
    assert len(observations) == 20
    assert {o.parser for o in observations} == {"sandbox.results/1"}
    assert {o.subject for o in observations} == {"container"}
    assert all(o.source == "portal:sandbox" and o.observed_at == SEEN_AT for o in observations)
    assert all(o.time_zone == "America/Los_Angeles" for o in observations)
    rows = {row["container_no"]: row for row in fields_of(observations)}
    found = [row for row in rows.values() if "not_found" not in row]
    assert all(set(row) == RESULT_FIELDS for row in found) and set(FIELDS) >= RESULT_FIELDS
    # Read off the page by hand: a container past its last free day, owing demurrage.
    assert rows["MRKU9498069"] == {
        "container_no": "MRKU9498069", "carrier": "MAERSK", "container_spec": "42G1",
        "vessel": "MAERSK KOLKATA", "voyage": "504E", "mbl_no": "MAEU5048490699", "status": "In Yard",
        "available": "Yes", "customs_release": "Released", "freight_release": "Released", "usda_hold": "N/A",
        "tmf": "Released", "holds": "None", "last_free_day": "11/05/2026", "demurrage": "$300.00",
        "yard_location": "H36-22", "appointment_date": "", "discharge_date": "11/01/2026 14:59",
        "gate_out_date": "",
    }  # fmt: skip
    # Still on the vessel: holds everywhere, nothing discharged, a pre-booked appointment.
    assert rows["MSKU8662863"]["status"] == "On Vessel"
    assert rows["MSKU8662863"]["holds"] == "CUSTOMS, FREIGHT, USDA, TMF"
    assert (
        rows["MSKU8662863"]["discharge_date"] == ""
        and rows["MSKU8662863"]["appointment_date"] == "11/08/2026 20:00"
    )
    assert rows["MSKU2994979"]["status"] == "Empty Returned"
    assert rows["MSKU2994979"]["gate_out_date"] == "11/04/2026 05:11"
    assert rows["CBHU4712833"]["customs_release"] == "Exam"
    assert rows["ZZZU0000005"] == {
        "container_no": "ZZZU0000005",
        "not_found": "Container not found at this terminal",
    }


def test_results_page_in_chinese_gbk() -> None:
    content = fixture("results_zh_p1.html")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    rows = {row["container_no"]: row for row in fields_of(parse_results(content, CONTEXT))}
    assert rows["CBHU4712833"] == {
        "container_no": "CBHU4712833", "carrier": "COSCO", "container_spec": "45R1", "vessel": "COSCO PRIDE",
        "voyage": "506N", "mbl_no": "COSU9564022887", "status": "已卸船", "available": "不可提",
        "customs_release": "查验", "freight_release": "已放行", "usda_hold": "已放行", "tmf": "已放行",
        "holds": "海关", "last_free_day": "2026-11-10", "demurrage": "USD 0.00", "yard_location": "H24-14",
        "appointment_date": "", "discharge_date": "2026-11-06 10:49", "gate_out_date": "",
    }  # fmt: skip
    assert (
        rows["MSKU8662863"]["status"] == "未卸船"
        and rows["MSKU8662863"]["holds"] == "海关, 运费, 检疫, 码头费"
    )
    assert rows["MSKU5205288"]["status"] == "已提箱"
    assert rows["ZZZU0000005"] == {"container_no": "ZZZU0000005", "not_found": "本码头无此箱记录"}
    last = fields_of(parse_results(fixture("results_zh_p2.html"), CONTEXT))[-1]
    assert last == {"container_no": "MSKU1234567", "not_found": "箱号无效"}


def _to_iso_date(text: str) -> str:
    """'11/05/2026 14:30' → '2026-11-05 14:30' (the Chinese pages' way)."""
    if not text:
        return text
    day, _, time = text.partition(" ")
    month, date, year = day.split("/")
    return f"{year}-{month}-{date}" + (f" {time}" if time else "")


@pytest.mark.parametrize("page", ["p1", "p2"])
def test_both_languages_state_the_same_facts(page: str) -> None:
    english = fields_of(parse_results(fixture(f"results_en_{page}.html"), CONTEXT))
    chinese = fields_of(parse_results(fixture(f"results_zh_{page}.html"), CONTEXT))
    assert [row["container_no"] for row in english] == [row["container_no"] for row in chinese]
    for en, zh in zip(english, chinese, strict=True):
        if "not_found" in en:
            assert "not_found" in zh
            continue
        for field in ("mbl_no", "vessel", "voyage", "carrier", "container_spec", "yard_location"):
            assert en[field] == zh[field]
        for field in ("last_free_day", "discharge_date", "gate_out_date", "appointment_date"):
            assert _to_iso_date(en[field]) == zh[field]
        assert (en["available"] == "Yes") == (zh["available"] == "可提")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_export_holds_every_row_of_every_page(language: str) -> None:
    on_pages = fields_of(parse_results(fixture(f"results_{language}_p1.html"), CONTEXT)) + fields_of(
        parse_results(fixture(f"results_{language}_p2.html"), CONTEXT)
    )
    exported = parse_export(fixture(f"export_{language}.xlsx"), CONTEXT)
    assert fields_of(exported) == on_pages
    assert len(exported) == 27
    assert {o.parser for o in exported} == {"sandbox.export/1"}
    assert exported[0].source_ref == CONTEXT.source_ref + "#row=5"  # title, date, blank, header, then data


def test_detail_page() -> None:
    [english] = parse_detail(fixture("detail_en.html"), CONTEXT)
    [chinese] = parse_detail(fixture("detail_zh.html"), CONTEXT)
    assert english.parser == "sandbox.detail/1"
    assert english.fields["container_no"] == chinese.fields["container_no"] == "MSKU8662863"
    assert english.fields["container_spec"] == "45R1 (40' HC REEFER)"
    assert english.fields["status"] == "On Vessel" and chinese.fields["status"] == "未卸船"
    assert (
        english.fields["terminal"] == "Sandbox Container Terminal"
        and chinese.fields["terminal"] == "沙盒集装箱码头"
    )
    assert english.fields["weight"] == chinese.fields["weight"] and english.fields["weight"].endswith(" KG")
    on_results = next(row for row in fields_of(parse_results(fixture("results_en_p1.html"), CONTEXT)))
    assert {
        key: value for key, value in english.fields.items() if key in RESULT_FIELDS - {"container_spec"}
    } == {key: value for key, value in on_results.items() if key != "container_spec"}


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("detail_not_found_en.html", "Container ZZZU0000005 was not found at this terminal."),
        ("detail_not_found_zh.html", "本码头无箱号 ZZZU0000005 的记录。"),
    ],
)
def test_detail_not_found(name: str, words: str) -> None:
    assert fields_of(parse_detail(fixture(name), CONTEXT)) == [
        {"container_no": "ZZZU0000005", "not_found": words}
    ]


def test_vessel_schedule() -> None:
    english = parse_vessels(fixture("vessels_en.html"), CONTEXT)
    chinese = parse_vessels(fixture("vessels_zh.html"), CONTEXT)
    assert len(english) == len(chinese) == 9
    assert {o.subject for o in english + chinese} == {"vessel_call"}
    assert {o.parser for o in english} == {"sandbox.vessels/1"}
    rows = fields_of(english)
    assert set(rows[0]) == {"vessel", "voyage", "carrier", "berth", "eta", "ata", "etd", "vessel_status"}
    assert {row["vessel_status"] for row in rows} == {"Departed", "Berthed", "Working", "Expected"}
    assert {row["vessel_status"] for row in fields_of(chinese)} == {"已离港", "已靠泊", "作业中", "预抵"}
    expected = [row for row in rows if row["vessel_status"] == "Expected"]
    assert expected and all(row["ata"] == "" and row["eta"] for row in expected)
    assert rows[0] == {
        "vessel": "MAERSK KOLKATA", "voyage": "504E", "carrier": "MAERSK", "berth": "B11",
        "eta": "11/01/2026 08:00", "ata": "11/01/2026 08:00", "etd": "11/02/2026 15:00",
        "vessel_status": "Departed",
    }  # fmt: skip


def test_pager() -> None:
    first, second = read_pager(fixture("results_en_p1.html")), read_pager(fixture("results_zh_p2.html"))
    assert (first.page, first.pages, first.has_next) == (1, 2, True)
    assert (second.page, second.pages, second.has_next) == (2, 2, False)
    with pytest.raises(LayoutChangedError):
        read_pager(fixture("results_v2_en.html"))


@pytest.mark.parametrize(
    ("name", "parser", "missing"),
    [
        ("results_v2_en.html", parse_results, "table#gvResults"),
        ("results_v2_zh.html", parse_results, "table#gvResults"),
        ("detail_v2_en.html", parse_detail, "table#tblDetail"),
        ("detail_v2_zh.html", parse_detail, "table#tblDetail"),
        ("vessels_v2_en.html", parse_vessels, "table#gvVessels"),
        ("vessels_v2_zh.html", parse_vessels, "table#gvVessels"),
    ],
)
def test_the_v2_redesign_is_refused_naming_what_is_missing(name: str, parser, missing: str) -> None:
    with pytest.raises(LayoutChangedError, match=missing):
        parser(fixture(name), CONTEXT)


def test_a_renamed_column_is_refused_naming_it() -> None:
    renamed = fixture("results_en_p1.html").replace(
        b'<th scope="col">Last Free Day</th>', b'<th scope="col">LFD</th>'
    )
    with pytest.raises(LayoutChangedError, match="'Last Free Day' \\(last_free_day\\)"):
        parse_results(renamed, CONTEXT)
    chinese = fixture("vessels_zh.html").replace("泊位".encode("gbk"), "码头泊位".encode("gbk"))
    with pytest.raises(LayoutChangedError, match="'Berth' \\(berth\\)"):
        parse_vessels(chinese, CONTEXT)
    detail = fixture("detail_en.html").replace(b"B/L No.:", b"Bill:")
    with pytest.raises(LayoutChangedError, match=r"B/L No\."):
        parse_detail(detail, CONTEXT)


def test_a_row_with_missing_cells_is_refused() -> None:
    broken = fixture("results_en_p1.html").replace(b"<td>MAERSK KOLKATA</td>", b"", 1)
    with pytest.raises(LayoutChangedError, match="cells"):
        parse_results(broken, CONTEXT)


def test_export_with_renamed_headers_is_refused() -> None:
    workbook = Workbook()
    workbook.active.append(["Container No.", "Carrier", "Status"])
    workbook.active.append(["MSKU8662863", "MAERSK", "On Vessel"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(LayoutChangedError, match="Line"):
        parse_export(buffer.getvalue(), CONTEXT)
    with pytest.raises(LayoutChangedError, match="header row"):
        empty = io.BytesIO()
        Workbook().save(empty)
        parse_export(empty.getvalue(), CONTEXT)


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("session_expired_en.html", SessionExpired),
        ("session_expired_zh.html", SessionExpired),
        ("login_en.html", SessionExpired),
        ("captcha_zh.html", CaptchaRequired),
        ("maintenance_en.html", MaintenanceWindow),
        ("account_locked_zh.html", AccountLocked),
        ("login_failed_en.html", LoginRejected),
        ("server_error_503.html", PortalError),
        ("search_rejected_en.html", BadInputError),
    ],
)
def test_a_page_that_is_not_results_raises_the_taxonomy_error(name: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_results(fixture(name), CONTEXT)
    with pytest.raises(error):
        parse_vessels(fixture(name), CONTEXT)


def test_search_rejected_names_the_portal_message() -> None:
    with pytest.raises(BadInputError, match="you entered 51; the limit is 50"):
        parse_results(fixture("search_rejected_en.html"), CONTEXT)


def test_bad_input() -> None:
    with pytest.raises(BadInputError):
        parse_results("text, not bytes", CONTEXT)  # type: ignore[arg-type]
    with pytest.raises(BadInputError):
        parse_export(b"PK\x03\x04 broken zip", CONTEXT)
    with pytest.raises(BadInputError):
        parse_results(b'<meta charset="x-no-such-charset"><p>', CONTEXT)


def test_registered_with_the_portal_registry() -> None:
    assert FAMILY == "sandbox"
    assert set(PAGES) == {"results", "detail", "vessels", "export"}
    assert families()["sandbox"] == ["detail", "export", "results", "vessels"]
    via_registry = parse_page("sandbox", "results", fixture("results_en_p2.html"), CONTEXT)
    assert fields_of(via_registry) == fields_of(parse_results(fixture("results_en_p2.html"), CONTEXT))
