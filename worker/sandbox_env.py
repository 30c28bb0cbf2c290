"""The embedded default's world, served by `run.py run` before the scheduler starts.

With `sandbox.enabled`: the sandbox terminal portal (for the portals of family `sandbox` that
point at sandbox.host:portal_port), the sandbox carrier mailbox (for the mailboxes that point at
sandbox.host:imap_port) filled with the world's mail as world time runs, and an SMTP sink for
the smtp channels on loopback (mail lands in `<data_dir>/sandbox-outbox/NNNN.eml`). Portal and
mailbox share one `World` and one `WorldClock`: what the mail announces, the portal shows later.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from quaysync.config import Config, MailboxSource, PortalSource
from quaysync.errors import ConfigError
from sandbox.world import START_AFTER_EPOCH

log = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.1", "localhost", "::1")
SEED_EVERY_SECONDS = 1.0


def world_epoch(now: datetime) -> datetime:
    """The embedded world's epoch: START_AFTER_EPOCH before the start of `now`'s UTC day, so that
    world time starts at the start of the day.

    Anchored to the real date, not a fixed one: the rules compare what sources said with the real
    clock, and a world of a fixed past date turns every container stale (sync.stop_tracking_after)
    once that date is a month old. Whole days keep the world the same across restarts on one day.
    """
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - START_AFTER_EPOCH


def embedded_portals(config: Config) -> list[PortalSource]:
    from bots.sandbox_host import is_embedded

    return [portal for portal in config.sources.portals if portal.enabled and is_embedded(config, portal)]


def embedded_mailboxes(config: Config) -> list[MailboxSource]:
    sandbox = config.sandbox
    return [
        mailbox
        for mailbox in config.sources.mailboxes
        if mailbox.enabled and mailbox.host == sandbox.host and mailbox.port == sandbox.imap_port
    ]


def _port_error(what: str, port: int, error: Exception) -> ConfigError:
    return ConfigError(
        [
            f"{what}: cannot listen on port {port} ({error}); is another `run.py run` running? "
            "Stop it, or change the port in config.yaml"
        ]
    )


@dataclass
class SandboxEnvironment:
    config: Config
    portal: Any = None  # sandbox.portal.RunningPortal
    mail_server: Any = None  # sandbox.mail.server.RunningMailServer
    seeder: Any = None
    smtp_sinks: list[Any] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _seeding: threading.Thread | None = None

    def start(self) -> None:
        from sandbox.mail.generator import MailGenerator
        from sandbox.mail.seeder import MailboxSeeder
        from sandbox.mail.server import MailServerOptions, start_mail_server
        from sandbox.portal import PortalOptions, start_portal
        from sandbox.smtp import start_smtp_sink
        from sandbox.world import World, WorldClock

        sandbox = self.config.sandbox
        defaults = PortalOptions(epoch=sandbox.epoch or world_epoch(datetime.now(UTC)))
        world = World(seed=sandbox.seed, containers=sandbox.containers, epoch=defaults.epoch)
        # Vessels in every state from the start; an hour of terminal life per real minute.
        clock = WorldClock(epoch=defaults.start_moment(), speed=defaults.clock_speed)
        try:
            portals = embedded_portals(self.config)
            if portals:
                accounts = {
                    account.username: account.password.get_secret_value()
                    for portal in portals
                    for account in portal.accounts
                }
                options = PortalOptions(
                    host=sandbox.host,
                    port=sandbox.portal_port,
                    seed=sandbox.seed,
                    containers=sandbox.containers,
                    accounts=accounts,
                    latency=sandbox.latency.total_seconds(),
                )
                try:
                    self.portal = start_portal(options, world=world, clock=clock)
                except OSError as error:
                    raise _port_error("sandbox portal", sandbox.portal_port, error) from None
            mailboxes = embedded_mailboxes(self.config)
            if mailboxes:
                mailbox = mailboxes[0]
                if mailbox.password is None:
                    raise ConfigError(
                        [f"sources.mailboxes.{mailbox.name}: the sandbox mailbox needs a password"]
                    )
                try:
                    self.mail_server = start_mail_server(
                        MailServerOptions(
                            password=mailbox.password.get_secret_value(),
                            username=mailbox.username,
                            host=sandbox.host,
                            port=sandbox.imap_port,
                        )
                    )
                except RuntimeError as error:
                    raise _port_error("sandbox mailbox", sandbox.imap_port, error) from None
                self.seeder = MailboxSeeder(self.mail_server, MailGenerator(world), clock)
                first = self.seeder.catch_up()
                log.info("sandbox mailbox filled", extra={"mails": len(first)})
                self._seeding = threading.Thread(target=self._seed, name="sandbox-mail-seeder", daemon=True)
                self._seeding.start()
            for channel in self.config.notifications.channels:
                if channel.kind == "smtp" and channel.smtp_host in LOOPBACK:
                    if any(sink.port == channel.smtp_port for sink in self.smtp_sinks):
                        continue
                    try:
                        self.smtp_sinks.append(
                            start_smtp_sink(
                                self.config.data_path / "sandbox-outbox",
                                host="127.0.0.1" if channel.smtp_host == "localhost" else channel.smtp_host,
                                port=channel.smtp_port,
                            )
                        )
                    except OSError as error:
                        raise _port_error(
                            f"SMTP sink of channel {channel.name}", channel.smtp_port, error
                        ) from None
        except BaseException:
            self.stop()
            raise

    def _seed(self) -> None:
        while not self._stop.wait(SEED_EVERY_SECONDS):
            try:
                self.seeder.catch_up()
            except Exception:  # the server is stopping, or a mail failed: the next round tries again
                if self._stop.is_set():
                    return
                log.exception("sandbox mailbox: delivering the world's mail failed")

    @property
    def outbox_folder(self) -> Any:
        return self.config.data_path / "sandbox-outbox"

    def stop(self) -> None:
        self._stop.set()
        if self._seeding is not None:
            self._seeding.join(3)
        for sink in self.smtp_sinks:
            with contextlib.suppress(Exception):
                sink.stop()
        if self.mail_server is not None:
            with contextlib.suppress(Exception):
                self.mail_server.stop()
        if self.portal is not None:
            try:
                self.portal.stop(timeout=3)
            except RuntimeError as error:
                log.warning("sandbox portal: %s", error)
