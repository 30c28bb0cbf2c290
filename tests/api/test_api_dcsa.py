"""DCSA T&T 2.2 endpoints: the mapping of our events, paging headers, subscriptions and their secret."""

from __future__ import annotations

import base64

from api_world import DISCHARGED, GATED_OUT, IN_TRANSIT, NOT_FOUND

SECRET = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def _events(client, **params: str) -> list[dict]:
    response = client.get("/v2/events", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["api-version"] == "2.2.0"
    assert "current-page" in response.headers
    return response.json()


def test_equipment_events_in_dcsa_form(client) -> None:
    events = _events(client, equipmentReference=DISCHARGED, eventType="EQUIPMENT")
    assert [event["equipmentEventTypeCode"] for event in events] == ["DISC"]
    discharge = events[0]
    assert discharge["eventClassifierCode"] == "ACT"
    assert discharge["eventDateTime"] == "2026-11-20T14:30:00-08:00"  # local time with its offset
    assert discharge["eventCreatedDateTime"].endswith("Z")
    assert discharge["emptyIndicatorCode"] == "LADEN"
    assert discharge["eventLocation"] == {
        "locationName": "Sandbox Container Terminal",
        "UNLocationCode": "USLGB",
    }
    call = discharge["transportCall"]
    assert call["modeOfTransport"] == "VESSEL" and call["exportVoyageNumber"] == "123E"
    assert call["UNLocationCode"] == "USLGB" and call["facilityTypeCode"] == "POTE"


def test_transport_and_shipment_events_in_dcsa_form(client) -> None:
    arrivals = _events(client, transportEventTypeCode="ARRI")
    estimated = next(event for event in arrivals if event["eventClassifierCode"] == "EST")
    assert estimated["eventDateTime"] == "2026-11-24T08:00:00-08:00"
    assert estimated["references"] == [{"referenceType": "EQ", "referenceValue": IN_TRANSIT}]
    vessel = next(event for event in arrivals if event["eventClassifierCode"] == "ACT")
    assert vessel["transportCall"]["transportCallID"] and "references" not in vessel  # the vessel call's own
    holds = _events(client, shipmentEventTypeCode="HOLD")
    customs = next(event for event in holds if event["documentTypeCode"] == "CUS")
    assert customs["documentID"] == "COSU6123456780"  # the container's B/L
    assert customs["reason"] == "customs hold"
    assert customs["eventDateTime"] == customs["eventCreatedDateTime"]  # as DCSA asks for shipment events
    releases = _events(client, transportDocumentReference="MAEU123456789", shipmentEventTypeCode="RELS")
    assert {(event["documentTypeCode"], event["reason"]) for event in releases} == {
        ("CUS", "customs released"),
        ("SRM", "freight released"),
    }


def test_filters_and_their_validation(client) -> None:
    assert _events(client, equipmentReference=NOT_FOUND) == []
    assert _events(client, carrierBookingReference="ABC709951") == []  # we hold no bookings
    gated = _events(client, equipmentEventTypeCode="GTOT")
    assert [event["equipmentReference"] for event in gated] == [GATED_OUT]
    for params in (
        {"eventType": "PARCEL"},
        {"equipmentEventTypeCode": "AVPU"},
        {"limit": "0"},
        {"eventCreatedDateTime:gte": "yesterday"},
        {"transportDocumentID": "not-a-uuid"},
        {"UNLocationCode": "TOOLONG"},
    ):
        response = client.get("/v2/events", params=params)
        assert response.status_code == 400, params
        error = response.json()
        # a DCSA error and an RFC 9457 problem in one body
        assert error["statusCode"] == 400 and error["httpMethod"] == "GET" and error["errors"]
        assert error["status"] == 400 and error["title"]
        assert response.headers["api-version"] == "2.2.0"
        assert response.headers["content-type"].startswith("application/json")
    asked = client.get(
        "/v2/events", params={"eventType": "PARCEL"}, headers={"Accept": "application/problem+json"}
    )
    assert asked.headers["content-type"].startswith("application/problem+json")


def test_cursor_paging_with_the_spec_headers(client) -> None:
    everything = _events(client, limit="1000")
    seen: list[str] = []
    response = client.get("/v2/events", params={"limit": "4"})
    assert "prev-page" not in response.headers and "first-page" not in response.headers
    while True:
        assert response.status_code == 200
        seen += [event["eventID"] for event in response.json()]
        if "next-page" not in response.headers:
            break
        next_url = response.headers["next-page"]
        assert "cursor=" in next_url and "limit=4" in next_url
        response = client.get(next_url)
        assert "prev-page" in response.headers and "first-page" in response.headers
    assert seen == [event["eventID"] for event in everything]
    back = client.get(response.headers["prev-page"]).json()
    assert [event["eventID"] for event in back] == seen[
        -len(back) - len(response.json()) : -len(response.json())
    ]


def test_event_by_id(client) -> None:
    event = _events(client, limit="1")[0]
    response = client.get(f"/v2/events/{event['eventID']}")
    assert response.status_code == 200 and response.json() == event
    assert response.headers["api-version"] == "2.2.0"
    missing = client.get("/v2/events/6f1c3a52-58c4-4f47-9d8e-0d3f4c1b2a11")
    assert missing.status_code == 404 and missing.json()["statusCode"] == 404
    assert client.get("/v2/events/nope").status_code == 400


def test_subscription_lifecycle_never_shows_the_secret(keyed) -> None:
    client, token = keyed
    headers = {"X-API-Key": token}
    body = {
        "callbackUrl": "https://erp.example.com/dcsa/callback?ref=7",
        "secret": SECRET,
        "eventType": ["EQUIPMENT"],
        "equipmentEventTypeCode": ["DISC", "GTOT"],
        "equipmentReference": DISCHARGED,
    }
    created = client.post("/v2/event-subscriptions", json=body, headers=headers)
    assert created.status_code == 201, created.text
    subscription = created.json()
    assert "secret" not in subscription and SECRET not in created.text
    assert subscription["equipmentEventTypeCode"] == ["DISC", "GTOT"]
    path = f"/v2/event-subscriptions/{subscription['subscriptionID']}"
    assert client.get(path, headers=headers).json() == subscription
    listed = client.get("/v2/event-subscriptions", headers=headers)
    assert listed.json() == [subscription] and listed.headers["current-page"]

    changed = client.put(
        path, json={"callbackUrl": "https://erp.example.com/v2", "eventType": ["SHIPMENT"]}, headers=headers
    )
    assert changed.status_code == 200 and changed.json()["callbackUrl"] == "https://erp.example.com/v2"
    assert "equipmentReference" not in changed.json()  # PUT replaces the filters
    refused = client.put(path, json={"callbackUrl": "https://x.example", "secret": SECRET}, headers=headers)
    assert refused.status_code == 400 and "/secret" in refused.json()["detail"]

    new_secret = base64.b64encode(b"another secret, 32 bytes long!!!").decode()
    assert client.put(f"{path}/secret", json={"secret": new_secret}, headers=headers).status_code == 204
    with client.app.state.store.session() as session:
        from store.tables_api import EventSubscriptionRow

        stored = session.get(EventSubscriptionRow, subscription["subscriptionID"])
        assert stored is not None and base64.b64decode(stored.secret) == b"another secret, 32 bytes long!!!"
        assert stored.owner == "erp"

    assert client.delete(path, headers=headers).status_code == 204
    assert client.get(path, headers=headers).status_code == 404
    assert client.delete(path, headers=headers).status_code == 404


def test_subscriptions_are_private_to_their_key(keyed) -> None:
    client, token = keyed
    from api.auth import create_key

    with client.app.state.store.session() as session:
        other = create_key(session, "someone-else")
    created = client.post(
        "/v2/event-subscriptions",
        json={"callbackUrl": "https://a.example/cb", "secret": SECRET},
        headers={"X-API-Key": token},
    ).json()
    foreign = {"X-API-Key": other}
    assert (
        client.get(f"/v2/event-subscriptions/{created['subscriptionID']}", headers=foreign).status_code == 404
    )
    assert client.get("/v2/event-subscriptions", headers=foreign).json() == []


def test_bad_subscription_bodies_are_400(client) -> None:
    for body in (
        {"secret": SECRET},
        {"callbackUrl": "ftp://example.com/x", "secret": SECRET},
        {"callbackUrl": "https://a.example/cb"},
        {"callbackUrl": "https://a.example/cb", "secret": "not base64!"},
        {"callbackUrl": "https://a.example/cb", "secret": base64.b64encode(b"short").decode()},
        {"callbackUrl": "https://a.example/cb", "secret": SECRET, "eventType": ["PARCEL"]},
        {"callbackUrl": "https://a.example/cb", "secret": SECRET, "equipmentReference": "X" * 16},
    ):
        response = client.post("/v2/event-subscriptions", json=body)
        assert response.status_code == 400, body
        assert response.json()["errors"][0]["message"]
    assert (
        client.post(
            "/v2/event-subscriptions", content=b"[1, 2]", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )


def test_paging_links_use_the_public_base_url(store) -> None:
    from api_client import TestClient
    from api_world import ingest_world

    from api.app import create_app
    from quaysync.config import ApiOptions

    ingest_world(store)
    options = ApiOptions(require_api_key=False, public_base_url="https://track.example.com/api/")
    with TestClient(create_app(store, options)) as client:
        response = client.get("/v2/events", params={"limit": "2"})
    assert response.headers["current-page"] == "https://track.example.com/api/v2/events?limit=2"
    assert response.headers["next-page"].startswith("https://track.example.com/api/v2/events?limit=2&cursor=")
