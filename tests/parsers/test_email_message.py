"""parsers.email.message: raw mail → MailMessage (headers, bodies, attachments, limits)."""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from parsers.email.charsets import decode_text
from parsers.email.message import display_name, read_message
from quaysync.errors import BadInputError

FIXTURES = Path(__file__).parent / "fixtures" / "email"
LIMITS = {"max_message_bytes": 5_000_000, "max_attachment_bytes": 2_000_000}


def _read(name: str, **limits: int) -> object:
    return read_message((FIXTURES / name).read_bytes(), **{**LIMITS, **limits})


def _raw(headers: str, body: bytes = b"Container: MSKU0704849\r\n") -> bytes:
    return headers.replace("\n", "\r\n").encode() + b"\r\n" + body


def test_headers_are_decoded() -> None:
    message = _read("world_18_customs_release.eml")
    assert message.message_id == "<customs_release.a655d4dbe5daa1a3c447@mail.sandbox.example>"
    assert message.sender == "customs@sandbox-broker.example"
    assert message.sender_name == "报关行"  # RFC 2047, GBK
    assert message.subject == "海关放行 MSKU2994979"
    assert message.date == datetime(2026, 11, 2, 1, 46, tzinfo=UTC)  # +0800 → UTC


def test_gbk_body_labelled_gb2312_is_read_as_gb18030() -> None:
    message = _read("world_18_customs_release.eml")
    assert "箱号：MSKU2994979" in message.text_body
    assert "状态：海关放行" in message.text_body
    assert message.notes == ()


@pytest.mark.parametrize(
    ("fixture", "declared"),
    [("latin1_label_gbk_body.eml", "iso-8859-1"), ("utf8_label_gbk_body.eml", "utf-8")],
)
def test_mislabelled_gbk_body_is_recovered_and_noted(fixture: str, declared: str) -> None:
    message = _read(fixture)
    assert "箱号：MSKU0704849" in message.text_body
    assert message.notes == (f"text/plain body declared {declared} but is gb18030",)


def test_raw_utf8_in_a_header_is_repaired() -> None:
    message = _read("latin1_label_gbk_body.eml")
    assert message.subject == "海关放行 MSKU0704849"


def test_garbled_date_and_missing_headers_fall_back_to_none() -> None:
    message = _read("garbled_headers.eml")
    assert message.date is None  # the caller uses the arrival time
    assert message.message_id is None
    assert message.sender == ""
    assert message.subject == "status"  # the undecodable word is dropped, not turned into NULs
    assert "MSKU0704849" in message.text_body


def test_date_without_zone_is_read_as_utc() -> None:
    raw = _raw("From: a@b.example\nDate: Mon, 02 Nov 2026 10:00:00 -0000\nSubject: x\n")
    assert read_message(raw, **LIMITS).date == datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def test_forwarded_message_rfc822_part_is_walked() -> None:
    message = _read("forwarded_notice.eml")
    assert message.sender == "li.wei@forwarder.example"  # the forwarder, not the carrier
    assert message.text_bodies[0].startswith("Please see the notice below.")
    assert "箱号：CSNU2218440" in message.text_bodies[1]  # the carrier's GBK notice inside
    assert message.attachments == ()


def test_nested_multiparts_and_attachments_without_disposition() -> None:
    message = _read("nested_multipart.eml")
    assert message.sender == "reports@sandbox-terminal.example"
    assert message.subject == "Availability – nested"
    assert message.text_bodies == ("Container: MSKU0704849 / Status: Discharged\r\n",)
    assert "MSKU0704849" in message.html_body
    names = [(item.filename, item.content_type) for item in message.attachments]
    assert names == [
        ("attachment-1.png", "image/png"),  # inline image of multipart/related
        ("attachment-2.csv", "text/csv"),  # text/csv without disposition or name is a file
        ("可提柜报告.xls", "application/vnd.ms-excel"),  # RFC 2047 name= on Content-Type only
        ("到港通知_2026年.xlsx", "application/octet-stream"),  # RFC 2231 with continuations
    ]
    assert message.attachments[1].content == b"Container No.,Available\r\nMSKU0704849,Yes\r\n"
    assert message.attachments[1].charset == "utf-8"


def test_generated_attachment_names_round_trip() -> None:
    msc = _read("world_05_arrival_notice.eml")  # RFC 2231 UTF-8 (an en dash in the name)
    assert [item.filename for item in msc.attachments] == ["Arrival Notice – MSC PAMELA 319N.xlsx"]
    assert msc.attachments[0].content.startswith(b"PK\x03\x04")
    cma = _read("world_06_arrival_notice.eml")  # RFC 2047 GBK, no Content-Disposition
    assert [item.filename for item in cma.attachments] == ["到港通知_171S.csv"]
    assert "箱号".encode("gbk") in cma.attachments[0].content


