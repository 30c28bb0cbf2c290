"""Replays: a process killed between commit and move, and a folder whose UIDVALIDITY changed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from mailbox_testing import (
    MAILBOX,
    PASSWORD,
    PASSWORD_ENV,
    Setup,
    count,
    mail_sample,
    mailbox_document,
    raws_in,
    seen_anywhere,
    store_counts,
)
from sqlalchemy import select

from mailbox import poll_mailbox
from mailbox.poller import CRASH_AFTER_COMMIT_ENV, CRASH_EXIT_CODE
from mailbox.reading import read_raw
from mailbox.records import load_watermark
from sandbox.mail.malformed import MALFORMED
from store import EventRow, ObservationRow, ProblemRow, RunRow, Store, open_store
from store.tables_mail import MailMessageRow
from sync import ingest
from sync.pipeline import build_ingest_settings

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def _reference_counts(setup: Setup, raws: list[bytes], tmp_path: Path) -> dict[str, int]:
    """What a clean, crash-free ingest of `raws` stores (a fresh store, no IMAP)."""
    reference = open_store(f"sqlite:///{tmp_path / 'reference.db'}")
    settings = build_ingest_settings(setup.config, setup.mailbox.time_zone)
    try:
        for raw in raws:
            outcome = read_raw(raw, setup.mailbox, received_at=None)
            if outcome.state == "processed":
                with reference.session() as session:
                    ingest(session, outcome.observations, settings=settings)
        return {
            "observations": count(reference, ObservationRow),
            "events": count(reference, EventRow),
            "problems": count(reference, ProblemRow),
        }
    finally:
        reference.dispose()


def _crash_poll(
    setup: Setup, store_url: str, tmp_path: Path, after_commits: int
) -> subprocess.CompletedProcess:
    config_file = tmp_path / "config.yaml"
    config_file.write_text(
        yaml.safe_dump(
            {"store": {"url": store_url}, "sources": {"mailboxes": [mailbox_document(setup.server)]}}
        ),
        encoding="utf-8",
    )
    environment = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        PASSWORD_ENV: PASSWORD,
        CRASH_AFTER_COMMIT_ENV: str(after_commits),
    }
    return subprocess.run(
        [sys.executable, str(HERE / "poll_in_subprocess.py"), str(config_file), MAILBOX],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("new_uid_validity", [False, True], ids=["same-folder", "then-uidvalidity-changed"])
def test_a_process_killed_between_commit_and_move_replays_with_nothing_added_twice(
    setup: Setup, store: Store, store_path: str, tmp_path: Path, new_uid_validity: bool
) -> None:
    broken = next(case for case in MALFORMED if case.name == "no_container_numbers")
    raws = [mail.raw for mail in mail_sample(7)]
    raws.insert(2, broken.raw)  # one to quarantine among them
    for raw in raws:
        setup.server.deliver(raw)

    crashed = _crash_poll(setup, store_path, tmp_path, after_commits=4)

    assert crashed.returncode == CRASH_EXIT_CODE, crashed.stderr[-2000:]
    # What the dead process left: four mails committed (one quarantined), none moved yet.
    with store.session() as session:
        rows = session.execute(select(MailMessageRow).order_by(MailMessageRow.uid)).scalars().all()
        assert [row.raw for row in rows] == raws[:4]
        assert [row.state for row in rows] == ["processed", "processed", "quarantined", "processed"]
        assert all(row.moved_at is None and row.location == "INBOX" for row in rows)
        assert load_watermark(session, setup.mailbox, "INBOX").last_uid == rows[-1].uid  # type: ignore[union-attr]
        assert session.execute(select(RunRow.outcome)).scalars().all() == ["running"]
    assert raws_in(setup.server, "INBOX") == sorted(raws)
    assert raws_in(setup.server, "Processed") == raws_in(setup.server, "Quarantine") == []
    if new_uid_validity:  # and the server is restored meanwhile: the rows' UIDs now name nothing
        setup.server.reset_uid_validity("INBOX")

    result = poll_mailbox(setup.config, setup.mailbox, store)

    # The four committed ones are only moved (found by UID, or by content after the restore).
    assert (result.fetched, result.stored, result.quarantined, result.duplicates) == (4, 4, 0, 0)
    assert result.moved == 8 and result.rescans == int(new_uid_validity)
    assert raws_in(setup.server, "INBOX") == []
    assert raws_in(setup.server, "Quarantine") == [broken.raw]
    assert raws_in(setup.server, "Processed") == sorted(raw for raw in raws if raw != broken.raw)
    assert seen_anywhere(setup.server) == []
    counts = store_counts(store)
    assert counts.pop("mail") == 8
    assert counts == _reference_counts(setup, raws, tmp_path)
    with store.session() as session:
        assert (
            session.execute(select(MailMessageRow).where(MailMessageRow.moved_at.is_(None))).first() is None
        )


def test_a_new_uidvalidity_rescans_the_folder_and_stores_nothing_twice(setup: Setup, store: Store) -> None:
    server = setup.server
    first, later = mail_sample(5), mail_sample(3, skip=5)
    for mail in first:
        server.deliver(mail.raw)
    assert poll_mailbox(setup.config, setup.mailbox, store).stored == 5
    with store.session() as session:
        old = load_watermark(session, setup.mailbox, "INBOX")
    assert old is not None
    stored_before = store_counts(store)

    # The server is restored from a backup: old mail is back in the INBOX (one copy rewritten by
    # the restore, with the same Message-ID), new mail arrives, and the UIDs start over.
    for mail in first[:3]:
        server.deliver(mail.raw)
    rewritten = b"X-Restored-From: backup-2026-11-04\r\n" + first[3].raw
    server.deliver(rewritten)
    for mail in later:
        server.deliver(mail.raw)
    new_validity = server.reset_uid_validity("INBOX")
    assert new_validity != old.uid_validity
    restored_uids = sorted(server.messages("INBOX"))
    assert restored_uids[0] <= old.last_uid  # the old watermark now names other mail

    result = poll_mailbox(setup.config, setup.mailbox, store)

    assert result.rescans == 1
    assert (result.fetched, result.stored, result.duplicates, result.quarantined) == (7, 3, 4, 0)
    assert raws_in(server, "INBOX") == []
    assert raws_in(server, "Processed") == sorted(
        [mail.raw for mail in first] + [mail.raw for mail in first[:3]] + [rewritten] + [m.raw for m in later]
    )
    with store.session() as session:
        mark = load_watermark(session, setup.mailbox, "INBOX")
        assert mark is not None and mark.uid_validity == new_validity
        assert mark.last_uid == restored_uids[-1]
        stored_ids = session.execute(select(MailMessageRow.message_id)).scalars().all()
    assert sorted(stored_ids) == sorted(mail.message_id for mail in first + later)
    counts = store_counts(store)
    assert counts["mail"] == stored_before["mail"] + 3
    assert counts["observations"] == stored_before["observations"] + result.added_observations
    reference = {
        observation.content_hash()
        for mail in first + later
        for observation in read_raw(mail.raw, setup.mailbox, received_at=None).observations
    }
    assert counts["observations"] == len(reference)

    again = poll_mailbox(setup.config, setup.mailbox, store)  # settled: an ordinary incremental poll
    assert (again.rescans, again.fetched) == (0, 0)
