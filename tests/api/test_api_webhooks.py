"""Subscriptions deliver every new event to a real HTTP receiver on loopback, signed, in order,
exactly once, even when the receiver is down (503, then refusing connections) for a while."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from api_client import TestClient
from api_world import DISCHARGED, SETTINGS, batches
from sqlalchemy import select

from api.app import create_app
from quaysync.config import ApiOptions
from store.tables import EventRow, OutboxRow
from sync.ingest import ingest
from sync.outbox import RetryPolicy, deliver_due
from sync.webhooks import EventSender

SECRET = b"first shared secret, 32 bytes.."
ROTATED = b"rotated while the receiver was down"


class Receiver:
    """A subscriber's HTTP endpoint: records what it accepts; can answer 503 or be switched off."""

    def __init__(self) -> None:
        self.accepted: list[dict[str, Any]] = []
        self.refused = 0
        self.up = False
        self.lock = threading.Lock()
        self.port = 0
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    if not receiver.up:
                        receiver.refused += 1
                        self.send_response(503)
                    else:
                        receiver.accepted.append(
                            {"path": self.path, "headers": dict(self.headers), "body": body}
                        )
                        self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def events(self, path: str) -> list[dict[str, Any]]:
        return [event for item in self.accepted if item["path"] == path for event in json.loads(item["body"])]


@pytest.fixture
def receiver():
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


def test_a_receiver_down_for_a_while_gets_every_event_once_in_order(store, receiver) -> None:
    app = create_app(store, ApiOptions(require_api_key=False))
    with TestClient(app) as client:
        everything = client.post(
            "/v2/event-subscriptions",
            json={
                "callbackUrl": f"http://127.0.0.1:{receiver.port}/all",
                "secret": base64.b64encode(SECRET).decode(),
            },
        ).json()
        discharges = client.post(
            "/v2/event-subscriptions",
            json={
                "callbackUrl": f"http://127.0.0.1:{receiver.port}/discharges",
                "secret": base64.b64encode(SECRET).decode(),
                "equipmentEventTypeCode": ["DISC"],
                "equipmentReference": DISCHARGED,
            },
        ).json()
    clock = [datetime(2026, 12, 1, tzinfo=UTC)]
    policy = RetryPolicy(max_attempts=50, base=timedelta(seconds=10), ceiling=timedelta(minutes=5))
    sender = EventSender(store, timeout=2.0)

    def deliver() -> Any:
        return deliver_due(store, {"event": sender}, policy=policy, now=lambda: clock[0])

    world = batches()
    try:
        # Down (503): the first batches go nowhere; nothing overtakes a channel's oldest item.
        for moment, observations in world[:3]:
            with store.session() as session:
                ingest(session, observations, settings=SETTINGS, now=moment)
        # (only the /all subscription has news so far: the discharge comes in a later batch)
        report = deliver()
        assert report.sent == 0 and report.failed == 1 and receiver.refused == 1
        assert deliver().failed == 0  # not due before its backoff
        clock[0] += timedelta(seconds=11)
        assert deliver().failed == 1 and receiver.refused == 2

        # Off (connection refused), and the secret is rotated meanwhile.
        receiver.stop()
        with TestClient(app) as client:
            response = client.put(
                f"/v2/event-subscriptions/{everything['subscriptionID']}/secret",
                json={"secret": base64.b64encode(ROTATED).decode()},
            )
            assert response.status_code == 204
        for moment, observations in world[3:]:
            with store.session() as session:
                ingest(session, observations, settings=SETTINGS, now=moment)
        clock[0] += timedelta(seconds=30)
        report = deliver()
        assert report.sent == 0 and report.failed == 2
        with store.session() as session:
            errors = session.execute(
                select(OutboxRow.last_error).where(OutboxRow.state == "pending")
            ).scalars()
            assert any("ConnectError" in (error or "") for error in errors)

        # Back up on the same port: keep delivering as the clock passes each backoff.
        receiver.up = True
        receiver.start()
        for _ in range(50):
            clock[0] += timedelta(minutes=5)
            report = deliver()
            if not report.waiting_channels and report.sent == 0:
                break
        # Replaying every batch adds nothing new to send.
        for moment, observations in world:
            with store.session() as session:
                ingest(session, observations, settings=SETTINGS, now=moment + timedelta(hours=1))
        clock[0] += timedelta(minutes=5)
        assert deliver().sent == 0
    finally:
        sender.close()

    with store.session() as session:
        pending = session.execute(select(OutboxRow).where(OutboxRow.state != "sent")).scalars().all()
        assert pending == []
        rows = session.execute(select(EventRow).order_by(EventRow.created_at, EventRow.id)).scalars().all()
    served = [row for row in rows if row.event_code not in ("AVPU", "CUSR", "CUSI")]
    # No event of this world arrives already superseded, so every served event was news once.
    expected = [row.event_id for row in served]
    got = [event["eventID"] for event in receiver.events("/all")]
    assert len(expected) >= 12
    assert got == expected  # every event, once, in order of creation
    only_discharges = receiver.events("/discharges")
    assert [event["equipmentReference"] for event in only_discharges] == [DISCHARGED]
    assert only_discharges[0]["equipmentEventTypeCode"] == "DISC"

    for item in receiver.accepted:
        headers = {name.lower(): value for name, value in item["headers"].items()}
        key = ROTATED if item["path"] == "/all" else SECRET
        expected_signature = "sha256=" + hmac.new(key, item["body"], hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["notification-signature"], expected_signature)
        assert headers["subscription-id"] in (everything["subscriptionID"], discharges["subscriptionID"])
        assert headers["api-version"] == "2.2.0"
        assert headers["content-type"] == "application/json"


def test_events_of_a_deleted_subscription_are_not_sent(store, receiver) -> None:
    receiver.up = True
    app = create_app(store, ApiOptions(require_api_key=False))
    with TestClient(app) as client:
        subscription = client.post(
            "/v2/event-subscriptions",
            json={
                "callbackUrl": f"http://127.0.0.1:{receiver.port}/x",
                "secret": base64.b64encode(SECRET).decode(),
            },
        ).json()
        moment, observations = batches()[0]
        with store.session() as session:
            ingest(session, observations, settings=SETTINGS, now=moment)
        moment, observations = batches()[1]
        with store.session() as session:
            ingest(session, observations, settings=SETTINGS, now=moment)
        assert client.delete(f"/v2/event-subscriptions/{subscription['subscriptionID']}").status_code == 204
    sender = EventSender(store, timeout=2.0)
    try:
        report = deliver_due(store, {"event": sender}, now=lambda: datetime(2026, 12, 1, tzinfo=UTC))
    finally:
        sender.close()
    assert report.sent > 0 and receiver.accepted == []


def test_no_subscriptions_no_outbox_items(store) -> None:
    for moment, observations in batches():
        with store.session() as session:
            report = ingest(session, observations, settings=SETTINGS, now=moment)
            assert report.added_events >= 0
    with store.session() as session:
        assert session.execute(select(OutboxRow)).scalars().all() == []
