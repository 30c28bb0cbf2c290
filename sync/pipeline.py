"""The ingest settings a configured quaysync uses: precedence, and what runs after each merge."""

from __future__ import annotations

from quaysync.config import Config
from sync.ingest import IngestHook, IngestSettings
from sync.precedence import Precedence
from sync.rules import rules_hook
from sync.webhooks import fan_out_events


def build_ingest_settings(config: Config, default_zone: str = "UTC") -> IngestSettings:
    """Settings for every ingest of this configuration (bots, mailboxes, imports)."""
    hooks: list[IngestHook] = []
    hooks.append(rules_hook(config))  # traffic lights, alerts, messages (sync/rules)
    hooks.append(fan_out_events)  # DCSA subscriptions: new events into the outbox (sync/webhooks)
    return IngestSettings(Precedence(tuple(config.sync.source_precedence)), default_zone, tuple(hooks))
