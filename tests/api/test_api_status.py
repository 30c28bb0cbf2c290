"""Our own read API over the test world: every endpoint, paging, ETags, problems, OpenAPI."""

from __future__ import annotations

from datetime import date

from api_world import DISCHARGED, GATED_OUT, IN_TRANSIT, NOT_FOUND, SCRIPTED, TERMINAL, XSS_YARD

PROBLEM = "application/problem+json"


def test_container_status_answers_every_part(client) -> None:
    response = client.get(f"/containers/{DISCHARGED}")
    assert response.status_code == 200
    doc = response.json()
    assert doc["container_number"] == DISCHARGED
    assert doc["lifecycle"] == "DISCHARGED"
    assert doc["local"]["lifecycle_at"] == "2026-11-20T14:30:00-08:00"
    assert doc["available"] is True
    assert doc["holds"] == {"customs": "released", "freight": "released"}
    assert doc["on_hold"] == []
    assert doc["last_free_day"] == "2026-11-25"
    assert isinstance(doc["days_left"], int)
    assert doc["yard_location"] == "A12-03"
    assert doc["vessel"]["name"] == "MAERSK ESSEN" and doc["vessel"]["voyage"] == "123E"
    assert doc["local"]["vessel_ata"] == "2026-11-20T06:15:00-08:00"  # from the vessel schedule
    assert doc["terminal"] == TERMINAL and doc["time_zone"] == "America/Los_Angeles"
    assert doc["size_type"] == "45G1"
    assert set(doc["traffic_light"]) == {"light", "rule", "reason"}
    assert [item["source"] for item in doc["freshness"]][:1] == ["portal:sandbox"]
    assert doc["bill_of_lading"] == "MAEU123456789"
    assert doc["orders"] == ["PO-20260001"] and doc["customers"] == ["Acme Imports"]
    assert doc["links"]["shipments"] == ["/shipments/MAEU123456789"]
    assert doc["links"]["orders"] == ["/orders/PO-20260001"]


def test_container_status_says_what_the_terminal_does_not_know(client) -> None:
    doc = client.get(f"/containers/{NOT_FOUND}").json()
    assert doc["not_found"] == {"portal:sandbox": "Container not found"}
    assert doc["lifecycle"] == "UNKNOWN"


