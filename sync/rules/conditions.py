"""Conditions: given a container's facts (or the store's source state) and the time, what fires.

Each condition returns Firings: the subject, the *condition instance* (what makes this situation
this one: `eta_slip:MSKU1234565:2026-11-23T06:00:00+00:00`), a reason in words, and its facts as
JSON values (moments as ISO UTC text) for messages and review items. Thresholds:

  eta_slip     expected arrival − first estimate  > hours   (not while arrived)
  lfd_within   end of the last free day (local) − now ≤ hours, not gated out (also once passed)
  hold_longer  now − hold since ≥ hours
  stale        now − latest news of any source ≥ hours
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from quaysync.config import RuleOptions
from sync.rules.facts import ContainerFacts, zone_of
from sync.status import RANK

LIGHTS = {"green": 0, "amber": 1, "red": 2}
CONTAINER_CONDITIONS = frozenset({"milestone", "eta_slip", "lfd_within", "hold_longer", "stale", "not_found"})
SOURCE_CONDITIONS = frozenset({"source_blocked", "layout_changed", "problem"})
HELD = frozenset({"hold", "inspection"})
MILESTONE_NAMES = {
    "DISC": ("discharged", "已卸船"),
    "AVPU": ("available for pick-up", "可提柜"),
    "CUSR": ("customs released", "海关已放行"),
    "PICK": ("pick-up appointment confirmed", "提柜预约已确认"),
    "GTOT": ("gated out", "已出闸"),
    "GTIN": ("empty returned", "空箱已还"),
}
_DEDUPE_MAX = 300


def iso(moment: datetime | date | None) -> str | None:
    return None if moment is None else moment.isoformat()


def hours_between(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 3600


def local_text(moment: datetime, zone: str) -> str:
    """A moment as '2026-11-23 14:00 Asia/Shanghai', for reasons (messages format their own)."""
    return f"{moment.astimezone(zone_of(zone)):%Y-%m-%d %H:%M} {zone}"


@dataclass(frozen=True)
class Firing:
    """A rule whose condition holds for a subject now."""

    rule: RuleOptions
    subject: str  # container number, or source name
    instance: str
    reason: str
    facts: dict[str, Any] = field(default_factory=dict)
    container: str | None = None
    source: str | None = None  # for source conditions: the source it is about
    evidence: tuple[str, ...] = ()

    @property
    def light(self) -> str:
        return self.rule.light

    @property
    def dedupe_key(self) -> str:
        key = f"{self.rule.name}|{self.instance}"
        if len(key) <= _DEDUPE_MAX:
            return key
        digest = hashlib.blake2b(key.encode(), digest_size=12).hexdigest()
        return key[: _DEDUPE_MAX - len(digest) - 1] + "~" + digest


class _Facts(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def phrase(rule: RuleOptions, default: str, facts: dict[str, Any]) -> str:
    """The rule's own reason (with {fact} placeholders filled) or the condition's default words."""
    if not rule.reason:
        return default
    try:
        return string.Formatter().vformat(rule.reason, (), _Facts(facts))
    except (ValueError, TypeError, IndexError, AttributeError):
        return rule.reason


def _firing(
    rule: RuleOptions, facts: ContainerFacts, instance: str, default: str, values: dict[str, Any]
) -> Firing:
    values = {"container_number": facts.number, "time_zone": facts.time_zone, **values}
    return Firing(
        rule,
        facts.number,
        f"{rule.when}:{facts.number}:{instance}" if instance else f"{rule.when}:{facts.number}",
        phrase(rule, default, values),
        values,
        container=facts.number,
    )


# --- milestones ------------------------------------------------------------------------------


def _milestone_state(code: str, facts: ContainerFacts) -> tuple[datetime | None, datetime | None, str] | None:
    """(when it happened, when it was first known, instance detail) if reached, else None."""
    status = facts.status
    rank = status.get("lifecycle_rank") or 0

    def seen(found: dict[str, Any] | None) -> tuple[datetime | None, datetime | None, str]:
        # no event of its own (a status word said it): known since the status last changed
        return (
            (found["event_at"], found["observed_at"], "") if found else (None, status.get("updated_at"), "")
        )

    def event(codes: tuple[str, ...], classifier: str = "ACT") -> dict[str, Any] | None:
        found = [e for c in codes for e in facts.current(c, classifier)]
        return min(found, key=lambda e: e["event_at"]) if found else None

    if code == "PICK":
        appointment = status.get("appointment_at")
        if appointment is None:
            return None
        booked = event(("PICK",), "PLN")
        known = booked["observed_at"] if booked else status.get("updated_at")
        return appointment, known, appointment.isoformat()
    if code == "CUSR":
        if (status.get("holds") or {}).get("customs") != "released":
            return None
        found = event(("CUSR",))
        return seen(found)
    if code == "AVPU":
        found = event(("AVPU",))
        if found is None and status.get("available") is not True:
            return None
        return seen(found)
    if code == "GTIN":
        reached = status.get("lifecycle") == "EMPTY_RETURNED"
        found = [e for e in facts.current("GTIN", "ACT") if e["empty_indicator"] != "LADEN"]
        if not (reached or found):
            return None
        first = min(found, key=lambda e: e["event_at"]) if found else None
        if first:
            return first["event_at"], first["observed_at"], ""
        return status.get("lifecycle_at"), status.get("updated_at"), ""
    needed = {"DISC": RANK["DISCHARGED"], "GTOT": RANK["GATED_OUT"]}[code]
    found = event((code,))
    if found is None and rank < needed:
        return None
    if found:
        return found["event_at"], found["observed_at"], ""
    at = status.get("lifecycle_at") if rank == needed else None
    return at, status.get("updated_at"), ""


def milestone(rule: RuleOptions, facts: ContainerFacts, now: datetime, _settings: Settings) -> list[Firing]:
    assert rule.milestone is not None
    state = _milestone_state(rule.milestone, facts)
    if state is None:
        return []
    at, known, detail = state
    if rule.hours is not None and (known is None or hours_between(now, known) > rule.hours):
        return []  # reached long ago: not news (keeps a first deployment from telling old history)
    english, chinese = MILESTONE_NAMES[rule.milestone]
    words = english
    if rule.milestone == "PICK" and at is not None:
        words = f"{english} for {local_text(at, facts.time_zone)}"
    values = {
        "milestone": rule.milestone,
        "milestone_name": english,
        "milestone_name_zh": chinese,
        "milestone_at": iso(at),
        "terminal": facts.status.get("terminal"),
        "last_free_day": iso(facts.status.get("last_free_day")),
        "appointment_at": iso(facts.status.get("appointment_at")),
    }
    return [_firing(rule, facts, f"{rule.milestone}:{detail}" if detail else rule.milestone, words, values)]


# --- vessel delay ------------------------------------------------------------------------------


def _estimate_chain(facts: ContainerFacts) -> list[dict[str, Any]]:
    """The versions of the one arrival estimate the status follows (one natural key)."""
    chains: dict[str, list[dict[str, Any]]] = {}
    for estimate in facts.arrival_estimates:
        chains.setdefault(estimate["natural_key"], []).append(estimate)
    if not chains:
        return []
    eta = facts.status.get("vessel_eta")

    def current(chain: list[dict[str, Any]]) -> dict[str, Any]:
        live = [version for version in chain if version["superseded_by"] is None]
        return max(live or chain, key=lambda version: (version["observed_at"], version["id"]))

    following = [chain for chain in chains.values() if eta is not None and current(chain)["event_at"] == eta]
    candidates = following or list(chains.values())
    return max(candidates, key=lambda chain: (current(chain)["observed_at"], current(chain)["id"]))


def eta_slip(rule: RuleOptions, facts: ContainerFacts, now: datetime, _settings: Settings) -> list[Firing]:
    status = facts.status
    if status.get("vessel_ata") is not None or (status.get("lifecycle_rank") or 0) >= RANK["ARRIVED"]:
        return []  # arrived: the delay is history
    chain = _estimate_chain(facts)
    if not chain:
        return []
    first = min(chain, key=lambda version: (version["observed_at"], version["id"]))
    live = [version for version in chain if version["superseded_by"] is None]
    current = max(live or chain, key=lambda version: (version["observed_at"], version["id"]))
    first_eta, current_eta = first["event_at"], current["event_at"]
    overdue = now > current_eta
    expected = max(current_eta, now)  # not arrived yet: it arrives now at the earliest
    delay = hours_between(expected, first_eta)
    assert rule.hours is not None
    if delay <= rule.hours:
        return []
    zone = facts.time_zone
    words = (
        f"vessel delayed {delay:.0f} h: ETA now {local_text(current_eta, zone)} "
        f"(first {local_text(first_eta, zone)})"
    )
    if overdue:
        words = (
            f"vessel delayed {delay:.0f} h: not arrived, ETA was {local_text(current_eta, zone)} "
            f"(first {local_text(first_eta, zone)})"
        )
    values = {
        "first_eta": iso(first_eta),
        "current_eta": iso(current_eta),
        "delay_hours": round(delay, 2),
        "delay_days": round(delay / 24, 2),
        "overdue": overdue,
        "checked_at": iso(now),
        "vessel": status.get("vessel_name") or current.get("vessel_name"),
        "voyage": status.get("voyage") or current.get("voyage"),
        "estimate_source": current["source"],
    }
    return [_firing(rule, facts, current_eta.isoformat(), words, values)]


# --- last free day -----------------------------------------------------------------------------


def free_time_ends(last_free_day: date, time_zone: str) -> datetime:
    """Free time runs to the end of the last free day in the terminal's own time zone."""
    local_end = datetime.combine(last_free_day + timedelta(days=1), time(0), tzinfo=zone_of(time_zone))
    return local_end.astimezone(UTC)


