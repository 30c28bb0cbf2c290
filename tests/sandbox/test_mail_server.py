"""The sandbox IMAP server (pymap) driven by a real IMAP client (imapclient) over loopback."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import imapclient
import pytest
from imapclient.exceptions import CapabilityError, LoginError

from sandbox.mail.generator import MailGenerator
from sandbox.mail.malformed import MALFORMED
from sandbox.mail.seeder import MailboxSeeder
from sandbox.mail.server import MailServerOptions, RunningMailServer, start_mail_server
from sandbox.world import World, WorldClock

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "test-mail-password-1"


def _message(number: int, subject: str = "Arrival notice") -> bytes:
    return (
        f"From: Carrier <notice@carrier.example>\r\nTo: ops@quaysync.example\r\n"
        f"Subject: {subject} {number}\r\nMessage-ID: <m{number}@carrier.example>\r\n"
        f"Date: Mon, 02 Nov 2026 10:00:00 +0800\r\n\r\nContainer: MSKU0704849\r\n"
    ).encode()


@pytest.fixture
def server() -> Iterator[RunningMailServer]:
    with start_mail_server(MailServerOptions(password=PASSWORD)) as running:
        yield running


_OPEN: list[imapclient.IMAPClient] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        with contextlib.suppress(Exception):  # the server may be gone already
            _OPEN.pop().shutdown()


def _connect(host: str, port: int) -> imapclient.IMAPClient:
    client = imapclient.IMAPClient(host, port=port, ssl=False, timeout=10)
    _OPEN.append(client)
    return client


def _client(server: RunningMailServer) -> imapclient.IMAPClient:
    client = _connect(server.host, server.port)
    client.login(server.username, server.password)
    return client


def test_login_select_search_fetch(server: RunningMailServer) -> None:
    raws = [_message(1), _message(2)]
    uids = [server.deliver(raw) for raw in raws]
    client = _client(server)
    selected = client.select_folder("INBOX")
    assert selected[b"EXISTS"] == 2
    assert client.search("ALL") == uids
    fetched = client.fetch(uids, ["BODY.PEEK[]", "FLAGS"])
    assert [fetched[uid][b"BODY[]"] for uid in uids] == raws
    assert client.search(["SUBJECT", "notice 2"]) == [uids[1]]
    client.logout()


def test_wrong_password_is_refused(server: RunningMailServer) -> None:
    client = _connect(server.host, server.port)
    with pytest.raises(LoginError):
        client.login(server.username, "not-the-password")


def test_body_peek_leaves_the_mail_unread_and_body_marks_it_read(server: RunningMailServer) -> None:
    peeked, read = server.deliver(_message(1)), server.deliver(_message(2))
    client = _client(server)
    client.select_folder("INBOX")
    client.fetch([peeked], ["BODY.PEEK[]"])
    client.fetch([read], ["BODY[]"])  # what a careless reader does: people would lose their unread mark
    flags = client.get_flags([peeked, read])
    assert b"\\Seen" not in flags[peeked]
    assert b"\\Seen" in flags[read]
    on_server = server.messages("INBOX")
    assert "\\Seen" not in on_server[peeked][1]
    assert "\\Seen" in on_server[read][1]


def test_idle_wakes_when_mail_is_delivered(server: RunningMailServer) -> None:
    server.deliver(_message(1))
    client = _client(server)
    client.select_folder("INBOX")
    assert b"IDLE" in client.capabilities()
    client.idle()
    assert client.idle_check(timeout=0.2) == []  # nothing new: IDLE stays quiet
    new_uid = server.deliver(_message(2))
    responses = client.idle_check(timeout=10)
    client.idle_done()
    assert (2, b"EXISTS") in responses
    assert client.search("ALL")[-1] == new_uid


def test_move_to_processed(server: RunningMailServer) -> None:
    first, second = server.deliver(_message(1)), server.deliver(_message(2))
    client = _client(server)
    assert {name for _flags, _delimiter, name in client.list_folders()} >= {
        "INBOX",
        "Processed",
        "Quarantine",
    }
    assert b"MOVE" in client.capabilities() and b"UIDPLUS" in client.capabilities()
    client.select_folder("INBOX")
    client.move([first], "Processed")
    assert client.search("ALL") == [second]
    assert [raw for raw, _flags in server.messages("Processed").values()] == [_message(1)]


def test_copy_delete_uid_expunge_where_move_is_missing() -> None:
    with start_mail_server(MailServerOptions(password=PASSWORD, move=False, idle=False)) as server:
        first, second = server.deliver(_message(1)), server.deliver(_message(2))
        client = _client(server)
        assert b"MOVE" not in client.capabilities()
        assert b"IDLE" not in client.capabilities()
        client.select_folder("INBOX")
        with pytest.raises(CapabilityError):
            client.move([first], "Processed")
        client.copy([first], "Quarantine")
        client.delete_messages([first])
        client.uid_expunge([first])  # UIDPLUS: only this message, not others flagged \Deleted
        assert client.search("ALL") == [second]
        assert [raw for raw, _flags in server.messages("Quarantine").values()] == [_message(1)]


def test_uidvalidity_changes_when_the_folder_is_recreated(server: RunningMailServer) -> None:
    old_uids = [server.deliver(_message(number)) for number in (1, 2)]
    client = _client(server)
    before = client.select_folder("INBOX")[b"UIDVALIDITY"]
    client.logout()
    after_reset = server.reset_uid_validity("INBOX")
    client = _client(server)
    after = client.select_folder("INBOX")
    assert after[b"UIDVALIDITY"] == after_reset != before
    new_uids = client.search("ALL")
    fetched = client.fetch(new_uids, ["BODY.PEEK[]"])
    assert sorted(fetched[uid][b"BODY[]"] for uid in new_uids) == [_message(1), _message(2)]
    client.logout()
    # Emptied and refilled: the same UID now names another message; only UIDVALIDITY tells.
    emptied = server.reset_uid_validity("INBOX", keep_messages=False)
    reused = server.deliver(_message(3))
    assert reused == old_uids[0]
    client = _client(server)
    assert client.select_folder("INBOX")[b"UIDVALIDITY"] == emptied not in (before, after_reset)
    assert client.fetch([reused], ["BODY.PEEK[]"])[reused][b"BODY[]"] == _message(3)


def test_create_and_delete_folders(server: RunningMailServer) -> None:
    client = _client(server)
    client.create_folder("Archive")
    server.deliver(_message(1), "Archive")
    assert client.select_folder("Archive")[b"EXISTS"] == 1
    client.unselect_folder() if b"UNSELECT" in client.capabilities() else client.close_folder()
    client.delete_folder("Archive")
    assert "Archive" not in {name for _flags, _delimiter, name in client.list_folders()}
    with pytest.raises(KeyError, match="Archive"):
        server.deliver(_message(2), "Archive")


def test_seeder_fills_the_inbox_as_world_time_passes() -> None:
    world = World(seed=7, containers=30)
    clock = WorldClock(epoch=world.epoch, pinned=world.epoch)
    with start_mail_server(MailServerOptions(password=PASSWORD)) as server:
        seeder = MailboxSeeder(server, MailGenerator(world), clock)
        first = seeder.catch_up()
        assert first and all(mail.sent_at <= world.epoch for mail in first)
        assert seeder.catch_up() == []  # the clock did not move: nothing new
        clock.advance(timedelta(days=2))
        later = seeder.catch_up()
        assert later and all(world.epoch < mail.sent_at <= world.epoch + timedelta(days=2) for mail in later)
        client = _client(server)
        client.select_folder("INBOX")
        fetched = client.fetch(client.search("ALL"), ["BODY.PEEK[]"])
        assert sorted(item[b"BODY[]"] for item in fetched.values()) == sorted(m.raw for m in first + later)


def test_command_line_server_serves_the_world_mail(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(f"sandbox_mail_password: {PASSWORD}\n", encoding="utf-8")
    secrets.chmod(0o600)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox.mail",
            "--port",
            "0",
            "--secrets-file",
            str(secrets),
            "--containers",
            "30",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert PASSWORD not in " ".join(process.args)  # type: ignore[arg-type]
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:  # readiness: the server prints its port
            selector.register(process.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=30), "the sandbox mail server did not report readiness"
        line = process.stdout.readline()
        assert "IMAP on 127.0.0.1:" in line, line
        port = int(line.split("127.0.0.1:")[1].split()[0])
        client = _connect("127.0.0.1", port)
        client.login("ops", PASSWORD)
        assert client.select_folder("INBOX", readonly=True)[b"EXISTS"] > 0
        client.logout()
    finally:
        process.send_signal(signal.SIGTERM)
        _out, errors = process.communicate(timeout=30)
    assert process.returncode == 0, errors
    assert "stopped after delivering" in errors


def test_every_malformed_mail_is_delivered_and_fetched_byte_for_byte(server: RunningMailServer) -> None:
    uids = {server.deliver(case.raw): case for case in MALFORMED}
    client = _client(server)
    client.select_folder("INBOX", readonly=True)
    fetched = client.fetch(list(uids), ["BODY.PEEK[]"])
    for uid, case in uids.items():
        assert fetched[uid][b"BODY[]"] == case.raw, case.name


def test_xoauth2_bearer_token_login() -> None:
    options = MailServerOptions(password=PASSWORD, oauth2_token="ya29.sandbox-token")
    with start_mail_server(options) as server:
        client = _connect(server.host, server.port)
        assert b"AUTH=XOAUTH2" in client.capabilities()
        client.oauth2_login("ops", "ya29.sandbox-token")
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
        for user, token in (("ops", "ya29.wrong"), ("someone", "ya29.sandbox-token")):
            refused = _connect(server.host, server.port)
            with pytest.raises(LoginError):
                refused.oauth2_login(user, token)
    with start_mail_server(MailServerOptions(password=PASSWORD)) as server:  # no token configured
        client = _connect(server.host, server.port)
        assert b"AUTH=XOAUTH2" not in client.capabilities()