def test_days_left_count_in_the_containers_zone(world_store) -> None:
    from datetime import UTC, datetime

    from api.queries import container_status

    with world_store.session() as session:
        # 07:59 UTC on Nov 25 is still Nov 24 in Los Angeles: one day left
        doc = container_status(session, DISCHARGED, now=datetime(2026, 11, 25, 7, 59, tzinfo=UTC))
        assert doc is not None and doc["days_left"] == 1
        doc = container_status(session, DISCHARGED, now=datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
        assert doc is not None and doc["days_left"] == 0


def test_invalid_container_number_is_a_422_problem_with_the_check_digit(client) -> None:
    response = client.get("/containers/MSKU1234566")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["status"] == 422 and problem["type"].endswith("invalid-container-number")
    assert "check digit is 6, expected 5" in problem["detail"]
    assert problem["suggestion"] == "MSKU1234565"
    short = client.get("/containers/MSKU12").json()
    assert "expected 11" in short["reason"] and "suggestion" not in short


def test_untracked_container_is_a_404_problem_saying_how_to_add_it(client) -> None:
    response = client.get("/containers/CMAU5200048")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
    assert "run.py import" in response.json()["detail"]


def test_container_numbers_are_read_loosely(client) -> None:
    assert client.get("/containers/msku 123456-5").json()["container_number"] == DISCHARGED


def test_list_filters(client) -> None:
    def numbers(**params: str) -> list[str]:
        response = client.get("/containers", params=params)
        assert response.status_code == 200, response.text
        return [item["container_number"] for item in response.json()["items"]]

    assert numbers() == sorted([DISCHARGED, IN_TRANSIT, GATED_OUT, NOT_FOUND, SCRIPTED])
    assert numbers(status="IN_TRANSIT") == [IN_TRANSIT]
    assert numbers(status="GATED_OUT") == [GATED_OUT]
    assert numbers(terminal=TERMINAL) == sorted([DISCHARGED, GATED_OUT])
    assert numbers(order="PO-20260007") == sorted([IN_TRANSIT, GATED_OUT])
    assert numbers(bl="COSU6123456780") == [IN_TRANSIT]
    assert numbers(bl="cmdu 778899001") == [GATED_OUT]
    assert numbers(updated_since="2026-11-20T17:30:00Z") == sorted([DISCHARGED, GATED_OUT, SCRIPTED])
    assert numbers(light="red") == []
    assert client.get("/containers", params={"status": "SAILING"}).status_code == 422
    assert client.get("/containers", params={"light": "blue"}).status_code == 422


def test_cursor_paging_walks_every_container_once_in_a_stable_order(client) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        response = client.get("/containers", params=params)
        assert response.status_code == 200
        page = response.json()
        assert len(page["items"]) <= 2
        seen += [item["container_number"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            assert "link" not in response.headers
            break
        assert 'rel="next"' in response.headers["link"]
    assert pages == 3
    assert seen == sorted([DISCHARGED, IN_TRANSIT, GATED_OUT, NOT_FOUND, SCRIPTED])


def test_previous_page_cursor_goes_back(client) -> None:
    first = client.get("/containers", params={"limit": "2"}).json()
    second = client.get("/containers", params={"limit": "2", "cursor": first["next_cursor"]}).json()
    back = client.get("/containers", params={"limit": "2", "cursor": second["prev_cursor"]}).json()
    assert [item["container_number"] for item in back["items"]] == [
        item["container_number"] for item in first["items"]
    ]


def test_a_cursor_only_continues_its_own_query(client) -> None:
    page = client.get("/containers", params={"limit": "1", "order": "PO-20260007"}).json()
    response = client.get("/containers", params={"limit": "1", "cursor": page["next_cursor"]})
    assert response.status_code == 400
    assert response.json()["type"].endswith("bad-cursor")
    assert client.get("/containers", params={"cursor": "not-a-cursor"}).status_code == 400


def test_etag_and_if_none_match(client) -> None:
    response = client.get(f"/containers/{DISCHARGED}")
    etag = response.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = client.get(f"/containers/{DISCHARGED}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert (
        client.get(f"/containers/{DISCHARGED}", headers={"If-None-Match": f'"x", W/{etag}'}).status_code
        == 304
    )
    other = client.get(f"/containers/{IN_TRANSIT}").headers["etag"]
    assert other != etag
    assert client.get(f"/containers/{DISCHARGED}", headers={"If-None-Match": other}).status_code == 200


def test_etag_changes_when_the_status_changes(store) -> None:
    from datetime import timedelta

    from api_client import TestClient
    from api_world import NOW, SETTINGS, ingest_world, portal

    from api.app import create_app
    from quaysync.config import ApiOptions
    from sync.ingest import ingest

    ingest_world(store)
    with TestClient(create_app(store, ApiOptions(require_api_key=False))) as test_client:
        before = test_client.get(f"/containers/{SCRIPTED}").headers["etag"]
        with store.session() as session:
            ingest(
                session,
                [portal(SCRIPTED, NOW, available="Yes", freight_release="Released")],
                settings=SETTINGS,
                now=NOW + timedelta(minutes=1),
            )
        response = test_client.get(f"/containers/{SCRIPTED}", headers={"If-None-Match": before})
        assert response.status_code == 200
        assert response.json()["available"] is True and response.headers["etag"] != before


def test_shipment(client) -> None:
    doc = client.get("/shipments/COSU6123456780").json()
    assert doc["carrier"] == "COSCO"
    assert (doc["port_of_loading"], doc["port_of_discharge"]) == ("CNSHA", "USLGB")
    assert doc["on_hold"] == ["customs"]
    assert doc["orders"] == ["PO-20260007"]
    assert [item["container_number"] for item in doc["containers"]] == [IN_TRANSIT]
    assert client.get("/shipments/NOPE").status_code == 422
    missing = client.get("/shipments/ZZZZ00000000")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(PROBLEM)


def test_order(client) -> None:
    doc = client.get("/orders/PO-20260007").json()
    assert doc["bills_of_lading"] == ["CMDU778899001", "COSU6123456780"]
    assert [item["container_number"] for item in doc["containers"]] == sorted([IN_TRANSIT, GATED_OUT])
    assert doc["customers"] == ["Blue Harbor Trading"]
    assert client.get("/orders/PO-404").status_code == 404


def test_container_events_mark_versions_and_carry_their_observation(client) -> None:
    events = client.get(f"/containers/{GATED_OUT}/events").json()["events"]
    discharges = [event for event in events if event["event_code"] == "DISC"]
    assert len(discharges) == 2
    old, new = sorted(discharges, key=lambda event: event["event_at"])
    assert old["event_at_local"] == "2026-11-15T09:00:00-08:00" and new["event_at_local"].endswith(
        "09:40:00-08:00"
    )
    assert new["current"] is True and new["superseded_by"] is None
    assert old["current"] is False and old["superseded_by"] == new["event_id"]
    provenance = new["observation"]
    assert provenance["source"] == "portal:sandbox"
    assert provenance["source_ref"].endswith(GATED_OUT)
    assert provenance["parser"] == "sandbox.container_detail/1"
    assert provenance["fields"]["discharge_date"] == "11/15/2026 09:40"  # verbatim
    assert any(event["event_code"] == "GTOT" and event["current"] for event in events)
    times = [event["event_at"] for event in events]
    assert times == sorted(times)


def test_container_events_include_the_bill_of_ladings_events(client) -> None:
    events = client.get(f"/containers/{DISCHARGED}/events").json()["events"]
    by_bill = [event for event in events if event["subject"] == "bill_of_lading"]
    assert by_bill and all(event["bill_of_lading"] == "MAEU123456789" for event in by_bill)
    assert client.get("/containers/CMAU5200048/events").status_code == 404


def test_runs_newest_first_with_filters(client, world) -> None:
    _, _, ids = world
    runs = client.get("/runs").json()["items"]
    assert [run["id"] for run in runs] == [ids["failed_run"], ids["ok_run"]]
    failed = client.get("/runs", params={"outcome": "failed"}).json()["items"]
    assert [run["source"] for run in failed] == ["mail:carrier-inbox"]
    assert failed[0]["errors"][0]["message"] == "IMAP connection reset"


def test_alerts_carry_their_delivery_state(client, world) -> None:
    _, _, ids = world
    alerts = client.get("/alerts").json()["items"]
    assert len(alerts) == 4
    red = next(alert for alert in alerts if alert["id"] == ids["red_alert"])
    assert red["deliveries"] == [
        {
            "channel": "ops-mail",
            "kind": "notification",
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": red["deliveries"][0]["next_attempt_at"],
            "last_error": None,
            "sent_at": None,
        }
    ]
    assert [
        alert["rule"] for alert in client.get("/alerts", params={"state": "resolved"}).json()["items"]
    ] == ["eta_slip"]
    page = client.get("/alerts", params={"limit": "3"}).json()
    rest = client.get("/alerts", params={"limit": "3", "cursor": page["next_cursor"]}).json()
    assert len(page["items"]) == 3 and len(rest["items"]) == 1


def test_hotspots_endpoint(client) -> None:
    doc = client.get("/hotspots", params={"group_by": "terminal"}).json()
    counts = {group["terminal"]: group["alerts"] for group in doc["groups"]}
    assert counts == {None: 2, '<img src=x onerror="window.__xss2 = 1">': 1, "Carrier mailbox": 1}
    assert client.get("/hotspots", params={"group_by": "port"}).status_code == 422


def test_errors_are_problem_documents(client) -> None:
    for response in (
        client.get("/no/such/route"),
        client.post(f"/containers/{DISCHARGED}"),
        client.get("/containers", params={"limit": "0"}),
    ):
        assert response.status_code in (404, 405, 422)
        assert response.headers["content-type"].startswith(PROBLEM)
        problem = response.json()
        assert problem["status"] == response.status_code and problem["title"]


def test_openapi_document_lists_the_routes(client) -> None:
    document = client.get("/openapi.json").json()
    paths = set(document["paths"])
    assert {
        "/containers/{number}",
        "/containers",
        "/shipments/{bill_of_lading}",
        "/orders/{reference}",
        "/containers/{number}/events",
        "/runs",
        "/alerts",
        "/hotspots",
        "/ask",
        "/v2/events",
        "/v2/events/{eventID}",
        "/v2/event-subscriptions",
        "/v2/event-subscriptions/{subscriptionID}",
        "/v2/event-subscriptions/{subscriptionID}/secret",
    } <= paths
    assert "/board" not in paths
    assert client.get("/docs").status_code == 200


def test_scraped_markup_is_data_in_json(client) -> None:
    assert client.get(f"/containers/{SCRIPTED}").json()["yard_location"] == XSS_YARD


def test_last_free_day_today_counts_zero(world_store) -> None:
    from api_world import NOW

    from api.queries import container_status

    with world_store.session() as session:
        doc = container_status(session, SCRIPTED, now=NOW)
    assert doc is not None and doc["last_free_day"] == date(2026, 11, 21) and doc["days_left"] == 0
