"""A corpus of malformed and unsafe carrier mail, each with what quaysync must do with it.

Every case names the one outcome expected when it is polled from a mailbox routed by
`SANDBOX_ROUTES` and limited to `CORPUS_MAX_MESSAGE_BYTES` / `CORPUS_MAX_ATTACHMENT_BYTES`:

- "rejected": quarantined; the recorded reason contains `expected_reason_fragment`
  (case-insensitive). Nothing of it is stored.
- "needs_template": no route matches; quarantined as "needs template" (the fragment is that phrase).
- "stored": read and stored; the fragment is found in an attachment's sanitized display name
  (unsafe file names are sanitized, never rejected, and never become paths).

The cases talk about real World containers where they carry any (seed 7, 120 containers), so
good mail and bad mail of one poll are about the same boxes.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Literal

from sandbox.mail.documents import csv_report, xlsx_report
from sandbox.mail.hostile import (
    SENT,
    codeco_segments,
    edi_bytes,
    entity_bomb_xlsx,
    garbage,
    good_csv,
    numbers,
    rezip,
    small_xlsx,
    zip_bomb_xlsx,
)
from sandbox.mail.mime import Part, attachment_part, message_bytes, multipart, text_part
from sandbox.mail.rendering import BROKER, MAERSK, MSC, TERMINAL_EDI, TERMINAL_REPORTS, XLSX

CORPUS_MAX_MESSAGE_BYTES = 1_000_000
CORPUS_MAX_ATTACHMENT_BYTES = 300_000
Outcome = Literal["rejected", "needs_template", "stored"]


@dataclass(frozen=True)
class MalformedCase:
    name: str
    raw: bytes
    expected_reason_fragment: str
    outcome: Outcome = "rejected"
    why: str = ""  # why this is the right expectation, for people reading a failure


def _mail(name: str, sender: str, subject: str, root: Part) -> bytes:
    return message_bytes(
        sender=sender,
        recipient="Quaysync Ops <ops@quaysync.example>",
        subject=subject,
        sent_at=SENT,
        message_id=f"<malformed.{name}@mail.sandbox.example>",
        root=root,
    )


def _with(
    name: str, attachment: Part, *, sender: str = TERMINAL_REPORTS, subject: str = "Container report"
) -> bytes:
    body = text_part("Report attached.\n", transfer="7bit")
    return _mail(name, sender, subject, multipart("mixed", [body, attachment], f"=_malformed_{name}"))


def _cases() -> list[MalformedCase]:
    world_boxes = numbers()
    good_mail = _with("truncated", attachment_part(good_csv(), "text/csv", "availability.csv"))
    cases: list[MalformedCase] = []

    def add(name: str, raw: bytes, fragment: str, outcome: Outcome = "rejected", why: str = "") -> None:
        cases.append(MalformedCase(name, raw, fragment, outcome, why))

    # -- the MIME structure --------------------------------------------------------------
    add(
        "truncated_mime",
        good_mail[: len(good_mail) - 120],
        "truncated",
        why="the closing boundary is missing: the last part may be cut short",
    )
    add(
        "multipart_without_boundary",
        _mail(
            "no_boundary",
            TERMINAL_REPORTS,
            "Container report",
            Part("multipart/mixed", parts=[text_part("x")], boundary=""),
        ).replace(b'boundary=""', b"charset=us-ascii"),
        "MIME structure",
    )
    broken = attachment_part(good_csv(), "text/csv", "availability.csv")
    raw = _with("bad_base64", broken)
    encoded = base64.b64encode(good_csv())
    add("bad_base64", raw.replace(encoded[:60], encoded[:30] + b"!!**" + encoded[34:60]), "invalid base64")
    add("base64_bad_padding", raw.replace(encoded[-8:] + b"\r\n", encoded[-8:-1] + b"\r\n"), "invalid base64")
    inner = good_mail[: len(good_mail) - 120]
    forward = Part("message/rfc822", inner, transfer="7bit", disposition="inline")
    add(
        "forwarded_truncated",
        _mail(
            "fwd",
            TERMINAL_REPORTS,
            "Fwd: Container report",
            multipart("mixed", [text_part("FYI\n", transfer="7bit"), forward], "=_fwd"),
        ),
        "truncated",
    )
    add("empty_message", b"\r\n\r\n", "empty")
    add("not_an_email", b"\x89PNG\r\n\x1a\n" + garbage(600, 1), "not an e-mail")
    add(
        "oversized_message",
        _with("big", attachment_part(garbage(800_000, 2), "application/pdf", "scan.pdf")),
        "over the limit",
    )
    add(
        "oversized_attachment",
        _with("big_xlsx", attachment_part(garbage(320_000, 3), XLSX, "huge.xlsx")),
        "over the limit",
    )
    # -- text that is not text -----------------------------------------------------------
    garbage_body = Part("text/plain", garbage(400, 4), ['charset="utf-8"'], "base64")
    add(
        "wrong_charset_bytes",
        _mail("charset", BROKER, "Customs release", garbage_body),
        "not decodable",
        why="declared UTF-8, and no charset gives text: reading it would invent words",
    )
    unknown_label = Part("text/plain", garbage(300, 5), ['charset="x-klingon"'], "base64")
    add(
        "unknown_charset_garbage", _mail("klingon", BROKER, "Customs release", unknown_label), "not decodable"
    )
    # -- what the notice says ------------------------------------------------------------
    add(
        "no_container_numbers",
        _mail(
            "nocntr",
            BROKER,
            "Customs release",
            text_part(
                "海关放行通知\n提单号：COSU1234567890\n状态：海关放行\n", charset="gbk", transfer="8bit"
            ),
        ),
        "no container",
    )
    add(
        "invalid_check_digits",
        _mail(
            "checkdigit",
            BROKER,
            "Customs release",
            text_part("Container: MSKU1234560\nStatus: Customs released\n", transfer="7bit"),
        ),
        "check digit",
        why="reported as a problem, never stored as if valid",
    )
    add(
        "container_key_without_number",
        _mail(
            "tbd",
            BROKER,
            "Customs release",
            text_part("Container: TBD\nStatus: Customs released\n", transfer="7bit"),
        ),
        "no container",
    )
    add(
        "unknown_layout",
        _mail(
            "newsletter",
            "Port News <news@port-news.example>",
            "Weekly port newsletter",
            text_part("Congestion eased this week.\n", transfer="7bit"),
        ),
        "needs template",
        "needs_template",
        why="no route matches: never guess a template",
    )
    add(
        "unknown_sender_with_attachment",
        _with(
            "pdf",
            attachment_part(b"%PDF-1.4\n%%EOF\n", "application/pdf", "invoice.pdf"),
            sender="Billing <billing@unknown-line.example>",
            subject="Invoice 4711",
        ),
        "needs template",
        "needs_template",
    )
    # -- spreadsheet attachments ---------------------------------------------------------
    add("empty_attachment", _with("empty", attachment_part(b"", XLSX, "availability.xlsx")), "empty")
    add(
        "zip_bomb_xlsx",
        _with("zipbomb", attachment_part(zip_bomb_xlsx(), XLSX, "availability.xlsx")),
        "compresses",
    )
    add(
        "xml_entity_bomb_xlsx",
        _with("entities", attachment_part(entity_bomb_xlsx(), XLSX, "availability.xlsx")),
        "DOCTYPE/ENTITY",
    )
    add(
        "xlsx_not_a_zip",
        _with("notzip", attachment_part(b"PK\x03\x04" + garbage(500, 8), XLSX, "availability.xlsx")),
        "not a readable zip",
    )
    add(
        "xlsx_without_workbook",
        _with(
            "noworkbook",
            attachment_part(rezip(small_xlsx(), {}, drop=("xl/workbook.xml",)), XLSX, "availability.xlsx"),
        ),
        "not an Excel workbook",
    )
    add(
        "html_xls_garbage",
        _with(
            "htmlxls",
            attachment_part(
                b"<html><body><p>Report unavailable</p><div>garbage &#0; \x7f</div></body></html>",
                "application/vnd.ms-excel",
                "availability.xls",
            ),
        ),
        "without any <table>",
    )
    add(
        "xls_random_bytes",
        _with("xlsrand", attachment_part(garbage(2000, 6), "application/vnd.ms-excel", "availability.xls")),
        "not a spreadsheet",
    )
    add(
        "csv_without_header",
        _with(
            "noheader",
            attachment_part(
                csv_report(world_boxes[:1], [[n] for n in world_boxes[1:]]), "text/csv", "availability.csv"
            ),
        ),
        "no header row",
    )
    add(
        "csv_binary_garbage",
        _with("csvgarbage", attachment_part(garbage(3000, 7), "text/csv", "availability.csv")),
        "not a spreadsheet",
    )
    add(
        "csv_header_only",
        _with(
            "headeronly",
            attachment_part(csv_report(["Container No.", "Line"], []), "text/csv", "availability.csv"),
        ),
        "no container",
    )
    add(
        "xlsx_invalid_check_digits",
        _with(
            "xlsxdigits",
            attachment_part(
                small_xlsx(
                    [["MSKU1234560", "MAERSK", "Yes", "2026-11-08"], ["CSNU7654320", "COSCO", "No", ""]]
                ),
                XLSX,
                "availability.xlsx",
            ),
        ),
        "check digit",
    )
    add(
        "table_route_without_attachment",
        _mail(
            "noattach",
            TERMINAL_REPORTS,
            "Container Availability Report",
            multipart(
                "mixed",
                [
                    text_part("Report attached.\n", transfer="7bit"),
                    attachment_part(b"PNG", "image/png", "logo.xlsx.png"),
                ],
                "=_noattach",
            ),
        ),
        "needs template",
        "needs_template",
        why="the xlsx/csv routes need such an attachment",
    )
    # -- named layouts that do not look as expected --------------------------------------
    add(
        "msc_without_title_rows",
        _with(
            "msctitle",
            attachment_part(
                xlsx_report(
                    title_rows=["MSC"],
                    header=["Container No.", "Size/Type"],
                    rows=[[world_boxes[0], "45G1"]],
                    moment=SENT,
                ),
                XLSX,
                "Arrival Notice.xlsx",
            ),
            sender=MSC,
            subject="MSC Arrival Notice",
        ),
        "Vessel / Voyage",
    )
    html = "<html><body><p><b>Vessel:</b> MAERSK KOLKATA</p><p>No list today.</p></body></html>"
    add(
        "maersk_html_without_table",
        _mail("notable", MAERSK, "Arrival Notice", text_part(html, subtype="html", transfer="7bit")),
        "no table with a container column",
    )
    table = f"<table><tr><th>Container No.</th></tr><tr><td>{world_boxes[0]}</td></tr></table>"
    add(
        "maersk_html_without_vessel",
        _mail(
            "novessel",
            MAERSK,
            "Arrival Notice",
            text_part(f"<html><body>{table}</body></html>", subtype="html", transfer="7bit"),
        ),
        "Vessel:",
    )
    # -- EDIFACT -------------------------------------------------------------------------
    add(
        "broken_edi",
        _with(
            "brokenedi",
            attachment_part(
                edi_bytes(codeco_segments(world_boxes[0])[:5]), "application/EDIFACT", "CODECO_1.edi"
            ),
            sender=TERMINAL_EDI,
            subject="CODECO",
        ),
        "not closed",
    )
    add(
        "empty_edi",
        _with(
            "emptyedi",
            attachment_part(b"", "application/EDIFACT", "CODECO_2.edi"),
            sender=TERMINAL_EDI,
            subject="CODECO",
        ),
        "empty",
    )
    add(
        "edi_unsupported_message",
        _with(
            "invoic",
            attachment_part(
                edi_bytes(
                    [
                        "UNA:+.? '",
                        "UNB+UNOC:3+SBXCT+QUAYSYNC+261103:0900+INV1'",
                        "UNH+1+INVOIC:D:96A:UN'",
                        "BGM+380+4711+9'",
                        "UNT+3+1'",
                        "UNZ+1+INV1'",
                    ]
                ),
                "application/EDIFACT",
                "INVOIC.edi",
            ),
            sender=TERMINAL_EDI,
            subject="EDI",
        ),
        "not supported",
    )
    add(
        "edi_invalid_container",
        _with(
            "edidigit",
            attachment_part(edi_bytes(codeco_segments("MSKU1234560")), "application/EDIFACT", "CODECO_3.edi"),
            sender=TERMINAL_EDI,
            subject="CODECO",
        ),
        "check digit",
    )
    # -- unsafe names: sanitized, and the mail is read --------------------------------------
    add(
        "path_traversal_name",
        _with("traversal", attachment_part(good_csv(), "text/csv", "../../etc/passwd.csv")),
        "passwd.csv",
        "stored",
        why="a file name is a display name: directories are stripped, never followed",
    )
    add(
        "windows_path_name",
        _with("winpath", attachment_part(good_csv(), "text/csv", "C:\\Windows\\System32\\avail.csv")),
        "avail.csv",
        "stored",
    )
    add(
        "control_chars_name",
        _with(
            "ctrl",
            attachment_part(good_csv(), "text/csv", "avail\x00\x07\u202ebility.csv", name_style="rfc2231"),
        ),
        "availbility.csv",
        "stored",
        why="NUL, BEL and bidi overrides are removed",
    )
    add(
        "encoded_traversal_name",
        _with(
            "enc",
            attachment_part(
                good_csv(),
                "application/octet-stream",
                "..\\..\\到港通知.csv",
                disposition=False,
                name_style="rfc2047",
                charset="gbk",
            ),
        ),
        "到港通知.csv",
        "stored",
    )
    return cases


MALFORMED: list[MalformedCase] = _cases()
