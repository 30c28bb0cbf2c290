"""DCSA event subscriptions: validate a subscription body, and keep subscriptions in the store.

Secrets follow the spec: a base64 `secret` is given on POST (and replaced through PUT .../secret),
is never returned, and signs every notification (`Notification-Signature: sha256=<HMAC>` over the
body, keyed with the decoded secret bytes). We ask for 16 to 1024 bytes of secret and an http(s)
callback URL; the spec's schema alone allows less.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from quaysync.dcsa import FilterError, parse_filters
from store.tables_api import EventSubscriptionRow

FILTER_FIELDS = (
    "eventType",
    "shipmentEventTypeCode",
    "documentTypeCode",
    "carrierBookingReference",
    "bookingReference",
    "transportDocumentID",
    "transportDocumentReference",
    "transportDocumentTypeCode",
    "transportEventTypeCode",
    "scheduleID",
    "transportCallID",
    "vesselIMONumber",
    "carrierVoyageNumber",
    "exportVoyageNumber",
    "carrierServiceCode",
    "UNLocationCode",
    "equipmentEventTypeCode",
    "equipmentReference",
)
LIST_FIELDS = frozenset(
    {
        "eventType",
        "shipmentEventTypeCode",
        "documentTypeCode",
        "transportDocumentTypeCode",
        "transportEventTypeCode",
        "equipmentEventTypeCode",
    }
)
MIN_SECRET_BYTES, MAX_SECRET_BYTES = 16, 1024


class SubscriptionError(ValueError):
    """A subscription body that cannot be taken (answered as 400)."""


def decode_secret(value: Any) -> bytes:
    if not isinstance(value, str) or not value.strip():
        raise SubscriptionError("secret: a base64 string is required")
    try:
        secret = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SubscriptionError("secret: not valid base64") from None
    if not MIN_SECRET_BYTES <= len(secret) <= MAX_SECRET_BYTES:
        raise SubscriptionError(f"secret: {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes once decoded")
    return secret


def _callback(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SubscriptionError("callbackUrl is required")
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        raise SubscriptionError("callbackUrl: an http or https URL is required")
    return url


def _filters(body: dict[str, Any]) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    for name in FILTER_FIELDS:
        value = body.get(name)
        if value is None or value == [] or value == "":
            continue
        if name in LIST_FIELDS:
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
                raise SubscriptionError(f"{name}: a list of codes is expected")
            filters[name] = [item.strip().upper() for item in items if item.strip()]
        elif isinstance(value, str):
            filters[name] = value.strip()
        else:
            raise SubscriptionError(f"{name}: a string is expected")
    for name in ("transportDocumentID", "scheduleID"):
        if name in filters:
            try:
                uuid.UUID(filters[name])
            except ValueError:
                raise SubscriptionError(f"{name}: a UUID is expected") from None
    try:
        parse_filters(filters)
    except FilterError as error:
        raise SubscriptionError(str(error)) from None
    return filters


def document(row: EventSubscriptionRow) -> dict[str, Any]:
    """The subscription as DCSA shows it (never the secret)."""
    return {"subscriptionID": row.id, "callbackUrl": row.callback_url, **row.filters}


def create(session: Session, body: dict[str, Any], owner: str | None, now: datetime | None = None) -> dict:
    now = now or datetime.now(UTC)
    callback = _callback(body.get("callbackUrl"))
    secret = decode_secret(body.get("secret"))
    row = EventSubscriptionRow(
        id=str(uuid.uuid4()),
        owner=owner,
        callback_url=callback,
        secret=base64.b64encode(secret).decode(),
        filters=_filters(body),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return document(row)


def _owned(session: Session, subscription_id: str, owner: str | None) -> EventSubscriptionRow | None:
    row = session.get(EventSubscriptionRow, subscription_id)
    if row is None or row.owner != owner:
        return None
    return row


def get(session: Session, subscription_id: str, owner: str | None) -> dict | None:
    row = _owned(session, subscription_id, owner)
    return None if row is None else document(row)


def update(
    session: Session,
    subscription_id: str,
    body: dict[str, Any],
    owner: str | None,
    now: datetime | None = None,
) -> dict | None:
    row = _owned(session, subscription_id, owner)
    if row is None:
        return None
    if "secret" in body:
        raise SubscriptionError("secret: change it with PUT /v2/event-subscriptions/{subscriptionID}/secret")
    given_id = body.get("subscriptionID")
    if given_id is not None and str(given_id) != subscription_id:
        raise SubscriptionError("subscriptionID in the body differs from the one in the path")
    row.callback_url = _callback(body.get("callbackUrl"))
    row.filters = _filters(body)
    row.updated_at = now or datetime.now(UTC)
    session.flush()
    return document(row)


def replace_secret(
    session: Session,
    subscription_id: str,
    body: dict[str, Any],
    owner: str | None,
    now: datetime | None = None,
) -> bool:
    row = _owned(session, subscription_id, owner)
    if row is None:
        return False
    row.secret = base64.b64encode(decode_secret(body.get("secret"))).decode()
    row.updated_at = now or datetime.now(UTC)
    return True


def delete(session: Session, subscription_id: str, owner: str | None) -> bool:
    row = _owned(session, subscription_id, owner)
    if row is None:
        return False
    session.delete(row)
    return True


def listing_statement(owner: str | None) -> Any:
    statement = select(EventSubscriptionRow)
    return statement.where(
        EventSubscriptionRow.owner.is_(None) if owner is None else EventSubscriptionRow.owner == owner
    )
