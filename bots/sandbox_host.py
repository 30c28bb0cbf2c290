"""The embedded sandbox portal for the CLI: served in-process when the config points at it.

With `sandbox.enabled`, a portal of family `sandbox` whose `base_url` is the sandbox's host and
port is the embedded one. When nothing answers there (no worker is serving it), `run.py scrape`
and `run.py record` serve it themselves for the length of the command, with the accounts of the
portal's config. `private=True` serves it on a free port instead (recordings: no clash with a
running worker) and `pinned` fixes the world clock (recordings are reproducible).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from quaysync.config import Config, PortalSource


def is_embedded(config: Config, portal: PortalSource) -> bool:
    if not config.sandbox.enabled or portal.family.split("_")[0] != "sandbox":
        return False
    parts = urlsplit(portal.base_url)
    return parts.hostname == config.sandbox.host and (parts.port or 80) == config.sandbox.portal_port


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def embedded_sandbox(
    config: Config,
    portal: PortalSource,
    *,
    private: bool = False,
    pinned: datetime | None = None,
    knobs: dict[str, Any] | None = None,
) -> Iterator[PortalSource]:
    """Yield the portal to use: as configured, or pointing at a sandbox served here meanwhile."""
    if not is_embedded(config, portal):
        yield portal
        return
    host, port = config.sandbox.host, config.sandbox.portal_port
    if not private and _answers(host, port):
        yield portal
        return
    from sandbox.portal import PortalOptions, start_portal  # only the CLI ever serves it

    options = PortalOptions(
        host=host,
        port=0 if private else port,
        seed=config.sandbox.seed,
        containers=config.sandbox.containers,
        accounts={account.username: account.password.get_secret_value() for account in portal.accounts},
        latency=config.sandbox.latency.total_seconds(),
        clock_pinned=pinned,
        **(knobs or {}),
    )
    with start_portal(options) as running:
        yield portal.model_copy(update={"base_url": running.url})
