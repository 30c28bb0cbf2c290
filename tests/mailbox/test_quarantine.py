"""Mail no parser can read goes to Quarantine with its reason; `mail reprocess` reads it after a fix."""

from __future__ import annotations

from pathlib import Path

from mailbox_testing import Setup, count, mail_sample, raws_in, seen_anywhere
from sqlalchemy import select

from mailbox import poll_mailbox, quarantined_rows, reprocess_quarantine
from mailbox.imap import ImapOptions
from sandbox.mail.generator import SANDBOX_ROUTES
from sandbox.mail.malformed import (
    CORPUS_MAX_ATTACHMENT_BYTES,
    CORPUS_MAX_MESSAGE_BYTES,
    MALFORMED,
)
from sandbox.mail.server import RunningMailServer
from store import ObservationRow, RunRow, Store
from store.tables_mail import MailMessageRow


def test_malformed_corpus_each_rejected_with_its_reason_while_good_mail_is_stored(
    server: RunningMailServer, store: Store, store_path: str, tmp_path: Path
) -> None:
    setup = Setup(
        server,
        store_path,
        tmp_path,
        max_message_bytes=CORPUS_MAX_MESSAGE_BYTES,
        max_attachment_bytes=CORPUS_MAX_ATTACHMENT_BYTES,
    )
    good = mail_sample(4)
    cases_by_uid = {}
    for index, case in enumerate(MALFORMED):
        if index % 10 == 0:  # good mail between the bad, in the same poll
            server.deliver(good[index // 10].raw)
        cases_by_uid[server.deliver(case.raw)] = case
    rejected = [case for case in MALFORMED if case.outcome != "stored"]
    assert sum(case.outcome == "rejected" for case in MALFORMED) >= 30

    result = poll_mailbox(setup.config, setup.mailbox, store)

    assert result.fetched == len(MALFORMED) + len(good)
    assert result.quarantined == len(rejected)
    assert result.stored == len(good) + len(MALFORMED) - len(rejected)
    assert result.outcome == "partial" and len(result.errors) == len(rejected)
    with store.session() as session:
        rows = {row.uid: row for row in session.execute(select(MailMessageRow)).scalars().all()}
        for uid, case in cases_by_uid.items():
            row = rows[uid]
            if case.outcome == "stored":  # unsafe attachment names are sanitized; the mail is read
                assert row.state == "processed", (case.name, row.reason)
                continue
            assert row.state == "quarantined", case.name
            assert case.expected_reason_fragment.lower() in (row.reason or "").lower(), (
                case.name,
                row.reason,
            )
            assert row.parser.startswith("mail.") and row.parser[-2:] == "/1", case.name
            assert row.error_kind == (
                "needs_template" if case.outcome == "needs_template" else row.error_kind
            )
            assert row.location == "Quarantine" and row.moved_at is not None
        stored_refs = set(session.execute(select(ObservationRow.source_ref)).scalars().all())
        sources = {ref.split("#")[0] for ref in stored_refs}
    assert {mail.message_id for mail in good} <= sources  # the good mail of the same poll is stored
    assert not any(case.name in ref for ref in sources for case in rejected)
    # Every rejected mail is in Quarantine byte for byte (the oversized one too); the rest in Processed.
    assert raws_in(server, "Quarantine") == sorted(case.raw for case in rejected)
    assert raws_in(server, "Processed") == sorted(
        [mail.raw for mail in good] + [case.raw for case in MALFORMED if case.outcome == "stored"]
    )
    assert raws_in(server, "INBOX") == [] and seen_anywhere(server) == []
    oversized = next(row for row in rows.values() if row.message_id == "<malformed.big@mail.sandbox.example>")
    assert not oversized.complete and len(oversized.raw) < 10_000  # only its header was fetched
    listed = quarantined_rows(store, setup.mailbox.name, reason="over the limit")
    assert {row.message_id for row in listed} == {
        "<malformed.big@mail.sandbox.example>",
        "<malformed.big_xlsx@mail.sandbox.example>",
    }


def _route_maersk_to(template: str) -> list[dict[str, str]]:
    routes = [dict(route) for route in SANDBOX_ROUTES]
    for route in routes:
        if route.get("sender") == r"@maersk-line\.example$":
            route["template"] = template
    return routes


def test_quarantine_then_reprocess_after_the_parser_is_fixed(
    server: RunningMailServer, store: Store, store_path: str, tmp_path: Path
) -> None:
    mails = [mail for mail in mail_sample(14) if mail.template in ("maersk_arrival_html", "table_attachment")]
    maersk = [mail for mail in mails if mail.template == "maersk_arrival_html"]
    assert maersk and len(maersk) < len(mails)
    # A route that sends Maersk's HTML notices to a template that cannot read them ...
    wrong = Setup(server, store_path, tmp_path, routes=_route_maersk_to("edifact_attachment"))
    # ... and one that has no route for them at all.
    missing = [route for route in SANDBOX_ROUTES if route.get("sender") != r"@maersk-line\.example$"]
    for mail in mails:
        server.deliver(mail.raw)

    result = poll_mailbox(wrong.config, wrong.mailbox, store)

    assert (result.stored, result.quarantined) == (len(mails) - len(maersk), len(maersk))
    assert raws_in(server, "Quarantine") == sorted(mail.raw for mail in maersk)
    listed = quarantined_rows(store, wrong.mailbox.name)
    assert {row.message_id for row in listed} == {mail.message_id for mail in maersk}
    assert {row.parser for row in listed} == {"mail.edifact_attachment/1"}
    assert all("edifact" in (row.reason or "").lower() for row in listed), [row.reason for row in listed]
    numbers = {number for mail in maersk for number in mail.containers}

    # Reprocessing with the same broken routes changes nothing but the record of the attempt.
    still = reprocess_quarantine(wrong.config, wrong.mailbox, store)
    assert (still.tried, still.stored, still.still_quarantined, still.outcome) == (
        len(maersk),
        0,
        len(maersk),
        "partial",
    )
    # With no route at all, the reason becomes "needs template".
    unrouted = Setup(server, store_path, tmp_path, routes=missing)
    reprocess_quarantine(unrouted.config, unrouted.mailbox, store)
    assert all(
        "needs template" in (row.reason or "") for row in quarantined_rows(store, unrouted.mailbox.name)
    )
    assert quarantined_rows(store, reason="NEEDS TEMPLATE") and not quarantined_rows(store, reason="edifact")

    # The fix: the right template. Reprocess stores them and moves them to Processed.
    fixed = Setup(server, store_path, tmp_path)
    done = reprocess_quarantine(fixed.config, fixed.mailbox, store, reason="needs template")

    assert (done.tried, done.stored, done.still_quarantined, done.outcome) == (
        len(maersk),
        len(maersk),
        0,
        "ok",
    )
    assert done.moved == len(maersk) and done.observations > 0
    assert raws_in(server, "Quarantine") == []
    assert raws_in(server, "Processed") == sorted(mail.raw for mail in mails)
    assert quarantined_rows(store, fixed.mailbox.name) == []
    with store.session() as session:
        rows = session.execute(
            select(MailMessageRow).where(MailMessageRow.message_id.in_([m.message_id for m in maersk]))
        ).scalars()
        for row in rows:
            assert (row.state, row.parser, row.reason, row.location) == (
                "processed",
                "mail.maersk_arrival_html/1",
                None,
                "Processed",
            )
            assert row.attempts == 4 and row.observation_count > 0
        stored = session.execute(select(ObservationRow.fields)).scalars().all()
        run = session.get(RunRow, done.run_id)
    assert numbers <= {fields.get("container_no") for fields in stored}
    assert run is not None and (run.kind, run.outcome) == ("mail_reprocess", "ok")
    assert seen_anywhere(server) == []
    # Nothing left to do: a second reprocess tries nothing; a poll finds nothing new.
    assert reprocess_quarantine(fixed.config, fixed.mailbox, store).tried == 0
    before = count(store, ObservationRow)
    assert poll_mailbox(fixed.config, fixed.mailbox, store).fetched == 0
    assert count(store, ObservationRow) == before


def test_reprocess_commits_first_and_the_next_poll_finishes_the_move(
    make_server, store: Store, store_path: str, tmp_path: Path
) -> None:
    server = make_server()
    maersk = [mail for mail in mail_sample(14) if mail.template == "maersk_arrival_html"][:1]
    wrong = Setup(server, store_path, tmp_path, routes=_route_maersk_to("edifact_attachment"))
    server.deliver(maersk[0].raw)
    assert poll_mailbox(wrong.config, wrong.mailbox, store).quarantined == 1
    # The server goes away before reprocessing: what reads is committed, its move stays due.
    server.stop()
    fixed = Setup(server, store_path, tmp_path)  # the port nobody listens on now
    quick = ImapOptions(timeout=2, reconnects=1, backoff_initial=0.01, backoff_max=0.02)
    done = reprocess_quarantine(fixed.config, fixed.mailbox, store, options=quick)
    assert (done.stored, done.moved, done.outcome) == (1, 0, "partial")
    assert done.errors[0]["kind"] == "portal" and "cannot connect" in done.errors[0]["message"]
    with store.session() as session:
        row = session.execute(select(MailMessageRow)).scalars().one()
        assert (row.state, row.location, row.moved_at) == ("processed", "Quarantine", None)

    back = make_server()  # the mailbox is back (same folders, the mail as it was left)
    back.deliver(maersk[0].raw, "Quarantine")
    returned = Setup(back, store_path, tmp_path)
    result = poll_mailbox(returned.config, returned.mailbox, store)
    assert (result.fetched, result.moved) == (0, 1)
    assert raws_in(back, "Processed") == [maersk[0].raw] and raws_in(back, "Quarantine") == []
