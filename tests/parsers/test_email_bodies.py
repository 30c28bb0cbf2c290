"""parsers.email.bodies: key: value notices (English, Chinese) and the visible text of HTML bodies."""

from __future__ import annotations

from datetime import UTC, datetime

from parsers.email.bodies import html_text, key_values, notice_observations
from quaysync.model import ParseContext

CONTEXT = ParseContext(
    source="mail:carrier-inbox",
    source_ref="<n1@cosco-shipping.example>",
    observed_at=datetime(2026, 11, 3, 1, 0, tzinfo=UTC),
    time_zone="Asia/Shanghai",
)
PARSER = "mail.key_value_notice/1"


def _read(text: str):
    return notice_observations(text, CONTEXT, parser=PARSER)


def test_one_line_notice_with_full_width_colons() -> None:
    reading = _read("箱号：MSKU0704849 / 状态：已卸船 / 免柜期：2026-11-25")
    assert [dict(item.fields) for item in reading.observations] == [
        {"container_no": "MSKU0704849", "status": "已卸船", "last_free_day": "2026-11-25"}
    ]
    observation = reading.observations[0]
    assert observation.source == "mail:carrier-inbox"
    assert observation.parser == PARSER
    assert observation.observed_at == CONTEXT.observed_at
    assert observation.time_zone == "Asia/Shanghai"
    assert observation.source_ref == "<n1@cosco-shipping.example>#line=1:MSKU0704849"


def test_notice_keys_apply_to_every_container_block() -> None:
    text = """尊敬的Acme Imports：

船名：COSCO SHIPPING ARIES
航次：196W
预计到港：2026-11-03 08:00

箱号：CSNU4131164
提单号：COSU5391578943
箱型：45G1

箱号：CSNU5061858
提单号：COSU1111111111
此邮件为系统自动发送，请勿回复。"""
    reading = _read(text)
    assert reading.problems == []
    assert reading.shared == {"vessel": "COSCO SHIPPING ARIES", "voyage": "196W", "eta": "2026-11-03 08:00"}
    first, second = (dict(item.fields) for item in reading.observations)
    assert first == {
        **reading.shared,
        "container_no": "CSNU4131164",
        "mbl_no": "COSU5391578943",
        "container_spec": "45G1",
    }
    assert second == {**reading.shared, "container_no": "CSNU5061858", "mbl_no": "COSU1111111111"}


def test_one_value_naming_several_containers() -> None:
    reading = _read(
        "Vessel: MSC PAMELA\nVoyage: 319N\nOriginal ETA: 2026-11-01 10:00\nNew ETA: 2026-11-03 22:00\n\n"
        "Affected containers: MSCU3082014, MEDU6438980; MSCU5435281"
    )
    assert [item.fields["container_no"] for item in reading.observations] == [
        "MSCU3082014",
        "MEDU6438980",
        "MSCU5435281",
    ]
    # "Original ETA" is not a key of ours, and must not be read as "ETA".
    assert {item.fields["eta"] for item in reading.observations} == {"2026-11-03 22:00"}


def test_chinese_delay_notice_with_enumeration_comma() -> None:
    reading = _read(
        "船期延误通知\n船名：EVER GIVEN\n原预计到港：2026-11-02 10:00\n新预计到港：2026-11-04 06:00\n"
        "箱号：EGHU1100141、EGHU5001316"
    )
    assert [(item.fields["container_no"], item.fields["eta"]) for item in reading.observations] == [
        ("EGHU1100141", "2026-11-04 06:00"),
        ("EGHU5001316", "2026-11-04 06:00"),
    ]


def test_combined_vessel_voyage_key() -> None:
    reading = _read("Vessel / Voyage: CMA CGM A. LINCOLN / 171S\nContainer No.: CMAU1257282")
    assert dict(reading.observations[0].fields) == {
        "vessel": "CMA CGM A. LINCOLN",
        "voyage": "171S",
        "container_no": "CMAU1257282",
    }


def test_invalid_check_digit_is_a_problem_never_an_observation() -> None:
    reading = _read("Container: MSKU0704849, MSKU0704840\nStatus: Customs released")
    assert [item.fields["container_no"] for item in reading.observations] == ["MSKU0704849"]
    assert [(problem.line_number, problem.reason) for problem in reading.problems] == [
        (1, "MSKU0704840: invalid ISO 6346 check digit")
    ]


def test_container_key_without_a_number_is_a_problem() -> None:
    reading = _read("Container: TBD\nStatus: Customs released")
    assert reading.observations == []
    assert reading.problems[0].reason == "no container number in 'TBD'"
    reading = _read("箱号：MSKU12345\n")
    assert reading.problems[0].reason == "'MSKU12345' is not an ISO 6346 container number in 'MSKU12345'"


def test_text_without_keys_gives_nothing() -> None:
    reading = _read("Congestion eased this week. Container volumes rose: 5%.")
    assert reading.observations == [] and reading.problems == []


def test_key_values_match_whole_keys_only() -> None:
    keys = {"eta": "eta", "status": "status", "container": "container_no"}
    assert key_values("Status: Discharged", keys) == [("status", "Discharged")]
    assert key_values("Revised ETA: 2026-11-04", keys) == []  # "ETA" inside another key
    assert key_values("Release time: 09:25", keys) == []  # unknown key; the time's colon is no key
    assert key_values("Container: X  Status: Y", keys) == [("container", "X"), ("status", "Y")]


def test_extra_keys_from_a_template() -> None:
    reading = notice_observations(
        "Box: MSKU0704849\nFree until: 2026-11-25",
        CONTEXT,
        parser=PARSER,
        extra_keys={"container_no": ["box"], "last_free_day": ["free until"]},
    )
    assert dict(reading.observations[0].fields) == {
        "container_no": "MSKU0704849",
        "last_free_day": "2026-11-25",
    }


def test_html_text_keeps_lines_and_drops_tables_on_request() -> None:
    html = """<html><head><style>p{color:red}</style><script>var a = "Vessel: NO";</script></head>
    <body><p>Dear customer,</p><p><b>Vessel:</b> MAERSK KOLKATA<br><b>Voyage:</b>&nbsp;504E</p>
    <div>ETA: 2026-11-02 00:00</div>
    <table><tr><th>Container No.</th></tr><tr><td>MSKU0704849</td></tr></table></body></html>"""
    assert html_text(html, without_tables=True).splitlines() == [
        "Dear customer,",
        "Vessel: MAERSK KOLKATA",
        "Voyage: 504E",
        "ETA: 2026-11-02 00:00",
    ]
    assert "MSKU0704849" in html_text(html)
    reading = _read(html_text(html, without_tables=True))
    assert reading.shared == {"vessel": "MAERSK KOLKATA", "voyage": "504E", "eta": "2026-11-02 00:00"}
