"""Source conditions: blocked accounts, changed layouts, and input set aside for a person.

source_state  (source "portal:NAME", key "blocked:<account>"), written by the bots (bots/blocked.py):
              {"kind": "captcha" | "account_locked" | "login_rejected" | "maintenance" | "blocked",
               "reason": what the portal said, "action": what a person must do,
               "since": ISO UTC, "until": ISO UTC or null, "run_id": N, "evidence": [paths]}
              A block is over when the row is deleted, its `until` has passed, or its value
              says "blocked": false (or carries "cleared_at").
run           the latest finished run of a source with outcome layout_changed
problem       rows whose kind a `problem` rule lists (low_confidence, quarantined, ...)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quaysync.config import RuleOptions
from store.tables import ProblemRow, RunRow, SourceStateRow
from sync.rules.conditions import Firing, hours_between, iso, phrase

_STATE = SourceStateRow.__table__
_RUNS = RunRow.__table__
_PROBLEMS = ProblemRow.__table__

UNFINISHED = ("running", "interrupted")
# How far back the latest run of a source is looked for (keeps the query on the index).
RUN_LOOKBACK = timedelta(days=30)
PROBLEM_LOOKBACK = timedelta(hours=24)


def _matches(source: str, patterns: Iterable[str]) -> bool:
    patterns = list(patterns)
    return not patterns or any(fnmatchcase(source, pattern) for pattern in patterns)


def _moment(value: Any, fallback: datetime) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return fallback
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=fallback.tzinfo)
    return fallback


def blocked_accounts(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Blocks in force now: source, account, kind, reason, action, since, evidence, run_id."""
    blocks = []
    rows = session.execute(select(_STATE).where(_STATE.c.key.like("blocked:%"))).mappings()
    for row in rows:
        value = row["value"] if isinstance(row["value"], dict) else {}
        if value.get("blocked") is False or value.get("cleared_at"):
            continue
        until = value.get("until")
        if until and _moment(until, now) <= now:
            continue  # a maintenance window that has passed
        evidence = value.get("evidence") or []
        if isinstance(evidence, dict):
            evidence = list(evidence.values())
        blocks.append(
            {
                "source": row["source"],
                "account": row["key"].removeprefix("blocked:"),
                "kind": str(value.get("kind") or "blocked"),
                "reason": str(value.get("reason") or value.get("message") or ""),
                "action": str(value.get("action") or ""),
                "since": _moment(value.get("since") or value.get("at"), row["updated_at"]),
                "evidence": [str(path) for path in evidence],
                "run_id": value.get("run_id"),
                "state": value,
            }
        )
    return sorted(blocks, key=lambda block: (block["source"], block["account"]))


