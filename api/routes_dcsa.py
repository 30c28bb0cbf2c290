"""DCSA Track & Trace 2.2: /v2/events, /v2/events/{eventID} and the event subscriptions.

Conforms to ../shared/specs/dcsa-tnt-v2.2.0.yaml: its filters, cursor paging with the
Current-Page / Next-Page / Prev-Page / First-Page headers (links carrying an opaque cursor),
and an `API-Version` header on every answer. The mapping of our events is in quaysync.dcsa.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from sqlalchemy.orm import Session
from starlette.datastructures import URL
from starlette.responses import Response

from api import subscriptions
from api.auth import KeyedRoute
from api.db import run_db, run_read
from api.dcsa_query import CREATED_OPERATORS, event_by_id, events_page
from api.paging import Page, clamp_limit, fetch_page, fingerprint
from api.problems import ApiProblem
from api.responses import json_response
from quaysync.dcsa import (
    API_VERSION,
    DOCUMENT_TYPES,
    EQUIPMENT_CODES,
    EVENT_TYPES,
    SHIPMENT_CODES,
    TRANSPORT_CODES,
    FilterError,
    parse_filters,
)
from store.tables_api import EventSubscriptionRow

# Reads are async and run their store work through api.db.run_db (no thread hop on SQLite);
# subscription writes stay plain functions: FastAPI runs them in the thread pool.
router = APIRouter(prefix="/v2", tags=["DCSA Track & Trace 2.2"], route_class=KeyedRoute)

INT32_MAX = 2**31 - 1


def _bad_request(detail: str) -> ApiProblem:
    return ApiProblem(400, "Invalid request", detail, slug="invalid-request")


def _page_headers(request: Request, page: Page, had_cursor: bool) -> dict[str, str]:
    """Paging links; under `api.public_base_url` (behind a proxy) they start with that base."""
    url = request.url
    base = request.app.state.options.public_base_url
    if base:
        url = URL(base.rstrip("/") + url.path + (f"?{url.query}" if url.query else ""))
    headers = {"API-Version": API_VERSION, "Current-Page": str(url)}
    if page.next_cursor:
        headers["Next-Page"] = str(url.include_query_params(cursor=page.next_cursor))
    if page.prev_cursor:
        headers["Prev-Page"] = str(url.include_query_params(cursor=page.prev_cursor))
    if had_cursor:
        headers["First-Page"] = str(url.remove_query_params("cursor"))
    return headers


CREATED_NAMES = (
    "eventCreatedDateTime",
    *(f"eventCreatedDateTime:{op}" for op in ("gte", "gt", "lte", "lt", "eq")),
)


def _created_bounds(request: Request) -> dict[str, datetime]:
    bounds: dict[str, datetime] = {}
    for name, value in request.query_params.items():
        if name != "eventCreatedDateTime" and not name.startswith("eventCreatedDateTime:"):
            continue
        operator = name.partition(":")[2].lower() or "eq"
        if operator not in CREATED_OPERATORS:
            raise _bad_request(f"{name}: the operator must be one of {', '.join(CREATED_OPERATORS)}")
        try:
            bounds[operator] = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise _bad_request(f"{name}: {value!r} is not an ISO 8601 date-time") from None
    return bounds


def _descending(sort: str | None) -> bool:
    """Sorting by eventCreatedDateTime (ASC or DESC) is supported; other fields keep creation order."""
    for part in (sort or "").split(","):
        name, _, direction = part.strip().partition(":")
        if name == "eventCreatedDateTime":
            return direction.strip().upper() == "DESC"
    return False


Text = Annotated[str | None, Query()]

# The query parameters of GET /v2/events: (name, kind, limit). Read from the request directly —
# declaring 25 parameters to FastAPI costs more per request than the query itself — and
# documented in the OpenAPI document from this table.
LIST_PARAMETERS: tuple[tuple[str, str, Any], ...] = (
    ("eventType", "codes", EVENT_TYPES),
    ("shipmentEventTypeCode", "codes", SHIPMENT_CODES),
    ("documentTypeCode", "codes", DOCUMENT_TYPES),
    ("carrierBookingReference", "text", 35),
    ("bookingReference", "text", None),
    ("transportDocumentID", "uuid", None),
    ("transportDocumentReference", "text", 20),
    ("transportEventTypeCode", "codes", TRANSPORT_CODES),
    ("scheduleID", "uuid", None),
    ("transportCallID", "text", 100),
    ("vesselIMONumber", "text", 7),
    ("carrierVoyageNumber", "text", 50),
    ("exportVoyageNumber", "text", 50),
    ("carrierServiceCode", "text", 5),
    ("UNLocationCode", "text", 5),
    ("equipmentEventTypeCode", "codes", EQUIPMENT_CODES),
    ("equipmentReference", "text", 15),
    *((name, "date-time", None) for name in CREATED_NAMES),
    ("limit", "int", None),
    ("cursor", "text", None),
    ("sort", "text", None),
)


def _openapi_parameters() -> list[dict[str, Any]]:
    documented = []
    for name, kind, bound in LIST_PARAMETERS:
        if kind == "codes":
            schema: dict[str, Any] = {"type": "array", "items": {"type": "string", "enum": list(bound)}}
            documented.append(
                {"name": name, "in": "query", "style": "form", "explode": False, "schema": schema}
            )
            continue
        if kind == "int":
            schema = {"type": "integer", "minimum": 1, "maximum": INT32_MAX, "default": 100}
        elif kind in ("uuid", "date-time"):
            schema = {"type": "string", "format": kind}
        else:
            schema = {"type": "string", **({"maxLength": bound} if bound else {})}
        documented.append({"name": name, "in": "query", "schema": schema})
    return documented


def _filter_values(request: Request) -> dict[str, Any]:
    """The filter parameters given, checked against the spec's lengths and formats (400 if not)."""
    given: dict[str, Any] = {}
    query = request.query_params
    for name, kind, bound in LIST_PARAMETERS:
        if kind in ("int", "date-time") or name in ("cursor", "sort") or name not in query:
            continue
        # form style, not exploded (a,b); repeated parameters (a&b) are read the same way
        value = ",".join(query.getlist(name)) if kind == "codes" else query[name]
        if kind == "uuid":
            try:
                uuid.UUID(value)
            except ValueError:
                raise _bad_request(f"{name}: {value!r} is not a UUID") from None
        elif kind == "text" and bound and len(value) > bound:
            raise _bad_request(f"{name}: at most {bound} characters")
        given[name] = value
    return given


