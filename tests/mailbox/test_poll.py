"""Polling a real IMAP server (the sandbox's pymap on loopback) into a real store."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import pytest
from mailbox_testing import (
    MAILBOX,
    PASSWORD,
    Setup,
    count,
    mail_sample,
    raws_in,
    seen_anywhere,
    store_counts,
)
from sqlalchemy import select

from mailbox import ImapOptions, poll_mailbox
from mailbox.reading import check_routes, read_raw
from mailbox.records import load_watermark
from quaysync.errors import ConfigError
from quaysync.secrets import REDACTOR
from sandbox.mail.server import RunningMailServer
from store import ObservationRow, RunRow, SourceStateRow, Store, open_store
from store.tables_mail import MailMessageRow


def _expected_observations(setup: Setup, raws: list[bytes]) -> set[str]:
    """Content hashes of what the templates read from `raws` (what the store must hold, once each)."""
    hashes = set()
    for raw in raws:
        outcome = read_raw(raw, setup.mailbox, received_at=None)
        assert outcome.state == "processed", outcome.reason
        hashes |= {observation.content_hash() for observation in outcome.observations}
    return hashes


def _first_poll(setup: Setup, store: Store) -> None:
    mails = mail_sample(10)
    uids = [setup.server.deliver(mail.raw) for mail in mails]
    uid_validity = setup.server.uid_validity("INBOX")

    result = poll_mailbox(setup.config, setup.mailbox, store, trigger="manual")

    assert result.outcome == "ok", result.errors
    assert (result.fetched, result.stored, result.quarantined, result.duplicates) == (10, 10, 0, 0)
    assert result.moved == 10
    assert raws_in(setup.server, "INBOX") == []
    assert raws_in(setup.server, "Processed") == sorted(mail.raw for mail in mails)
    assert seen_anywhere(setup.server) == []  # BODY.PEEK: people keep their unread marks

    with store.session() as session:
        rows = session.execute(select(MailMessageRow).order_by(MailMessageRow.uid)).scalars().all()
        assert [row.uid for row in rows] == uids
        by_id = {row.message_id: row for row in rows}
        for mail in mails:
            row = by_id[mail.message_id]
            assert row.raw == mail.raw and row.state == "processed" and row.location == "Processed"
            assert row.template == mail.template and row.parser == f"mail.{mail.template}/1"
            assert row.moved_at is not None and row.uid_validity == uid_validity
        stored = session.execute(select(ObservationRow)).scalars().all()
        assert {row.content_hash for row in stored} == _expected_observations(
            setup, [mail.raw for mail in mails]
        )
        assert {row.source for row in stored} == {f"mail:{MAILBOX}"}
        named = {str(row.fields.get("container_no")) for row in stored if row.subject == "container"}
        assert named == {number for mail in mails for number in mail.containers}
        mark = load_watermark(session, setup.mailbox, "INBOX")
        assert mark is not None and (mark.uid_validity, mark.last_uid) == (uid_validity, max(uids))
        run = session.get(RunRow, result.run_id)
        assert run is not None
        assert (run.source, run.kind, run.trigger, run.outcome) == (f"mail:{MAILBOX}", "mail", "manual", "ok")
        assert run.counts["stored"] == 10 and run.counts["observations"] == result.observations > 0


def test_first_poll_stores_every_mail_and_moves_it_to_processed(setup: Setup, store: Store) -> None:
    _first_poll(setup, store)


@pytest.mark.postgres
def test_first_poll_on_postgresql(server: RunningMailServer, postgres_url: str, tmp_path: Path) -> None:
    opened = open_store(postgres_url)
    try:
        _first_poll(Setup(server, postgres_url, tmp_path), opened)
    finally:
        opened.dispose()


def test_incremental_poll_reads_only_the_new_mail(setup: Setup, store: Store) -> None:
    first, later = mail_sample(5), mail_sample(4, skip=5)
    for mail in first:
        setup.server.deliver(mail.raw)
    assert poll_mailbox(setup.config, setup.mailbox, store).stored == 5
    before = store_counts(store)

    again = poll_mailbox(setup.config, setup.mailbox, store)  # nothing new: nothing read
    assert (again.fetched, again.stored, again.outcome) == (0, 0, "ok")
    assert store_counts(store) == before

    new_uids = [setup.server.deliver(mail.raw) for mail in later]
    result = poll_mailbox(setup.config, setup.mailbox, store)
    assert (result.fetched, result.stored, result.duplicates) == (4, 4, 0)
    assert count(store, MailMessageRow) == 9
    with store.session() as session:
        assert load_watermark(session, setup.mailbox, "INBOX").last_uid == max(new_uids)  # type: ignore[union-attr]
    assert count(store, ObservationRow) == len(_expected_observations(setup, [m.raw for m in first + later]))
    assert raws_in(setup.server, "Processed") == sorted(mail.raw for mail in first + later)


@pytest.mark.parametrize("move", [True, False], ids=["MOVE", "COPY+EXPUNGE"])
def test_mail_leaves_the_inbox_by_move_or_by_copy_and_uid_expunge(
    make_server, store: Store, store_path: str, tmp_path: Path, move: bool
) -> None:
    server = make_server(move=move, idle=False)
    setup = Setup(server, store_path, tmp_path)
    mails = mail_sample(3)
    for mail in mails:
        server.deliver(mail.raw)
    # a person's own mail, flagged \Deleted in the INBOX: neither read nor expunged by us
    theirs = server.deliver(b"From: a@b.example\r\nSubject: mine\r\n\r\nbye\r\n", flags=["\\Deleted"])

    result = poll_mailbox(setup.config, setup.mailbox, store)

    assert (result.stored, result.moved, result.outcome) == (3, 3, "ok")
    assert raws_in(server, "Processed") == sorted(mail.raw for mail in mails)
    inbox = server.messages("INBOX")
    assert list(inbox) == [theirs]  # ours expunged by UID only
    assert all("\\Deleted" not in flags for _raw, flags in server.messages("Processed").values())
    assert seen_anywhere(server) == []


def test_processed_and_quarantine_folders_are_created_when_missing(
    make_server, store: Store, store_path: str, tmp_path: Path
) -> None:
    server = make_server(folders=())
    setup = Setup(server, store_path, tmp_path, processed_folder="Done/Carriers")
    server.deliver(mail_sample(1)[0].raw)
    assert poll_mailbox(setup.config, setup.mailbox, store).moved == 1
    assert len(server.messages("Done/Carriers")) == 1
    assert server.messages("Quarantine") == {}


def test_a_route_naming_an_unknown_template_fails_at_start_up(
    setup: Setup, store_path: str, tmp_path: Path
) -> None:
    routes = [{"template": "table_attachment", "attachment": "*.csv"}, {"template": "maersk_arrival_pdf"}]
    broken = Setup(setup.server, store_path, tmp_path, routes=routes)
    with pytest.raises(ConfigError) as raised:
        check_routes(broken.config)
    assert raised.value.problems == [
        "sources.mailboxes[0].routes[1].template: no parser template named 'maersk_arrival_pdf' "
        "(known: edifact_attachment, html_table_body, key_value_notice, maersk_arrival_html, "
        "msc_arrival_xlsx, table_attachment)"
    ]
    with pytest.raises(ConfigError, match=r"routes\[1\]\.template"):
        poll_mailbox(broken.config, broken.mailbox, open_store(store_path))
    looping = Setup(setup.server, store_path, tmp_path, folders=["INBOX", "Processed"])
    with pytest.raises(ConfigError, match=r"mailboxes\[0\]\.folders: Processed is where read mail is moved"):
        check_routes(looping.config)


@pytest.mark.parametrize(
    ("security", "reason"),
    [("tls", "cannot connect"), ("starttls", "does not offer STARTTLS; not logging in without TLS")],
)
def test_a_tls_mailbox_never_talks_in_clear_to_a_server_without_tls(
    server: RunningMailServer, store: Store, store_path: str, tmp_path: Path, security: str, reason: str
) -> None:
    setup = Setup(server, store_path, tmp_path, security=security)
    server.deliver(mail_sample(1)[0].raw)
    quick = ImapOptions(timeout=3, reconnects=1, backoff_initial=0.01, backoff_max=0.02)
    result = poll_mailbox(setup.config, setup.mailbox, store, options=quick)
    assert result.outcome == "failed" and result.fetched == 0
    assert result.errors[0]["kind"] == "portal" and reason in result.errors[0]["message"]
    assert len(server.messages("INBOX")) == 1


def test_a_wrong_password_ends_the_poll_as_blocked(
    server: RunningMailServer, store: Store, store_path: str, tmp_path: Path
) -> None:
    wrong = Setup(
        server,
        store_path,
        tmp_path,
        password="${WRONG_MAIL_PASSWORD}",
        environ={"WRONG_MAIL_PASSWORD": "not-the-password-at-all"},
    )
    server.deliver(mail_sample(1)[0].raw)
    result = poll_mailbox(wrong.config, wrong.mailbox, store)
    assert result.outcome == "blocked"
    assert result.errors[0]["kind"] == "blocked" and "refused the login" in result.errors[0]["message"]
    assert len(server.messages("INBOX")) == 1 and count(store, MailMessageRow) == 0


def test_secrets_never_reach_the_logs(
    make_server, store: Store, store_path: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token = "ya29.mailbox-test-bearer-token"
    server = make_server(oauth2_token=token)
    by_password = Setup(server, store_path, tmp_path)
    by_token = Setup(
        server,
        store_path,
        tmp_path,
        password=None,
        oauth2_token="${MAIL_TOKEN}",
        environ={"MAIL_TOKEN": token},
    )
    with caplog.at_level(logging.DEBUG):
        server.deliver(mail_sample(1)[0].raw)
        assert poll_mailbox(by_password.config, by_password.mailbox, store).stored == 1
        server.deliver(mail_sample(1, skip=1)[0].raw)
        assert poll_mailbox(by_token.config, by_token.mailbox, store).stored == 1
    # The client side only: the sandbox server (pymap) runs in this process and logs what it receives.
    logged = "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("pymap")
    )
    assert "LOGIN" in logged and "AUTHENTICATE" in logged  # the capture saw both conversations
    assert PASSWORD not in logged and token not in logged
    # The SASL string carries the token base64-encoded: quaysync's log handlers mask that form too.
    sasl = base64.b64encode(f"user={server.username}\1auth=Bearer {token}\1\1".encode()).decode()
    assert sasl not in REDACTOR.mask(logged)
    with store.session() as session:
        states = session.execute(select(SourceStateRow)).scalars().all()
        runs = session.execute(select(RunRow)).scalars().all()
    assert PASSWORD not in repr([state.value for state in states] + [run.errors for run in runs])
