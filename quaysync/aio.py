"""Running a coroutine to completion from synchronous code, wherever that code is called from.

`asyncio.run` refuses to start while the calling thread already has a running event loop (a
notebook, a host application, or a library's sync API such as Playwright's, which keeps one
running in its thread). A synchronous entry point should not care: in that case the coroutine
runs on a fresh loop in a short-lived helper thread, and this thread waits for it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(coroutine)`, also when this thread already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as error:  # handed back to the caller's thread as is
            outcome["error"] = error

    helper = threading.Thread(target=target, name="run-sync", daemon=True)
    helper.start()
    helper.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
