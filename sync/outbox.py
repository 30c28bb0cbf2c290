"""The outbox: notifications and webhooks are written in the same transaction as what caused them,
then delivered by `deliver_due`, with retries and backoff, in order per channel.

    enqueue(session, channel="ops-mail", kind="notification", destination="ops@example.com",
            payload={...}, dedupe_key="rule:lfd:MSKU1234565:2026-11-25")
    deliver_due(store, senders={"notification": send_mail, "event": post_event})

- Deduplicated: an item whose dedupe_key exists is not enqueued again (a rule firing twice for
  the same situation, a replayed batch, a restarted worker).
- Ordered: items of one channel are delivered in the order they were enqueued; while the oldest
  pending item of a channel fails or waits for its retry, the later ones wait behind it.
- Retried: a failed attempt is retried after retry_base, doubling up to retry_max; after
  max_attempts the item is dead and stays visible with its last error.
- Delivery is at least once (a crash between sending and recording re-sends); payloads carry a
  stable id so receivers can ignore repeats.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from store.tables import OutboxRow

_OUTBOX = OutboxRow.__table__


class DeliveryError(Exception):
    """A channel could not take an item now; it will be retried."""


class _StoreLike(Protocol):
    def session(self) -> Any: ...


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 12
    base: timedelta = timedelta(seconds=10)
    ceiling: timedelta = timedelta(hours=1)

    def delay(self, attempts: int) -> timedelta:
        return min(self.base * (2 ** max(attempts - 1, 0)), self.ceiling)


@dataclass(frozen=True)
class OutboxItem:
    channel: str
    kind: str
    destination: str
    payload: dict[str, Any]
    dedupe_key: str
    alert_id: int | None = None


Sender = Callable[[OutboxRow], None]


def enqueue_many(session: Session, items: Iterable[OutboxItem], now: datetime | None = None) -> int:
    """Add items not already in the outbox (by dedupe_key); how many were added."""
    now = now or datetime.now(UTC)
    wanted = {item.dedupe_key: item for item in items}
    if not wanted:
        return 0
    present: set[str] = set()
    keys = sorted(wanted)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        present.update(
            session.execute(select(_OUTBOX.c.dedupe_key).where(_OUTBOX.c.dedupe_key.in_(chunk))).scalars()
        )
    rows = [
        {
            "channel": item.channel,
            "kind": item.kind,
            "destination": item.destination,
            "payload": item.payload,
            "dedupe_key": key,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "alert_id": item.alert_id,
            "created_at": now,
        }
        for key, item in wanted.items()
        if key not in present
    ]
    if rows:
        session.execute(insert(_OUTBOX), rows)
    return len(rows)


def enqueue(session: Session, **item: Any) -> bool:
    """Add one item; False when its dedupe_key was already there."""
    return enqueue_many(session, [OutboxItem(**item)]) == 1


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    waiting_channels: set[str] = field(default_factory=set)


def deliver_due(
    store: _StoreLike,
    senders: Mapping[str, Sender],
    *,
    policy: RetryPolicy | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    limit: int = 500,
    kinds: Collection[str] | None = None,
) -> DeliveryReport:
    """Send what is due, oldest first per channel; senders are chosen by the item's kind.

    `kinds`: only items of these kinds (default: the kinds `senders` can send), so a loop that
    delivers some kinds never spends the attempts of items another loop delivers.
    """
    policy = policy or RetryPolicy()
    report = DeliveryReport()
    wanted = list(kinds if kinds is not None else senders)
    with store.session() as session:
        query = (
            select(OutboxRow)
            .where(OutboxRow.state == "pending", OutboxRow.kind.in_(wanted))
            .order_by(OutboxRow.id)
            .limit(limit)
        )
        pending = list(session.execute(query).scalars().all())
        session.expunge_all()
    blocked: set[str] = set()
    for item in pending:
        if item.channel in blocked:
            continue
        moment = now()
        if item.next_attempt_at > moment:
            blocked.add(item.channel)  # keep the channel's order: nothing overtakes its oldest item
            continue
        sender = senders.get(item.kind)
        try:
            if sender is None:
                raise DeliveryError(f"no sender for {item.kind!r} items")
            sender(item)
        except Exception as error:  # any failure of a channel is retried, never lost
            attempts = item.attempts + 1
            dead = attempts >= policy.max_attempts
            with store.session() as session:
                session.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id == item.id)
                    .values(
                        attempts=attempts,
                        state="dead" if dead else "pending",
                        next_attempt_at=moment + policy.delay(attempts),
                        last_error=str(error)[:2000],
                    )
                )
            blocked.add(item.channel)
            report.dead += dead
            report.failed += not dead
            continue
        with store.session() as session:
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == item.id)
                .values(state="sent", attempts=item.attempts + 1, sent_at=moment, last_error=None)
            )
        report.sent += 1
    report.waiting_channels = blocked
    return report