def changed_layouts(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Sources whose latest finished run found the layout changed, with the streak's first run."""
    since = now - RUN_LOOKBACK
    latest = (
        select(_RUNS.c.source, func.max(_RUNS.c.id).label("id"))
        .where(_RUNS.c.started_at >= since, _RUNS.c.outcome.not_in(UNFINISHED))
        .group_by(_RUNS.c.source)
        .subquery()
    )
    runs = session.execute(
        select(_RUNS).join(latest, _RUNS.c.id == latest.c.id).where(_RUNS.c.outcome == "layout_changed")
    ).mappings()
    found = []
    for run in runs:
        # the streak starts after the source's last finished run of another outcome
        before = session.execute(
            select(func.max(_RUNS.c.id)).where(
                _RUNS.c.source == run["source"],
                _RUNS.c.outcome.not_in((*UNFINISHED, "layout_changed")),
                _RUNS.c.id < run["id"],
            )
        ).scalar()
        first = (
            session.execute(
                select(_RUNS)
                .where(
                    _RUNS.c.source == run["source"],
                    _RUNS.c.outcome == "layout_changed",
                    _RUNS.c.id > (before or 0),
                )
                .order_by(_RUNS.c.id)
                .limit(1)
            )
            .mappings()
            .first()
            or run
        )
        evidence = [str(path) for path in run["evidence"] or []]
        for error in run["errors"] or []:
            extra = error.get("evidence") if isinstance(error, dict) else None
            if isinstance(extra, dict):
                evidence.extend(str(path) for path in extra.values())
            elif isinstance(extra, list):
                evidence.extend(str(path) for path in extra)
        found.append(
            {
                "source": run["source"],
                "first_run_id": first["id"],
                "run_id": run["id"],
                "since": first["started_at"],
                "errors": list(run["errors"] or [])[:5],
                "evidence": list(dict.fromkeys(evidence)),
            }
        )
    return sorted(found, key=lambda item: item["source"])


def recent_problems(session: Session, kinds: set[str], since: datetime) -> list[dict[str, Any]]:
    if not kinds:
        return []
    return [
        dict(row)
        for row in session.execute(
            select(_PROBLEMS)
            .where(_PROBLEMS.c.created_at >= since, _PROBLEMS.c.kind.in_(sorted(kinds)))
            .order_by(_PROBLEMS.c.id)
        ).mappings()
    ]


def source_firings(session: Session, rules: list[RuleOptions], now: datetime) -> list[Firing]:
    """Every firing of the source rules now."""
    wanted = {rule.when for rule in rules}
    blocks = blocked_accounts(session, now) if "source_blocked" in wanted else []
    layouts = changed_layouts(session, now) if "layout_changed" in wanted else []
    problem_rules = [rule for rule in rules if rule.when == "problem"]
    oldest = min(
        (
            now - (timedelta(hours=rule.hours) if rule.hours is not None else PROBLEM_LOOKBACK)
            for rule in problem_rules
        ),
        default=now,
    )
    problems = recent_problems(session, {kind for rule in problem_rules for kind in rule.kinds}, oldest)
    firings: list[Firing] = []
    for rule in rules:
        if rule.when == "source_blocked":
            for block in blocks:
                if not _matches(block["source"], rule.sources) or (
                    rule.kinds and block["kind"] not in rule.kinds
                ):
                    continue
                held = hours_between(now, block["since"])
                if rule.hours is not None and held < rule.hours:
                    continue
                values = {
                    "source": block["source"],
                    "account": block["account"],
                    "block_kind": block["kind"],
                    "block_reason": block["reason"],
                    "action": block["action"],
                    "since": iso(block["since"]),
                    "blocked_hours": round(held, 2),
                    "run_id": block["run_id"],
                    "state": block["state"],
                }
                words = f"{block['source']} account {block['account']} blocked ({block['kind']})"
                firings.append(
                    Firing(
                        rule,
                        block["source"],
                        f"source_blocked:{block['source']}:{block['account']}:{block['since'].isoformat()}",
                        phrase(rule, words, values),
                        values,
                        source=block["source"],
                        evidence=tuple(block["evidence"]),
                    )
                )
        elif rule.when == "layout_changed":
            for layout in layouts:
                if not _matches(layout["source"], rule.sources):
                    continue
                values = {
                    "source": layout["source"],
                    "run_id": layout["run_id"],
                    "first_run_id": layout["first_run_id"],
                    "since": iso(layout["since"]),
                    "errors": layout["errors"],
                }
                words = f"{layout['source']} layout changed (run {layout['first_run_id']})"
                firings.append(
                    Firing(
                        rule,
                        layout["source"],
                        f"layout_changed:{layout['source']}:{layout['first_run_id']}",
                        phrase(rule, words, values),
                        values,
                        source=layout["source"],
                        evidence=tuple(layout["evidence"]),
                    )
                )
        elif rule.when == "problem":
            window = timedelta(hours=rule.hours) if rule.hours is not None else PROBLEM_LOOKBACK
            for problem in problems:
                if (
                    problem["kind"] not in rule.kinds
                    or not _matches(problem["source"], rule.sources)
                    or problem["created_at"] < now - window
                ):
                    continue
                subject = problem["subject_key"] or problem["source"]
                values = {
                    "source": problem["source"],
                    "source_ref": problem["source_ref"],
                    "problem_id": problem["id"],
                    "problem_kind": problem["kind"],
                    "problem_reason": problem["reason"],
                    "raw": problem["raw"],
                    "run_id": problem["run_id"],
                    "since": iso(problem["created_at"]),
                }
                words = f"{problem['kind']} from {problem['source']}: {problem['reason'][:160]}"
                firings.append(
                    Firing(
                        rule,
                        subject,
                        f"problem:{problem['id']}",
                        phrase(rule, words, values),
                        values,
                        container=problem["subject_key"]
                        if _looks_like_container(problem["subject_key"])
                        else None,
                        source=problem["source"],
                    )
                )
    return firings


def _looks_like_container(key: str | None) -> bool:
    return bool(key) and len(key) == 11 and key[:4].isalpha() and key[4:].isdigit()
