"""What a scrape is asked to do (`ScrapeOptions`), tells while running (`ScrapeProgress`), and returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

# Outcomes, as recorded on the run (store.runs.OUTCOMES).
OK, PARTIAL, FAILED, BLOCKED, LAYOUT_CHANGED, INTERRUPTED = (
    "ok", "partial", "failed", "blocked", "layout_changed", "interrupted",
)  # fmt: skip


@dataclass(frozen=True)
class ScrapeOptions:
    """Knobs of one run that config.yaml does not hold (tests and the CLI set them)."""

    mode: str | None = None  # how the family reads results ("export", "pages"); None: its default
    include_vessels: bool = True  # read the vessel schedule page once per run
    details: bool = False  # open each found container's detail page (one more page per container)
    retry_blocked: bool = False  # try accounts a person has marked as fixed (clears their block)
    trace: bool = True  # Playwright tracing for failure evidence
    backoff_initial_seconds: float = 1.0
    backoff_max_seconds: float = 30.0
    full_evidence: int = 30  # screenshot+trace sets per run; later failures keep HTML only


@dataclass
class FailedContainer:
    container_number: str
    kind: str  # the taxonomy word: portal, blocked, layout_changed, interrupted
    reason: str
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ScrapeProgress:
    """Sent to the `progress` callback after each batch (and once at the start)."""

    portal: str
    run_id: int
    total: int
    done: int  # containers with an answer or a failure
    stored: int
    not_found: int
    failed: int
    pages: int
    logins: int
    message: str = ""


ProgressCallback = Callable[[ScrapeProgress], None]


@dataclass
class ScrapeResult:
    run_id: int
    portal: str
    outcome: str
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)  # containers the portal answered for, ingested
    not_found: list[str] = field(default_factory=list)  # the portal's "unknown"/"invalid" answers
    failed: list[FailedContainer] = field(default_factory=list)
    blocked: dict[str, dict[str, Any]] = field(default_factory=dict)  # account → source_state value

    @property
    def ok(self) -> bool:
        return self.outcome == OK

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "portal": self.portal,
            "outcome": self.outcome,
            "counts": dict(self.counts),
            "errors": list(self.errors),
            "evidence": list(self.evidence),
            "stored": list(self.stored),
            "not_found": list(self.not_found),
            "failed": [asdict(item) for item in self.failed],
            "blocked": dict(self.blocked),
        }
