"""sync's pure parts: container numbers, dates in the source's zone, vocabulary, normalize()."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from quaysync.errors import InvalidContainerNumber
from quaysync.model import Observation
from sync.containers import find_container_numbers, normalize_container_number
from sync.dates import parse_day, parse_local_datetime
from sync.normalize import normalize
from sync.vocabulary import hold_facets, release_state, status_meaning

SEEN = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("MSKU1234565", "MSKU1234565"),
        ("mscu 123456-5".replace("mscu", "MSKU"), "MSKU1234565"),
        ("tghu6961213", "TGHU6961213"),
        ("CSQU 305438 3", "CSQU3054383"),
    ],
)
def test_valid_container_numbers_are_canonical(raw: str, number: str) -> None:
    assert normalize_container_number(raw) == number


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("MSKU1234566", "check digit is 6, expected 5"),
        ("MSKU123456", "10 characters, expected 11"),
        ("1234MSKU567", "expected 4 letters"),
    ],
)
def test_invalid_container_numbers_say_why(raw: str, reason: str) -> None:
    with pytest.raises(InvalidContainerNumber) as raised:
        normalize_container_number(raw)
    assert reason in str(raised.value)
    assert raised.value.kind == "business"


def test_container_numbers_are_found_in_chat_text() -> None:
    text = "柜子到哪了 MSKU1234565? also TGHU 696121-3 and MSKU1234566 (typo)"
    assert find_container_numbers(text) == ["MSKU1234565", "TGHU6961213"]


@pytest.mark.parametrize(
    ("text", "zone", "expected_utc"),
    [
        ("10/25/2021 1:49 PM", "America/Los_Angeles", datetime(2021, 10, 25, 20, 49, tzinfo=UTC)),
        ("12/01/2021 12:05 AM", "America/Los_Angeles", datetime(2021, 12, 1, 8, 5, tzinfo=UTC)),
        ("Delivered 07/26/2021 19:35", "America/Los_Angeles", datetime(2021, 7, 27, 2, 35, tzinfo=UTC)),
        ("2026-11-20 14:30", "Asia/Shanghai", datetime(2026, 11, 20, 6, 30, tzinfo=UTC)),
        ("2026年11月20日 14:30", "Asia/Shanghai", datetime(2026, 11, 20, 6, 30, tzinfo=UTC)),
        ("202611201430", "Asia/Shanghai", datetime(2026, 11, 20, 6, 30, tzinfo=UTC)),
        ("2026-11-20T14:30:00+08:00", "America/Los_Angeles", datetime(2026, 11, 20, 6, 30, tzinfo=UTC)),
        ("25-Nov-2026 08:00", "UTC", datetime(2026, 11, 25, 8, 0, tzinfo=UTC)),
        # the same wall-clock time on either side of the US DST change
        ("03/07/2026 12:00", "America/New_York", datetime(2026, 3, 7, 17, 0, tzinfo=UTC)),
        ("03/09/2026 12:00", "America/New_York", datetime(2026, 3, 9, 16, 0, tzinfo=UTC)),
    ],
)
def test_local_times_are_read_in_the_source_zone(text: str, zone: str, expected_utc: datetime) -> None:
    assert parse_local_datetime(text, zone) == expected_utc


@pytest.mark.parametrize("text", ["", "N/A", "TBD", "31/02/2026", "13/13/2026", "Off-dock"])
def test_text_without_a_date_gives_none(text: str) -> None:
    assert parse_local_datetime(text, "UTC") is None


def test_days_are_local_days() -> None:
    assert parse_day("11/01/2021") == date(2021, 11, 1)
    assert parse_day("免柜期至 2026-11-25") == date(2026, 11, 25)


@pytest.mark.parametrize(
    ("words", "code", "available"),
    [
        ("已卸船", "DISC", None),
        ("Discharged", "DISC", None),
        ("可提", "AVPU", True),
        ("Available", "AVPU", True),
        ("海关放行", "CUSR", None),
        ("Customs released", "CUSR", None),
        ("查验", "CUSI", False),
        ("海关查验中", "CUSI", False),
        ("Delivered 07/26/2021 19:35", "GTOT", False),
        ("已还空", "GTIN", False),
        ("In Yard (#B004 row) Grounded", "DISC", None),
    ],
)
def test_status_words_in_english_and_chinese(words: str, code: str, available: bool | None) -> None:
    meaning = status_meaning(words)
    assert meaning is not None
    assert meaning.event_code == code
    assert meaning.available is available


def test_unknown_words_mean_nothing() -> None:
    assert status_meaning("Off-dock") is None
    assert status_meaning("N/A") is None
    assert release_state("N/A") is None


def test_release_words_and_hold_lists() -> None:
    assert release_state("CLEARED") == "released"
    assert release_state("PAID") == "released"
    assert release_state("未放行") == "hold"
    assert release_state("查验") == "inspection"
    assert hold_facets("No") == {}
    assert hold_facets("CUSTOMS, FREIGHT") == {"customs": "hold", "freight": "hold"}
    assert hold_facets("Some new hold") == {"other": "hold"}


def _observation(fields: dict[str, str | None], **extra: object) -> Observation:
    return Observation("portal:test", "page", SEEN, fields, time_zone="America/Los_Angeles", **extra)  # type: ignore[arg-type]


def test_normalize_reads_a_terminal_row() -> None:
    normalized = normalize(
        _observation(
            {
                "container_no": "MEDU7322906",
                "discharge_date": "10/25/2021 1:49 PM",
                "available": "Available",
                "customs_release": "CLEARED",
                "carrier_release": "PAID",
                "last_free_day": "11/01/2021",
                "demurrage": "$-245.00",
                "holds": None,
                "yard_location": "OFFDOCK",
                "vessel": "MSC PAMELA",
            }
        )
    )
    assert normalized.subject_key == "MEDU7322906"
    codes = {(fact.event_code, fact.event_at) for fact in normalized.events}
    assert ("DISC", datetime(2021, 10, 25, 20, 49, tzinfo=UTC)) in codes
    assert ("AVPU", None) in codes and ("CUSR", None) in codes
    assert normalized.status["available"] is True
    assert normalized.status["hold_customs"] == "released"
    assert normalized.status["hold_line"] == "released"
    assert normalized.status["last_free_day"] == "2021-11-01"
    assert normalized.status["demurrage"] == "-245.00"
    assert "hold_other" not in normalized.status  # holds: None says nothing


def test_an_empty_cell_clears_a_value_and_an_absent_field_says_nothing() -> None:
    status = normalize(_observation({"container_no": "MSKU1234565", "last_free_day": ""})).status
    assert status["last_free_day"] is None
    assert "yard_location" not in status


def test_invalid_container_numbers_are_reported_not_normalized() -> None:
    normalized = normalize(_observation({"container_no": "MSKU1234566", "available": "Available"}))
    assert normalized.subject_key is None
    assert normalized.events == []
    assert normalized.problems == [
        ("business", "'MSKU1234566' is not a valid ISO 6346 container number: check digit is 6, expected 5")
    ]


def test_not_found_states_nothing_else() -> None:
    normalized = normalize(_observation({"container_no": "MSKU1234565", "not_found": "could not be found"}))
    assert normalized.status == {"not_found": "could not be found"}
    assert normalized.events == []


def test_field_meanings_override_captured_names() -> None:
    fields = {
        "container_no": "MSKU1234565",
        "gate_out_date": "On Ship",
        "appointment_date": "08/15/2021 10:00",
    }
    normalized = normalize(
        _observation(fields, meanings={"gate_out_date": "status", "appointment_date": "discharge_date"})
    )
    assert [fact.event_code for fact in normalized.events] == ["DISC"]
    assert normalized.lifecycle_hint == "IN_TRANSIT"
    assert "appointment_at" not in normalized.status
