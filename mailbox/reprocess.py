"""`mail reprocess`: read quarantined mail again after a parser or a route is fixed.

Each quarantined mail's stored raw bytes are read with the current routes and templates (exactly
as a new mail would be). What now reads is committed — the row becomes processed, its
observations and problems are stored — and only then moved from Quarantine to Processed. What
still fails keeps its place, with the new reason and parser version on record.

A mail that was over the size limit was kept as its header only; it is read again from the
server when the limit now allows it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from mailbox.imap import ConnectionLost, ImapOptions, ImapRefused
from mailbox.moves import finish_pending, locate
from mailbox.poller import MailPoller
from mailbox.reading import MailOutcome, content_hash, read_raw
from mailbox.records import take_in
from mailbox.result import PollProgress, PollResult, ProgressCallback
from quaysync.config import Config, MailboxSource
from quaysync.errors import BlockedError
from store import Store
from store.runs import finish_run, start_run
from store.tables_mail import MailMessageRow

log = logging.getLogger(__name__)

RUN_KIND = "mail_reprocess"


@dataclass
class ReprocessResult(PollResult):
    tried: int = 0
    still_quarantined: int = 0
    skipped: int = 0  # header-only mail that cannot be read again (still over the limit, or gone)
    mails: list[dict[str, Any]] = field(default_factory=list)  # per mail: what became of it

    def counts(self) -> dict[str, int]:
        return {
            "tried": self.tried,
            "stored": self.stored,
            "still_quarantined": self.still_quarantined,
            "skipped": self.skipped,
            "observations": self.observations,
            "added_observations": self.added_observations,
            "added_events": self.added_events,
            "problems": self.problems,
            "moved": self.moved,
        }

    def decide_outcome(self, blocked: bool = False) -> str:
        if blocked:
            self.outcome = "blocked"
        elif self.fatal:
            self.outcome = "partial" if self.stored else "failed"
        elif self.errors or self.still_quarantined or self.skipped:
            self.outcome = "partial"
        else:
            self.outcome = "ok"
        return self.outcome


def quarantined_rows(
    store: Store,
    mailbox: str | None = None,
    *,
    reason: str | None = None,
    ids: Sequence[int] = (),
    limit: int | None = None,
) -> list[MailMessageRow]:
    """Quarantined mail (of one mailbox, or all), oldest first; `reason` is a case-blind substring."""
    query = select(MailMessageRow).where(MailMessageRow.state == "quarantined").order_by(MailMessageRow.id)
    if mailbox is not None:
        query = query.where(MailMessageRow.account == mailbox)
    if ids:
        query = query.where(MailMessageRow.id.in_(list(ids)))  # type: ignore[union-attr]
    with store.session() as db:
        rows = list(db.execute(query).scalars().all())
    if reason:
        needle = reason.casefold()
        rows = [row for row in rows if needle in (row.reason or "").casefold()]
    return rows[:limit] if limit is not None else rows


def reprocess_quarantine(
    config: Config,
    mailbox: MailboxSource,
    store: Store,
    *,
    reason: str | None = None,
    ids: Sequence[int] = (),
    trigger: str = "manual",
    progress: ProgressCallback | None = None,
    options: ImapOptions | None = None,
) -> ReprocessResult:
    """Read `mailbox`'s quarantined mail again; store what now reads and move it to Processed."""
    poller = MailPoller(config, mailbox, store, options=options)
    result = ReprocessResult(mailbox.name, trigger)
    with store.session() as db:
        result.run_id = start_run(db, poller.source, RUN_KIND, trigger)
    rows = quarantined_rows(store, mailbox.name, reason=reason, ids=ids)
    blocked = False
    try:
        for done, row in enumerate(rows, start=1):
            _retry_one(poller, row, result)
            if progress:
                progress(PollProgress(mailbox.name, mailbox.quarantine_folder, done, len(rows)))
        if result.stored:
            finish_pending(store, poller.connected(), mailbox, result)
    except BlockedError as error:
        blocked, result.fatal = True, True
        result.add_exception(error, subject=mailbox.username)
    except (ConnectionLost, ImapRefused) as error:
        # What was read is committed; its moves stay due and the next poll finishes them.
        result.add_exception(error)
    finally:
        poller.close()
        result.decide_outcome(blocked)
        result.ended_at = datetime.now(UTC)
        assert result.run_id is not None
        with store.session() as db:
            finish_run(db, result.run_id, result.outcome, result.counts(), result.errors)
    return result


def _retry_one(poller: MailPoller, row: MailMessageRow, result: ReprocessResult) -> None:
    mailbox = poller.mailbox
    result.tried += 1
    raw, refetched = row.raw, False
    if not row.complete:
        fetched = _fetch_whole(poller, row)
        if fetched is None:
            result.skipped += 1
            result.mails.append(_summary(row, "skipped", row.reason))
            return
        raw, refetched = fetched, True
    outcome = read_raw(raw, mailbox, received_at=row.received_at)
    now = datetime.now(UTC)
    with poller.store.session() as db:
        current = db.get(MailMessageRow, row.id)
        if current is None or current.state != "quarantined":
            return  # taken care of meanwhile (another reprocess)
        if refetched:
            current.raw, current.sha256, current.complete = raw, content_hash(raw), True
        current.attempts += 1
        current.parser, current.template = outcome.parser, outcome.template
        current.updated_at = now
        if outcome.state == "quarantined":
            current.reason, current.error_kind = outcome.reason, outcome.error_kind
        else:
            taken = take_in(db, mailbox, current, outcome, settings=poller.settings, run_id=result.run_id)
            current.state, current.reason, current.error_kind = "processed", None, None
            current.run_id = result.run_id
            if current.location:
                current.moved_at = None  # due: from where it is to Processed, after this commit
    if outcome.state == "quarantined":
        result.still_quarantined += 1
        result.add_error(
            outcome.error_kind or "bad_input", outcome.reason or "quarantined", _ref(row, outcome)
        )
        result.mails.append(_summary(row, "quarantined", outcome.reason))
        return
    result.stored += 1
    result.observations += taken.observations
    assert taken.report is not None
    result.added_observations += taken.report.added_observations
    result.added_events += taken.report.added_events
    result.problems += taken.problems
    result.mails.append(_summary(row, "processed", None, outcome.parser))


def _fetch_whole(poller: MailPoller, row: MailMessageRow) -> bytes | None:
    """The whole of a header-only mail, from the server, if it is there and now within the limit."""
    if row.size > poller.mailbox.max_message_bytes or not row.location:
        return None
    session = poller.connected()
    session.select(row.location)
    found = locate(session, [row])
    if row.id not in found:
        return None
    return session.read([found[row.id]]).get(found[row.id])


def _ref(row: MailMessageRow, outcome: MailOutcome) -> str:
    return outcome.source_ref or row.message_id or f"sha256:{row.sha256}"


def _summary(
    row: MailMessageRow, state: str, reason: str | None, parser: str | None = None
) -> dict[str, Any]:
    return {
        "id": row.id,
        "message_id": row.message_id,
        "subject": row.subject,
        "state": state,
        "reason": reason,
        "parser": parser or row.parser,
    }
