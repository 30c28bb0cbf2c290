"""The portal's options: fixed at start-up (where and what world) and knobs (how hostile), changeable live.

Every knob can be set in `PortalOptions` at start-up, later with `RunningPortal.configure(...)`, or
over HTTP with `POST /_sandbox/knobs` (JSON object of knob names to values).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sandbox.world import DEFAULT_EPOCH, START_AFTER_EPOCH

CaptchaMode = Literal["login", "search"]


@dataclass
class PortalOptions:
    """Start-up settings of the sandbox portal. Times are seconds (float) unless said otherwise."""

    # Where and what.
    host: str = "127.0.0.1"
    port: int = 0  # 0: a free port, see RunningPortal.url
    seed: int = 7
    containers: int = 120
    accounts: dict[str, str] = field(default_factory=dict)  # user name -> password
    # Clock: world time starts at `clock_start` (default: epoch + 3 days, so vessels are in every
    # state) and runs `clock_speed` world seconds per real second, unless pinned.
    epoch: datetime = DEFAULT_EPOCH
    clock_start: datetime | None = None
    clock_speed: float = 60.0
    clock_pinned: datetime | None = None

    # Knobs (changeable at run time).
    latency: float = 0.0  # added to every portal page
    error_rate: float = 0.0  # share of pages answered with a 5xx (seeded RNG: same seed, same sequence)
    error_every: int = 0  # every Nth page is a 5xx (0: off); deterministic whatever the timing
    hang_rate: float = 0.0  # share of pages that hang for `hang_seconds` before answering
    hang_every: int = 0  # every Nth page hangs (0: off)
    hang_seconds: float = 30.0
    session_idle_seconds: float = 1200.0
    session_max_age_seconds: float = 8 * 3600.0
    session_expire_after_requests: int | None = None  # a session dies after N signed-in pages
    max_search: int = 50  # container numbers per search
    page_size: int = 20  # result rows per page
    lock_after_failures: int | None = None  # lock an account after N failed logins in a row
    maintenance: bool = False  # every page is the maintenance page
    maintenance_hours: tuple[int, int] | None = None  # daily window, terminal-local world hours [from, to)
    captcha: CaptchaMode | None = None  # interstitial after login or on search, until solved by admin
    layout: Literal["v1", "v2"] = "v1"  # v2: a redesign (renamed headers and ids) of results/detail/vessels
    viewstate_window: int = 10  # how many recent anti-forgery tokens of a session stay valid

    def start_moment(self) -> datetime:
        return self.clock_start if self.clock_start is not None else self.epoch + START_AFTER_EPOCH


FIXED = frozenset(
    {"host", "port", "seed", "containers", "accounts", "epoch", "clock_start", "clock_speed", "clock_pinned"}
)
KNOBS = tuple(f.name for f in dataclasses.fields(PortalOptions) if f.name not in FIXED)


def _coerce(name: str, value: Any) -> Any:
    """A JSON value as the knob's type; raises ValueError with a message naming the knob."""
    try:
        if name in ("latency", "error_rate", "hang_rate", "hang_seconds", "session_idle_seconds",
                    "session_max_age_seconds"):  # fmt: skip
            number = float(value)
            if number < 0 or (name.endswith("_rate") and number > 1):
                raise ValueError("out of range")
            return number
        if name in ("error_every", "hang_every", "max_search", "page_size", "viewstate_window"):
            number = int(value)
            if number < 0 or (name in ("max_search", "page_size", "viewstate_window") and number < 1):
                raise ValueError("out of range")
            return number
        if name in ("session_expire_after_requests", "lock_after_failures"):
            if value in (None, 0):
                return None
            number = int(value)
            if number < 1:
                raise ValueError("out of range")
            return number
        if name == "maintenance":
            if not isinstance(value, bool):
                raise ValueError("expected true or false")
            return value
        if name == "maintenance_hours":
            if value is None:
                return None
            start, end = (int(hour) for hour in value)
            if not (0 <= start <= 23 and 0 <= end <= 24):
                raise ValueError("hours must be 0-24")
            return (start, end)
        if name == "captcha":
            if value not in (None, "login", "search"):
                raise ValueError('expected null, "login" or "search"')
            return value
        if name == "layout":
            if value not in ("v1", "v2"):
                raise ValueError('expected "v1" or "v2"')
            return value
    except (TypeError, ValueError) as error:
        raise ValueError(f"knob {name}: {value!r} is not valid ({error})") from None
    raise ValueError(f"unknown knob {name!r}; knobs are: {', '.join(KNOBS)}")


def apply_knobs(options: PortalOptions, changes: dict[str, Any]) -> dict[str, Any]:
    """Validate every change first, then apply them all (all or nothing). Returns the applied values."""
    coerced = {name: _coerce(name, value) for name, value in changes.items()}
    for name, value in coerced.items():
        setattr(options, name, value)
    return coerced


def knob_values(options: PortalOptions) -> dict[str, Any]:
    values = {name: getattr(options, name) for name in KNOBS}
    if values["maintenance_hours"] is not None:
        values["maintenance_hours"] = list(values["maintenance_hours"])
    return values
