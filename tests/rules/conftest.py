"""Real receivers on loopback for the rules tests: an SMTP server (aiosmtpd) and an HTTP server."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from quaysync.config import Config, parse_config
from quaysync.model import Observation
from store import Store
from sync import IngestReport, ingest
from sync.pipeline import build_ingest_settings

T0 = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)
BOX = "MSKU1234565"
LA = "America/Los_Angeles"
SHANGHAI = "Asia/Shanghai"


# --- SMTP ---------------------------------------------------------------------------------------


class RecordingHandler:
    """Keeps every message; while `refusing`, answers DATA with a temporary failure (451)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refusing = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refusing:
            return "451 4.3.0 mailbox busy, try again later"
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


class _LoopbackController(Controller):
    """aiosmtpd's Controller on a socket we bound ourselves (a free port, kept across restarts)."""

    def __init__(self, handler: RecordingHandler, sock: socket.socket) -> None:
        self._sock = sock
        super().__init__(handler, hostname="127.0.0.1", port=sock.getsockname()[1])

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


class SmtpServer:
    """A real SMTP server on 127.0.0.1; stop() makes the port refuse connections until start()."""

    def __init__(self) -> None:
        self.handler = RecordingHandler()
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._controller: _LoopbackController | None = None

    def start(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(16)
        self._controller = _LoopbackController(self.handler, sock)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- HTTP ---------------------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """A real HTTP server on 127.0.0.1 recording POSTs; `status`/`reply` say how it answers."""

    port: int = 0
    requests: list[Received] = field(default_factory=list)
    status: int = 200
    reply: bytes = b'{"errcode": 0, "errmsg": "ok"}'

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = receiver.status
            if status < 300:
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(receiver.reply)))
            self.end_headers()
            self.wfile.write(receiver.reply)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- configuration, observations ----------------------------------------------------------------


def make_config(
    tmp_path: Path,
    rules: list[dict[str, Any]],
    *,
    smtp_port: int | None = None,
    channels: list[dict[str, Any]] | None = None,
    customers: list[dict[str, Any]] | None = None,
    **sections: Any,
) -> Config:
    """A Config as config.yaml would give it; an "ops-mail" staff channel when an SMTP port is given."""
    all_channels = list(channels or [])
    if smtp_port is not None:
        all_channels.insert(
            0,
            {
                "name": "ops-mail",
                "kind": "smtp",
                "smtp_host": "127.0.0.1",
                "smtp_port": smtp_port,
                "mail_from": "quaysync@forwarder.example",
                "mail_to": ["ops@forwarder.example"],
                "timeout": "5s",
            },
        )
    document = {
        "store": {"url": f"sqlite:///{tmp_path / 'unused.db'}"},
        "rules": rules,
        "notifications": {
            "channels": all_channels,
            "customers": customers or [],
            **sections.pop("notifications", {}),
        },
        **sections,
    }
    return parse_config(document, tmp_path)


def said(
    source: str,
    hours: float,
    fields: dict[str, Any],
    *,
    number: str = BOX,
    zone: str = LA,
    subject: str = "container",
) -> Observation:
    """What `source` said `hours` after T0 about container `number`."""
    return Observation(
        source,
        f"{source}/ref/{hours}",
        T0 + timedelta(hours=hours),
        {"container_no": number, **fields} if subject == "container" else fields,
        subject=subject,  # type: ignore[arg-type]
        time_zone=zone,
    )


def feed(store: Store, config: Config, observations: list[Observation], hours: float) -> IngestReport:
    """Ingest as the bots and mail readers do (hooks included), at T0 + hours."""
    with store.session() as session:
        return ingest(
            session, observations, settings=build_ingest_settings(config), now=T0 + timedelta(hours=hours)
        )


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)