def test_unsafe_file_names_become_display_names_only() -> None:
    message = _read("unsafe_names.eml")
    assert [item.filename for item in message.attachments] == [
        "passwd",
        "report.csv",
        "evilcod.csv",
        "attachment-4.csv",
        "attachment-5.xlsx",
    ]
    assert [item.content for item in message.attachments] == [b"a", b"b", b"c", b"d", b"e"]


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system.ini", "system.ini"),
        ("/abs/path/list.xlsx", "list.xlsx"),
        ("avail\x00ability.csv", "availability.csv"),
        ("re\u202eport.csv", "report.csv"),
        ("..", "attachment-3.csv"),
        ("   ", "attachment-3.csv"),
        (None, "attachment-3.csv"),
        ('a<b>c:d"e|f?g*h.csv', "a_b_c_d_e_f_g_h.csv"),
        ("到港通知 2026.xlsx", "到港通知 2026.xlsx"),
        ("x" * 300 + ".xlsx", "x" * 195 + ".xlsx"),  # 200 characters, extension kept
    ],
)
def test_display_name(declared: str | None, expected: str) -> None:
    assert display_name(declared, "text/csv", index=3) == expected


def test_oversized_message_is_refused_with_the_sizes() -> None:
    raw = _raw("From: a@b.example\nSubject: big\n", b"x" * 5000)
    with pytest.raises(BadInputError, match=r"message is 5,\d{3} bytes, over the limit of 2,048 bytes"):
        read_message(raw, max_message_bytes=2048, max_attachment_bytes=1024)


def _with_attachment(content: bytes, *, transfer: str = "base64") -> bytes:
    body = base64.encodebytes(content) if transfer == "base64" else content
    return _raw(
        'From: a@b.example\nSubject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n',
        b"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\n"
        b'Content-Type: text/csv\r\nContent-Disposition: attachment; filename="a.csv"\r\n'
        + f"Content-Transfer-Encoding: {transfer}\r\n\r\n".encode()
        + body
        + b"\r\n--b--\r\n",
    )


def test_oversized_attachment_is_refused_before_and_after_decoding() -> None:
    with pytest.raises(
        BadInputError, match=r"attachment 'a.csv' is about [\d,]+ bytes, over the limit of 4,096"
    ):
        read_message(_with_attachment(b"y" * 20_000), max_message_bytes=100_000, max_attachment_bytes=4096)
    exact = _with_attachment(b"y" * 4_200)  # within the encoded estimate's slack, over once decoded
    with pytest.raises(BadInputError, match=r"attachment 'a.csv' is 4,200 bytes, over the limit of 4,096"):
        read_message(exact, max_message_bytes=100_000, max_attachment_bytes=4096)
    assert read_message(_with_attachment(b"y" * 4096), max_message_bytes=100_000, max_attachment_bytes=4096)


def test_truncated_and_broken_mime_is_refused() -> None:
    whole = _with_attachment(b"MSKU0704849\r\n" * 50)
    with pytest.raises(BadInputError, match="truncated"):
        read_message(whole[:-40], **LIMITS)
    with pytest.raises(BadInputError, match="invalid base64"):
        read_message(whole.replace(b"TVNLVTA3MDQ4NDkNCk1T", b"TVNLVTA3MDQ4NDkNCk1*", 1), **LIMITS)


@pytest.mark.parametrize(
    ("raw", "reason"), [(b"", "empty"), (b"\r\n \r\n", "empty"), (b"\x89PNG\r\n\x1a\n\x00", "not an e-mail")]
)
def test_not_a_message(raw: bytes, reason: str) -> None:
    with pytest.raises(BadInputError, match=reason):
        read_message(raw, **LIMITS)


def test_body_in_no_charset_at_all_is_refused() -> None:
    raw = _raw(
        "From: a@b.example\nSubject: x\nContent-Type: text/plain; charset=utf-8\n", bytes(range(128, 256)) * 3
    )
    with pytest.raises(BadInputError, match=r"text/plain body is not decodable text \(declared utf-8"):
        read_message(raw, **LIMITS)


@pytest.mark.parametrize(
    ("payload", "declared", "text"),
    [
        ("箱号：MSKU0704849".encode("gbk"), "gb2312", "箱号：MSKU0704849"),
        ("海关放行".encode("gbk"), None, "海关放行"),  # short GBK: not Korean, not Latin-1
        ("Container: café".encode(), "us-ascii", "Container: café"),
        ("提柜".encode("big5"), "big5", "提柜"),
        (b"plain ascii", "x-unknown", "plain ascii"),
    ],
)
def test_decode_text(payload: bytes, declared: str | None, text: str) -> None:
    assert decode_text(payload, declared)[0] == text


def test_mangled_mail_raises_nothing_but_bad_input() -> None:
    """Bytes flipped, cut and spliced into fixtures: a message or a clear BadInputError, never a crash."""
    originals = [path.read_bytes() for path in sorted(FIXTURES.glob("*.eml"))]
    splices = [b"=?", b"?=", b"\r\n", b"--", b";", b'"', b"*0*=", b"%", b"\x00", b"=?GBK?B?", b"boundary="]
    rng = random.Random(20261103)
    outcomes = {"read": 0, "refused": 0}
    for _ in range(400):
        raw = bytearray(rng.choice(originals))
        for _ in range(rng.randrange(1, 12)):
            position = rng.randrange(len(raw) or 1)
            operation = rng.randrange(4)
            if operation == 0 and raw:
                raw[position] = rng.randrange(256)
            elif operation == 1:
                del raw[position : position + rng.randrange(1, 40)]
            elif operation == 2:
                raw[position:position] = rng.choice(splices)
            else:
                raw = raw[: max(position, 1)]
        try:
            read_message(bytes(raw), **LIMITS)
            outcomes["read"] += 1
        except BadInputError:
            outcomes["refused"] += 1
    assert outcomes["read"] > 50 and outcomes["refused"] > 50, outcomes