def _limit(request: Request) -> int:
    text = request.query_params.get("limit")
    if text is None:
        return 100
    try:
        limit = int(text)
    except ValueError:
        raise _bad_request(f"limit: {text!r} is not an integer") from None
    if not 1 <= limit <= INT32_MAX:
        raise _bad_request(f"limit: from 1 to {INT32_MAX}")
    return clamp_limit(limit)


@router.get(
    "/events",
    summary="Find events",
    openapi_extra={"parameters": _openapi_parameters()},
)
async def list_events(request: Request) -> Response:
    """Current versions of our events in DCSA form, in creation order (see quaysync.dcsa for the mapping)."""
    try:
        filters = parse_filters(_filter_values(request))
    except FilterError as error:
        raise _bad_request(str(error)) from None
    created = _created_bounds(request)
    limit = _limit(request)
    cursor = request.query_params.get("cursor") or None
    descending = _descending(request.query_params.get("sort"))
    events, page = await run_read(
        request,
        lambda connection: events_page(
            connection, filters, created=created, descending=descending, limit=limit, cursor=cursor
        ),
    )
    return json_response(request, events, headers=_page_headers(request, page, bool(cursor)))


@router.get("/events/{eventID}", summary="Find an event by eventID")
async def get_event(request: Request, eventID: uuid.UUID) -> Response:
    event = await run_db(request, lambda session: event_by_id(session, str(eventID)))
    if event is None:
        raise ApiProblem(404, "Not Found", f"no event {eventID}", slug="event-not-found")
    return json_response(request, event, headers={"API-Version": API_VERSION})


