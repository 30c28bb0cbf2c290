"""Each condition fires exactly when it should: fed through the real ingest, judged on an injected clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from store import AlertRow, ContainerStatusRow, ProblemRow, RunRow, SourceStateRow, Store
from sync.rules import evaluate_all
from tests.rules.conftest import BOX, LA, SHANGHAI, T0, at, feed, make_config, said

VESSEL = {"vessel": "MSC PAMELA", "voyage": "123E"}
ON_VESSEL = {"available": "On Vessel", "customs_release": "HOLD", **VESSEL}
OTHER = "TGHU9876542"  # a second valid container number


def status(store: Store, number: str = BOX) -> ContainerStatusRow:
    with store.session() as session:
        row = session.get(ContainerStatusRow, number)
        assert row is not None
        return row


def alerts(store: Store, rule: str | None = None) -> list[AlertRow]:
    with store.session() as session:
        query = select(AlertRow).order_by(AlertRow.id)
        if rule:
            query = query.where(AlertRow.rule == rule)
        return list(session.execute(query).scalars())


def open_rules(store: Store) -> set[str]:
    return {alert.rule for alert in alerts(store) if alert.state == "open"}


def rule(name: str, when: str, **options: Any) -> dict[str, Any]:
    return {"name": name, "when": when, **options}


# --- milestones ---------------------------------------------------------------------------------

MILESTONE_RULES = [
    rule(f"m-{code}", "milestone", milestone=code, light="green")
    for code in ("DISC", "AVPU", "CUSR", "PICK", "GTOT", "GTIN")
]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"discharge_date": "11/18/2026 09:30"}, {"m-DISC"}),
        ({"available": "Available"}, {"m-AVPU", "m-DISC"}),
        ({"customs_release": "RELEASED"}, {"m-CUSR"}),
        ({"appointment_date": "11/20/2026 10:00"}, {"m-PICK"}),
        ({"gate_out_date": "11/19/2026 10:00"}, {"m-GTOT", "m-DISC"}),
        ({"empty_return_date": "11/21/2026 10:00"}, {"m-GTIN", "m-GTOT", "m-DISC"}),
    ],
)
def test_a_milestone_fires_when_reached_and_only_then(
    sqlite_store: Store, tmp_path: Path, fields: dict[str, str], expected: set[str]
) -> None:
    config = make_config(tmp_path, MILESTONE_RULES)
    feed(sqlite_store, config, [said("portal:t", 0, ON_VESSEL)], 0)
    assert alerts(sqlite_store) == []
    feed(sqlite_store, config, [said("portal:t", 2, {**ON_VESSEL, **fields})], 2)
    assert open_rules(sqlite_store) == expected
    evaluate_all(sqlite_store, config, at(3))  # the clock finds nothing new
    assert len(alerts(sqlite_store)) == len(expected)


def test_an_appointment_rebooked_is_a_new_instance(sqlite_store: Store, tmp_path: Path) -> None:
    config = make_config(
        tmp_path, [rule("booked", "milestone", milestone="appointment_confirmed", cooldown="0s")]
    )
    feed(sqlite_store, config, [said("portal:t", 0, {"appointment_date": "11/20/2026 10:00"})], 0)
    feed(sqlite_store, config, [said("portal:t", 1, {"appointment_date": "11/21/2026 15:00"})], 1)
    booked = alerts(sqlite_store, "booked")
    assert [alert.state for alert in booked] == ["resolved", "open"]
    assert "2026-11-21 15:00 America/Los_Angeles" in booked[1].reason


def test_a_milestone_window_skips_old_history(sqlite_store: Store, tmp_path: Path) -> None:
    feed(
        sqlite_store,
        make_config(tmp_path, []),
        [said("portal:t", 0, {"discharge_date": "11/18/2026 09:30"})],
        0,
    )
    config = make_config(tmp_path, [rule("discharged", "milestone", milestone="DISC", hours=24)])
    evaluate_all(sqlite_store, config, at(25))
    assert alerts(sqlite_store) == []
    evaluate_all(sqlite_store, config, at(23))
    assert open_rules(sqlite_store) == {"discharged"}


# --- vessel delay -------------------------------------------------------------------------------

DELAY = rule("delayed", "eta_slip", hours=48, light="red")


def eta(hours: float, text: str) -> Any:
    return said("mail:carrier", hours, {**VESSEL, "eta": text}, zone=SHANGHAI)


def test_an_eta_slip_fires_beyond_the_threshold_not_at_it(sqlite_store: Store, tmp_path: Path) -> None:
    config = make_config(tmp_path, [DELAY])
    feed(sqlite_store, config, [eta(0, "2026-11-20 08:00")], 0)
    feed(sqlite_store, config, [eta(10, "2026-11-22 08:00")], 10)  # exactly 48 h later: not beyond
    assert alerts(sqlite_store) == []
    assert status(sqlite_store).traffic_light == "green"
    feed(sqlite_store, config, [eta(20, "2026-11-22 09:00")], 20)  # 49 h
    (alert,) = alerts(sqlite_store)
    assert alert.dedupe_key == "delayed|eta_slip:MSKU1234565:2026-11-22T01:00:00+00:00"
    assert alert.context["facts"]["delay_hours"] == 49
    assert alert.context["facts"]["first_eta"] == "2026-11-20T00:00:00+00:00"
    row = status(sqlite_store)
    assert (row.traffic_light, row.light_rule) == ("red", "delayed")
    assert "2026-11-22 09:00 Asia/Shanghai" in (row.light_reason or "")  # the container's zone


def test_a_further_slip_waits_for_the_cooldown(any_store: Store, tmp_path: Path) -> None:
    config = make_config(tmp_path, [{**DELAY, "cooldown": "12h"}])
    feed(any_store, config, [eta(0, "2026-11-20 08:00")], 0)
    feed(any_store, config, [eta(1, "2026-11-23 08:00")], 1)
    feed(any_store, config, [eta(2, "2026-11-24 08:00")], 2)  # slips again within the cooldown
    assert [alert.state for alert in alerts(any_store)] == ["resolved"]
    assert status(any_store).traffic_light == "red"  # the light does not wait
    evaluate_all(any_store, config, at(12.9))  # the first alert was raised at 1 h
    assert [alert.state for alert in alerts(any_store)] == ["resolved"]
    evaluate_all(any_store, config, at(13))
    assert [alert.state for alert in alerts(any_store)] == ["resolved", "open"]
    assert alerts(any_store)[1].dedupe_key.endswith("2026-11-24T00:00:00+00:00")


def test_an_eta_passing_without_arrival_is_a_delay(sqlite_store: Store, tmp_path: Path) -> None:
    config = make_config(tmp_path, [DELAY])
    feed(sqlite_store, config, [eta(0, "2026-11-20 08:00")], 0)  # 2026-11-20 00:00 UTC = T0 + 46 h
    evaluate_all(sqlite_store, config, at(46 + 48))
    assert alerts(sqlite_store) == []
    evaluate_all(sqlite_store, config, at(46 + 48.5))
    (alert,) = alerts(sqlite_store)
    assert alert.context["facts"]["overdue"] is True
    assert "not arrived" in alert.reason
    feed(
        sqlite_store,
        config,
        [said("mail:carrier", 95, {**VESSEL, "ata": "2026-11-22 09:00"}, zone=SHANGHAI)],
        95,
    )
    assert alerts(sqlite_store)[0].state == "resolved"
    assert status(sqlite_store).traffic_light == "green"


def test_a_vessel_schedule_slip_reaches_the_containers_on_board(sqlite_store: Store, tmp_path: Path) -> None:
    config = make_config(tmp_path, [DELAY])
    feed(sqlite_store, config, [said("portal:t", 0, ON_VESSEL)], 0)
    call = {**VESSEL, "terminal": "T1"}
    feed(
        sqlite_store,
        config,
        [said("portal:sched", 1, {**call, "eta": "11/20/2026 08:00"}, subject="vessel_call")],
        1,
    )
    feed(
        sqlite_store,
        config,
        [said("portal:sched", 2, {**call, "eta": "11/23/2026 08:00"}, subject="vessel_call")],
        2,
    )
    (alert,) = alerts(sqlite_store)
    assert alert.subject == BOX
    assert alert.context["facts"]["delay_hours"] == 72


# --- last free day ------------------------------------------------------------------------------


def test_lfd_within_counts_to_the_end_of_the_day_in_the_containers_zone(
    any_store: Store, tmp_path: Path
) -> None:
    config = make_config(tmp_path, [rule("lfd", "lfd_within", hours=24)])
    discharged = {
        "available": "Available",
        "discharge_date": "11/18/2026 09:30",
        "last_free_day": "11/25/2026",
    }
    feed(any_store, config, [said("portal:t", 0, discharged, zone=LA)], 0)
    feed(any_store, config, [said("portal:t", 0, discharged, number=OTHER, zone=SHANGHAI)], 0)
    # free time ends 2026-11-26 00:00 local: 08:00 UTC in Los Angeles, 2026-11-25 16:00 UTC in Shanghai
    evaluate_all(any_store, config, at(158 - 0.01))
    assert alerts(any_store) == []
    evaluate_all(any_store, config, at(158))
    assert [alert.subject for alert in alerts(any_store)] == [OTHER]
    evaluate_all(any_store, config, at(174 - 0.01))
    assert len(alerts(any_store)) == 1
    evaluate_all(any_store, config, at(174))
    la_alert = alerts(any_store)[1]
    assert (la_alert.subject, la_alert.dedupe_key) == (BOX, f"lfd|lfd_within:{BOX}:2026-11-25")
    assert la_alert.context["facts"]["deadline"] == "2026-11-26T08:00:00+00:00"
    # gated out: the condition is over, and its alert resolved
    feed(
        any_store,
        config,
        [said("portal:t", 175, {**discharged, "gate_out_date": "11/25/2026 07:00"})],
        175,
    )
    assert alerts(any_store)[1].state == "resolved"


# --- holds, silence, unknown containers ---------------------------------------------------------


def test_a_hold_fires_after_n_hours_and_clears_on_release(sqlite_store: Store, tmp_path: Path) -> None:
    config = make_config(tmp_path, [rule("held", "hold_longer", hours=48, facets=["customs"], light="red")])
    feed(sqlite_store, config, [said("portal:t", 0, ON_VESSEL)], 0)
    evaluate_all(sqlite_store, config, at(47.9))
    assert alerts(sqlite_store) == []
    evaluate_all(sqlite_store, config, at(48))
    (alert,) = alerts(sqlite_store)
    assert alert.reason == "customs hold for 48 h"
    assert status(sqlite_store).traffic_light == "red"
    feed(sqlite_store, config, [said("portal:t", 50, {**ON_VESSEL, "customs_release": "RELEASED"})], 50)
    assert alerts(sqlite_store)[0].state == "resolved"
    assert status(sqlite_store).traffic_light == "green"


def test_stale_and_stop_tracking(any_store: Store, tmp_path: Path) -> None:
    config = make_config(tmp_path, [rule("quiet", "stale", hours=24)], sync={"stop_tracking_after": "3d"})
    feed(any_store, config, [said("portal:t", 0, ON_VESSEL)], 0)
    evaluate_all(any_store, config, at(23.9))
    assert (alerts(any_store), status(any_store).traffic_light) == ([], "green")
    evaluate_all(any_store, config, at(24))
    assert open_rules(any_store) == {"quiet"}
    assert (status(any_store).traffic_light, status(any_store).tracking) == ("amber", "active")
    evaluate_all(any_store, config, at(72))
    assert status(any_store).tracking == "stale"
    feed(any_store, config, [said("portal:t", 73, {**ON_VESSEL, "yard_location": "A1"})], 73)
    row = status(any_store)
    assert (row.tracking, row.traffic_light) == ("active", "green")
    assert alerts(any_store)[0].state == "resolved"


def test_without_rules_a_silent_container_turns_amber(sqlite_store: Store, tmp_path: Path) -> None:
    config = make_config(tmp_path, [], sync={"stale_after": "12h"})
    feed(sqlite_store, config, [said("portal:t", 0, ON_VESSEL)], 0)
    assert (status(sqlite_store).traffic_light, status(sqlite_store).light_rule) == ("green", None)
    evaluate_all(sqlite_store, config, at(13))
    row = status(sqlite_store)
    assert (row.traffic_light, row.light_rule, row.light_reason) == ("amber", None, "no news for 13 h")


def test_not_found_at_the_terminal(sqlite_store: Store, tmp_path: Path) -> None:
    config = make_config(tmp_path, [rule("unknown", "not_found", light="red")])
    feed(sqlite_store, config, [said("portal:t", 0, {"not_found": "No record found"})], 0)
    (alert,) = alerts(sqlite_store)
    assert (alert.reason, alert.context["facts"]["not_found"]) == (
        "not found at portal:t",
        {"portal:t": "No record found"},
    )
    feed(sqlite_store, config, [said("portal:t", 1, ON_VESSEL)], 1)
    assert alerts(sqlite_store)[0].state == "resolved"


# --- sources ------------------------------------------------------------------------------------


def test_a_blocked_account_opens_a_review_item_and_lights_its_containers(
    any_store: Store, tmp_path: Path
) -> None:
    config = make_config(
        tmp_path,
        [
            rule(
                "blocked",
                "source_blocked",
                kinds=["captcha", "account_locked", "maintenance"],
                hours=1,
                review=True,
                sources=["portal:*"],
            )
        ],
    )
    feed(any_store, config, [said("portal:sandbox", 0, ON_VESSEL)], 0)
    feed(any_store, config, [said("mail:carrier", 0, ON_VESSEL, number=OTHER)], 0)
    with any_store.session() as session:
        session.add(
            RunRow(
                source="portal:sandbox",
                kind="scrape",
                started_at=at(1),
                ended_at=at(1.01),
                outcome="blocked",
                errors=[{"kind": "blocked", "message": "CAPTCHA after login", "subject": "ops"}],
                evidence=["var/evidence/run-9/captcha.png"],
            )
        )
        session.add(
            SourceStateRow(
                source="portal:sandbox",
                key="blocked:ops",
                value={
                    "kind": "captcha",
                    "reason": "CAPTCHA after login",
                    "action": "sign in to sandbox as ops in a browser and solve the CAPTCHA",
                    "since": at(1).isoformat(),
                    "evidence": ["var/evidence/run-9/captcha.html"],
                },
                updated_at=at(1),
            )
        )
        session.add(  # a maintenance window that is over by now
            SourceStateRow(
                source="portal:sandbox",
                key="blocked:ops2",
                value={"kind": "maintenance", "since": at(0).isoformat(), "until": at(1.5).isoformat()},
                updated_at=at(0),
            )
        )
    evaluate_all(any_store, config, at(1.5))
    assert alerts(any_store) == []
    evaluate_all(any_store, config, at(2))
    (alert,) = alerts(any_store)
    assert (alert.kind, alert.subject, alert.reason) == (
        "review",
        "portal:sandbox",
        "portal:sandbox account ops blocked (captcha)",
    )
    assert alert.context["evidence"] == ["var/evidence/run-9/captcha.html", "var/evidence/run-9/captcha.png"]
    assert any("CAPTCHA after login" in line for line in alert.context["tried"])
    assert alert.context["facts"]["action"].endswith("solve the CAPTCHA")
    assert alert.context["affected_containers"] == [BOX]
    assert (status(any_store).traffic_light, status(any_store).light_rule) == ("amber", "blocked")
    assert status(any_store, OTHER).traffic_light == "green"  # mail is not blocked
    with any_store.session() as session:
        session.execute(delete(SourceStateRow))
    evaluate_all(any_store, config, at(3))
    assert alerts(any_store)[0].state == "resolved"
    assert status(any_store).traffic_light == "green"


def _run(session: Any, run_id: int, outcome: str, hours: float) -> None:
    session.add(
        RunRow(
            id=run_id,
            source="portal:x",
            kind="scrape",
            started_at=at(hours),
            ended_at=at(hours),
            outcome=outcome,
            evidence=[f"var/evidence/run-{run_id}/page.html"] if outcome == "layout_changed" else [],
        )
    )


def test_a_layout_change_raises_once_per_streak(any_store: Store, tmp_path: Path) -> None:
    config = make_config(tmp_path, [rule("layout", "layout_changed", light="red", review=True)])
    with any_store.session() as session:
        _run(session, 1, "ok", 0)
        _run(session, 2, "layout_changed", 1)
    with any_store.session() as session:
        _run(session, 3, "layout_changed", 2)
    evaluate_all(any_store, config, at(3))
    evaluate_all(any_store, config, at(4))
    (alert,) = alerts(any_store)
    assert alert.dedupe_key == "layout|layout_changed:portal:x:2"
    assert alert.context["evidence"][0] == "var/evidence/run-3/page.html"
    with any_store.session() as session:
        _run(session, 4, "ok", 5)
    evaluate_all(any_store, config, at(6))
    assert alerts(any_store)[0].state == "resolved"


def test_input_set_aside_opens_a_review_item(any_store: Store, tmp_path: Path) -> None:
    config = make_config(
        tmp_path, [rule("set-aside", "problem", kinds=["quarantined", "low_confidence"], review=True)]
    )
    with any_store.session() as session:
        for kind, hours in (("quarantined", 1), ("bad_input", 1), ("low_confidence", -30)):
            session.add(
                ProblemRow(
                    source="mail:carrier-inbox",
                    source_ref="<m1@carrier>",
                    kind=kind,
                    reason="no parser template for this layout",
                    raw={},
                    created_at=at(hours),
                )
            )
    evaluate_all(any_store, config, at(2))
    (alert,) = alerts(any_store)  # bad_input is not listed; the low-confidence one is older than 24 h
    assert (alert.kind, alert.subject) == ("review", "mail:carrier-inbox")
    assert alert.context["facts"]["source_ref"] == "<m1@carrier>"
    evaluate_all(any_store, config, at(30))
    assert alerts(any_store)[0].state == "open"  # a moment, not a state: a person closes it


# --- lights -------------------------------------------------------------------------------------


def test_the_strongest_light_wins_and_ties_go_to_the_first_rule(sqlite_store: Store, tmp_path: Path) -> None:
    discharged = {
        "available": "Available",
        "discharge_date": "11/18/2026 09:30",
        "last_free_day": "11/19/2026",
        "customs_release": "HOLD",
    }
    rules = [
        rule("lfd", "lfd_within", hours=72, light="amber"),
        rule("held", "hold_longer", hours=0, light="amber", reason="held since {since}"),
        rule("disc", "milestone", milestone="DISC", light="green"),
    ]
    feed(sqlite_store, make_config(tmp_path, rules), [said("portal:t", 0, discharged)], 0)
    assert (status(sqlite_store).traffic_light, status(sqlite_store).light_rule) == ("amber", "lfd")
    rules[1]["light"] = "red"
    evaluate_all(sqlite_store, make_config(tmp_path, rules), at(1))
    row = status(sqlite_store)
    assert (row.traffic_light, row.light_rule, row.light_reason) == (
        "red",
        "held",
        f"held since {T0.isoformat()}",
    )
    assert len(alerts(sqlite_store)) == 3


def test_rules_check_dry_run_writes_nothing(sqlite_store: Store, tmp_path: Path) -> None:
    from sync.rules import RuleEngine

    config = make_config(tmp_path, [rule("quiet", "stale", hours=1)])
    feed(sqlite_store, make_config(tmp_path, []), [said("portal:t", 0, ON_VESSEL)], 0)
    report = RuleEngine(config).evaluate_all(sqlite_store, at(2), dry_run=True, detail=True)
    assert report.lights[BOX]["traffic_light"] == "amber"
    assert [action["state"] for action in report.actions] == ["opened"]
    assert alerts(sqlite_store) == []
    assert status(sqlite_store).traffic_light == "green"


def test_a_failing_rule_evaluation_never_loses_the_ingested_batch(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from sync.rules import RuleEngine

    config = make_config(tmp_path, [DELAY])

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a rules bug")

    feed(sqlite_store, config, [eta(0, "2026-11-20 08:00")], 0)
    with monkeypatch.context() as patch:
        patch.setattr(RuleEngine, "evaluate_containers", broken)
        report = feed(sqlite_store, config, [eta(1, "2026-11-23 08:00")], 1)
    assert report.added_events == 1 and "rules after ingest failed" in caplog.text
    assert (
        status(sqlite_store).traffic_light == "green" and alerts(sqlite_store) == []
    )  # the rules' part undone
    evaluate_all(sqlite_store, config, at(2))  # the clock catches up
    assert open_rules(sqlite_store) == {"delayed"} and status(sqlite_store).traffic_light == "red"
