"""DCSA event subscriptions: new events fan out into the outbox; a sender POSTs them signed.

    settings.hooks = (fan_out_events, ...)                 # sync.pipeline.build_ingest_settings
    deliver_due(store, senders={"event": EventSender(store)})

- `fan_out_events` runs after each ingest merge, in the same transaction: for every new event
  (current version, a code served under /v2) and every subscription whose filters match, one
  outbox item (kind "event", channel `subscription:<id>`, dedupe key
  `subscription:<id>:<eventID>`), in event creation order. The outbox delivers a channel's items
  in order, retrying with backoff while the receiver is down, so it gets every event once it
  is back.
- `EventSender` POSTs the DCSA notification body (a JSON array with the event) to the
  subscription's current callback URL with `Notification-Signature: sha256=<hex HMAC-SHA256 of
  the exact body bytes, keyed with the subscription's decoded secret>`, `Subscription-ID` and
  `API-Version`. Anything but a 2xx answer is a DeliveryError (retried).

The DCSA rendering and filter matching are quaysync.dcsa's (a leaf module over event rows), so
subscribers receive exactly what GET /v2/events shows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from datetime import datetime
from typing import Any, Protocol

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from quaysync.dcsa import API_VERSION, is_served, matches, parse_filters, to_dcsa
from quaysync.secrets import REDACTOR
from store.bulk import rows_where_in
from store.tables import ContainerStatusRow, EventRow, OutboxRow
from store.tables_api import EventSubscriptionRow
from sync.outbox import DeliveryError, OutboxItem, enqueue_many

log = logging.getLogger(__name__)

_EVENTS = EventRow.__table__
_STATUS = ContainerStatusRow.__table__
KIND = "event"


class _ReportLike(Protocol):
    new_event_ids: list[int]


def channel_of(subscription_id: str) -> str:
    return f"subscription:{subscription_id}"


def _events(session: Session, ids: list[int]) -> list[Any]:
    rows: list[Any] = []
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), 500):
        rows += session.execute(select(_EVENTS).where(_EVENTS.c.id.in_(ordered[start : start + 500]))).all()
    return rows


def _bills(session: Session, numbers: list[str]) -> dict[str, str]:
    return {
        row["container_number"]: row["bill_of_lading"]
        for row in rows_where_in(
            session,
            [_STATUS.c.container_number, _STATUS.c.bill_of_lading],
            _STATUS.c.container_number,
            numbers,
            _STATUS.c.bill_of_lading.is_not(None),
        )
    }


def fan_out_events(session: Session, report: _ReportLike, now: datetime) -> int:
    """Enqueue the batch's new events for every matching subscription; how many items were added."""
    if not report.new_event_ids:
        return 0
    subscriptions = session.execute(
        select(EventSubscriptionRow).order_by(EventSubscriptionRow.created_at, EventSubscriptionRow.id)
    ).scalars()
    wanted = [(subscription, parse_filters(subscription.filters)) for subscription in subscriptions]
    if not wanted:
        return 0
    # A new row that is already superseded (an older version arriving late) is not news.
    rows = [
        row for row in _events(session, report.new_event_ids) if row.superseded_by is None and is_served(row)
    ]
    rows.sort(key=lambda row: (row.created_at, row.id))  # creation order
    bills = _bills(session, [row.container_number for row in rows if row.container_number])
    items = []
    for row in rows:
        bill = bills.get(row.container_number or "")
        event = None
        for subscription, filters in wanted:
            if not matches(filters, row, bill):
                continue
            event = event or to_dcsa(row, bill)
            items.append(
                OutboxItem(
                    channel=channel_of(subscription.id),
                    kind=KIND,
                    destination=subscription.callback_url,
                    payload={"subscription_id": subscription.id, "event": event},
                    dedupe_key=f"{channel_of(subscription.id)}:{row.event_id}",
                )
            )
    return enqueue_many(session, items, now)


def notification_body(event: dict[str, Any]) -> bytes:
    """The bytes POSTed (and signed): a JSON array holding the event."""
    return json.dumps([event], ensure_ascii=False, separators=(",", ":")).encode()


def signature(body: bytes, secret: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class _StoreLike(Protocol):
    def session(self) -> Any: ...


class EventSender:
    """The outbox sender for kind "event": POST to the subscriber, signed; non-2xx → DeliveryError."""

    def __init__(
        self, store: _StoreLike, *, timeout: float = 5.0, client: httpx.Client | None = None
    ) -> None:
        self.store = store
        self.client = client or httpx.Client(timeout=timeout, follow_redirects=False)
        self._own_client = client is None

    def __call__(self, item: OutboxRow) -> None:
        subscription_id = item.payload["subscription_id"]
        with self.store.session() as session:
            subscription = session.get(EventSubscriptionRow, subscription_id)
            if subscription is not None:
                session.expunge(subscription)
        if subscription is None:
            # Deleted since: nobody to tell. The item is done (recorded as sent, nothing went out).
            log.info("subscription %s is gone; event %s not delivered", subscription_id, item.dedupe_key)
            return
        REDACTOR.register(subscription.secret)
        body = notification_body(item.payload["event"])
        headers = {
            "Content-Type": "application/json",
            "Notification-Signature": signature(body, base64.b64decode(subscription.secret)),
            "Subscription-ID": subscription_id,
            "API-Version": API_VERSION,
        }
        try:
            response = self.client.post(subscription.callback_url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise DeliveryError(f"{type(error).__name__}: {error}") from error
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"the subscriber answered {response.status_code}")

    def close(self) -> None:
        if self._own_client:
            self.client.close()
