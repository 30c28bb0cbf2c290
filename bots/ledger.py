"""Where every container of a run ended (stored, not found, failed with a reason), its errors, its outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bots.result import BLOCKED, FAILED, INTERRUPTED, LAYOUT_CHANGED, OK, PARTIAL, FailedContainer
from quaysync.model import Observation


@dataclass
class WorkItem:
    """A batch of containers, or (no containers) the once-per-run vessel schedule page."""

    containers: list[str] = field(default_factory=list)
    done: bool = False  # read and handed to storing, or its failure listed

    @property
    def is_vessels(self) -> bool:
        return not self.containers

    @property
    def label(self) -> str:
        return "vessels" if self.is_vessels else f"batch-{self.containers[0]}"


def _key(number: object) -> str:
    return "".join(str(number or "").split()).upper()


class Ledger:
    """The run's bookkeeping; `errors()` gives the list `store.runs.finish_run` records."""

    def __init__(self) -> None:
        self.stored: list[str] = []
        self.not_found: list[str] = []
        self.failed: list[FailedContainer] = []
        self.ingested: dict[str, int] = {}
        self.other_errors: list[dict[str, Any]] = []  # pages that are not containers (vessel schedule)
        self.account_errors: list[dict[str, Any]] = []  # blocked accounts

    def fail(self, item: WorkItem, kind: str, reason: str, evidence: list[str]) -> None:
        item.done = True
        if item.is_vessels:
            self.other_errors.append(
                {"kind": kind, "message": reason, "subject": "vessel schedule", "evidence": evidence}
            )
            return
        for number in item.containers:
            self.failed.append(FailedContainer(number, kind, reason, evidence))

    def stored_batch(self, item: WorkItem, observations: list[Observation], counts: dict[str, int]) -> None:
        """Sort a stored batch's containers by what the portal answered for each."""
        for name, value in counts.items():
            self.ingested[name] = self.ingested.get(name, 0) + value
        if item.is_vessels:
            self.ingested["vessel_calls"] = self.ingested.get("vessel_calls", 0) + len(observations)
            return
        answered: dict[str, bool] = {}
        for observation in observations:
            number = _key(observation.container_number)
            if observation.subject == "container" and number:
                answered[number] = answered.get(number, False) or "not_found" not in observation.fields
        for number in item.containers:
            if number not in answered:
                self.failed.append(
                    FailedContainer(number, "portal", "the portal's answer did not include it")
                )
            elif answered[number]:
                self.stored.append(number)
            else:
                self.not_found.append(number)

    def blocked(self, username: str, message: str, action: str, evidence: list[str]) -> None:
        self.account_errors.append(
            {"kind": "blocked", "message": message, "subject": f"account:{username}", "action": action,
             "evidence": evidence}
        )  # fmt: skip

    def errors(self, layout_changed: str | None) -> list[dict[str, Any]]:
        """Blocked accounts, the layout change, pages, then each failed container with its reason."""
        listed = list(self.account_errors)
        if layout_changed is not None:
            shown = [
                path
                for failure in self.failed
                if failure.kind == "layout_changed"
                for path in failure.evidence
            ]
            listed.append(
                {"kind": "layout_changed", "message": layout_changed, "subject": "page",
                 "evidence": list(dict.fromkeys(shown))}
            )  # fmt: skip
        listed += self.other_errors
        listed += [
            {"kind": failure.kind, "message": failure.reason, "subject": failure.container_number,
             "evidence": failure.evidence}
            for failure in self.failed
        ]  # fmt: skip
        return listed

    def counts(self) -> dict[str, int]:
        return {"stored": len(self.stored), "not_found": len(self.not_found), "failed": len(self.failed)}

    def outcome(self, *, interrupted: bool, layout_changed: bool, blocked: bool) -> str:
        if interrupted:
            return INTERRUPTED
        if layout_changed:
            return LAYOUT_CHANGED
        if blocked:
            return BLOCKED
        if not self.failed and not self.other_errors:
            return OK
        return PARTIAL if (self.stored or self.not_found) else FAILED
