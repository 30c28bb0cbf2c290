"""Portal accounts: passwords, failed sign-ins in a row, and locks (a person unlocks them)."""

from __future__ import annotations

import hmac
import threading
from typing import Literal

from sandbox.portal.options import PortalOptions

LoginOutcome = Literal["ok", "wrong", "locked"]


class AccountBook:
    def __init__(self, options: PortalOptions) -> None:
        self._options = options
        self._lock = threading.Lock()
        self._failures: dict[str, int] = {}
        self._locked: set[str] = set()

    def check(self, username: str, password: str) -> LoginOutcome:
        expected = self._options.accounts.get(username)
        with self._lock:
            if username in self._locked:
                return "locked"
            if expected is not None and hmac.compare_digest(expected.encode(), password.encode()):
                self._failures.pop(username, None)
                return "ok"
            failures = self._failures.get(username, 0) + 1
            self._failures[username] = failures
            limit = self._options.lock_after_failures
            if limit is not None and failures >= limit:
                self._locked.add(username)
                return "locked"
            return "wrong"

    def unlock(self, username: str) -> bool:
        with self._lock:
            self._failures.pop(username, None)
            if username in self._locked:
                self._locked.discard(username)
                return True
            return False

    def status(self) -> dict[str, dict[str, object]]:
        with self._lock:
            names = set(self._options.accounts) | set(self._failures) | self._locked
            return {
                name: {"failures": self._failures.get(name, 0), "locked": name in self._locked}
                for name in sorted(names)
            }
