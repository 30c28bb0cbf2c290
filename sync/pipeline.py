"""The ingest settings a configured quaysync uses: precedence, and what runs after each merge."""

from __future__ import annotations

from quaysync.config import Config
from sync.ingest import IngestHook, IngestSettings
from sync.precedence import Precedence


def build_ingest_settings(config: Config, default_zone: str = "UTC") -> IngestSettings:
    """Settings for every ingest of this configuration (bots, mailboxes, imports)."""
    hooks: list[IngestHook] = []
    return IngestSettings(Precedence(tuple(config.sync.source_precedence)), default_zone, tuple(hooks))
