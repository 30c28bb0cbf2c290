"""A small MIME writer with full control over the bytes on the wire.

The standard library's generator re-encodes headers and picks random boundaries; carrier mail
has GBK encoded-words, RFC 2231 continuations, 8-bit GBK bodies and parts without a
Content-Disposition, and the sandbox must produce the same bytes on every run. So we write it.
"""

from __future__ import annotations

import base64
import quopri
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import quote

CRLF = b"\r\n"


def encoded_word(text: str, charset: str = "utf-8") -> str:
    """RFC 2047 B-encoded word(s); long text is split so each word stays under 75 characters."""
    if text.isascii():
        return text
    words: list[str] = []
    chunk = ""
    for char in text:
        candidate = chunk + char
        if len(base64.b64encode(candidate.encode(charset))) > 45 and chunk:
            words.append(chunk)
            chunk = char
        else:
            chunk = candidate
    if chunk:
        words.append(chunk)
    label = charset.upper()
    return " ".join(f"=?{label}?B?{base64.b64encode(word.encode(charset)).decode()}?=" for word in words)


def rfc2231_params(name: str, value: str, *, segment: int = 40) -> list[str]:
    """`name*=UTF-8''…` (or `name*0*=…; name*1*=…` continuations when long), RFC 2231."""
    tokens = [quote(char.encode("utf-8"), safe="") for char in value]
    if sum(len(token) for token in tokens) <= segment:
        return [f"{name}*=UTF-8''{''.join(tokens)}"]
    pieces: list[str] = []
    current = ""
    for token in tokens:  # whole characters only: never split a %XX escape or a UTF-8 sequence
        if current and len(current) + len(token) > segment:
            pieces.append(current)
            current = ""
        current += token
    pieces.append(current)
    params = [f"{name}*0*=UTF-8''{pieces[0]}"]
    params += [f"{name}*{index}*={piece}" for index, piece in enumerate(pieces[1:], start=1)]
    return params


def _fold_params(head: str, params: Sequence[str]) -> str:
    return ";\r\n\t".join([head, *params])


@dataclass
class Part:
    """A leaf part (`body` set) or a multipart (`parts` set)."""

    content_type: str
    body: bytes = b""
    params: list[str] = field(default_factory=list)  # already formatted: 'charset="gbk"', 'name*=…'
    transfer: str = "base64"  # base64 | quoted-printable | 8bit | 7bit
    disposition: str | None = None  # 'attachment' / 'inline', or None for no Content-Disposition
    disposition_params: list[str] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)
    boundary: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        lines: list[bytes] = []
        if self.parts:
            params = [f'boundary="{self.boundary}"', *self.params]
            lines.append(f"Content-Type: {_fold_params(self.content_type, params)}".encode())
        else:
            lines.append(f"Content-Type: {_fold_params(self.content_type, self.params)}".encode())
            lines.append(f"Content-Transfer-Encoding: {self.transfer}".encode())
        if self.disposition:
            lines.append(
                f"Content-Disposition: {_fold_params(self.disposition, self.disposition_params)}".encode()
            )
        for name, value in self.headers:
            lines.append(f"{name}: {value}".encode())
        head = CRLF.join(lines) + CRLF + CRLF
        if self.parts:
            body = b"This is a multi-part message in MIME format." + CRLF
            for part in self.parts:
                body += CRLF + b"--" + self.boundary.encode() + CRLF + part.to_bytes()
            body += CRLF + b"--" + self.boundary.encode() + b"--" + CRLF
            return head + body
        return head + _encode_body(self.body, self.transfer)


def _encode_body(body: bytes, transfer: str) -> bytes:
    if transfer == "base64":
        encoded = base64.b64encode(body)
        return CRLF.join(encoded[index : index + 76] for index in range(0, len(encoded), 76)) + CRLF
    if transfer == "quoted-printable":
        return quopri.encodestring(body.replace(b"\r\n", b"\n")).replace(b"\n", CRLF)
    return body.replace(b"\r\n", b"\n").replace(b"\n", CRLF)


def text_part(text: str, *, subtype: str = "plain", charset: str = "utf-8", transfer: str = "base64") -> Part:
    return Part(f"text/{subtype}", text.encode(charset), [f'charset="{charset}"'], transfer)


def attachment_part(
    content: bytes,
    content_type: str,
    filename: str,
    *,
    disposition: bool = True,
    name_style: str = "rfc2231",  # rfc2231 | rfc2047 | plain
    charset: str = "utf-8",
) -> Part:
    """An attached file. Without `disposition` the name rides only on Content-Type (name=)."""
    needs_encoding = not filename.isascii() or any(char in filename for char in '\\"\x00\r\n')
    if name_style == "rfc2231" and needs_encoding:
        name_params = rfc2231_params("name", filename)
        file_params = rfc2231_params("filename", filename)
    elif name_style == "rfc2047" or needs_encoding:
        word = encoded_word(filename, charset)
        name_params, file_params = [f'name="{word}"'], [f'filename="{word}"']
    else:
        name_params, file_params = [f'name="{filename}"'], [f'filename="{filename}"']
    return Part(
        content_type,
        content,
        params=name_params,
        transfer="base64",
        disposition="attachment" if disposition else None,
        disposition_params=file_params if disposition else [],
    )


def multipart(subtype: str, parts: Sequence[Part], boundary: str) -> Part:
    return Part(f"multipart/{subtype}", parts=list(parts), boundary=boundary)


def message_bytes(
    *,
    sender: str,
    recipient: str,
    subject: str,
    sent_at: datetime,
    message_id: str,
    root: Part,
    extra_headers: Sequence[tuple[str, str]] = (),
) -> bytes:
    """The complete message: RFC 5322 headers (already encoded where needed) and the MIME tree."""
    headers = [
        ("From", sender),
        ("To", recipient),
        ("Subject", subject),
        ("Date", format_datetime(sent_at)),
        ("Message-ID", message_id),
        ("MIME-Version", "1.0"),
        *extra_headers,
    ]
    head = CRLF.join(f"{name}: {value}".encode() for name, value in headers)
    return head + CRLF + root.to_bytes()