def lfd_within(rule: RuleOptions, facts: ContainerFacts, now: datetime, _settings: Settings) -> list[Firing]:
    status = facts.status
    if (status.get("lifecycle_rank") or 0) >= RANK["GATED_OUT"]:
        return []
    days = [day for day in (status.get("last_free_day"), status.get("line_last_free_day")) if day]
    if not days:
        return []
    last_free_day = min(days)
    deadline = free_time_ends(last_free_day, facts.time_zone)
    left = hours_between(deadline, now)
    assert rule.hours is not None
    if left > rule.hours:
        return []
    if left >= 0:
        words = f"last free day {last_free_day.isoformat()} ends in {left:.0f} h, not gated out"
    else:
        words = f"last free day {last_free_day.isoformat()} passed {-left:.0f} h ago, not gated out"
    fees = status.get("fees") or {}
    values = {
        "last_free_day": last_free_day.isoformat(),
        "deadline": iso(deadline),
        "hours_left": round(left, 2),
        "demurrage": fees.get("demurrage"),
        "terminal": status.get("terminal"),
    }
    return [_firing(rule, facts, last_free_day.isoformat(), words, values)]


# --- holds -------------------------------------------------------------------------------------


def hold_since(facts: ContainerFacts, facet: str) -> datetime:
    """Since when a hold is present: its HOLD event, or a later release of the facet.

    HOLD events carry no time of their own (the moment first seen); a release seen later and then
    a new hold means held since after that release — the release's moment is the bound we know.
    """
    moments = [
        event["event_at"]
        for code in ("HOLD", "RELS")
        for event in facts.current(code)
        if (event["details"] or {}).get("facet") == facet
    ]
    return max(moments) if moments else facts.status["first_seen_at"]


