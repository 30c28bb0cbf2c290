"""The embedded default's outgoing mail: an SMTP sink on loopback that keeps every message as a file.

    sink = start_smtp_sink(Path("var/sandbox-outbox"), port=8025)   # port 0: a free port
    sink.port, sink.messages()                                      # [Path(.../0001.eml), ...]
    sink.stop()

Each message is written as it was received (the DATA bytes) to `<folder>/NNNN.eml`, numbered on
from the files already there, atomically (a reader never sees half a message). Nothing is relayed.
The sandbox imports nothing of quaysync's.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

_NUMBERED = re.compile(r"^(\d+)\.eml$")


class SinkHandler:
    """aiosmtpd handler: every message accepted and written to the folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        numbers = [int(match.group(1)) for name in os.listdir(folder) if (match := _NUMBERED.match(name))]
        self._next = max(numbers, default=0) + 1
        self._lock = threading.Lock()
        self.received = 0

    def write(self, content: bytes) -> Path:
        with self._lock:
            number, self._next = self._next, self._next + 1
        target = self.folder / f"{number:04d}.eml"
        partial = target.with_suffix(".eml.part")
        partial.write_bytes(content)
        os.replace(partial, target)
        self.received += 1
        return target

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", errors="replace")
        self.write(content)
        return "250 Message accepted for delivery"


class _BoundController(Controller):
    """aiosmtpd's Controller on a socket bound before start (so port 0 works and the port is known)."""

    def __init__(self, handler: SinkHandler, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((host, port))
        except OSError:
            self._socket.close()
            raise
        self._socket.listen(16)
        super().__init__(handler, hostname=host, port=self._socket.getsockname()[1])

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._socket, ssl=self.ssl_context)


class RunningSink:
    def __init__(self, controller: _BoundController, handler: SinkHandler) -> None:
        self._controller = controller
        self.handler = handler
        self.host = controller.hostname
        self.port = controller.port
        self.folder = handler.folder
        self._stopped = False

    def messages(self) -> list[Path]:
        return sorted(path for path in self.folder.glob("*.eml") if _NUMBERED.match(path.name))

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._controller.stop()

    def __enter__(self) -> RunningSink:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


# aiosmtpd logs every connection at INFO on "mail.log"; a sink only needs its warnings.
logging.getLogger("mail.log").setLevel(logging.WARNING)


def start_smtp_sink(folder: Path, *, host: str = "127.0.0.1", port: int = 8025) -> RunningSink:
    """Listen on host:port (0: a free port) and keep every message in `folder`."""
    handler = SinkHandler(folder)
    controller = _BoundController(handler, host, port)
    controller.start()
    return RunningSink(controller, handler)
