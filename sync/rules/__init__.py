"""Rules: traffic lights, alerts, staff notifications, customer messages and manual review.

    rules_hook(config)                        the ingest hook (sync.pipeline adds it)
    evaluate_all(store, config, now)          the clock: time-based conditions, tracking, sources
    evaluate_sources(store, config, now)      sources only, e.g. right after a run ended blocked
    open_review(session, config, ...)         a review item from another room (quarantined mail, ...)

See README.md in this folder for the configuration and what each condition means.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from quaysync.config import Config
from sync.rules.actions import Actions
from sync.rules.checks import check_config, config_problems
from sync.rules.conditions import Firing
from sync.rules.engine import (
    EvaluationReport,
    RuleEngine,
    evaluate_all,
    evaluate_sources,
    rules_hook,
)

__all__ = [
    "EvaluationReport",
    "Firing",
    "RuleEngine",
    "check_config",
    "config_problems",
    "evaluate_all",
    "evaluate_sources",
    "open_review",
    "rules_hook",
]


def open_review(
    session: Session,
    config: Config,
    *,
    what: str,
    subject: str,
    reason: str,
    context: dict[str, Any],
    evidence: Sequence[str] = (),
    now: datetime | None = None,
) -> int | None:
    """Open a manual-review item (alert kind "review") in the caller's transaction.

    `what` names the situation (quarantined_mail, low_confidence, captcha, ...), `subject` what it
    is about (a container, a Message-ID, a source); the pair is its dedupe key, so repeating the
    call opens nothing new (returns None). `context` carries everything known (links, what was
    tried); the channels of `notifications.review_channels` are told.
    """
    return Actions(config).open_review(
        session,
        what=what,
        subject=subject,
        reason=reason,
        context=context,
        evidence=evidence,
        now=now or datetime.now(UTC),
    )
