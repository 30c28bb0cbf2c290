"""Reading a mailbox: search, fetch, parse, commit, then move — each mail on its own.

For every folder of a mailbox, each pass:

1. finishes moves left due (a crash between a commit and its move; `mail reprocess`);
2. SELECTs the folder and compares its UIDVALIDITY with the watermark: the same → SEARCH the
   UIDs after the last one taken; changed (or none yet) → SEARCH everything and let content
   hashes (and, after a change, Message-IDs) tell what is already stored;
3. fetches with BODY.PEEK[] (never marks read; mail over the size limit: only its header);
4. per mail, ONE transaction: the raw mail row, its observations (sync.ingest), its row problems
   and the folder's new watermark. A mail no template can read is committed as quarantined, with
   the reason and the parser version;
5. only after the commits, moves the mails to Processed / Quarantine and records the move.

A crash anywhere replays safely: before a commit nothing happened; after it, the watermark skips
the mail, the due move finishes it, and content hashes and the idempotent ingest add nothing twice.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.exc import DBAPIError, IntegrityError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from mailbox.imap import (
    ConnectionLost,
    FolderStatus,
    ImapOptions,
    ImapRefused,
    ImapSession,
    MessageFacts,
    batches,
    connect,
)
from mailbox.moves import finish_pending, move_uids
from mailbox.reading import (
    MailOutcome,
    check_routes,
    content_hash,
    failed_to_store,
    mail_source,
    oversized,
    read_raw,
)
from mailbox.records import (
    Arrival,
    find_by_hash,
    find_by_message_id,
    load_watermark,
    save_watermark,
    store_new,
    target_folder,
)
from mailbox.result import PollProgress, PollResult, ProgressCallback
from quaysync.config import Config, MailboxSource
from quaysync.errors import BlockedError, ConfigError
from quaysync.secrets import REDACTOR
from store import Store
from store.runs import finish_run, start_run
from sync import IngestSettings
from sync.pipeline import build_ingest_settings

log = logging.getLogger(__name__)

RUN_KIND = "mail"
# Tests only: "N" makes the process exit right after its Nth mail commit, before the move.
CRASH_AFTER_COMMIT_ENV = "QUAYSYNC_MAIL_CRASH_AFTER_COMMIT"
CRASH_EXIT_CODE = 75


class MailPoller:
    """Reads one mailbox over one (re)connecting IMAP session; `poll()` is one recorded pass."""

    def __init__(
        self,
        config: Config,
        mailbox: MailboxSource,
        store: Store,
        *,
        options: ImapOptions | None = None,
        settings: IngestSettings | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        check_routes(config, mailbox)
        self.config = config
        self.mailbox = mailbox
        self.store = store
        self.options = options or ImapOptions()
        self.settings = settings or build_ingest_settings(config, mailbox.time_zone)
        self.sleep = sleep
        self.session: ImapSession | None = None
        self._commits = 0
        # folder → UIDNEXT when the last pass selected it: more since then means new mail
        self.uid_next_seen: dict[str, int] = {}
        crash_after = os.environ.get(CRASH_AFTER_COMMIT_ENV, "").strip()
        self._crash_after = int(crash_after) if crash_after.isdigit() else None

    @property
    def source(self) -> str:
        return mail_source(self.mailbox)

    # -- the connection --------------------------------------------------------------------

    def connected(self) -> ImapSession:
        """The open session, or a new one (retried with backoff while the server is unreachable)."""
        if self.session is not None and not self.session.closed:
            return self.session
        self.session = None
        options = self.options
        retrying = Retrying(
            stop=stop_after_attempt(options.reconnects + 1),
            wait=wait_exponential_jitter(
                multiplier=options.backoff_initial, max=options.backoff_max, jitter=options.backoff_initial
            ),
            retry=retry_if_exception_type(ConnectionLost),
            sleep=self.sleep,
            before_sleep=lambda state: log.warning(
                "mailbox %s: %s; retrying (attempt %d)",
                self.mailbox.name,
                REDACTOR.mask(str(state.outcome.exception()) if state.outcome else "?"),
                state.attempt_number,
            ),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                session = connect(self.mailbox, options)
        for folder in (self.mailbox.processed_folder, self.mailbox.quarantine_folder):
            session.ensure_folder(folder)
        self.session = session
        return session

    def drop(self) -> None:
        if self.session is not None:
            self.session.close()
        self.session = None

    close = drop

    # -- one pass --------------------------------------------------------------------------

    def poll(self, trigger: str = "manual", progress: ProgressCallback | None = None) -> PollResult:
        """Read every folder once; the pass is recorded as a run (source mail:NAME, kind mail)."""
        result = PollResult(self.mailbox.name, trigger)
        with self.store.session() as db:
            result.run_id = start_run(db, self.source, RUN_KIND, trigger)
        blocked = False
        try:
            self._poll_folders(result, progress)
        except BlockedError as error:
            blocked, result.fatal = True, True
            result.add_exception(error, subject=self.mailbox.username)
        except (ConnectionLost, ImapRefused, ConfigError) as error:
            result.fatal = True
            result.add_exception(error)
        except BaseException as error:
            result.fatal = True
            result.add_exception(error)
            self._finish(result, blocked)
            raise
        self._finish(result, blocked)
        return result

    def _finish(self, result: PollResult, blocked: bool) -> None:
        result.decide_outcome(blocked)
        result.ended_at = datetime.now(UTC)
        assert result.run_id is not None
        with self.store.session() as db:
            finish_run(db, result.run_id, result.outcome, result.counts(), result.errors)
        log.info(
            "mailbox %s: %s — %d fetched, %d stored, %d quarantined, %d already stored, %d moved",
            self.mailbox.name,
            result.outcome,
            result.fetched,
            result.stored,
            result.quarantined,
            result.duplicates,
            result.moved,
        )

    def _poll_folders(self, result: PollResult, progress: ProgressCallback | None) -> None:
        pending_done = False
        for folder in self.mailbox.folders:
            drops = 0
            while True:
                session = self.connected()
                try:
                    if not pending_done:
                        finish_pending(self.store, session, self.mailbox, result)
                        pending_done = True
                    self._poll_folder(session, folder, result, progress)
                    break
                except ConnectionLost as error:
                    self.drop()
                    drops += 1
                    result.reconnects += 1
                    if drops > self.options.reconnects:
                        raise
                    log.warning("mailbox %s: %s; reconnecting", self.mailbox.name, error.message)
                except ImapRefused as error:  # this folder cannot be read now; go on with the others
                    result.add_exception(error, subject=folder)
                    break

    def _poll_folder(
        self, session: ImapSession, folder: str, result: PollResult, progress: ProgressCallback | None
    ) -> None:
        status = session.select(folder)
        if status.uid_next is not None:
            self.uid_next_seen[folder] = status.uid_next
        with self.store.session() as db:
            mark = load_watermark(db, self.mailbox, folder)
        changed = mark is not None and mark.uid_validity != status.uid_validity
        if changed:
            assert mark is not None
            result.rescans += 1
            log.warning(
                "mailbox %s: %s has a new UIDVALIDITY (%d, was %d): reading it all again, "
                "skipping what is already stored",
                self.mailbox.name,
                folder,
                status.uid_validity,
                mark.uid_validity,
            )
        fresh = mark is None or changed
        uids = session.search_after(None if fresh else mark.last_uid)  # type: ignore[union-attr]
        if not uids:
            if fresh:
                with self.store.session() as db:
                    save_watermark(db, self.mailbox, folder, status.uid_validity, 0)
            return
        facts = session.facts(uids)
        ordered = [facts[uid] for uid in uids if uid in facts]
        done = 0
        if progress:
            progress(PollProgress(self.mailbox.name, folder, done, len(ordered)))
        for batch in batches(ordered, self.options.fetch_batch, self.options.fetch_batch_bytes):
            fits = [fact.uid for fact in batch if fact.size <= self.mailbox.max_message_bytes]
            raws = session.read(fits)
            heads = session.read_headers([fact.uid for fact in batch if fact.uid not in raws])
            moves: dict[str, list[tuple[int, int]]] = {}
            for fact in batch:
                if fact.uid in raws:
                    raw, complete = raws[fact.uid], True
                elif fact.uid in heads:
                    raw, complete = heads[fact.uid], False
                else:
                    continue  # gone since the SEARCH (a person moved it)
                result.fetched += 1
                target, row_id = self._take(status, fact, raw, complete, changed, result)
                moves.setdefault(target, []).append((fact.uid, row_id))
                done += 1
                if progress:
                    progress(PollProgress(self.mailbox.name, folder, done, len(ordered)))
            move_uids(self.store, session, moves, result)

    # -- one mail --------------------------------------------------------------------------

    def _take(
        self,
        status: FolderStatus,
        fact: MessageFacts,
        raw: bytes,
        complete: bool,
        rescan: bool,
        result: PollResult,
    ) -> tuple[str, int]:
        """Commit one mail (or only the watermark, if it is stored already); its target folder and row."""
        sha256 = content_hash(raw)
        arrival = Arrival(status.name, status.uid_validity, fact.uid, fact.size, fact.received_at, complete)
        outcome: MailOutcome | None = None
        for attempt in (1, 2):
            with self.store.session() as db:
                existing = find_by_hash(db, self.mailbox.name, sha256)
            if existing is None:
                if outcome is None:
                    outcome = (
                        read_raw(raw, self.mailbox, received_at=fact.received_at)
                        if complete
                        else oversized(raw, fact.size, self.mailbox)
                    )
                if rescan:  # the same mail under a new UID, its bytes possibly rewritten by the server
                    with self.store.session() as db:
                        existing = find_by_message_id(db, self.mailbox.name, outcome.message_id)
            if existing is not None:
                assert existing.id is not None
                with self.store.session() as db:
                    save_watermark(db, self.mailbox, status.name, status.uid_validity, fact.uid)
                self._committed()
                result.duplicates += 1
                return target_folder(self.mailbox, existing.state), existing.id
            assert outcome is not None
            try:
                return self._store(arrival, raw, sha256, outcome, result)
            except IntegrityError:
                # Another poller stored the same mail in the meantime: look again.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _store(
        self, arrival: Arrival, raw: bytes, sha256: str, outcome: MailOutcome, result: PollResult
    ) -> tuple[str, int]:
        try:
            with self.store.session() as db:
                taken = store_new(
                    db,
                    self.mailbox,
                    raw,
                    sha256,
                    arrival,
                    outcome,
                    settings=self.settings,
                    run_id=result.run_id,
                )
                save_watermark(db, self.mailbox, arrival.folder, arrival.uid_validity, arrival.uid)
        except DBAPIError:
            raise  # a concurrent writer, or the store is unreachable: the mail stays for the next pass
        except Exception as error:
            log.exception("mailbox %s: storing %s failed", self.mailbox.name, outcome.source_ref or sha256)
            outcome = failed_to_store(outcome, error)
            with self.store.session() as db:
                taken = store_new(
                    db,
                    self.mailbox,
                    raw,
                    sha256,
                    arrival,
                    outcome,
                    settings=self.settings,
                    run_id=result.run_id,
                )
                save_watermark(db, self.mailbox, arrival.folder, arrival.uid_validity, arrival.uid)
        self._committed()
        if outcome.state == "processed":
            result.stored += 1
            result.observations += taken.observations
            if taken.report is not None:
                result.added_observations += taken.report.added_observations
                result.added_events += taken.report.added_events
            result.problems += taken.problems
        else:
            result.quarantined += 1
            result.add_error(
                outcome.error_kind or "bad_input",
                outcome.reason or "quarantined",
                outcome.source_ref or f"sha256:{sha256}",
            )
        return target_folder(self.mailbox, outcome.state), taken.row_id

    def _committed(self) -> None:
        self._commits += 1
        if self._crash_after is not None and self._commits >= self._crash_after:
            # The test hook of the crash-between-commit-and-move test: die as a kill would.
            os._exit(CRASH_EXIT_CODE)


def poll_mailbox(
    config: Config,
    mailbox: MailboxSource,
    store: Store,
    *,
    trigger: str = "manual",
    progress: ProgressCallback | None = None,
    options: ImapOptions | None = None,
) -> PollResult:
    """Poll `mailbox` once now (connect, read every folder, disconnect); the pass is a recorded run."""
    poller = MailPoller(config, mailbox, store, options=options)
    try:
        return poller.poll(trigger, progress)
    finally:
        poller.close()
