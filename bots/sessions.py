"""Where each portal account's browser session (Playwright `storage_state`) is kept, privately.

    <data_dir>/state/<portal>/<account>.json     mode 0600, folders 0700, never in git

A warm run starts its context from this file and skips the login; the file is rewritten after
every login and when the context closes. The cookies in it are as good as the password for as
long as the portal's session lives, hence the modes.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700
_UNSAFE = re.compile(r"[^A-Za-z0-9_.@\-]")


def _safe_name(name: str) -> str:
    """A file name for an account or portal name (user names may hold @, spaces, slashes)."""
    cleaned = _UNSAFE.sub("_", name.strip()) or "_"
    return cleaned.lstrip(".") or "_"


class StateStore:
    """Reads and writes the storage_state files of one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / "state"

    def path(self, portal: str, account: str) -> Path:
        return self.root / _safe_name(portal) / f"{_safe_name(account)}.json"

    def _private_dir(self, directory: Path) -> None:
        for folder in (self.root, directory):
            folder.mkdir(parents=True, exist_ok=True)
            os.chmod(folder, DIRECTORY_MODE)

    def load(self, portal: str, account: str) -> dict[str, Any] | None:
        """The saved state, or None when there is none or it is unreadable (then a login follows)."""
        path = self.path(portal, account)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(document, dict) or not isinstance(document.get("cookies"), list):
            return None
        return document

    def save(self, portal: str, account: str, state: dict[str, Any]) -> Path:
        """Write atomically with mode 0600 (never briefly world-readable)."""
        path = self.path(portal, account)
        self._private_dir(path.parent)
        descriptor, temporary = tempfile.mkstemp(prefix=".state-", dir=path.parent)
        try:
            os.fchmod(descriptor, FILE_MODE)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(state, handle)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return path

    def forget(self, portal: str, account: str) -> bool:
        path = self.path(portal, account)
        existed = path.exists()
        path.unlink(missing_ok=True)
        return existed

    @staticmethod
    def cookie_values(state: dict[str, Any] | None) -> list[str]:
        """Cookie values of a state (they are masked in evidence like passwords)."""
        if not state:
            return []
        return [str(cookie.get("value", "")) for cookie in state.get("cookies", []) if cookie.get("value")]
