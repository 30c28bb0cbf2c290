"""Moves that are due: mail committed to the store but not yet out of the folder it sits in.

A crash between a commit and its move, a dropped connection, or `mail reprocess` (which commits
first and then moves from Quarantine to Processed) leave rows with `moved_at` unset. Each poll
finishes them first. A mail is found by its UID when it is still in the folder it arrived in under
the same UIDVALIDITY, else by its content (size, then SHA-256 of what is fetched; the Message-ID
as a last resort).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from mailbox.imap import FolderStatus, ImapRefused, ImapSession
from mailbox.reading import content_hash
from mailbox.records import mark_moved, pending_moves, target_folder
from mailbox.result import PollResult
from quaysync.config import MailboxSource
from store import Store
from store.tables_mail import MailMessageRow

log = logging.getLogger(__name__)


def locate(session: ImapSession, rows: Sequence[MailMessageRow]) -> dict[int, int]:
    """Row id → UID in the selected folder, for the rows whose mail is there."""
    if not rows:
        return {}
    uids = session.search_after(None)
    facts = session.facts(uids)
    by_size: dict[int, list[int]] = {}
    for fact in facts.values():
        by_size.setdefault(fact.size, []).append(fact.uid)
    found: dict[int, int] = {}
    taken: set[int] = set()
    complete = [row for row in rows if row.complete]
    partial = [row for row in rows if not row.complete]
    for group, fetch in ((complete, session.read), (partial, session.read_headers)):
        candidates = sorted({uid for row in group for uid in by_size.get(row.size, [])})
        fetched = fetch(candidates) if candidates else {}
        for row in group:
            assert row.id is not None
            for uid in by_size.get(row.size, []):
                body = fetched.get(uid)
                if uid in taken or body is None:
                    continue
                same = content_hash(body) == row.sha256 if row.complete else body == row.raw
                if same:
                    found[row.id] = uid
                    taken.add(uid)
                    break
    for row in rows:  # servers that rewrite a mail's bytes: the Message-ID, if it is unique there
        assert row.id is not None
        if row.id in found or not row.message_id:
            continue
        matches = [uid for uid in session.search_message_id(row.message_id) if uid not in taken]
        if len(matches) == 1:
            found[row.id] = matches[0]
            taken.add(matches[0])
    return found


def move_rows(
    store: Store,
    session: ImapSession,
    mailbox: MailboxSource,
    placed: Sequence[tuple[MailMessageRow, int]],
    result: PollResult,
) -> None:
    """Move (row, UID) pairs out of the selected folder to their rows' target folders."""
    by_target: dict[str, list[tuple[int, int]]] = {}
    for row, uid in placed:
        assert row.id is not None
        by_target.setdefault(target_folder(mailbox, row.state), []).append((uid, row.id))
    move_uids(store, session, by_target, result)


def move_uids(
    store: Store, session: ImapSession, by_target: dict[str, list[tuple[int, int]]], result: PollResult
) -> None:
    """target folder → [(UID, row id)]: move, then record the rows as moved."""
    for target, items in by_target.items():
        if not items:
            continue
        if target == session.selected:  # already where it belongs
            with store.session() as db:
                mark_moved(db, [row_id for _uid, row_id in items], target)
            continue
        try:
            session.move([uid for uid, _row_id in items], target)
        except ImapRefused as error:  # the rows stay due; the next poll tries again
            result.add_exception(error, subject=target)
            continue
        with store.session() as db:
            mark_moved(db, sorted({row_id for _uid, row_id in items}), target)
        result.moved += len(items)


def finish_pending(store: Store, session: ImapSession, mailbox: MailboxSource, result: PollResult) -> None:
    """Finish every move that is due for this mailbox, whichever folder the mail is in."""
    with store.session() as db:
        rows = pending_moves(db, mailbox.name)
    by_location: dict[str, list[MailMessageRow]] = {}
    for row in rows:
        by_location.setdefault(row.location, []).append(row)
    for location, waiting in by_location.items():
        if not location:
            continue
        try:
            status = session.select(location)
        except ImapRefused as error:
            result.add_exception(error, subject=location)
            continue
        _finish_in(store, session, mailbox, status, waiting, result)


def _finish_in(
    store: Store,
    session: ImapSession,
    mailbox: MailboxSource,
    status: FolderStatus,
    rows: list[MailMessageRow],
    result: PollResult,
) -> None:
    by_uid = [row for row in rows if row.folder == status.name and row.uid_validity == status.uid_validity]
    present = set(session.facts([row.uid for row in by_uid])) if by_uid else set()
    placed = [(row, row.uid) for row in by_uid if row.uid in present]
    # Not where its UID says (moved before a crash, or the folder got a new UIDVALIDITY): look.
    placed_ids = {row.id for row, _uid in placed}
    elsewhere = [row for row in rows if row.id not in placed_ids]
    found = locate(session, elsewhere)
    placed += [(row, found[row.id]) for row in elsewhere if row.id in found]
    gone = [row.id for row in elsewhere if row.id not in found and row.id is not None]
    if gone:
        # Moved before a crash could record it, or taken away by a person: nothing left to do.
        log.info("mailbox %s: %d mail(s) already gone from %s", mailbox.name, len(gone), status.name)
        with store.session() as db:
            mark_moved(db, gone, "")
    if placed:
        log.info("mailbox %s: finishing %d move(s) left from %s", mailbox.name, len(placed), status.name)
        move_rows(store, session, mailbox, placed, result)
