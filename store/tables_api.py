"""Tables of the query layer (api/): API keys and DCSA event subscriptions.

api_key             hashed API keys (sha256 of the token; the token itself is shown once, never stored)
event_subscription  DCSA Track & Trace 2.2 subscriptions: a callback URL, its signing secret, filters
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.types import JSONDocument, UTCDateTime


class ApiKeyRow(SQLModel, table=True):
    __tablename__ = "api_key"
    __table_args__ = (
        UniqueConstraint("name", name="uq_api_key_name"),
        UniqueConstraint("key_hash", name="uq_api_key_hash"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    key_hash: str = Field(max_length=64)  # sha256 hex of the token
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class EventSubscriptionRow(SQLModel, table=True):
    """A DCSA event subscription. `filters` holds the DCSA filter fields as the subscriber gave them."""

    __tablename__ = "event_subscription"

    id: str = Field(primary_key=True, max_length=36)  # the DCSA subscriptionID (a UUID)
    # The API key that created it (None when the API runs without keys): clients see only their own.
    owner: str | None = Field(default=None, max_length=80, index=True)
    callback_url: str = Field(sa_type=Text)
    # Base64 of the shared secret; needed in clear to sign every notification, never returned.
    secret: str = Field(sa_type=Text)
    filters: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument, nullable=False)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
