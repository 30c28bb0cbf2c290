"""The functions persisted jobs call, by name (`worker.jobs:run_source`).

A persisted job holds only the source's key; the running worker of this process does the work.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

log = logging.getLogger(__name__)


class _Fires(Protocol):
    def fire(self, key: str, trigger: str = "schedule") -> object: ...


_current: _Fires | None = None
_guard = threading.Lock()


def attach(worker: _Fires) -> None:
    global _current
    with _guard:
        _current = worker


def detach(worker: _Fires) -> None:
    global _current
    with _guard:
        if _current is worker:
            _current = None


def run_source(key: str) -> None:
    """A scheduled tick of source `key`."""
    worker = _current
    if worker is None:
        log.warning("tick of %s with no worker running in this process; skipped", key)
        return
    worker.fire(key, "schedule")
