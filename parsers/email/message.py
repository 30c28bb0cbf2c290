"""One raw RFC 5322 message → a `MailMessage`: headers decoded, bodies as text, attachments as bytes.

Pure: bytes in, dataclasses out. Limits are checked before anything large is decoded. Attachment
file names are only ever display names (directories, `..`, NULs and control characters removed);
nothing here touches the file system.
"""

from __future__ import annotations

import contextlib
import mimetypes
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import errors as email_errors
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import Policy
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from parsers.email.charsets import decode_text, repair_header
from quaysync.errors import BadInputError

# Recorded on a quarantined mail that failed before any template read it (size, MIME, charset).
MESSAGE_PARSER = "mail.message/1"
# Text types that are files, not bodies, even without a Content-Disposition.
_TEXT_FILE_TYPES = {
    "text/csv",
    "text/comma-separated-values",
    "text/x-csv",
    "text/x-comma-separated-values",
    "text/tab-separated-values",
    "text/x-edifact",
    "text/edifact",
    "text/calendar",
    "text/xml",
}
_EXTENSIONS = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.ms-excel.sheet.macroenabled.12": ".xlsm",
    "application/edifact": ".edi",
    "application/edi-x12": ".edi",
    "text/csv": ".csv",
    "text/tab-separated-values": ".tsv",
    "application/octet-stream": ".bin",
    "message/rfc822": ".eml",
}
_STRUCTURE_DEFECTS = (
    email_errors.CloseBoundaryNotFoundDefect,
    email_errors.StartBoundaryNotFoundDefect,
    email_errors.NoBoundaryInMultipartDefect,
    email_errors.MultipartInvariantViolationDefect,
)
_BASE64_DEFECTS = (
    email_errors.InvalidBase64PaddingDefect,
    email_errors.InvalidBase64CharactersDefect,
    email_errors.InvalidBase64LengthDefect,
)
# What the standard library's parsers raise on input they cannot handle (beyond their defects).
_PARSER_BUGS = (
    ValueError, IndexError, TypeError, LookupError, AttributeError, KeyError, email_errors.MessageError,
)  # fmt: skip
_UNSAFE_NAME_CHARS = re.compile(r'[<>:"|?*]')
_MAX_NAME_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file carried by a mail. `filename` is a display name, never a path."""

    filename: str
    content_type: str
    content: bytes
    charset: str | None = None  # the MIME charset parameter, a hint for CSV attachments

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def extension(self) -> str:
        dot = self.filename.rfind(".")
        return self.filename[dot:].lower() if dot > 0 else ""


@dataclass(frozen=True, slots=True)
class MailMessage:
    """What a template reads from one mail."""

    message_id: str | None
    sender: str  # the From address, lower case; "" when absent
    sender_name: str
    subject: str
    date: datetime | None  # from the Date header, UTC; None when missing or garbled
    text_bodies: tuple[str, ...] = ()  # every inline text/plain part, outer message first
    html_bodies: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    size: int = 0
    notes: tuple[str, ...] = field(default=())  # repairs made while reading (e.g. a wrong charset label)

    @property
    def text_body(self) -> str:
        return "\n\n".join(self.text_bodies)

    @property
    def html_body(self) -> str:
        return "\n".join(self.html_bodies)


def read_message(raw: bytes, *, max_message_bytes: int, max_attachment_bytes: int) -> MailMessage:
    """Parse one raw message. Raises BadInputError for oversized, truncated or undecodable mail."""
    if len(raw) > max_message_bytes:
        raise BadInputError(f"message is {len(raw):,} bytes, over the limit of {max_message_bytes:,} bytes")
    if not raw.strip():
        raise BadInputError("message is empty")
    try:
        return _read(raw, policy.default, max_attachment_bytes)
    except _PARSER_BUGS:
        # The modern header parser has known crashes on some broken headers (IndexError,
        # AttributeError deep inside email._header_value_parser); the legacy one does not.
        pass
    try:
        return _read(raw, policy.compat32, max_attachment_bytes)
    except _PARSER_BUGS as error:
        raise BadInputError(f"message headers cannot be parsed: {type(error).__name__}: {error}") from None


def _read(raw: bytes, parse_policy: Policy, max_attachment_bytes: int) -> MailMessage:
    message = BytesParser(policy=parse_policy).parsebytes(raw)
    if not any(_header(message, name) for name in ("From", "Date", "Subject", "Message-ID", "Content-Type")):
        raise BadInputError(
            "not an e-mail message: no From, Date, Subject, Message-ID or Content-Type header"
        )
    reader = _PartReader(max_attachment_bytes)
    reader.walk(message)
    sender_name, sender = _sender(message)
    return MailMessage(
        message_id=_message_id(message),
        sender=sender,
        sender_name=sender_name,
        subject=_header(message, "Subject") or "",
        date=_date(message),
        text_bodies=tuple(reader.text_bodies),
        html_bodies=tuple(reader.html_bodies),
        attachments=tuple(reader.attachments),
        size=len(raw),
        notes=tuple(reader.notes),
    )


class _PartReader:
    """Walks the MIME tree (nested multiparts, forwarded message/rfc822 parts) sorting parts."""

    def __init__(self, max_attachment_bytes: int) -> None:
        self.max_attachment_bytes = max_attachment_bytes
        self.text_bodies: list[str] = []
        self.html_bodies: list[str] = []
        self.attachments: list[Attachment] = []
        self.notes: list[str] = []

    def walk(self, message: Message) -> None:
        for part in message.walk():
            broken = [defect for defect in part.defects if isinstance(defect, _STRUCTURE_DEFECTS)]
            if broken:
                raise BadInputError(
                    "message is truncated or its MIME structure is broken: "
                    + "; ".join(_defect_text(defect) for defect in broken)
                )
            if part.is_multipart():
                continue  # multipart/* and message/rfc822: walk() visits what they hold
            if _is_attachment(part):
                self._attachment(part)
            else:
                self._body(part)

    def _payload(self, part: Message, what: str) -> bytes:
        encoded = part.get_payload(decode=False)
        encoded_size = len(encoded) if isinstance(encoded, str | bytes) else 0
        encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        # base64 shrinks by a quarter: refuse before decoding what can only be too large.
        estimate = encoded_size * 3 // 4 if encoding == "base64" else encoded_size
        if estimate > self.max_attachment_bytes * 1.05 + 1024:
            raise BadInputError(
                f"{what} is about {estimate:,} bytes, over the limit of {self.max_attachment_bytes:,} bytes"
            )
        payload = part.get_payload(decode=True)
        bad_base64 = [defect for defect in part.defects if isinstance(defect, _BASE64_DEFECTS)]
        if bad_base64:
            raise BadInputError(f"{what}: invalid base64 ({_defect_text(bad_base64[0])})")
        payload = payload if isinstance(payload, bytes) else b""
        if len(payload) > self.max_attachment_bytes:
            raise BadInputError(
                f"{what} is {len(payload):,} bytes, over the limit of {self.max_attachment_bytes:,} bytes"
            )
        return payload

    def _attachment(self, part: Message) -> None:
        content_type = part.get_content_type()
        name = display_name(_filename(part), content_type, index=len(self.attachments) + 1)
        content = self._payload(part, f"attachment {name!r}")
        charset = part.get_param("charset")
        self.attachments.append(
            Attachment(name, content_type, content, charset if isinstance(charset, str) else None)
        )

    def _body(self, part: Message) -> None:
        content_type = part.get_content_type()
        what = f"{content_type} body"
        payload = self._payload(part, what)
        text, note = decode_text(payload, part.get_param("charset"), what=what)
        if note:
            self.notes.append(note)
        if content_type == "text/html":
            self.html_bodies.append(text)
        else:
            self.text_bodies.append(text)


def _is_attachment(part: Message) -> bool:
    disposition = part.get_content_disposition()
    if disposition == "attachment":
        return True
    if _filename(part):
        return True
    content_type = part.get_content_type()
    if content_type in ("text/plain", "text/html"):
        return False
    return not content_type.startswith("text/") or content_type in _TEXT_FILE_TYPES


def _filename(part: Message) -> str | None:
    """The declared file name: RFC 2231 (with continuations) or RFC 2047 encoded, or plain."""
    try:
        name = part.get_filename()
    except _PARSER_BUGS:  # the header parser gives up on some names
        name = None
    if name is None:
        name = part.get_param("name")  # a name= on Content-Type only
        if isinstance(name, tuple):  # an RFC 2231 triple from the compat path
            name = name[2]
    if not name:
        return None
    name = str(name)
    if "=?" in name and "?=" in name:  # RFC 2047 words the header parser left encoded
        with contextlib.suppress(ValueError, LookupError, email_errors.HeaderParseError):
            name = str(make_header(decode_header(name)))
    return repair_header(name)


def display_name(declared: str | None, content_type: str, *, index: int) -> str:
    """A safe display name: no directories, `..`, NULs or control characters; Unicode kept."""
    name = unicodedata.normalize("NFC", declared or "")
    name = "".join(char for char in name if unicodedata.category(char) not in ("Cc", "Cf", "Cs"))
    name = re.split(r"[/\\]", name)[-1]  # strip directories, POSIX and Windows
    name = _UNSAFE_NAME_CHARS.sub("_", name).strip().strip(".").strip()
    if len(name) > _MAX_NAME_LENGTH:
        _stem, dot, extension = name.rpartition(".")
        keep = extension if dot and len(extension) <= 10 else ""
        name = name[: _MAX_NAME_LENGTH - len(keep) - 1] + ("." + keep if keep else "")
    if not name:
        extension = _EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type) or ".bin"
        name = f"attachment-{index}{extension}"
    return name


def _header(message: Message, name: str) -> str | None:
    try:
        value = message.get(name)
    except _PARSER_BUGS:
        raw = next((value for key, value in message.raw_items() if key.lower() == name.lower()), None)
        if raw is None:
            return None
        try:
            value = str(make_header(decode_header(str(raw))))
        except (ValueError, LookupError, email_errors.HeaderParseError):
            value = str(raw)
    if value is None:
        return None
    text = repair_header(" ".join(str(value).split()))
    return "".join(char for char in text if unicodedata.category(char) != "Cc").strip()


def _sender(message: Message) -> tuple[str, str]:
    value = _header(message, "From") or ""
    with contextlib.suppress(*_PARSER_BUGS):
        header = message.get("From") if isinstance(message, EmailMessage) else None
        addresses = getattr(header, "addresses", None)
        if addresses and "@" in addresses[0].addr_spec:
            first = addresses[0]
            return repair_header(first.display_name or ""), first.addr_spec.lower()
    pairs = getaddresses([value]) or [parseaddr(value)]
    name, address = pairs[0] if pairs else ("", "")
    return name, address.lower() if "@" in address else ""


def _message_id(message: Message) -> str | None:
    value = _header(message, "Message-ID")
    if not value:
        return None
    value = value.strip()
    return value or None


def _date(message: Message) -> datetime | None:
    header = None
    try:
        header = message.get("Date")
    except _PARSER_BUGS:
        header = None
    moment = getattr(header, "datetime", None)
    if moment is None and header is not None:
        try:
            moment = parsedate_to_datetime(str(header))
        except (TypeError, ValueError, IndexError):
            moment = None
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # "-0000": the sender did not say; read it as UTC
    return moment.astimezone(UTC)


def _defect_text(defect: email_errors.MessageDefect) -> str:
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", type(defect).__name__.removesuffix("Defect")).lower()
    detail = str(defect)
    return f"{words} ({detail})" if detail and detail.lower() != words else words
