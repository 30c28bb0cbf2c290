"""What one mailbox pass did: counts, errors and outcome, recorded on its run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from quaysync.errors import QuaysyncError
from quaysync.secrets import REDACTOR

TAXONOMY = ("config", "business", "portal", "blocked", "layout_changed", "bad_input")
MAX_RECORDED_ERRORS = 200  # a run row stays readable when a whole folder of junk arrives


@dataclass(frozen=True)
class PollProgress:
    """Handed to a progress callback after each mail (and once per folder before the first)."""

    mailbox: str
    folder: str
    done: int
    total: int


ProgressCallback = Callable[[PollProgress], None]


@dataclass
class PollResult:
    mailbox: str
    trigger: str
    run_id: int | None = None
    outcome: str = "running"
    fetched: int = 0  # mails read from the server
    stored: int = 0  # new mails taken in
    quarantined: int = 0  # new mails set aside (reason on record)
    duplicates: int = 0  # mails already stored (a replay, a rescan, a copy): only moved
    observations: int = 0
    added_observations: int = 0
    added_events: int = 0
    problems: int = 0
    moved: int = 0
    rescans: int = 0  # folders read again after their UIDVALIDITY changed
    reconnects: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    errors_left_out: int = 0
    fatal: bool = False  # the pass could not finish
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    ended_at: datetime | None = None

    def add_error(self, kind: str, message: str, subject: str | None = None) -> None:
        if len(self.errors) >= MAX_RECORDED_ERRORS:
            self.errors_left_out += 1
            return
        self.errors.append(
            {
                "kind": kind if kind in TAXONOMY else "bad_input",
                "message": REDACTOR.mask(message),
                "subject": REDACTOR.mask(subject) if subject else None,
            }
        )

    def add_exception(self, error: BaseException, subject: str | None = None) -> None:
        kind = error.kind if isinstance(error, QuaysyncError) else "portal"
        text = error.message if isinstance(error, QuaysyncError) else f"{type(error).__name__}: {error}"
        self.add_error(kind, text, subject)

    def counts(self) -> dict[str, int]:
        counts = {
            name: getattr(self, name)
            for name in (
                "fetched",
                "stored",
                "quarantined",
                "duplicates",
                "observations",
                "added_observations",
                "added_events",
                "problems",
                "moved",
                "rescans",
                "reconnects",
            )
        }
        if self.errors_left_out:
            counts["errors_left_out"] = self.errors_left_out
        return counts

    def decide_outcome(self, blocked: bool = False) -> str:
        if blocked:
            self.outcome = "blocked"
        elif self.fatal:
            self.outcome = "partial" if self.stored or self.quarantined or self.duplicates else "failed"
        elif self.errors or self.quarantined:
            self.outcome = "partial"
        else:
            self.outcome = "ok"
        return self.outcome

    def to_json(self) -> dict[str, Any]:
        document = asdict(self)
        document["counts"] = self.counts()
        return document
