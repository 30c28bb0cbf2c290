"""What the mail generator plans and produces (shared by the schedule and the renderers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

# Carrier notices write China local time: the sandbox mailbox is configured with this zone.
MAIL_TIME_ZONE = ZoneInfo("Asia/Shanghai")
RECIPIENT = "Quaysync Ops <ops@quaysync.example>"


@dataclass(frozen=True, order=True)
class PlannedMail:
    """One mail the world will send: when, what, about which containers."""

    sent_at: datetime
    key: str  # stable and unique: the Message-ID derives from it
    kind: str = field(compare=False)
    containers: tuple[str, ...] = field(compare=False, default=())
    vessel_index: int | None = field(compare=False, default=None)
    customer: str | None = field(compare=False, default=None)


@dataclass(frozen=True)
class GeneratedMail:
    key: str
    kind: str
    template: str  # the parser template meant to read it
    sent_at: datetime
    sender: str
    subject: str
    message_id: str
    containers: tuple[str, ...]  # the container numbers it names
    raw: bytes
