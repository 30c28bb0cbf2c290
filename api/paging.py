"""Cursor paging: opaque cursors over a stable key order (keyset paging, no OFFSET).

A cursor names a position (the sort key of the last or first item seen), a direction, and a
fingerprint of the query's filters: a cursor only continues the query that made it, and
a cursor from another query (or a made-up one) is a 400 problem, never a wrong page.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Integer, Select, bindparam, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from api.prepared import Prepared, connection_of
from api.problems import ApiProblem

MAX_LIMIT = 1000


def fingerprint(filters: Mapping[str, Any]) -> str:
    """Identity of a query's filters (None values are no filter)."""
    present = {name: value for name, value in filters.items() if value not in (None, "", [], ())}
    text = json.dumps(present, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def _pack(value: Any) -> Any:
    return {"t": value.isoformat()} if isinstance(value, datetime) else value


def _unpack(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"t"} and isinstance(value["t"], str):
        return datetime.fromisoformat(value["t"])
    if isinstance(value, int | str | float) or value is None:
        return value
    raise ValueError("bad cursor value")


def encode_cursor(direction: str, position: Sequence[Any], query: str) -> str:
    document = {"d": direction, "p": [_pack(value) for value in position], "q": query}
    text = json.dumps(document, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


def decode_cursor(cursor: str, query: str, width: int) -> tuple[str, tuple[Any, ...]]:
    """(direction, position) of a cursor made for this query, else a 400 problem."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        document = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        direction = document["d"]
        position = tuple(_unpack(value) for value in document["p"])
        made_for = document["q"]
    except (ValueError, KeyError, TypeError, UnicodeEncodeError):
        raise ApiProblem(
            400, "Invalid cursor", "the cursor is not one this API handed out", slug="bad-cursor"
        ) from None
    if direction not in ("after", "before") or len(position) != width:
        raise ApiProblem(
            400, "Invalid cursor", "the cursor is not one this API handed out", slug="bad-cursor"
        )
    if made_for != query:
        raise ApiProblem(
            400,
            "Invalid cursor",
            "the cursor belongs to a query with other filters; repeat the filters it was made with",
            slug="bad-cursor",
        )
    return direction, position


@dataclass
class Page:
    rows: list[Any]
    next_cursor: str | None
    prev_cursor: str | None


def clamp_limit(limit: int) -> int:
    return max(1, min(limit, MAX_LIMIT))


# Paged statements by (caller's key, order, with a position): built and compiled once, values
# bound per call (api.prepared). Building and hashing a SELECT costs more than running it on
# SQLite; hot queries reuse theirs.
_PAGED: dict[Hashable, Prepared] = {}
_PAGED_LIMIT = 512


def _paged(
    statement: Select[Any], keys: Sequence[ColumnElement[Any]], ascending: bool, positioned: bool
) -> Select[Any]:
    if positioned:
        row_key = tuple_(*keys)
        marks = tuple_(*(bindparam(f"page_key_{index}", type_=key.type) for index, key in enumerate(keys)))
        statement = statement.where(row_key > marks if ascending else row_key < marks)
    ordered = statement.order_by(*(key.asc() if ascending else key.desc() for key in keys))
    return ordered.limit(bindparam("page_limit", type_=Integer()))


def fetch_page(
    session: Session | Connection,
    statement: Select[Any],
    keys: Sequence[ColumnElement[Any]],
    key_of: Callable[[Any], tuple[Any, ...]],
    *,
    limit: int,
    cursor: str | None,
    query: str | Callable[[], str],
    descending: bool = False,
    params: Mapping[str, Any] | None = None,
    memo: Hashable | None = None,
    core: bool = False,
) -> Page:
    """One page of `statement` in `keys` order (unique together), from `cursor` on.

    `params`: values for the statement's bind parameters. `memo`: a key naming the statement's
    shape (same key, same statement) so the paged form is built and compiled once (it must
    select table columns). `core`: the statement selects table columns, not ORM entities.
    `session`: a Session, or a Core connection for core statements. `query`: the filters'
    fingerprint, or a function making it (only a page with a cursor in or out needs one).
    """
    # Made only when a cursor comes in or goes out: hashing the filters costs more than a page
    # without one needs.
    made = query if isinstance(query, str) else None

    def identity() -> str:
        nonlocal made
        if made is None:
            made = query() if callable(query) else query
        return made

    limit = clamp_limit(limit)
    direction, position = ("after", None) if not cursor else decode_cursor(cursor, identity(), len(keys))
    forward = direction == "after"
    ascending = forward != descending
    positioned = position is not None
    values = {**(params or {}), "page_limit": limit + 1}
    if position is not None:
        values.update({f"page_key_{index}": value for index, value in enumerate(position)})
    if memo is not None:
        prepared = _PAGED.get((memo, ascending, positioned))
        if prepared is None:
            prepared = Prepared(_paged(statement, keys, ascending, positioned))
            if len(_PAGED) < _PAGED_LIMIT:
                _PAGED[(memo, ascending, positioned)] = prepared
        rows = prepared.all(session, values)
    else:
        paged = _paged(statement, keys, ascending, positioned)
        # Core statements skip the ORM's execution layer (cheaper on hot paths); ORM ones need it.
        if core:
            rows = list(connection_of(session).execute(paged, values))
        else:
            assert isinstance(session, Session), "ORM statements need a Session"
            rows = list(session.execute(paged, values))
    more = len(rows) > limit
    rows = rows[:limit]
    if not forward:
        rows.reverse()
    next_cursor = prev_cursor = None
    if rows:
        first, last = key_of(rows[0]), key_of(rows[-1])
        if (more and forward) or (not forward):
            next_cursor = encode_cursor("after", last, identity())
        if (more and not forward) or (forward and positioned):
            prev_cursor = encode_cursor("before", first, identity())
    return Page(rows, next_cursor, prev_cursor)
