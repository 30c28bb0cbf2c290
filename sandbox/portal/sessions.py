"""Server-side sessions (an `ASP.NET_SessionId` cookie) and the anti-forgery tokens of every form.

A session starts anonymous when the login page is first served, and ends when it has been idle
too long, lived too long, or served too many signed-in pages (each a knob). Timers run on the
monotonic clock plus an offset that `age()` moves forward, so tests expire sessions without
waiting.

Every page carries `__VIEWSTATE` and `__EVENTVALIDATION`: fresh per response, MAC-bound to the
session, and valid only while among the session's `viewstate_window` most recent ones. The
view state also carries the page's small state (which search, which results page), like the
real thing; a POST without a valid pair is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from sandbox.portal.options import PortalOptions

COOKIE = "ASP.NET_SessionId"
_VIEWSTATE_PREFIX = b"\xff\x01\x0f"  # what ASP.NET view state starts with ("/wEP" in base64)
_VALIDATION_PREFIX = b"\xff\x01\x16"  # and event validation ("/wEW")
_MAC_BYTES = 16
_SEARCHES_KEPT = 8


class ViewStateRejected(Exception):
    """A POST's anti-forgery fields are missing, forged, from another session, or too old."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Session:
    session_id: str
    created: float
    last_seen: float
    username: str | None = None
    requests: int = 0  # signed-in pages served
    serial: int = 0
    issued: deque[int] = field(default_factory=deque)
    searches: OrderedDict[str, list[str]] = field(default_factory=OrderedDict)

    @property
    def signed_in(self) -> bool:
        return self.username is not None

    def remember_search(self, numbers: list[str]) -> str:
        search_id = secrets.token_hex(4)
        self.searches[search_id] = numbers
        while len(self.searches) > _SEARCHES_KEPT:
            self.searches.popitem(last=False)
        return search_id


class SessionStore:
    """Every live session. Thread-safe: the server's event loop and the test thread both use it."""

    def __init__(self, options: PortalOptions) -> None:
        self._options = options
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._offset = 0.0
        self._key = secrets.token_bytes(32)
        self.expired: dict[str, int] = {"idle": 0, "max_age": 0, "requests": 0}

    def now(self) -> float:
        return time.monotonic() + self._offset

    def age(self, seconds: float) -> None:
        """Let `seconds` pass for every session's timers."""
        with self._lock:
            self._offset += seconds

    def reset(self) -> int:
        with self._lock:
            dropped = len(self._sessions)
            self._sessions.clear()
            return dropped

    def counts(self) -> dict[str, int]:
        with self._lock:
            signed_in = sum(1 for session in self._sessions.values() if session.signed_in)
            return {"active": len(self._sessions), "signed_in": signed_in}

    def create(self) -> Session:
        now = self.now()
        session = Session(session_id=secrets.token_hex(12), created=now, last_seen=now)
        with self._lock:
            if len(self._sessions) > 2000:
                self._sweep(now)
            self._sessions[session.session_id] = session
        return session

    def lookup(self, session_id: str | None) -> tuple[Session | None, str | None]:
        """The live session of a cookie, or (None, why it ended: "idle"/"max_age"/"unknown"/None)."""
        if not session_id:
            return None, None
        now = self.now()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None, "unknown"
            reason = self._ended(session, now)
            if reason:
                del self._sessions[session_id]
                if session.signed_in:
                    self.expired[reason] += 1
                return None, reason
            session.last_seen = now
            return session, None

    def count_signed_in_request(self, session: Session) -> bool:
        """Count a signed-in page; False (and the session is ended) once past the request knob."""
        limit = self._options.session_expire_after_requests
        with self._lock:
            session.requests += 1
            if limit is not None and session.requests > limit:
                self._sessions.pop(session.session_id, None)
                self.expired["requests"] += 1
                return False
            return True

    def end(self, session: Session) -> None:
        with self._lock:
            self._sessions.pop(session.session_id, None)

    def sessions_of(self, username: str) -> list[Session]:
        with self._lock:
            return [session for session in self._sessions.values() if session.username == username]

    def _ended(self, session: Session, now: float) -> str | None:
        if now - session.last_seen > self._options.session_idle_seconds:
            return "idle"
        if now - session.created > self._options.session_max_age_seconds:
            return "max_age"
        return None

    def _sweep(self, now: float) -> None:
        for session_id in [sid for sid, session in self._sessions.items() if self._ended(session, now)]:
            del self._sessions[session_id]

    # Anti-forgery tokens -------------------------------------------------------------------

    def _mac(self, session: Session, kind: bytes, payload: bytes) -> bytes:
        message = session.session_id.encode() + b"|" + kind + b"|" + payload
        return hmac.new(self._key, message, hashlib.sha256).digest()[:_MAC_BYTES]

    def issue(
        self, session: Session, page: str, state: dict[str, Any], targets: list[str]
    ) -> tuple[str, str]:
        """A fresh (__VIEWSTATE, __EVENTVALIDATION) pair for one response of `page`."""
        with self._lock:
            session.serial += 1
            serial = session.serial
            session.issued.append(serial)
            while len(session.issued) > self._options.viewstate_window:
                session.issued.popleft()
        view = json.dumps({"n": serial, "p": page, **state}, separators=(",", ":")).encode()
        validation = json.dumps({"n": serial, "t": targets}, separators=(",", ":")).encode()
        return (
            base64.b64encode(_VIEWSTATE_PREFIX + self._mac(session, b"vs", view) + view).decode(),
            base64.b64encode(
                _VALIDATION_PREFIX + self._mac(session, b"ev", validation) + validation
            ).decode(),
        )

    def verify(self, session: Session, viewstate: str | None, validation: str | None, page: str,
               target: str = "") -> dict[str, Any]:  # fmt: skip
        """The page state a POST's token pair carries; raises ViewStateRejected when it is not good."""
        if not viewstate or not validation:
            raise ViewStateRejected("missing")
        view = self._open(session, viewstate, _VIEWSTATE_PREFIX, b"vs")
        checks = self._open(session, validation, _VALIDATION_PREFIX, b"ev")
        if view.get("n") != checks.get("n") or view.get("p") != page:
            raise ViewStateRejected("mismatch")
        with self._lock:
            if view["n"] not in session.issued:
                raise ViewStateRejected("stale")
        if target and target not in checks.get("t", []):
            raise ViewStateRejected("event target not allowed")
        return view

    def _open(self, session: Session, token: str, prefix: bytes, kind: bytes) -> dict[str, Any]:
        try:
            blob = base64.b64decode(token, validate=True)
        except (ValueError, TypeError):
            raise ViewStateRejected("malformed") from None
        if not blob.startswith(prefix) or len(blob) <= len(prefix) + _MAC_BYTES:
            raise ViewStateRejected("malformed")
        mac = blob[len(prefix) : len(prefix) + _MAC_BYTES]
        payload = blob[len(prefix) + _MAC_BYTES :]
        if not hmac.compare_digest(mac, self._mac(session, kind, payload)):
            raise ViewStateRejected("MAC validation failed")
        try:
            decoded = json.loads(payload)
        except ValueError:
            raise ViewStateRejected("malformed") from None
        if not isinstance(decoded, dict):
            raise ViewStateRejected("malformed")
        return decoded
