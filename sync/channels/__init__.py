"""Senders for the outbox kinds this room queues: "notification" (staff) and "customer".

    senders = notification_senders(config)          # {"notification": ..., "customer": ...}
    deliver_due(store, {**senders, **api_senders}, policy=retry_policy(config))

An item names its channel (`channel`) and where it goes (`destination`): mail addresses for
SMTP channels; for HTTP channels "channel:<name>" or "customer:<name>", resolved from the config
at sending time — robots' URLs carry their keys and never land in the store.
"""

from __future__ import annotations

from collections.abc import Callable

from quaysync.config import Config
from store.tables import OutboxRow
from sync.channels.smtp import build_mail, send_mail
from sync.channels.webhooks import body_for, post
from sync.outbox import DeliveryError, RetryPolicy

__all__ = ["body_for", "notification_senders", "retry_policy"]

KINDS = ("notification", "customer")


def retry_policy(config: Config) -> RetryPolicy:
    options = config.notifications
    return RetryPolicy(max_attempts=options.max_attempts, base=options.retry_base, ceiling=options.retry_max)


def notification_senders(config: Config) -> dict[str, Callable[[OutboxRow], None]]:
    """Senders by outbox kind, for `sync.outbox.deliver_due`."""
    channels = {channel.name: channel for channel in config.notifications.channels}
    customers = {customer.name: customer for customer in config.notifications.customers}

    def send(item: OutboxRow) -> None:
        channel = channels.get(item.channel)
        if channel is None:
            raise DeliveryError(f"channel {item.channel!r} is no longer configured")
        payload = dict(item.payload)
        if channel.kind == "smtp":
            recipients = [address.strip() for address in item.destination.split(",") if address.strip()]
            mail = build_mail(
                channel, recipients, payload.get("title", ""), payload.get("text", ""), payload["id"]
            )
            send_mail(channel, recipients, mail)
            return
        url = channel.url
        if item.destination.startswith("customer:"):
            customer = customers.get(item.destination.removeprefix("customer:"))
            if customer is None:
                raise DeliveryError(
                    f"customer {item.destination.removeprefix('customer:')!r} is no longer configured"
                )
            url = customer.url or channel.url
        elif item.destination.startswith(("http://", "https://")):
            url = item.destination
        if not url:
            raise DeliveryError(f"channel {channel.name!r} has no url")
        post(channel, url, payload)

    return {kind: send for kind in KINDS}
