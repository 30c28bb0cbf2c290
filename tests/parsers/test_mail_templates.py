"""parsers.email templates and routing, on the committed fixtures and the malformed corpus."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from parsers.email.message import Attachment, MailMessage, read_message
from parsers.email.routing import choose_template
from parsers.email.templates import TEMPLATES, get_template, read_mail
from quaysync.config.sources import MailRoute
from quaysync.errors import BadInputError, LayoutChangedError, QuaysyncError
from quaysync.model import ParseContext
from sandbox.mail.generator import SANDBOX_ROUTES
from sandbox.mail.malformed import (
    CORPUS_MAX_ATTACHMENT_BYTES,
    CORPUS_MAX_MESSAGE_BYTES,
    MALFORMED,
    MalformedCase,
)

FIXTURES = Path(__file__).parent / "fixtures" / "email"
MANIFEST = json.loads((FIXTURES / "world_manifest.json").read_text(encoding="utf-8"))
ROUTES = [MailRoute(**route) for route in SANDBOX_ROUTES]
LIMITS = {"max_message_bytes": 25_000_000, "max_attachment_bytes": 20_000_000}


def _context(message: MailMessage) -> ParseContext:
    return ParseContext(
        source="mail:carrier-inbox",
        source_ref=message.message_id or "<none>",
        observed_at=message.date or datetime(2026, 11, 1, tzinfo=UTC),
        time_zone="Asia/Shanghai",
    )


def _fixture(name: str) -> MailMessage:
    return read_message((FIXTURES / name).read_bytes(), **LIMITS)


def _by_container(name: str) -> dict[str, dict[str, str | None]]:
    message = _fixture(name)
    reading = read_mail(MANIFEST[name]["template"], message, _context(message))
    return {str(item.fields["container_no"]): dict(item.fields) for item in reading.observations}


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_world_fixture_is_routed_and_read(name: str) -> None:
    message = _fixture(name)
    expected = MANIFEST[name]
    template = choose_template(message, ROUTES)
    assert template == expected["template"]
    reading = read_mail(template, message, _context(message))
    assert reading.problems == []
    assert sorted(str(item.fields["container_no"]) for item in reading.observations) == sorted(
        expected["containers"]
    )
    for observation in reading.observations:
        assert observation.source == "mail:carrier-inbox"
        assert observation.source_ref.startswith(f"{message.message_id}#")
        assert observation.time_zone == "Asia/Shanghai"
        if template != "edifact_attachment":  # EDIFACT observations carry the EDIFACT parser's name
            assert observation.parser == f"mail.{template}/1"


def test_maersk_html_notice_fields_apply_to_every_row() -> None:
    rows = _by_container("world_04_arrival_notice.eml")
    assert rows["MSKU0704849"] == {
        "vessel": "MAERSK KOLKATA",
        "voyage": "504E",
        "eta": "2026-11-02 00:00",
        "port_of_discharge": "Long Beach, CA (USLGB)",
        "terminal": "Sandbox Container Terminal",
        "container_no": "MSKU0704849",
        "container_spec": "45R1",
        "mbl_no": "MAEU9650624395",
        "weight": "16,685",
        "customer": "Acme Imports",
    }
    assert {row["eta"] for row in rows.values()} == {"2026-11-02 00:00"}


def test_msc_title_rows_give_vessel_voyage_and_eta() -> None:
    rows = _by_container("world_05_arrival_notice.eml")
    assert {(row["vessel"], row["voyage"], row["eta"]) for row in rows.values()} == {
        ("MSC PAMELA", "319N", "2026-11-03 22:00")
    }
    message = _fixture("world_05_arrival_notice.eml")
    refs = [
        item.source_ref for item in read_mail("msc_arrival_xlsx", message, _context(message)).observations
    ]
    assert refs[0].endswith(
        "#attachment=Arrival Notice – MSC PAMELA 319N.xlsx#Arrival Notice!R7"
    )  # header on row 6


def test_gbk_csv_without_disposition_is_read() -> None:
    rows = _by_container("world_06_arrival_notice.eml")
    assert rows["CMAU1257282"]["vessel"] == "CMA CGM A. LINCOLN"
    assert rows["CMAU1257282"]["customer"] == "Acme Imports"


def test_availability_workbook_and_chinese_csv() -> None:
    name = next(
        name
        for name in MANIFEST
        if "availability" in name and name.endswith(".eml") and b".xlsx" in (FIXTURES / name).read_bytes()
    )
    row = next(iter(_by_container(name).values()))
    assert set(row) >= {
        "available",
        "customs_release",
        "freight_release",
        "tmf",
        "holds",
        "last_free_day",
        "demurrage",
        "yard_location",
        "appointment_date",
    }
    cn_row = next(iter(_by_container("world_07_availability.eml").values()))
    assert cn_row["available"] in ("可提", "不可提")
    assert cn_row["freight_release"] in ("已放行", "扣留")


def test_forwarded_notice_is_read_from_the_inner_message() -> None:
    message = _fixture("forwarded_notice.eml")
    reading = read_mail("key_value_notice", message, _context(message))
    assert [dict(item.fields) for item in reading.observations] == [
        {"container_no": "CSNU2218440", "status": "已卸船", "last_free_day": "2026-11-08"}
    ]
    assert (
        reading.observations[0].source_ref == "<fwd-20261103-1@forwarder.example>#text=2#line=2:CSNU2218440"
    )


# -- routing ---------------------------------------------------------------------------------


def _message(sender: str = "a@b.example", subject: str = "", names: tuple[str, ...] = ()) -> MailMessage:
    attachments = tuple(Attachment(name, "application/octet-stream", b"x") for name in names)
    return MailMessage(
        message_id="<m@x>", sender=sender, sender_name="", subject=subject, date=None, attachments=attachments
    )


def test_first_route_whose_every_condition_matches_wins() -> None:
    routes = [
        MailRoute(template="first", sender=r"@carrier\.example$", subject="Arrival", attachment="*.xlsx"),
        MailRoute(template="second", sender=r"@carrier\.example$"),
        MailRoute(template="catch_all"),
    ]
    assert choose_template(_message("x@carrier.example", "Arrival notice", ("A.XLSX",)), routes) == "first"
    assert choose_template(_message("x@carrier.example", "arrival notice", ("a.xlsx",)), routes) == "second"
    assert choose_template(_message("x@CARRIER.example", "Arrival", ("a.csv",)), routes) == "second"
    assert choose_template(_message("x@other.example", "Arrival", ("a.xlsx",)), routes) == "catch_all"
    assert choose_template(_message("x@other.example"), routes[:2]) is None  # never guessed


def test_subject_regex_is_searched_in_the_decoded_subject() -> None:
    routes = [MailRoute(template="key_value_notice", subject="(?i)海关|customs")]
    assert choose_template(_fixture("world_18_customs_release.eml"), routes) == "key_value_notice"
    assert choose_template(_message(subject="Weekly newsletter"), routes) is None


# -- template behaviour ----------------------------------------------------------------------


def test_every_template_is_named_and_versioned() -> None:
    assert set(TEMPLATES) >= {
        "table_attachment",
        "html_table_body",
        "key_value_notice",
        "edifact_attachment",
        "maersk_arrival_html",
        "msc_arrival_xlsx",
    }
    for name, template in TEMPLATES.items():
        assert template.parser == f"mail.{name}/{template.version}" and template.description
    with pytest.raises(LayoutChangedError, match="no parser template named 'nope'"):
        get_template("nope")


def test_html_table_body_reads_data_tables_and_skips_layout_tables() -> None:
    html = (
        "<html><body><table><tr><td>Logo</td><td>Sandbox Terminal</td></tr></table>"
        "<table><tr><th>箱号</th><th>状态</th><th>免柜期</th></tr>"
        "<tr><td>MSKU0704849</td><td>可提</td><td>2026-11-08</td></tr>"
        "<tr><td>MSKU0704840</td><td>可提</td><td>2026-11-08</td></tr></table></body></html>"
    )
    message = MailMessage(
        message_id="<h@x>", sender="t@x", sender_name="", subject="", date=None, html_bodies=(html,)
    )
    reading = read_mail("html_table_body", message, _context(message))
    assert [dict(item.fields) for item in reading.observations] == [
        {"container_no": "MSKU0704849", "status": "可提", "last_free_day": "2026-11-08"}
    ]
    assert [problem.reason for problem in reading.problems] == ["'MSKU0704840': invalid ISO 6346 check digit"]
    layout_only = MailMessage(
        message_id="<h@x>",
        sender="t@x",
        sender_name="",
        subject="",
        date=None,
        html_bodies=("<table><tr><td>Hello</td></tr></table>",),
    )
    with pytest.raises(LayoutChangedError, match="no table with a container column"):
        read_mail("html_table_body", layout_only, _context(layout_only))


def test_a_mail_without_what_the_template_reads_is_refused() -> None:
    message = _message(names=("invoice.pdf",))
    with pytest.raises(
        BadInputError, match=r"no spreadsheet or CSV attachment \(attachments: 'invoice.pdf'\)"
    ):
        read_mail("table_attachment", message, _context(message))
    with pytest.raises(BadInputError, match="no EDIFACT attachment"):
        read_mail("edifact_attachment", message, _context(message))
    with pytest.raises(BadInputError, match="no text body"):
        read_mail("key_value_notice", message, _context(message))


# -- the malformed corpus, at the parser level -------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    kind: str
    text: str


def _poll_one(case: MalformedCase) -> Outcome:
    """What the mailbox will do with one mail: read, route, parse (no IMAP, no store here)."""
    try:
        message = read_message(
            case.raw,
            max_message_bytes=CORPUS_MAX_MESSAGE_BYTES,
            max_attachment_bytes=CORPUS_MAX_ATTACHMENT_BYTES,
        )
        template = choose_template(message, ROUTES)
        if template is None:
            return Outcome("needs_template", "needs template")
        reading = read_mail(template, message, _context(message))
    except QuaysyncError as error:
        return Outcome("rejected", error.message)
    assert reading.observations
    return Outcome("stored", " ".join(attachment.filename for attachment in message.attachments))


def test_the_corpus_is_large_enough_and_named_uniquely() -> None:
    assert len(MALFORMED) >= 30
    assert len({case.name for case in MALFORMED}) == len(MALFORMED)
    assert sum(case.outcome == "rejected" for case in MALFORMED) >= 30


@pytest.mark.parametrize("case", MALFORMED, ids=[case.name for case in MALFORMED])
def test_malformed_mail_gets_its_expected_outcome(case: MalformedCase) -> None:
    outcome = _poll_one(case)
    assert outcome.kind == case.outcome, outcome.text
    assert case.expected_reason_fragment.lower() in outcome.text.lower(), outcome.text
