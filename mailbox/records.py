"""What the mailbox keeps in the store: raw mail rows, watermarks, and the problems a mail had.

All of it is written in the caller's transaction: the poller commits a mail's row, its
observations (through sync.ingest), its problems and the folder's new watermark together, and
only then moves the mail out of the folder.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from mailbox.reading import MailOutcome, mail_source
from quaysync.config import MailboxSource
from store.tables import ProblemRow, SourceStateRow
from store.tables_mail import MailMessageRow
from sync import IngestReport, IngestSettings, ingest

_CONTAINER_SHAPE = re.compile(r"^[A-Z]{4}\d{7}$")
_MAX_MESSAGE_ID = 500


@dataclass(frozen=True)
class Watermark:
    uid_validity: int
    last_uid: int


@dataclass(frozen=True)
class Arrival:
    """Where and how a mail was found on the server."""

    folder: str
    uid_validity: int
    uid: int
    size: int
    received_at: datetime | None
    complete: bool = True


def watermark_key(folder: str) -> str:
    return f"folder:{folder}"


def load_watermark(session: Session, mailbox: MailboxSource, folder: str) -> Watermark | None:
    row = session.get(SourceStateRow, (mail_source(mailbox), watermark_key(folder)))
    if row is None or "uid_validity" not in row.value:
        return None
    return Watermark(int(row.value["uid_validity"]), int(row.value.get("last_uid", 0)))


def save_watermark(
    session: Session, mailbox: MailboxSource, folder: str, uid_validity: int, uid: int
) -> None:
    """Advance the folder's watermark to `uid` (never backwards within one UIDVALIDITY)."""
    key = (mail_source(mailbox), watermark_key(folder))
    now = datetime.now(UTC)
    row = session.get(SourceStateRow, key)
    if row is None:
        session.add(
            SourceStateRow(
                source=key[0],
                key=key[1],
                value={"uid_validity": uid_validity, "last_uid": uid},
                updated_at=now,
            )
        )
        return
    value = dict(row.value)
    if value.get("uid_validity") == uid_validity:
        uid = max(uid, int(value.get("last_uid", 0)))
    value.update(uid_validity=uid_validity, last_uid=uid)
    row.value = value  # a new dict: JSON columns do not see in-place changes
    row.updated_at = now


def find_by_hash(session: Session, account: str, sha256: str) -> MailMessageRow | None:
    query = select(MailMessageRow).where(MailMessageRow.account == account, MailMessageRow.sha256 == sha256)
    return session.execute(query).scalars().first()


def find_by_message_id(session: Session, account: str, message_id: str | None) -> MailMessageRow | None:
    if not message_id:
        return None
    query = (
        select(MailMessageRow)
        .where(MailMessageRow.account == account, MailMessageRow.message_id == message_id[:_MAX_MESSAGE_ID])
        .order_by(MailMessageRow.id)
    )
    return session.execute(query).scalars().first()


def target_folder(mailbox: MailboxSource, state: str) -> str:
    return mailbox.processed_folder if state == "processed" else mailbox.quarantine_folder


@dataclass
class Taken:
    """What storing one mail added."""

    row_id: int
    report: IngestReport | None
    mail_problems: int

    @property
    def problems(self) -> int:
        return self.mail_problems + (len(self.report.problems) if self.report else 0)

    @property
    def observations(self) -> int:
        return self.report.received if self.report else 0


def store_new(
    session: Session,
    mailbox: MailboxSource,
    raw: bytes,
    sha256: str,
    arrival: Arrival,
    outcome: MailOutcome,
    *,
    settings: IngestSettings,
    run_id: int | None,
) -> Taken:
    """Insert the mail's row and, when it was read, its observations and problems."""
    now = datetime.now(UTC)
    row = MailMessageRow(
        account=mailbox.name,
        folder=arrival.folder,
        uid_validity=arrival.uid_validity,
        uid=arrival.uid,
        sha256=sha256,
        message_id=outcome.message_id[:_MAX_MESSAGE_ID] if outcome.message_id else None,
        sender=outcome.sender[:320],
        subject=outcome.subject,
        size=arrival.size,
        raw=raw,
        complete=arrival.complete,
        received_at=arrival.received_at,
        sent_at=outcome.sent_at,
        state=outcome.state,
        reason=outcome.reason,
        error_kind=outcome.error_kind,
        template=outcome.template,
        parser=outcome.parser,
        location=arrival.folder,
        run_id=run_id,
        first_seen_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    taken = take_in(session, mailbox, row, outcome, settings=settings, run_id=run_id)
    return taken


def take_in(
    session: Session,
    mailbox: MailboxSource,
    row: MailMessageRow,
    outcome: MailOutcome,
    *,
    settings: IngestSettings,
    run_id: int | None,
) -> Taken:
    """Ingest a read mail's observations and record its row-level problems (no-op if quarantined)."""
    assert row.id is not None
    if outcome.state != "processed":
        return Taken(row.id, None, 0)
    report = ingest(session, outcome.observations, settings=settings, run_id=run_id)
    record_problems(session, mailbox, outcome, run_id)
    row.observation_count = len(outcome.observations)
    row.problem_count = len(outcome.problems) + len(report.problems)
    return Taken(row.id, report, len(outcome.problems))


def record_problems(
    session: Session, mailbox: MailboxSource, outcome: MailOutcome, run_id: int | None
) -> None:
    if not outcome.problems:
        return
    now = datetime.now(UTC)
    rows = []
    for problem in outcome.problems:
        where = problem.where
        source_ref = where if where.startswith(outcome.source_ref) else f"{outcome.source_ref}#{where}"
        rows.append(
            {
                "source": mail_source(mailbox),
                "source_ref": source_ref,
                "kind": "bad_input",
                "reason": problem.reason,
                "subject_key": _subject_key(problem.raw),
                "raw": {"where": where, "raw": problem.raw, "parser": outcome.parser},
                "run_id": run_id,
                "created_at": now,
            }
        )
    session.execute(insert(ProblemRow.__table__), rows)


def _subject_key(raw: str | None) -> str | None:
    if raw is None:
        return None
    compact = "".join(raw.split()).upper()
    return compact if _CONTAINER_SHAPE.match(compact) else None


def pending_moves(session: Session, account: str) -> list[MailMessageRow]:
    query = (
        select(MailMessageRow)
        .where(MailMessageRow.account == account, MailMessageRow.moved_at.is_(None))  # type: ignore[union-attr]
        .order_by(MailMessageRow.id)
    )
    return list(session.execute(query).scalars().all())


def mark_moved(session: Session, row_ids: Sequence[int], location: str) -> None:
    if not row_ids:
        return
    now = datetime.now(UTC)
    session.execute(
        update(MailMessageRow)
        .where(MailMessageRow.id.in_(list(row_ids)))  # type: ignore[union-attr]
        .values(location=location, moved_at=now, updated_at=now)
    )
