"""API keys: random tokens shown once; the store keeps only their sha256.

Clients send `Authorization: Bearer <token>` or `X-API-Key: <token>`. The status board, opened
in a browser, takes the token once as `?key=` and keeps it in an HttpOnly, SameSite=Strict
cookie (see api.board). With `api.require_api_key: false` nothing is checked.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.orm import Session

from api.db import run_read
from api.prepared import Prepared
from api.problems import ApiProblem
from quaysync.errors import BadInputError
from store.tables_api import ApiKeyRow

TOKEN_PREFIX = "qsk_"
BOARD_COOKIE = "quaysync_board_key"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_key(session: Session, name: str, now: datetime | None = None) -> str:
    """A new key under `name`; returns the token (the only time it exists outside the client)."""
    if not _NAME.match(name):
        raise BadInputError(f"{name!r}: a key name is 1-80 letters, digits, '.', '_' or '-'")
    now = now or datetime.now(UTC)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = session.execute(select(ApiKeyRow).where(ApiKeyRow.name == name)).scalar_one_or_none()
    if row is not None and row.revoked_at is None:
        raise BadInputError(f"an active key named {name!r} exists; revoke it first")
    if row is None:
        session.add(ApiKeyRow(name=name, key_hash=hash_token(token), created_at=now))
    else:  # a revoked name is reused with a new token
        row.key_hash, row.created_at, row.revoked_at = hash_token(token), now, None
    session.flush()
    return token


def list_keys(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(select(ApiKeyRow).order_by(ApiKeyRow.name)).scalars()
    return [
        {
            "name": row.name,
            "created_at": row.created_at,
            "revoked_at": row.revoked_at,
            "active": row.revoked_at is None,
        }
        for row in rows
    ]


def revoke_key(session: Session, name: str, now: datetime | None = None) -> bool:
    """Revoke the active key `name`; False when there is none."""
    result = session.execute(
        update(ApiKeyRow)
        .where(ApiKeyRow.name == name, ApiKeyRow.revoked_at.is_(None))
        .values(revoked_at=now or datetime.now(UTC))
    )
    return bool(result.rowcount)


_KEYS = ApiKeyRow.__table__
# Checked on every request, in the store (a revoked key fails at once): compiled once.
_ACTIVE_KEY = Prepared(
    select(_KEYS.c.name).where(_KEYS.c.key_hash == bindparam("key_hash"), _KEYS.c.revoked_at.is_(None))
)


def key_name_for(db: Session | Connection, token: str) -> str | None:
    """The name of the active key with this token, else None (key_hash is unique)."""
    return _ACTIVE_KEY.scalar(db, {"key_hash": hash_token(token)})


def presented_token(request: Request, *, cookie: bool = False) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if request.headers.get("x-api-key"):
        return request.headers["x-api-key"].strip()
    if cookie:
        return request.cookies.get(BOARD_COOKIE)
    return None


def _unauthorized(detail: str) -> ApiProblem:
    return ApiProblem(
        401,
        "Unauthorized",
        detail,
        slug="unauthorized",
        headers={"WWW-Authenticate": 'Bearer realm="quaysync"'},
    )


def _check_options(request: Request, cookie: bool) -> str | None:
    """The token to check, or None when keys are not required; 401 when none was sent."""
    if not request.app.state.options.require_api_key:
        return None
    token = presented_token(request, cookie=cookie)
    if not token:
        raise _unauthorized("send an API key: 'Authorization: Bearer <token>' or 'X-API-Key: <token>'")
    return token


def _accept(request: Request, name: str | None) -> str:
    if name is None:
        raise _unauthorized("the API key is unknown or revoked")
    request.state.api_key = name
    return name


def authenticate(request: Request, *, cookie: bool = False) -> str | None:
    """The caller's key name (None when keys are not required); 401 problem otherwise."""
    token = _check_options(request, cookie)
    if token is None:
        return None
    with request.app.state.store.session() as session:
        return _accept(request, key_name_for(session, token))


async def require_api_key(request: Request) -> str | None:
    """The key check, as a FastAPI dependency for single routes (async: no thread hop; see api.db)."""
    token = _check_options(request, cookie=False)
    if token is None:
        return None
    return _accept(request, await run_read(request, lambda connection: key_name_for(connection, token)))


class KeyedRoute(APIRoute):
    """A route that needs an API key: `APIRouter(route_class=KeyedRoute)` keys every route of a router.

    The check wraps FastAPI's own request handler (the documented way to customize APIRoute)
    instead of being a router dependency: FastAPI solves a dependency on every request with
    its general machinery (cache keys, overrides, parameter extraction), which cost more than
    the key check itself. The check runs first, before the body or the parameters are read,
    and raises the same 401 problem; `request.state.api_key` is set for the endpoint.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Any]]:
        handler = super().get_route_handler()

        async def keyed(request: Request) -> Any:
            await require_api_key(request)
            return await handler(request)

        return keyed
