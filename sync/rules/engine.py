"""The rule engine: lights, tracking, alerts and messages for containers and sources.

    after each ingest   rules_hook(config)  — the changed containers, in the ingest's transaction
    on a clock          evaluate_all(store, config, now) — every tracked container and every source

The light of a container is the strongest among its firing rules (red > amber > green; among
equals, the rule listed first). When nothing fires: green while tracked and fresh, amber when no
source has said anything for `sync.stale_after`, green once the journey is complete. `tracking`
turns 'stale' when no source said anything for `sync.stop_tracking_after` (the worker stops
searching such containers) and back to 'active' when news comes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from quaysync.config import Config, RuleOptions
from store.bulk import update_by_key
from store.tables import AlertRow, ContainerStatusRow
from sync.ingest import IngestHook, IngestReport
from sync.rules.actions import Actions, Outcome
from sync.rules.checks import check_config
from sync.rules.conditions import (
    CONTAINER_CHECKS,
    CONTAINER_CONDITIONS,
    SOURCE_CONDITIONS,
    Firing,
    Settings,
    strongest,
)
from sync.rules.facts import ContainerFacts, load_facts, load_statuses, tracked_numbers
from sync.rules.sources import source_firings

LOG = logging.getLogger(__name__)
_STATUS = ContainerStatusRow.__table__
_ALERTS = AlertRow.__table__
CHUNK = 500
# Conditions about a moment rather than a state: their alerts stay open until a person resolves them.
UNRESOLVABLE = frozenset({"problem"})


class _StoreLike(Protocol):
    def session(self) -> Any: ...


@dataclass
class EvaluationReport:
    containers: int = 0
    lights_changed: int = 0
    tracking_changed: int = 0
    fired: int = 0
    opened: int = 0
    known: int = 0
    cooldown: int = 0
    queued: int = 0
    resolved: int = 0
    # with detail=True: each container's light, and what each firing did
    lights: dict[str, dict[str, Any]] = field(default_factory=dict)
    actions: list[dict[str, Any]] = field(default_factory=list)

    def as_counts(self) -> dict[str, int]:
        return {
            "containers": self.containers,
            "lights_changed": self.lights_changed,
            "tracking_changed": self.tracking_changed,
            "fired": self.fired,
            "alerts_opened": self.opened,
            "already_raised": self.known,
            "cooling_down": self.cooldown,
            "messages_queued": self.queued,
            "alerts_resolved": self.resolved,
        }

    def add_outcomes(self, outcomes: Iterable[Outcome], detail: bool) -> None:
        for outcome in outcomes:
            self.fired += 1
            self.opened += outcome.state == "opened"
            self.known += outcome.state == "known"
            self.cooldown += outcome.state == "cooldown"
            self.queued += len(outcome.messages)
            if detail:
                self.actions.append(
                    {
                        "rule": outcome.firing.rule.name,
                        "subject": outcome.firing.subject,
                        "instance": outcome.firing.instance,
                        "light": outcome.firing.light,
                        "reason": outcome.firing.reason,
                        "state": outcome.state,
                        "alert_id": outcome.alert_id,
                        "messages": outcome.messages,
                    }
                )


@dataclass
class SourceSituation:
    """Source firings now: by source (blocked, layout changed) and by container (problems)."""

    firings: list[Firing] = field(default_factory=list)
    by_source: dict[str, list[Firing]] = field(default_factory=dict)
    by_container: dict[str, list[Firing]] = field(default_factory=dict)
    # source → containers it follows (filled while containers are evaluated)
    affected: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, firings: list[Firing]) -> SourceSituation:
        situation = cls(firings)
        for firing in firings:
            if firing.rule.when == "problem":
                if firing.container:
                    situation.by_container.setdefault(firing.container, []).append(firing)
            elif firing.source:
                situation.by_source.setdefault(firing.source, []).append(firing)
        return situation


class RuleEngine:
    """The configured rules, ready to evaluate."""

    def __init__(self, config: Config) -> None:
        check_config(config)
        self.config = config
        self.rules: list[RuleOptions] = [rule for rule in config.rules if rule.enabled]
        self.order = {rule.name: index for index, rule in enumerate(config.rules)}
        self.container_rules = [rule for rule in self.rules if rule.when in CONTAINER_CONDITIONS]
        self.source_rules = [rule for rule in self.rules if rule.when in SOURCE_CONDITIONS]
        self.settings = Settings(config.sync.stale_after, config.sync.stop_tracking_after)
        self.actions = Actions(config)

    # --- sources ------------------------------------------------------------------------------

    def source_situation(self, session: Session, now: datetime) -> SourceSituation:
        if not self.source_rules:
            return SourceSituation()
        return SourceSituation.of(source_firings(session, self.source_rules, now))

    def act_on_sources(
        self,
        session: Session,
        situation: SourceSituation,
        now: datetime,
        *,
        only: Iterable[str] | None = None,
        resolve: bool = True,
        dry_run: bool = False,
        detail: bool = False,
    ) -> EvaluationReport:
        """Alerts for source firings (conditions in `only`, default all); resolve cleared ones."""
        report = EvaluationReport()
        conditions = set(only) if only is not None else set(SOURCE_CONDITIONS)
        firings = [firing for firing in situation.firings if firing.rule.when in conditions]
        outcomes = self.actions.act(session, firings, {}, now, affected=situation.affected, dry_run=dry_run)
        report.add_outcomes(outcomes, detail)
        if resolve and not dry_run:
            rules = [rule.name for rule in self.source_rules if rule.when in conditions - UNRESOLVABLE]
            report.resolved += self._resolve(
                session, rules, None, {firing.dedupe_key for firing in firings}, now
            )
        return report

    # --- containers ---------------------------------------------------------------------------

    def _default_light(self, facts: ContainerFacts, tracking: str, now: datetime) -> tuple[str, str | None]:
        if tracking == "final":
            return "green", "journey complete"
        last = facts.last_news()
        if tracking == "stale" and last is not None:
            return "amber", f"tracking stopped: no news for {(now - last).days} days"
        if last is None:
            return "amber", "no news from any source yet"
        silent = now - last
        if silent >= self.settings.stale_after:
            return "amber", f"no news for {silent.total_seconds() / 3600:.0f} h"
        return "green", None

    def _tracking(self, facts: ContainerFacts, now: datetime) -> str:
        current = facts.status.get("tracking") or "active"
        if current == "final":
            return current
        last = facts.last_news()
        if last is None:
            return current
        return "stale" if now - last >= self.settings.stop_tracking_after else "active"

    def evaluate_containers(
        self,
        session: Session,
        numbers: Sequence[str],
        now: datetime,
        situation: SourceSituation,
        *,
        dry_run: bool = False,
        detail: bool = False,
    ) -> EvaluationReport:
        """Lights, tracking and actions for these containers, in the caller's transaction."""
        report = EvaluationReport()
        for start in range(0, len(numbers), CHUNK):
            chunk = list(numbers[start : start + CHUNK])
            facts = load_facts(session, load_statuses(session, chunk))
            firings: list[Firing] = []
            updates: dict[frozenset[str], list[dict[str, Any]]] = {}
            for number, item in facts.items():
                tracking = self._tracking(item, now)
                rules = self.container_rules
                if tracking == "final":  # the journey is over: only its milestones still matter
                    rules = [rule for rule in rules if rule.when == "milestone"]
                fired = [
                    firing
                    for rule in rules
                    for firing in CONTAINER_CHECKS[rule.when](rule, item, now, self.settings)
                ]
                lighting = list(fired) + situation.by_container.get(number, [])
                for source in item.status.get("freshness") or {}:
                    if source in situation.by_source:
                        lighting.extend(situation.by_source[source])
                        situation.affected.setdefault(source, []).append(number)
                winner = strongest(lighting, self.order)
                if winner is not None:
                    light, rule_name, reason = winner.light, winner.rule.name, winner.reason
                else:
                    light, reason = self._default_light(item, tracking, now)
                    rule_name = None
                wanted = {
                    "traffic_light": light,
                    "light_rule": rule_name,
                    "light_reason": reason,
                    "tracking": tracking,
                }
                changed = {name for name, value in wanted.items() if item.status.get(name) != value}
                if changed:
                    report.lights_changed += bool(changed - {"tracking"})
                    report.tracking_changed += "tracking" in changed
                    columns = frozenset(changed | {"updated_at"})
                    updates.setdefault(columns, []).append(
                        {
                            "container_number": number,
                            **{name: wanted[name] for name in changed},
                            "updated_at": now,
                        }
                    )
                if detail:
                    report.lights[number] = {**wanted, "changed": sorted(changed)}
                firings.extend(fired)
            report.containers += len(facts)
            report.add_outcomes(self.actions.act(session, firings, facts, now, dry_run=dry_run), detail)
            if not dry_run:
                for rows in updates.values():
                    update_by_key(session, _STATUS, "container_number", rows)
                rules = [rule.name for rule in self.container_rules]
                report.resolved += self._resolve(
                    session, rules, list(facts), {firing.dedupe_key for firing in firings}, now
                )
        return report

    def _resolve(
        self, session: Session, rules: list[str], subjects: list[str] | None, firing: set[str], now: datetime
    ) -> int:
        """Resolve open alerts of these rules (and subjects) whose condition no longer holds."""
        if not rules or subjects == []:
            return 0
        query = select(_ALERTS.c.id, _ALERTS.c.dedupe_key, _ALERTS.c.subject).where(
            _ALERTS.c.state == "open", _ALERTS.c.rule.in_(rules)
        )
        if subjects is not None and len(subjects) <= CHUNK:
            query = query.where(_ALERTS.c.subject.in_(subjects))
        wanted = set(subjects) if subjects is not None else None
        cleared = [
            row.id
            for row in session.execute(query)
            if row.dedupe_key not in firing and (wanted is None or row.subject in wanted)
        ]
        if cleared:
            session.execute(
                update(_ALERTS).where(_ALERTS.c.id.in_(cleared)).values(state="resolved", resolved_at=now)
            )
        return len(cleared)

    # --- entry points -------------------------------------------------------------------------

    def hook(self, session: Session, ingest_report: IngestReport, now: datetime) -> None:
        """After an ingest: the changed containers, and review items for what the batch set aside.

        Runs in a savepoint of the ingest's transaction: should the rules fail, their writes are
        undone and the batch is still taken in (nothing is lost for a notification); the clock's
        next evaluation covers these containers again.
        """
        if not ingest_report.changed_containers and not ingest_report.problems:
            return
        try:
            with session.begin_nested():
                self._after_ingest(session, ingest_report, now)
        except Exception:
            LOG.exception("rules after ingest failed; the clock's evaluation will cover these containers")

    def _after_ingest(self, session: Session, ingest_report: IngestReport, now: datetime) -> None:
        situation = self.source_situation(session, now)
        if ingest_report.changed_containers:
            self.evaluate_containers(session, sorted(ingest_report.changed_containers), now, situation)
        if ingest_report.problems:
            self.act_on_sources(session, situation, now, only={"problem"}, resolve=False)

    def evaluate_all(
        self, store: _StoreLike, now: datetime | None = None, *, dry_run: bool = False, detail: bool = False
    ) -> EvaluationReport:
        """Every tracked container and every source; one transaction per chunk of containers."""
        now = now or datetime.now(UTC)
        with store.session() as session:
            situation = self.source_situation(session, now)
            numbers = tracked_numbers(session)
        report = EvaluationReport()
        for start in range(0, len(numbers), CHUNK):
            with store.session() as session:
                part = self.evaluate_containers(
                    session, numbers[start : start + CHUNK], now, situation, dry_run=dry_run, detail=detail
                )
                if dry_run:
                    session.rollback()
            _merge(report, part)
        with store.session() as session:
            _merge(report, self.act_on_sources(session, situation, now, dry_run=dry_run, detail=detail))
            if dry_run:
                session.rollback()
        return report


def _merge(total: EvaluationReport, part: EvaluationReport) -> None:
    for name in ("containers", "lights_changed", "tracking_changed", "fired", "opened", "known", "cooldown"):
        setattr(total, name, getattr(total, name) + getattr(part, name))
    total.queued += part.queued
    total.resolved += part.resolved
    total.lights.update(part.lights)
    total.actions.extend(part.actions)


def rules_hook(config: Config) -> IngestHook:
    """The ingest hook (sync.pipeline): evaluate what a batch changed, in its transaction."""
    engine = RuleEngine(config)
    return engine.hook


def evaluate_all(store: _StoreLike, config: Config, now: datetime | None = None) -> EvaluationReport:
    """The clock's evaluation: time-based conditions, tracking, sources. Schedule every few minutes."""
    return RuleEngine(config).evaluate_all(store, now)


def evaluate_sources(store: _StoreLike, config: Config, now: datetime | None = None) -> EvaluationReport:
    """Source conditions only (blocked, layout changed, problems): call right after a run ends badly."""
    engine = RuleEngine(config)
    now = now or datetime.now(UTC)
    with store.session() as session:
        return engine.act_on_sources(session, engine.source_situation(session, now), now)
