"""The sandbox's control panel under /_sandbox/ (JSON): knobs, clock, counters, sessions, CAPTCHA, locks.

    GET  /_sandbox/health                  {"ok": true, "world_time": ISO}
    GET  /_sandbox/knobs                   every knob and its value
    POST /_sandbox/knobs                   {"latency": 0.2, "layout": "v2", ...} -> the knobs after
    GET  /_sandbox/clock                   {"now": ISO UTC, "local": "11/04/2026 00:00", "pinned": bool}
    POST /_sandbox/clock                   {"pin": ISO} and/or {"advance_seconds": N}
    GET  /_sandbox/counters                logins per account, pages served, searches, exports, ...
    POST /_sandbox/counters/reset
    GET  /_sandbox/sessions                {"active": N, "signed_in": N, "expired": {...}}
    POST /_sandbox/sessions/reset          drop every session (everyone must log in again)
    POST /_sandbox/sessions/age            {"seconds": N}: let N seconds pass for session timers
    POST /_sandbox/captcha/solve           a person solved the CAPTCHA: the challenge is lifted
    GET  /_sandbox/accounts                failures and locks per account (never passwords)
    POST /_sandbox/accounts/unlock         {"username": "ops"}
    GET  /_sandbox/containers              {"containers": [every container number of the world]}

Admin requests never count as pages and are never slowed or failed by the knobs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.portal.labels import labels_for
from sandbox.portal.options import apply_knobs, knob_values
from sandbox.portal.routes import Portal
from sandbox.portal.views import local


class Admin:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    async def dispatch(self, request: Request) -> Response:
        action = request.path_params.get("rest", "").strip("/")
        body: dict[str, Any] = {}
        if request.method == "POST":
            raw = await request.body()
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError:
                return _error("the body must be a JSON object")
            if not isinstance(body, dict):
                return _error("the body must be a JSON object")
        handler = getattr(self, f"{request.method.lower()}_{action.replace('/', '_')}", None)
        if handler is None:
            return JSONResponse({"error": f"no such endpoint: {request.method} /_sandbox/{action}"}, 404)
        try:
            return JSONResponse(handler(body))
        except ValueError as error:
            return _error(str(error))

    def get_health(self, _body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "world_time": self.portal.clock.now().isoformat()}

    def get_knobs(self, _body: dict[str, Any]) -> dict[str, Any]:
        return knob_values(self.portal.options)

    def post_knobs(self, body: dict[str, Any]) -> dict[str, Any]:
        apply_knobs(self.portal.options, body)
        return knob_values(self.portal.options)

    def get_clock(self, _body: dict[str, Any]) -> dict[str, Any]:
        return clock_state(self.portal)

    def post_clock(self, body: dict[str, Any]) -> dict[str, Any]:
        unknown = set(body) - {"pin", "advance_seconds"}
        if unknown or not body:
            raise ValueError('expected {"pin": ISO time} and/or {"advance_seconds": N}')
        if "pin" in body:
            self.portal.clock.pin(parse_moment(body["pin"]))
        if "advance_seconds" in body:
            self.portal.clock.advance(timedelta(seconds=float(body["advance_seconds"])))
        return clock_state(self.portal)

    def get_counters(self, _body: dict[str, Any]) -> dict[str, Any]:
        return self.portal.counters.snapshot()

    def post_counters_reset(self, _body: dict[str, Any]) -> dict[str, Any]:
        self.portal.counters.reset()
        return self.portal.counters.snapshot()

    def get_sessions(self, _body: dict[str, Any]) -> dict[str, Any]:
        return {**self.portal.sessions.counts(), "expired": dict(self.portal.sessions.expired)}

    def post_sessions_reset(self, _body: dict[str, Any]) -> dict[str, Any]:
        return {"dropped": self.portal.sessions.reset()}

    def post_sessions_age(self, body: dict[str, Any]) -> dict[str, Any]:
        seconds = float(body.get("seconds", 0))
        if seconds <= 0:
            raise ValueError('expected {"seconds": N} with N > 0')
        self.portal.sessions.age(seconds)
        return {"aged_seconds": seconds}

    def post_captcha_solve(self, _body: dict[str, Any]) -> dict[str, Any]:
        was = self.portal.options.captcha
        self.portal.options.captcha = None
        self.portal.counters.add("captchas_solved")
        return {"solved": was is not None}

    def get_accounts(self, _body: dict[str, Any]) -> dict[str, Any]:
        return self.portal.accounts.status()

    def post_accounts_unlock(self, body: dict[str, Any]) -> dict[str, Any]:
        username = body.get("username")
        if not isinstance(username, str) or not username:
            raise ValueError('expected {"username": NAME}')
        return {"unlocked": self.portal.accounts.unlock(username)}

    def get_containers(self, _body: dict[str, Any]) -> dict[str, Any]:
        return {"containers": [container.container_number for container in self.portal.world.containers]}


def parse_moment(value: Any) -> datetime:
    """An ISO 8601 time; a time without a zone is taken as UTC."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def clock_state(portal: Portal) -> dict[str, Any]:
    now = portal.clock.now()
    return {
        "now": now.astimezone(UTC).isoformat(),
        "local": labels_for("en", "v1").timestamp(local(now)),
        "pinned": portal.clock.pinned,
    }


def _error(message: str) -> Response:
    return JSONResponse({"error": message}, 400)
