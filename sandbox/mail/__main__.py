"""`python -m sandbox.mail --port 8143 --secrets-file var/secrets.yaml`: the sandbox carrier mailbox.

Serves IMAP on loopback (user `ops` by default; the password is the secrets file's
`sandbox_mail_password`, never a command-line argument) and fills the INBOX with the World's
carrier and terminal mail as world time runs (an hour of terminal life per real minute by default).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path

import yaml

from sandbox.mail.generator import MailGenerator
from sandbox.mail.seeder import MailboxSeeder
from sandbox.mail.server import MailServerOptions, start_mail_server
from sandbox.world import DEFAULT_EPOCH, World, WorldClock

PASSWORD_KEY = "sandbox_mail_password"


def _password(secrets_file: Path) -> str:
    if not secrets_file.exists():
        raise SystemExit(f"sandbox mail: the secrets file {secrets_file} does not exist (run scripts/setup)")
    secrets = yaml.safe_load(secrets_file.read_text(encoding="utf-8")) or {}
    if not isinstance(secrets, dict) or not secrets.get(PASSWORD_KEY):
        raise SystemExit(f"sandbox mail: {PASSWORD_KEY!r} is missing from {secrets_file}")
    return str(secrets[PASSWORD_KEY])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.mail", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8143, help="0 picks a free port")
    parser.add_argument("--secrets-file", type=Path, default=Path("var/secrets.yaml"))
    parser.add_argument("--username", default="ops")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--containers", type=int, default=120)
    parser.add_argument("--speed", type=float, default=60.0, help="world seconds per real second")
    parser.add_argument(
        "--epoch",
        type=datetime.fromisoformat,
        default=DEFAULT_EPOCH,
        help="world start, ISO 8601 with offset",
    )
    parser.add_argument("--tick", type=float, default=1.0, help="real seconds between deliveries")
    args = parser.parse_args(argv)

    world = World(seed=args.seed, containers=args.containers, epoch=args.epoch)
    clock = WorldClock(epoch=args.epoch, speed=args.speed)
    options = MailServerOptions(
        password=_password(args.secrets_file), username=args.username, host=args.host, port=args.port
    )
    stop = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stop.set())
    with start_mail_server(options) as server:
        seeder = MailboxSeeder(server, MailGenerator(world), clock)
        first = seeder.catch_up()
        print(
            f"sandbox mail: IMAP on {server.host}:{server.port} as {server.username}; "
            f"world seed {args.seed}, {len(first)} mails in INBOX at {clock.now():%Y-%m-%d %H:%M} UTC",
            flush=True,
        )
        seeder.run(stop, every_seconds=args.tick)
    print(f"sandbox mail: stopped after delivering {seeder.delivered} mails", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
