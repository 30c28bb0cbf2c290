"""What a firing does: an alert row (once per condition instance, then quiet for the cooldown),
staff notifications and customer messages into the outbox, all in the caller's transaction.

Dedupe: the alert's `dedupe_key` (rule | condition instance) is unique, so the same situation
never raises twice, across restarts and across workers (the insert is ON CONFLICT DO NOTHING).
Each outbox item's key extends it (`…>ops-mail`, `…>customer:ACME`): re-running an evaluation
never queues a message twice. Cooldown: after an alert for (rule, subject), a *new* instance of
the same rule for that subject waits out the cooldown (it fires on a later evaluation if it
still holds). What the messages say of the situation is gathered by sync.rules.context.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from quaysync.config import ChannelOptions, Config, CustomerOptions, RuleOptions
from store.bulk import rows_where_in
from store.tables import AlertRow
from sync.messages import RenderedMessage, render_message
from sync.outbox import OutboxItem, enqueue_many
from sync.rules.conditions import Firing, iso
from sync.rules.context import firing_context, load_background, plain, utc_moment
from sync.rules.facts import ContainerFacts

_ALERTS = AlertRow.__table__
MESSAGE_NAMESPACE = uuid.UUID("0b6f9c1e-7f2a-4c55-9a43-5d1c2e8b7a90")


def message_id(dedupe_key: str) -> str:
    """A stable id for a message: receivers (and mail clients) can drop repeats by it."""
    return str(uuid.uuid5(MESSAGE_NAMESPACE, dedupe_key))


@dataclass
class Outcome:
    """What became of one firing."""

    firing: Firing
    state: str  # opened / known / cooldown
    alert_id: int | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)  # {channel, kind, destination, title}


@dataclass
class _Known:
    keys: set[str]
    last: dict[tuple[str, str], datetime]


def _customer_key(name: str) -> str:
    return name.strip().casefold()


class Actions:
    """Alerts and messages for firings, as configured."""

    def __init__(self, config: Config) -> None:
        notifications = config.notifications
        self.channels: dict[str, ChannelOptions] = {
            channel.name: channel for channel in notifications.channels
        }
        self.customers: dict[str, CustomerOptions] = {
            _customer_key(customer.name): customer for customer in notifications.customers
        }
        self.default_language = notifications.default_language
        self.review_channels = list(notifications.review_channels)
        self.source_zones: dict[str, str] = {
            **{f"portal:{portal.name}": portal.time_zone for portal in config.sources.portals},
            **{f"mail:{mailbox.name}": mailbox.time_zone for mailbox in config.sources.mailboxes},
        }

    # --- dedupe and cooldown ------------------------------------------------------------------

    def _known(self, session: Session, firings: Sequence[Firing]) -> _Known:
        keys = list({firing.dedupe_key for firing in firings})
        present = {
            row["dedupe_key"]
            for row in rows_where_in(session, (_ALERTS.c.dedupe_key,), _ALERTS.c.dedupe_key, keys)
        }
        subjects = list({firing.subject for firing in firings})
        last: dict[tuple[str, str], datetime] = {}
        for start in range(0, len(subjects), 500):
            chunk = subjects[start : start + 500]
            rows = session.execute(
                select(_ALERTS.c.rule, _ALERTS.c.subject, func.max(_ALERTS.c.created_at))
                .where(_ALERTS.c.subject.in_(chunk))
                .group_by(_ALERTS.c.rule, _ALERTS.c.subject)
            )
            for rule, subject, moment in rows:
                if moment is not None:
                    last[(rule, subject)] = utc_moment(moment)
        return _Known(present, last)

    # --- messages -----------------------------------------------------------------------------

    def staff_message(
        self, alert: dict[str, Any], context: dict[str, Any], channel: ChannelOptions
    ) -> RenderedMessage:
        values = {
            **context["facts"],
            "rule": alert["rule"],
            "light": alert["light"] or "amber",
            "reason": alert["reason"],
            "condition": context["condition"],
            "subject": alert["subject"],
            "kind": alert["kind"],
            "alert_id": alert["id"],
            "container": context["container"],
            "links": context["links"],
            "last_events": context["last_events"],
            "tried": context["tried"],
            "evidence": context["evidence"],
        }
        zone = (context["container"] or {}).get("time_zone") or self.source_zones.get(alert["subject"])
        template = "review" if alert["kind"] == "review" else "alert"
        return render_message("staff", template, channel.language, values, time_zone=zone)

    def customer_message(
        self, rule: RuleOptions, firing: Firing, facts: ContainerFacts, customer: CustomerOptions
    ) -> RenderedMessage:
        assert rule.customer_template is not None
        language = customer.language or self.default_language
        extra = {
            name: value if isinstance(value, str) else value.get(language, next(iter(value.values()), ""))
            for name, value in rule.template_vars.items()
        }
        status = facts.status
        values = {
            **extra,
            "container_number": facts.number,
            "bill_of_lading": facts.bill_of_lading,
            "order_refs": facts.orders,
            "vessel": status.get("vessel_name"),
            "voyage": status.get("voyage"),
            "terminal": status.get("terminal"),
            "last_free_day": iso(status.get("last_free_day")),
            **plain(firing.facts),
            "customer": customer.name,
        }
        return render_message("customer", rule.customer_template, language, values, time_zone=facts.time_zone)

    def _staff_items(
        self, alert: dict[str, Any], context: dict[str, Any], channels: Iterable[str]
    ) -> list[OutboxItem]:
        items = []
        for name in channels:
            channel = self.channels[name]
            message = self.staff_message(alert, context, channel)
            key = f"{alert['dedupe_key']}>{name}"
            items.append(
                OutboxItem(
                    channel=name,
                    kind="notification",
                    destination=", ".join(channel.mail_to) if channel.kind == "smtp" else f"channel:{name}",
                    payload={
                        "id": message_id(key),
                        "title": message.subject,
                        "text": message.text,
                        "language": message.language,
                        "alert": {
                            "id": alert["id"],
                            "kind": alert["kind"],
                            "rule": alert["rule"],
                            "subject": alert["subject"],
                            "light": alert["light"],
                            "reason": alert["reason"],
                            "condition": context["condition"],
                            "container_number": (context["container"] or {}).get("container_number"),
                            "created_at": alert["created_at"],
                        },
                        "facts": context["facts"],
                    },
                    dedupe_key=key[:300],
                    alert_id=alert["id"],
                )
            )
        return items

    def customers_of(self, facts: ContainerFacts) -> tuple[list[CustomerOptions], list[str]]:
        """The container's customers with a configured contact, and the names without one."""
        known: list[CustomerOptions] = []
        unknown: list[str] = []
        for name in facts.customers:
            customer = self.customers.get(_customer_key(name))
            if customer is None:
                unknown.append(name)
            elif customer not in known:
                known.append(customer)
        return known, unknown

    def _customer_items(
        self, alert: dict[str, Any], firing: Firing, facts: ContainerFacts, customers: list[CustomerOptions]
    ) -> list[OutboxItem]:
        items = []
        for customer in customers:
            channel = self.channels[customer.channel]
            message = self.customer_message(firing.rule, firing, facts, customer)
            key = f"{alert['dedupe_key']}>customer:{customer.name}"
            destination = ", ".join(customer.to) if channel.kind == "smtp" else f"customer:{customer.name}"
            items.append(
                OutboxItem(
                    channel=customer.channel,
                    kind="customer",
                    destination=destination,
                    payload={
                        "id": message_id(key),
                        "title": message.subject,
                        "text": message.text,
                        "language": message.language,
                        "template": message.template,
                        "customer": customer.name,
                        "container_number": facts.number,
                        "alert_id": alert["id"],
                    },
                    dedupe_key=key[:300],
                    alert_id=alert["id"],
                )
            )
        return items

    # --- the action ---------------------------------------------------------------------------

    def _insert_alerts(self, session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
        """Insert alerts whose dedupe key is new (another worker may have just raised one): key → id."""
        if not rows:
            return {}
        module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        statement = (
            module.insert(_ALERTS)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(_ALERTS.c.id, _ALERTS.c.dedupe_key)
        )
        # executemany with RETURNING ("insertmanyvalues"): batched, and skipped rows return nothing
        return {key: alert_id for alert_id, key in session.execute(statement, rows)}

    def act(
        self,
        session: Session,
        firings: Sequence[Firing],
        facts: dict[str, ContainerFacts],
        now: datetime,
        *,
        affected: dict[str, list[str]] | None = None,
        dry_run: bool = False,
    ) -> list[Outcome]:
        """Raise alerts and queue messages for firings not yet known and not cooling down."""
        if not firings:
            return []
        known = self._known(session, firings)
        outcomes: dict[int, Outcome] = {}
        opening: list[tuple[int, Firing, dict[str, Any], list[CustomerOptions]]] = []
        opened_now: set[tuple[str, str]] = set()
        for index, firing in enumerate(firings):
            rule = firing.rule
            if firing.dedupe_key in known.keys:
                outcomes[index] = Outcome(firing, "known")
                continue
            last = known.last.get((rule.name, firing.subject))
            if (last is not None and now - last < rule.cooldown) or (rule.name, firing.subject) in opened_now:
                outcomes[index] = Outcome(firing, "cooldown")
                continue
            opened_now.add((rule.name, firing.subject))
            container_facts = facts.get(firing.container) if firing.container else None
            customers, unknown = (
                self.customers_of(container_facts)
                if rule.customer_template and container_facts is not None
                else ([], [])
            )
            alert = {
                "kind": "review" if rule.review else "rule",
                "rule": rule.name,
                "subject": firing.subject,
                "dedupe_key": firing.dedupe_key,
                "light": rule.light,
                "reason": firing.reason,
                "state": "open",
                "context": {
                    "messages": {
                        "staff": list(rule.notify),
                        "customers": [customer.name for customer in customers],
                        "customers_without_contact": unknown,
                    }
                },
                "created_at": now,
            }
            opening.append((index, firing, alert, customers))
        if opening:
            background = load_background(session, [firing for _, firing, _, _ in opening], facts)
            for _, firing, alert, _ in opening:
                container_facts = facts.get(firing.container) if firing.container else None
                alert["context"] = {
                    **firing_context(
                        firing, container_facts, background, (affected or {}).get(firing.source or "", [])
                    ),
                    **alert["context"],
                }
        ids = {} if dry_run else self._insert_alerts(session, [alert for _, _, alert, _ in opening])
        items: list[OutboxItem] = []
        for index, firing, alert, customers in opening:
            alert_id = ids.get(alert["dedupe_key"])
            if alert_id is None and not dry_run:
                outcomes[index] = Outcome(firing, "known")
                continue
            view = {**alert, "id": alert_id, "created_at": now.isoformat()}
            queued = self._staff_items(view, alert["context"], firing.rule.notify)
            container_facts = facts.get(firing.container) if firing.container else None
            if container_facts is not None:
                queued += self._customer_items(view, firing, container_facts, customers)
            items.extend(queued)
            messages = [
                {
                    "channel": item.channel,
                    "kind": item.kind,
                    "destination": item.destination,
                    "title": item.payload["title"],
                }
                for item in queued
            ]
            outcomes[index] = Outcome(firing, "opened", alert_id, messages)
        if items and not dry_run:
            enqueue_many(session, items, now)
        return [outcomes[index] for index in range(len(firings))]

    def open_review(
        self,
        session: Session,
        *,
        what: str,
        subject: str,
        reason: str,
        context: dict[str, Any],
        now: datetime,
        light: str | None = "amber",
        evidence: Sequence[str] = (),
    ) -> int | None:
        """A review item raised directly by another room; None when it was already open."""
        dedupe_key = f"review|{what}:{subject}"[:300]
        document = {"condition": what, "facts": plain(context), "evidence": list(evidence)}
        alert = {
            "kind": "review",
            "rule": what[:120],
            "subject": subject[:120],
            "dedupe_key": dedupe_key,
            "light": light,
            "reason": reason,
            "state": "open",
            "context": document,
            "created_at": now,
        }
        alert_id = self._insert_alerts(session, [alert]).get(dedupe_key)
        if alert_id is None:
            return None
        view = {**alert, "id": alert_id, "created_at": now.isoformat()}
        staff_context = {
            "condition": what,
            "facts": {},
            "container": None,
            "links": {},
            "last_events": [],
            "tried": [f"{name}: {value}" for name, value in sorted(plain(context).items())],
            "evidence": list(evidence),
        }
        enqueue_many(session, self._staff_items(view, staff_context, self.review_channels), now)
        return alert_id
