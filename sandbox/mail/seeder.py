"""Fills the sandbox mailbox as world time passes: every mail due since the last catch-up."""

from __future__ import annotations

import threading
from datetime import datetime

from sandbox.mail.generator import GeneratedMail, MailGenerator
from sandbox.mail.server import RunningMailServer
from sandbox.world import WorldClock


class MailboxSeeder:
    """Delivers the generator's mail into a running server, up to the clock's world time."""

    def __init__(self, server: RunningMailServer, generator: MailGenerator, clock: WorldClock) -> None:
        self.server = server
        self.generator = generator
        self.clock = clock
        self.delivered_until: datetime | None = None
        self.delivered = 0
        self._lock = threading.Lock()

    def catch_up(self) -> list[GeneratedMail]:
        """Deliver everything sent up to world-now (mail dated before the epoch on the first call)."""
        with self._lock:
            now = self.clock.now()
            due = list(self.generator.due(self.delivered_until, now))
            for mail in due:
                self.server.deliver(mail.raw, received_at=mail.sent_at)
            self.delivered_until = now
            self.delivered += len(due)
            return due

    def run(self, stop: threading.Event, *, every_seconds: float = 1.0) -> None:
        """Catch up every `every_seconds` (real time) until `stop` is set."""
        while True:
            self.catch_up()
            if stop.wait(every_seconds):
                return
