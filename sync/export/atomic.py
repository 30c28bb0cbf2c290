"""Replace a file atomically: an analyst opening it sees the old workbook or the new one, never half.

The new content goes to a temporary file in the same folder (so the rename stays on one file
system), is flushed and fsynced, then renamed over the old one with `os.replace` — atomic on
POSIX and on Windows (where it fails instead if Excel holds the old file open; the old file then
stays as it was and the error says so).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_write(target: Path) -> Iterator[IO[bytes]]:
    """A binary file to write; on a clean exit it replaces `target`, on an error it vanishes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w+b") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it 0600; a workbook is meant to be shared
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_folder(target.parent)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (where the platform lets a folder be opened)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
