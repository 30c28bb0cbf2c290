"""Our own read API: containers, shipments (B/L), orders, events with provenance, runs, alerts, hotspots."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api import operations, queries
from api.auth import KeyedRoute
from api.db import run_db, run_read
from api.hotspots import DIMENSIONS, hotspots
from api.numbers import check_container_number, normalize_bill_of_lading
from api.paging import MAX_LIMIT
from api.problems import ApiProblem
from api.responses import json_response

router = APIRouter(tags=["Status"], route_class=KeyedRoute)

Lifecycle = Literal["UNKNOWN", "IN_TRANSIT", "ARRIVED", "DISCHARGED", "GATED_OUT", "EMPTY_RETURNED"]
Light = Literal["green", "amber", "red"]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size")]
Cursor = Annotated[str | None, Query(description="opaque cursor from a previous page's next_cursor")]


def container_number_or_422(raw: str) -> str:
    check = check_container_number(raw)
    if check.number is None:
        extensions = {"container_number": raw, "reason": check.reason}
        if check.suggestion:
            extensions["suggestion"] = check.suggestion
        raise ApiProblem(
            422,
            "Invalid container number",
            f"{raw!r} is not a valid ISO 6346 container number: {check.reason}",
            slug="invalid-container-number",
            **extensions,
        )
    return check.number


def _aware(moment: datetime | None) -> datetime | None:
    """Query times without an offset are taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _not_tracked(what: str, key: str) -> ApiProblem:
    return ApiProblem(
        404,
        "Not tracked",
        f"{what} {key} is not tracked yet; add it with `run.py import` (a sheet of orders, B/Ls or "
        "containers) and the next scrape will look for it",
        slug="not-tracked",
    )


def _paged(request: Request, page: dict) -> Response:
    headers = {}
    if page.get("next_cursor"):
        headers["Link"] = f'<{request.url.include_query_params(cursor=page["next_cursor"])}>; rel="next"'
    return json_response(request, page, headers=headers)


@router.get("/containers/{number}", summary="A container's current status")
async def get_container(request: Request, number: str) -> Response:
    container_number = container_number_or_422(number)
    document = await run_read(
        request, lambda connection: queries.container_status(connection, container_number)
    )
    if document is None:
        raise _not_tracked("container", container_number)
    return json_response(request, document)


@router.get("/containers", summary="Containers, filtered, a page at a time")
async def list_containers(
    request: Request,
    status: Annotated[Lifecycle | None, Query(description="lifecycle state")] = None,
    terminal: str | None = None,
    light: Light | None = None,
    updated_since: datetime | None = None,
    order: str | None = None,
    bl: Annotated[str | None, Query(description="bill of lading")] = None,
    tracking: Literal["active", "final", "stale"] | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Response:
    bill = normalize_bill_of_lading(bl) if bl else None
    if bl and bill is None:
        raise ApiProblem(422, "Invalid bill of lading", f"{bl!r} is not a B/L number", slug="invalid-bl")
    page = await run_db(
        request,
        lambda session: queries.list_containers(
            session,
            lifecycle=status,
            terminal=terminal,
            light=light,
            updated_since=_aware(updated_since),
            order=order,
            bill_of_lading=bill,
            tracking=tracking,
            limit=limit,
            cursor=cursor,
        ),
    )
    return _paged(request, page)


@router.get("/containers/{number}/events", summary="A container's events, every version, with provenance")
async def get_container_events(request: Request, number: str) -> Response:
    container_number = container_number_or_422(number)
    events = await run_db(request, lambda session: queries.container_events(session, container_number))
    if events is None:
        raise _not_tracked("container", container_number)
    return json_response(request, {"container_number": container_number, "events": events})


@router.get("/shipments/{bill_of_lading}", summary="A bill of lading, its containers and orders")
async def get_shipment(request: Request, bill_of_lading: str) -> Response:
    bill = normalize_bill_of_lading(bill_of_lading)
    if bill is None:
        raise ApiProblem(
            422, "Invalid bill of lading", f"{bill_of_lading!r} is not a B/L number", slug="invalid-bl"
        )
    document = await run_db(request, lambda session: queries.shipment(session, bill))
    if document is None:
        raise _not_tracked("bill of lading", bill)
    return json_response(request, document)


@router.get("/orders/{reference}", summary="An order, its B/Ls and containers")
async def get_order(request: Request, reference: str) -> Response:
    document = await run_db(request, lambda session: queries.order(session, reference.strip()))
    if document is None:
        raise _not_tracked("order", reference.strip())
    return json_response(request, document)


@router.get("/runs", summary="Scrapes, mail polls, imports and exports, newest first")
async def list_runs(
    request: Request,
    source: str | None = None,
    kind: str | None = None,
    outcome: str | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    page = await run_db(
        request,
        lambda session: operations.list_runs(
            session, source=source, kind=kind, outcome=outcome, limit=limit, cursor=cursor
        ),
    )
    return _paged(request, page)


@router.get("/alerts", summary="Alerts with the delivery state of their notifications, newest first")
async def list_alerts(
    request: Request,
    state: Literal["open", "resolved"] | None = None,
    rule: str | None = None,
    subject: str | None = None,
    light: Light | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    page = await run_db(
        request,
        lambda session: operations.list_alerts(
            session,
            state=state,
            rule=rule,
            subject=subject,
            light=light,
            kind=kind,
            since=_aware(since),
            limit=limit,
            cursor=cursor,
        ),
    )
    return _paged(request, page)


@router.get("/hotspots", summary="Exceptions counted by terminal, carrier, route and ISO week")
async def get_hotspots(
    request: Request,
    since: datetime | None = None,
    group_by: Annotated[
        str, Query(description=f"comma-separated subset of {', '.join(DIMENSIONS)}")
    ] = ",".join(DIMENSIONS),
) -> Response:
    dimensions = [name.strip() for name in group_by.split(",") if name.strip()]
    unknown = [name for name in dimensions if name not in DIMENSIONS]
    if unknown or not dimensions:
        raise ApiProblem(
            422,
            "Invalid request",
            f"group_by: choose from {', '.join(DIMENSIONS)}",
            slug="invalid-request",
        )
    groups = await run_db(
        request, lambda session: hotspots(session, since=_aware(since), group_by=dimensions)
    )
    return json_response(request, {"since": since, "group_by": dimensions, "groups": groups})
