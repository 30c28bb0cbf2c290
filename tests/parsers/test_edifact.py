"""UN/EDIFACT COARRI, CODECO and IFTSTA interchanges → observations (fixtures in fixtures/edifact/)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from parsers.edifact import EdifactReading, looks_like_edifact, read_edifact
from quaysync.errors import BadInputError
from quaysync.model import ParseContext

FIXTURES = Path(__file__).parent / "fixtures" / "edifact"


@pytest.fixture
def edi_context() -> ParseContext:
    return ParseContext(
        source="mail:terminal-edi",
        source_ref="<edi-42@terminal.example>",
        observed_at=datetime(2026, 11, 5, 17, 0, tzinfo=UTC),
    )


def read(name: str, context: ParseContext) -> EdifactReading:
    return read_edifact((FIXTURES / name).read_bytes(), context)


def fields_by_container(reading: EdifactReading) -> dict[str, dict[str, str | None]]:
    return {
        o.fields["container_no"]: dict(o.fields) for o in reading.observations if o.subject == "container"
    }


def test_coarri_discharge_report(edi_context: ParseContext) -> None:
    reading = read("coarri_discharge.edi", edi_context)
    assert reading.message_types == ["COARRI"] and reading.problems == []
    rows = fields_by_container(reading)
    assert list(rows) == ["MSCU1234566", "TGHU7654320", "EMCU7001125"]  # the bad check digit is kept
    assert rows["MSCU1234566"] == {
        "container_no": "MSCU1234566",
        "container_spec": "45G1",
        "empty_full": "LADEN",
        "event_code": "DISC",
        "event_time": "202611051430",
        "event_time_format": "203",
        "event_classifier": "ACT",
        "ata": "202611050545",
        "ata_format": "203",
        "location": "USLAX",
        "terminal": "APMT",
        "port_of_loading": "CNSHA",
        "port_of_discharge": "USLAX",
        "stowage_position": "0120384",
        "voyage": "FA545W",
        "vessel": "MSC ANNA",
        "vessel_id": "9839430",
        "carrier": "MSC",
        "mbl_no": "MEDUXY123456",
        "weight": "23700 KGM",
        "seals": "AB123456",
    }
    assert rows["TGHU7654320"]["empty_full"] == "EMPTY"
    assert "mbl_no" not in rows["TGHU7654320"]  # the first container's RFF+BM is its own
    assert rows["EMCU7001125"]["mbl_no"] == "MEDUXY777001"
    first = reading.observations[0]
    assert first.parser == "edifact.coarri/1"
    assert first.source_ref == "<edi-42@terminal.example>#DIS0001!S10"  # the EQD is segment 10
    assert first.observed_at == edi_context.observed_at


def test_coarri_load_report_wrapped_at_80_columns_without_una(edi_context: ParseContext) -> None:
    content = (FIXTURES / "coarri_load_wrapped.edi").read_bytes()
    assert not content.startswith(b"UNA") and max(len(line) for line in content.splitlines()) == 80
    [observation] = read_edifact(content, edi_context).observations
    assert observation.fields["event_code"] == "LOAD"
    assert observation.fields["location"] == "CNYTN"  # LOC+9: where it was loaded
    assert observation.fields["terminal"] == "YICT"
    assert observation.fields["vessel"] == "OOCL HONG KONG"
    assert observation.fields["vessel_id"] == "VRDQ5"
    assert observation.fields["port_of_discharge"] == "USLGB"


def test_codeco_gate_out(edi_context: ParseContext) -> None:
    reading = read("codeco_gate_out.edi", edi_context)
    rows = fields_by_container(reading)
    assert set(rows) == {"MSCU1234566", "TGHU7654320"}
    assert rows["MSCU1234566"]["event_code"] == "GTOT"
    assert rows["MSCU1234566"]["event_time"] == "202611061012"
    assert rows["MSCU1234566"]["location"] == "USLAX" and rows["MSCU1234566"]["terminal"] == "APMT"
    assert rows["MSCU1234566"]["carrier"] == "MSC"  # NAD+CA: there is no main-carriage TDT
    assert "vessel" not in rows["MSCU1234566"]  # the truck's TDT+1 is not a vessel
    assert rows["TGHU7654320"]["event_time"] == "202611061140"
    assert {o.parser for o in reading.observations} == {"edifact.codeco/1"}


def test_codeco_gate_in_with_custom_service_characters(edi_context: ParseContext) -> None:
    content = (FIXTURES / "codeco_gate_in_custom_una.edi").read_bytes()
    assert content.startswith(b"UNA>*.? '")
    [observation] = read_edifact(content, edi_context).observations
    assert dict(observation.fields) == {
        "container_no": "MSKU1234565",
        "container_spec": "45R1",
        "empty_full": "EMPTY",
        "event_code": "GTIN",
        "event_time": "202611120830",
        "event_time_format": "203",
        "event_classifier": "ACT",
        "location": "USLAX",
        "terminal": "APMT",
    }


def test_iftsta_statuses_by_consignment(edi_context: ParseContext) -> None:
    reading = read("iftsta_status.edi", edi_context)
    assert reading.message_types == ["IFTSTA"] and reading.problems == []
    by_subject = [
        (o.subject, o.fields.get("container_no") or o.fields["mbl_no"]) for o in reading.observations
    ]
    assert by_subject == [
        ("container", "MAEU9012340"),
        ("container", "TCLU5550008"),
        ("container", "OOLU8812348"),
        ("bill_of_lading", "MAEU999000111"),
        ("container", "CMAU4123456"),
    ]
    discharged, second, held, released, arriving = (dict(o.fields) for o in reading.observations)
    assert discharged["event_code"] == "DISC" and discharged["status"] == "UV"
    assert discharged["status_text"] == "Unloaded from vessel"
    assert discharged["event_time"] == "202611050730" and discharged["event_classifier"] == "ACT"
    assert discharged["location"] == "USLAX" and discharged["terminal"] == "APMT"
    assert discharged["vessel"] == "MAERSK ESSEX" and discharged["voyage"] == "245E"
    assert discharged["mbl_no"] == "MAEU123456789"
    assert second["event_code"] == "DISC" and second["empty_full"] == "LADEN"
    # An unknown status code is kept as written; no event is invented for it.
    assert held["status"] == "XX1" and "event_code" not in held
    assert held["status_text"] == "Terminal hold: TMF"  # "?:" released
    assert held["mbl_no"] == "MAEU123456789"  # from the CNI
    assert released == {
        "status": "CT",
        "status_text": "Customs released",
        "event_code": "CUSR",
        "event_time": "20261106",
        "event_time_format": "102",
        "event_classifier": "ACT",
        "mbl_no": "MAEU999000111",
    }
    assert arriving["event_code"] == "ARRI" and arriving["event_classifier"] == "EST"  # DTM 132: an estimate
    assert arriving["eta"] == "202611080600"
    assert reading.observations[3].source_ref.endswith("#ST1!S17")  # the STS of the B/L status (UNA is 1)


def test_iftsta_latin1_text(edi_context: ParseContext) -> None:
    [observation] = read("iftsta_unoc_latin1.edi", edi_context).observations
    assert observation.fields["status_text"] == "Disponible à l'enlèvement"
    assert observation.fields["event_code"] == "AVPU"
    assert observation.fields["terminal"] == "TNMSC"


@pytest.mark.parametrize(
    ("code", "event"), [("98", "DISC"), ("44", "DISC"), ("270", "LOAD"), ("46", "LOAD"), ("999", None)]
)
def test_coarri_document_codes(code: str, event: str | None, edi_context: ParseContext) -> None:
    text = f"UNH+1+COARRI:D:95B:UN'BGM+{code}+X+9'EQD+CN+MSCU1234566'DTM+203:202611051430:203'UNT+5+1'"
    [observation] = read_edifact(text, edi_context).observations
    assert observation.fields.get("event_code") == event
    if event is None:
        assert observation.fields["status"] == "BGM 999"


def test_equipment_without_number_is_a_problem_not_a_failure(edi_context: ParseContext) -> None:
    text = "UNH+1+CODECO:D:95B:UN'BGM+34+X+9'EQD+CN+'EQD+CH+CHASSIS1'EQD+CN+MSCU1234566'UNT+6+1'"
    reading = read_edifact(text, edi_context)
    assert [o.fields["container_no"] for o in reading.observations] == ["MSCU1234566"]
    assert [(p.segment_number, p.reason) for p in reading.problems] == [
        (3, "EQD without a container number"),
        (4, "EQD+CH equipment is not a container: skipped"),
    ]


REJECTED = [
    (
        "unterminated.edi",
        "EDIFACT syntax error in segment 25 (after segment 24): EDIFACT Syntax Error: Unexpected end",
    ),
    ("unt_count_mismatch.edi", "segment 24: UNT counts '21' segments, message DIS0001 has 22"),
    ("segment_outside_message.edi", "segment 3 (XXH) is outside a message: no UNH before it"),
    ("unsupported_baplie.edi", "segment 3: EDIFACT message type BAPLIE is not supported"),
    ("missing_unz.edi", "interchange not closed: UNZ missing, input ends after segment 24"),
    (
        "bad_tag.edi",
        "EDIFACT syntax error in segment 19 (after segment 18): Segment tag must be an uppercase",
    ),
    ("unh_without_unt.edi", "segment 24: UNH while message DIS0001 has no UNT (truncated?)"),
    ("unz_count_mismatch.edi", "segment 25: UNZ counts '3' messages, the interchange has 1"),
    ("not_edifact.edi", "not an EDIFACT interchange: expected UNA, UNB or UNH at the start"),
]


@pytest.mark.parametrize(("name", "reason"), REJECTED, ids=[name for name, _ in REJECTED])
def test_malformed_interchange_is_rejected_with_the_segment(
    name: str, reason: str, edi_context: ParseContext
) -> None:
    with pytest.raises(BadInputError) as caught:
        read("bad/" + name, edi_context)
    assert reason in str(caught.value)


def test_every_bad_edi_fixture_is_covered() -> None:
    assert {path.name for path in (FIXTURES / "bad").iterdir()} == {name for name, _ in REJECTED}


def test_empty_and_oversized_input(edi_context: ParseContext) -> None:
    with pytest.raises(BadInputError, match="empty EDIFACT file"):
        read_edifact(b"  \n", edi_context)
    with pytest.raises(BadInputError, match="too big"):
        read_edifact(b"UNH+1+COARRI'" + b" " * 100, edi_context, max_bytes=50)
    with pytest.raises(BadInputError, match="without any message"):
        read_edifact("UNB+UNOA:2+A+B+261105:1430+1'UNZ+0+1'", edi_context)


def test_looks_like_edifact() -> None:
    assert looks_like_edifact((FIXTURES / "coarri_discharge.edi").read_bytes())
    assert looks_like_edifact(b"\xef\xbb\xbfUNB+UNOC:3+X+Y+261105:1430+1'")
    assert looks_like_edifact("UNH+1+IFTSTA:D:99B:UN'")
    assert not looks_like_edifact(b"Container,Status\n")
    assert not looks_like_edifact(b"UNBELIEVABLE delays at the terminal")
