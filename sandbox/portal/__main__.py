"""`python -m sandbox.portal --port 8765 --seed 7 --secrets-file var/secrets.yaml`

Serves the sandbox portal until interrupted. The account is `ops` (or --username) with the password
read from the secrets file's `sandbox_portal_password` key: never a password on the command line.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

import yaml

from sandbox.portal.options import PortalOptions
from sandbox.portal.server import start_portal

PASSWORD_KEY = "sandbox_portal_password"


def read_password(secrets_file: Path) -> str:
    try:
        secrets = yaml.safe_load(secrets_file.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise SystemExit(f"cannot read secrets file {secrets_file}: {error.strerror}") from None
    except yaml.YAMLError:
        raise SystemExit(f"secrets file {secrets_file} is not valid YAML") from None
    password = secrets.get(PASSWORD_KEY) if isinstance(secrets, dict) else None
    if not isinstance(password, str) or not password:
        raise SystemExit(f"secrets file {secrets_file} has no {PASSWORD_KEY!r} key")
    return password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.portal", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0: a free port")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--containers", type=int, default=120)
    parser.add_argument("--username", default="ops")
    parser.add_argument("--secrets-file", type=Path, required=True, help=f"YAML file with {PASSWORD_KEY}")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every page")
    parser.add_argument("--layout", choices=("v1", "v2"), default="v1")
    parser.add_argument("--speed", type=float, default=60.0, help="world seconds per real second")
    args = parser.parse_args(argv)

    options = PortalOptions(
        host=args.host,
        port=args.port,
        seed=args.seed,
        containers=args.containers,
        accounts={args.username: read_password(args.secrets_file)},
        latency=args.latency,
        layout=args.layout,
        clock_speed=args.speed,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with start_portal(options) as portal:
        world_time = f"{portal.clock.now():%Y-%m-%d %H:%M} UTC"
        print(f"sandbox portal on {portal.url} (world time {world_time}); Ctrl-C stops", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
