"""The hostile world: latency, injected 5xx, hanging pages, maintenance; and the portal's counters.

Decisions are deterministic: rates draw from an RNG seeded by the portal's seed (the same seed
and the same sequence of pages give the same failures) and the `*_every` knobs fail every Nth
page whatever the timing. Admin endpoints (/_sandbox/) never count and never fail.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.portal.options import PortalOptions
from sandbox.world import TERMINAL_ZONE

ERROR_STATUSES = (500, 502, 503)
COUNTER_NAMES = (
    "pages_served", "searches", "containers_searched", "result_pages", "detail_pages", "vessel_pages",
    "exports", "errors_injected", "hangs_injected", "maintenance_pages", "captcha_pages", "captchas_solved",
    "viewstate_rejections", "session_expired_pages", "search_rejections",
)  # fmt: skip


@dataclass(frozen=True)
class Decision:
    latency: float
    hang: float  # seconds to hang before answering (0: none)
    error_status: int | None  # a 5xx to answer instead of the page


class Chaos:
    def __init__(self, options: PortalOptions) -> None:
        self._options = options
        self._lock = threading.Lock()
        self._error_rng = random.Random(f"{options.seed}:errors")
        self._hang_rng = random.Random(f"{options.seed}:hangs")
        self._pages = 0
        self._errors = 0

    def decide(self) -> Decision:
        options = self._options
        with self._lock:
            self._pages += 1
            index = self._pages
            # Draw on every page even when a rate is 0 so a rate switched on mid-run stays reproducible.
            error_draw = self._error_rng.random()
            hang_draw = self._hang_rng.random()
            error = (
                bool(options.error_every and index % options.error_every == 0)
                or error_draw < options.error_rate
            )
            hang = (
                bool(options.hang_every and index % options.hang_every == 0) or hang_draw < options.hang_rate
            )
            status = None
            if error:
                status = ERROR_STATUSES[self._errors % len(ERROR_STATUSES)]  # 500, 502, 503, 500, ...
                self._errors += 1
        return Decision(
            latency=options.latency, hang=options.hang_seconds if hang else 0.0, error_status=status
        )

    def in_maintenance(self, world_now: datetime) -> bool:
        options = self._options
        if options.maintenance:
            return True
        if options.maintenance_hours is None:
            return False
        start, end = options.maintenance_hours
        hour = world_now.astimezone(TERMINAL_ZONE).hour
        return start <= hour < end if start <= end else (hour >= start or hour < end)


class Counters:
    """What the portal has seen, for tests and benches: logins per account, pages served, ..."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals: Counter[str] = Counter()
        self._logins: Counter[str] = Counter()
        self._failures: Counter[str] = Counter()
        self._pages: Counter[str] = Counter()

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._totals[name] += amount

    def page(self, path: str) -> None:
        with self._lock:
            self._totals["pages_served"] += 1
            self._pages[path] += 1

    def login(self, username: str, ok: bool) -> None:
        with self._lock:
            (self._logins if ok else self._failures)[username] += 1

    def logins(self, username: str) -> int:
        with self._lock:
            return self._logins[username]

    def reset(self) -> None:
        with self._lock:
            for counter in (self._totals, self._logins, self._failures, self._pages):
                counter.clear()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            snapshot: dict[str, Any] = {name: self._totals[name] for name in COUNTER_NAMES}
            snapshot["logins"] = dict(self._logins)
            snapshot["login_failures"] = dict(self._failures)
            snapshot["pages_by_path"] = dict(self._pages)
            return snapshot
