"""Pausing Python's cyclic garbage collector around bulk work (large sheets, large ingest batches).

What bulk work builds (rows, observations, a batch's entries) lives until the work ends and holds
no reference cycles, yet every allocation burst triggers collections that walk all of it again:
40-60 % of reading a 100,000-row sheet, a third of ingesting a 200,000-observation batch.
Reference counting still frees what is dropped; only cycles wait for the end.

    with collector_paused():
        rows = build_many_rows()

Re-entrant and thread-safe (a bot's ingest thread and a mail poll may overlap): the collector is
switched back on when the last pause ends, and only if it was on when the first began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextmanager
def collector_paused(active: bool = True) -> Iterator[None]:
    """Pause the collector for the block (`active=False`: do nothing, for small work)."""
    global _pauses, _was_enabled
    if not active:
        yield
        return
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                _age_young_objects()
                gc.enable()


def _age_young_objects() -> None:
    # What the work built would otherwise get one young collection over all of it at the first
    # allocation after gc.enable() (~5 % of reading a 100,000-row sheet). freeze() moves every
    # tracked object into the permanent generation and unfreeze() all of them into the oldest:
    # two list splices, no traversal. Only when nobody else froze objects (a server that froze
    # its heap before forking keeps its frozen objects frozen).
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
