"""The query functions, on SQLite and on PostgreSQL: the same answers from both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from api_world import (
    DISCHARGED,
    GATED_OUT,
    IN_TRANSIT,
    NOT_FOUND,
    NOW,
    SCRIPTED,
    add_operations,
    ingest_world,
)
from sqlalchemy import select

from api import operations, queries
from api.dcsa_query import bills_of, event_by_id, events_page
from api.hotspots import hotspots
from quaysync.dcsa import matches, parse_filters
from store.tables import EventRow


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request, tmp_path):
    if request.param == "sqlite":
        store = request.getfixturevalue("store")
    else:
        store = request.getfixturevalue("postgres_store")
    ingest_world(store)
    add_operations(store, tmp_path / "evidence")
    return store


def test_status_list_shipment_order_and_events(any_store) -> None:
    with any_store.session() as session:
        doc = queries.container_status(session, DISCHARGED, now=NOW)
        assert doc is not None and doc["lifecycle"] == "DISCHARGED" and doc["days_left"] == 4
        assert queries.container_status(session, "CMAU5200048") is None
        page = queries.list_containers(session, limit=2)
        everything = sorted([DISCHARGED, GATED_OUT, IN_TRANSIT, NOT_FOUND, SCRIPTED])
        assert [item["container_number"] for item in page["items"]] == everything[:2]
        rest = queries.list_containers(session, limit=10, cursor=page["next_cursor"])
        assert [item["container_number"] for item in rest["items"]] == everything[2:]
        since = queries.list_containers(session, updated_since=NOW - timedelta(hours=3))
        assert [item["container_number"] for item in since["items"]] == [GATED_OUT]
        by_order = queries.list_containers(session, order="PO-20260007", lifecycle="gated_out")
        assert [item["container_number"] for item in by_order["items"]] == [GATED_OUT]
        shipment = queries.shipment(session, "MAEU123456789")
        assert shipment is not None and shipment["port_of_loading"] == "CNYTN"
        order = queries.order(session, "PO-20260001")
        assert order is not None and [c["container_number"] for c in order["containers"]] == [DISCHARGED]
        events = queries.container_events(session, GATED_OUT)
        assert events is not None
        assert sum(1 for event in events if event["event_code"] == "DISC" and not event["current"]) == 1
        assert queries.identify(session, "tghu 696121-3") == ("container", GATED_OUT)
        assert queries.identify(session, "COSU6123456780") == ("bill_of_lading", "COSU6123456780")
        assert queries.identify(session, "PO-20260007") == ("order", "PO-20260007")
        assert queries.identify(session, "nothing-here-1") is None


def test_runs_and_alerts(any_store) -> None:
    with any_store.session() as session:
        runs = operations.list_runs(session, limit=1)
        assert runs["items"][0]["outcome"] == "failed" and runs["next_cursor"]
        older = operations.list_runs(session, limit=1, cursor=runs["next_cursor"])
        assert older["items"][0]["outcome"] == "ok"
        alerts = operations.list_alerts(session, light="red")
        assert sorted(alert["rule"] for alert in alerts["items"]) == ["lfd_within", "source_blocked"]
        recent = operations.list_alerts(session, since=NOW - timedelta(hours=5))
        assert [alert["rule"] for alert in recent["items"]] == ["source_blocked"]


def test_hotspots_group_by_terminal_carrier_route_and_week(any_store) -> None:
    with any_store.session() as session:
        groups = hotspots(session)
        assert sum(group["alerts"] for group in groups) == 4
        customs = next(group for group in groups if group["rules"].get("customs_hold"))
        assert customs["carrier"] == "COSCO"
        assert customs["route"] == "CNSHA → USLGB"
        # the eta_slip alert is about the container's B/L: same carrier, route and week, one group
        assert customs["week"] == "2026-W47" and customs["rules"] == {"customs_hold": 1, "eta_slip": 1}
        assert (customs["alerts"], customs["amber"], customs["open"]) == (2, 2, 1)
        by_week = hotspots(session, group_by=("week",))
        assert {group["week"]: group["alerts"] for group in by_week} == {"2026-W47": 4}
        by_route = hotspots(session, group_by=("route",))
        # the eta_slip alert is about the B/L itself: its route comes from the B/L
        assert {group["route"]: group["alerts"] for group in by_route}["CNSHA → USLGB"] == 2
        assert hotspots(session, since=NOW - timedelta(days=2), group_by=("week",))[0]["alerts"] == 2
        with pytest.raises(ValueError, match="cannot group by"):
            hotspots(session, group_by=("port",))


FILTER_CASES = [
    {},
    {"eventType": "EQUIPMENT"},
    {"eventType": "SHIPMENT,TRANSPORT"},
    {"equipmentEventTypeCode": "DISC,GTOT"},
    {"shipmentEventTypeCode": "HOLD"},
    {"shipmentEventTypeCode": "RELS", "equipmentEventTypeCode": "DISC"},
    {"documentTypeCode": "CUS"},
    {"documentTypeCode": "SRM"},
    {"transportEventTypeCode": "ARRI"},
    {"equipmentReference": GATED_OUT},
    {"transportDocumentReference": "COSU6123456780"},
    {"transportDocumentReference": "MAEU123456789"},
    {"UNLocationCode": "USLGB"},
    {"exportVoyageNumber": "123E"},
    {"carrierBookingReference": "ABC709951"},
    {"vesselIMONumber": "9321483"},
]


@pytest.mark.parametrize("given", FILTER_CASES, ids=lambda given: ",".join(given) or "none")
def test_dcsa_sql_filters_agree_with_the_fan_out_matcher(any_store, given) -> None:
    filters = parse_filters(given)
    with any_store.session() as session:
        served, _ = events_page(session, filters, limit=1000)
        rows = session.execute(select(EventRow.__table__).where(EventRow.superseded_by.is_(None))).all()
        bills = bills_of(session, rows)
    expected = {row.event_id for row in rows if matches(filters, row, bills.get(row.container_number or ""))}
    assert {event["eventID"] for event in served} == expected
    if not given:
        assert len(expected) > 10  # the world has events of every type
        assert {event["eventType"] for event in served} == {"EQUIPMENT", "TRANSPORT", "SHIPMENT"}


def test_transport_call_filter_and_created_bounds(any_store) -> None:
    with any_store.session() as session:
        everything, _ = events_page(session, parse_filters({}), limit=1000)
        call = next(event["transportCall"] for event in everything if event["eventType"] == "TRANSPORT")
        same_call, _ = events_page(
            session, parse_filters({"transportCallID": call["transportCallID"]}), limit=1000
        )
        assert same_call and all(
            event["transportCall"]["transportCallID"] == call["transportCallID"] for event in same_call
        )
        created = {event["eventCreatedDateTime"] for event in everything}
        first = min(created)
        moment = datetime.fromisoformat(first.replace("Z", "+00:00"))
        exactly, _ = events_page(session, parse_filters({}), created={"eq": moment}, limit=1000)
        assert exactly and {event["eventCreatedDateTime"] for event in exactly} == {first}
        later, _ = events_page(session, parse_filters({}), created={"gt": moment}, limit=1000)
        assert len(later) + len(exactly) == len(everything)
        newest, _ = events_page(session, parse_filters({}), descending=True, limit=1)
        assert newest[0]["eventCreatedDateTime"] == max(created)
        assert event_by_id(session, everything[0]["eventID"]) == everything[0]
        assert event_by_id(session, "00000000-0000-0000-0000-000000000000") is None


def test_superseded_and_left_out_events_are_not_served(any_store) -> None:
    with any_store.session() as session:
        old = session.execute(
            select(EventRow).where(
                EventRow.container_number == GATED_OUT, EventRow.superseded_by.is_not(None)
            )
        ).scalar_one()
        assert event_by_id(session, old.event_id) is None
        for code in ("AVPU", "CUSR"):
            ours = session.execute(select(EventRow).where(EventRow.event_code == code)).scalars().first()
            assert ours is not None and event_by_id(session, ours.event_id) is None, code
        served, _ = events_page(session, parse_filters({}), limit=1000)
    codes = {event.get("equipmentEventTypeCode") for event in served}
    assert not codes & {"AVPU", "CUSR", "CUSI"}


def test_query_functions_do_not_write(any_store) -> None:
    from sqlalchemy import event

    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement.split()[0].upper())

    event.listen(any_store.engine, "before_cursor_execute", record)
    try:
        with any_store.session() as session:
            queries.container_status(session, DISCHARGED)
            queries.list_containers(session)
            queries.shipment(session, "COSU6123456780")
            queries.order(session, "PO-20260007")
            queries.container_events(session, GATED_OUT)
            operations.list_runs(session)
            operations.list_alerts(session)
            hotspots(session)
            events_page(session, parse_filters({}), limit=10)
    finally:
        event.remove(any_store.engine, "before_cursor_execute", record)
    assert statements and set(statements) <= {"SELECT", "PRAGMA", "SET", "SHOW", "WITH"}
    assert datetime.now(UTC) > NOW - timedelta(days=1000)