def hold_longer(rule: RuleOptions, facts: ContainerFacts, now: datetime, _settings: Settings) -> list[Firing]:
    firings = []
    assert rule.hours is not None
    for facet, state in sorted((facts.status.get("holds") or {}).items()):
        if state not in HELD or (rule.facets and facet not in rule.facets):
            continue
        since = hold_since(facts, facet)
        held = hours_between(now, since)
        if held < rule.hours:
            continue
        values = {"facet": facet, "hold_state": state, "since": iso(since), "held_hours": round(held, 2)}
        words = f"{facet} {'inspection' if state == 'inspection' else 'hold'} for {held:.0f} h"
        firings.append(_firing(rule, facts, f"{facet}:{since.isoformat()}", words, values))
    return firings


# --- silence, unknown containers ---------------------------------------------------------------


def stale(rule: RuleOptions, facts: ContainerFacts, now: datetime, settings: Settings) -> list[Firing]:
    last = facts.last_news()
    if last is None:
        return []
    silent = hours_between(now, last)
    threshold = rule.hours if rule.hours is not None else settings.stale_after.total_seconds() / 3600
    if silent < threshold:
        return []
    values = {"last_news": iso(last), "silent_hours": round(silent, 2)}
    return [_firing(rule, facts, last.isoformat(), f"no news for {silent:.0f} h", values)]


def not_found(rule: RuleOptions, facts: ContainerFacts, now: datetime, _settings: Settings) -> list[Firing]:
    answers = {source: words for source, words in (facts.status.get("not_found") or {}).items() if words}
    if not answers:
        return []
    sources = sorted(answers)
    words = f"not found at {', '.join(sources)}"
    return [_firing(rule, facts, ",".join(sources), words, {"not_found": answers})]


@dataclass(frozen=True)
class Settings:
    """What conditions need from the configuration besides the rule itself."""

    stale_after: timedelta = timedelta(hours=24)
    stop_tracking_after: timedelta = timedelta(days=30)


ContainerCondition = Callable[[RuleOptions, ContainerFacts, datetime, Settings], list[Firing]]
CONTAINER_CHECKS: dict[str, ContainerCondition] = {
    "milestone": milestone,
    "eta_slip": eta_slip,
    "lfd_within": lfd_within,
    "hold_longer": hold_longer,
    "stale": stale,
    "not_found": not_found,
}


def strongest(firings: list[Firing], order: dict[str, int]) -> Firing | None:
    """The firing whose light is strongest; among equals, the rule listed first in config."""
    if not firings:
        return None
    return max(firings, key=lambda firing: (LIGHTS[firing.light], -order.get(firing.rule.name, 0)))