def _owner(request: Request) -> str | None:
    return getattr(request.state, "api_key", None)


def _subscription_problem(error: subscriptions.SubscriptionError) -> ApiProblem:
    return _bad_request(str(error))


def _not_found(subscription_id: uuid.UUID) -> ApiProblem:
    return ApiProblem(404, "Not Found", f"no subscription {subscription_id}", slug="subscription-not-found")


JsonBody = Annotated[dict[str, Any], Body()]


@router.get("/event-subscriptions", summary="Your subscriptions")
async def list_subscriptions(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=INT32_MAX)] = 100,
    cursor: Text = None,
    sort: Text = None,
) -> Response:
    owner = _owner(request)

    def work(session: Session) -> tuple[Page, list[dict[str, Any]]]:
        page = fetch_page(
            session,
            subscriptions.listing_statement(owner),
            [EventSubscriptionRow.created_at, EventSubscriptionRow.id],
            lambda row: (row[0].created_at, row[0].id),
            limit=clamp_limit(limit),
            cursor=cursor,
            query=fingerprint({"owner": owner}),
        )
        return page, [subscriptions.document(row[0]) for row in page.rows]

    page, documents = await run_db(request, work)
    return json_response(request, documents, headers=_page_headers(request, page, bool(cursor)))


@router.post("/event-subscriptions", status_code=201, summary="Create a subscription")
def create_subscription(request: Request, body: JsonBody) -> Response:
    try:
        with request.app.state.store.session() as session:
            created = subscriptions.create(session, body, _owner(request))
    except subscriptions.SubscriptionError as error:
        raise _subscription_problem(error) from None
    return json_response(request, created, status_code=201, headers={"API-Version": API_VERSION})


@router.get("/event-subscriptions/{subscriptionID}", summary="A subscription")
async def get_subscription(request: Request, subscriptionID: uuid.UUID) -> Response:
    owner = _owner(request)
    found = await run_db(request, lambda session: subscriptions.get(session, str(subscriptionID), owner))
    if found is None:
        raise _not_found(subscriptionID)
    return json_response(request, found, headers={"API-Version": API_VERSION})


@router.put("/event-subscriptions/{subscriptionID}", summary="Change a subscription")
def update_subscription(request: Request, subscriptionID: uuid.UUID, body: JsonBody) -> Response:
    try:
        with request.app.state.store.session() as session:
            updated = subscriptions.update(session, str(subscriptionID), body, _owner(request))
    except subscriptions.SubscriptionError as error:
        raise _subscription_problem(error) from None
    if updated is None:
        raise _not_found(subscriptionID)
    return json_response(request, updated, headers={"API-Version": API_VERSION})


@router.delete("/event-subscriptions/{subscriptionID}", status_code=204, summary="Stop a subscription")
def delete_subscription(request: Request, subscriptionID: uuid.UUID) -> Response:
    with request.app.state.store.session() as session:
        deleted = subscriptions.delete(session, str(subscriptionID), _owner(request))
    if not deleted:
        raise _not_found(subscriptionID)
    return Response(status_code=204, headers={"API-Version": API_VERSION})


@router.put("/event-subscriptions/{subscriptionID}/secret", status_code=204, summary="Replace the secret")
def replace_secret(request: Request, subscriptionID: uuid.UUID, body: JsonBody) -> Response:
    try:
        with request.app.state.store.session() as session:
            replaced = subscriptions.replace_secret(session, str(subscriptionID), body, _owner(request))
    except subscriptions.SubscriptionError as error:
        raise _subscription_problem(error) from None
    if not replaced:
        raise _not_found(subscriptionID)
    return Response(status_code=204, headers={"API-Version": API_VERSION})
