"""One raw mail → what to do with it: observations to store, or a reason to quarantine it.

Pure (no IMAP, no store): the poller and `mail reprocess` both read mail through `read_raw`, so a
quarantined mail is read again exactly as a new one would be.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.utils import parseaddr, parsedate_to_datetime
from typing import Any, Literal

from parsers.email import (
    MESSAGE_PARSER,
    TEMPLATES,
    MailMessage,
    MailProblem,
    choose_template,
    read_mail,
    read_message,
)
from quaysync.config import Config, MailboxSource
from quaysync.errors import ConfigError, QuaysyncError
from quaysync.model import Observation, ParseContext

State = Literal["processed", "quarantined"]
NEEDS_TEMPLATE = "needs template"


@dataclass
class MailOutcome:
    state: State
    parser: str  # "mail.NAME/VERSION" that read it, or failed to
    template: str | None = None
    observations: list[Observation] = field(default_factory=list)
    problems: list[MailProblem] = field(default_factory=list)
    reason: str | None = None  # why it is quarantined
    error_kind: str | None = None  # bad_input / layout_changed / needs_template / parser_error
    message_id: str | None = None
    sender: str = ""
    subject: str = ""
    sent_at: datetime | None = None
    source_ref: str = ""


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def mail_source(mailbox: MailboxSource) -> str:
    return f"mail:{mailbox.name}"


def read_raw(raw: bytes, mailbox: MailboxSource, *, received_at: datetime | None) -> MailOutcome:
    """Parse, route and read one mail with the mailbox's current routes and templates."""
    try:
        message = read_message(
            raw,
            max_message_bytes=mailbox.max_message_bytes,
            max_attachment_bytes=mailbox.max_attachment_bytes,
        )
    except QuaysyncError as error:
        return MailOutcome(
            "quarantined", MESSAGE_PARSER, reason=error.message, error_kind=error.kind, **_header_facts(raw)
        )
    except Exception as error:
        return MailOutcome(
            "quarantined",
            MESSAGE_PARSER,
            reason=f"parser crashed: {_describe(error)}",
            error_kind="parser_error",
            **_header_facts(raw),
        )
    source_ref = message.message_id or f"sha256:{content_hash(raw)}"
    facts = {
        "message_id": message.message_id,
        "sender": message.sender,
        "subject": message.subject,
        "sent_at": message.date,
        "source_ref": source_ref,
    }
    template = choose_template(message, mailbox.routes)
    if template is None:
        return MailOutcome(
            "quarantined",
            MESSAGE_PARSER,
            reason=f"{NEEDS_TEMPLATE}: no route of mailbox {mailbox.name} matches {_describe_mail(message)}",
            error_kind="needs_template",
            **facts,
        )
    parser = TEMPLATES[template].parser if template in TEMPLATES else MESSAGE_PARSER
    context = ParseContext(
        source=mail_source(mailbox),
        source_ref=source_ref,
        observed_at=message.date or received_at or datetime.now(UTC),
        time_zone=mailbox.time_zone,
    )
    try:
        reading = read_mail(template, message, context)
    except QuaysyncError as error:
        return MailOutcome(
            "quarantined", parser, template, reason=error.message, error_kind=error.kind, **facts
        )
    except Exception as error:
        return MailOutcome(
            "quarantined",
            parser,
            template,
            reason=f"{template} crashed: {_describe(error)}",
            error_kind="parser_error",
            **facts,
        )
    return MailOutcome(
        "processed",
        reading.parser,
        template,
        observations=list(reading.observations),
        problems=list(reading.problems),
        **facts,
    )


def oversized(header: bytes, size: int, mailbox: MailboxSource) -> MailOutcome:
    """A mail over the size limit, of which only the header was fetched: quarantined."""
    reason = f"message is {size:,} bytes, over the limit of {mailbox.max_message_bytes:,} bytes"
    return MailOutcome(
        "quarantined", MESSAGE_PARSER, reason=reason, error_kind="bad_input", **_header_facts(header)
    )


def _header_facts(raw: bytes) -> dict[str, Any]:
    """Message-ID, sender, subject and date from a mail the message parser refused (to list it)."""
    try:
        headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
        message_id = " ".join(str(headers.get("Message-ID", "")).split()) or None
        subject = " ".join(str(make_header(decode_header(str(headers.get("Subject", ""))))).split())
        sender = parseaddr(str(headers.get("From", "")))[1].lower()
    except Exception:  # the header only serves to describe the mail
        return {}
    facts: dict[str, Any] = {
        "message_id": message_id,
        "sender": sender,
        "subject": subject,
        "source_ref": message_id or "",
    }
    try:
        sent_at = parsedate_to_datetime(str(headers["Date"])) if headers.get("Date") else None
    except Exception:
        sent_at = None
    if sent_at is not None:
        facts["sent_at"] = sent_at.astimezone(UTC) if sent_at.tzinfo else sent_at.replace(tzinfo=UTC)
    return facts


def failed_to_store(outcome: MailOutcome, error: BaseException) -> MailOutcome:
    """A mail that was read but could not be stored (a bug on our side): quarantined, retried later."""
    return MailOutcome(
        "quarantined",
        outcome.parser,
        outcome.template,
        reason=f"could not be stored: {_describe(error)}",
        error_kind="ingest_failed",
        message_id=outcome.message_id,
        sender=outcome.sender,
        subject=outcome.subject,
        sent_at=outcome.sent_at,
        source_ref=outcome.source_ref,
    )


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _describe_mail(message: MailMessage) -> str:
    names = ", ".join(attachment.filename for attachment in message.attachments) or "none"
    return f"(from {message.sender or '?'}, subject {message.subject[:120]!r}, attachments: {names})"


def check_routes(config: Config, mailbox: MailboxSource | None = None) -> None:
    """Every route names a known template, and no folder to read is where mail is moved to (all
    mailboxes, or one). Raises ConfigError naming the key, e.g. sources.mailboxes[0].routes[2].template."""
    problems = []
    for index, candidate in enumerate(config.sources.mailboxes):
        if mailbox is not None and candidate.name != mailbox.name:
            continue
        kept = {candidate.processed_folder, candidate.quarantine_folder} & set(candidate.folders)
        if kept:
            problems.append(
                f"sources.mailboxes[{index}].folders: {', '.join(sorted(kept))} is where read mail is "
                "moved to; it cannot also be a folder to read"
            )
        for number, route in enumerate(candidate.routes):
            if route.template not in TEMPLATES:
                known = ", ".join(sorted(TEMPLATES))
                problems.append(
                    f"sources.mailboxes[{index}].routes[{number}].template: "
                    f"no parser template named {route.template!r} (known: {known})"
                )
    if mailbox is not None and not any(item.name == mailbox.name for item in config.sources.mailboxes):
        for number, route in enumerate(mailbox.routes):  # a mailbox built outside config.yaml
            if route.template not in TEMPLATES:
                problems.append(
                    f"mailbox {mailbox.name} routes[{number}].template: unknown {route.template!r}"
                )
    if problems:
        raise ConfigError(problems)
