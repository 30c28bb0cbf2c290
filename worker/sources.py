"""The sources a worker runs, as one list: portals, mailboxes, imports and exports of config.yaml.

Each has a key — `portal:NAME`, `mail:NAME`, `import:NAME`, `export:NAME` — which is also the
`source` its runs are recorded under, the APScheduler job id, and the `source_state` row holding
its lock, pause and blocked accounts. `find_source(config, "sandbox")` accepts a bare name when
only one kind of source has it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from quaysync.config import Config
from quaysync.config.types import HoursWindow, Schedule
from quaysync.errors import BadInputError

SourceKind = Literal["portal", "mail", "import", "export"]
KINDS: tuple[SourceKind, ...] = ("portal", "mail", "import", "export")
# What each kind of source records its runs as (run.kind).
RUN_KINDS = {"portal": "scrape", "mail": "mail", "import": "import", "export": "export"}


@dataclass(frozen=True)
class SourceSpec:
    """One schedulable source and when it runs."""

    kind: SourceKind
    name: str
    schedule: Schedule | None  # None: by hand only (`run.py run-now`)
    jitter: timedelta = timedelta(0)
    active_hours: HoursWindow | None = None
    time_zone: str = "UTC"
    enabled: bool = True
    # A mailbox read by a long-lived watcher (IMAP IDLE where the server has it); its schedule
    # is the watcher's fallback poll, not an APScheduler job.
    watched: bool = False

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def run_kind(self) -> str:
        return RUN_KINDS[self.kind]

    @property
    def scheduled(self) -> bool:
        """Whether the scheduler holds a job for it."""
        return self.enabled and self.schedule is not None and not self.watched

    def signature(self) -> str:
        """What the job's trigger is built from: a persisted job whose signature differs is rebuilt."""
        parts = [self.key, f"schedule={self.schedule}", f"jitter={self.jitter.total_seconds():g}s"]
        if self.active_hours is not None:
            parts.append(f"hours={self.active_hours}")
        parts.append(f"zone={self.time_zone}")
        return " ".join(parts)


def configured_sources(config: Config) -> list[SourceSpec]:
    """Every configured source (enabled or not), portals first."""
    specs: list[SourceSpec] = []
    for portal in config.sources.portals:
        specs.append(
            SourceSpec(
                "portal",
                portal.name,
                portal.schedule,
                portal.jitter,
                portal.active_hours,
                portal.time_zone,
                portal.enabled,
            )
        )
    for mailbox in config.sources.mailboxes:
        specs.append(
            SourceSpec(
                "mail",
                mailbox.name,
                mailbox.schedule,
                time_zone="UTC",
                enabled=mailbox.enabled,
                watched=mailbox.idle,
            )
        )
    for source in config.sources.imports:
        specs.append(
            SourceSpec(
                "import", source.name, source.schedule, time_zone=source.time_zone, enabled=source.enabled
            )
        )
    for export in config.exports:
        specs.append(SourceSpec("export", export.name, export.schedule, time_zone=export.time_zone or "UTC"))
    return specs


def find_source(config: Config, text: str) -> SourceSpec:
    """The source named `text`: `kind:NAME`, or a bare NAME when it is unambiguous."""
    wanted = text.strip()
    specs = configured_sources(config)
    known = ", ".join(spec.key for spec in specs) or "none configured"
    kind, _, name = wanted.partition(":")
    if name:
        if kind not in KINDS:
            raise BadInputError(f"{wanted!r}: the kind is one of {', '.join(KINDS)} (sources: {known})")
        matches = [spec for spec in specs if spec.kind == kind and spec.name == name]
    else:
        matches = [spec for spec in specs if spec.name == wanted]
    if not matches:
        raise BadInputError(f"no source {wanted!r} in the config (sources: {known})")
    if len(matches) > 1:
        choices = " or ".join(spec.key for spec in matches)
        raise BadInputError(f"{wanted!r} names more than one source: say {choices}")
    return matches[0]
