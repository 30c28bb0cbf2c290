"""normalize + merge into a real store, the same tests on SQLite and PostgreSQL."""

from __future__ import annotations

import gc
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from quaysync.model import Observation
from store import ContainerStatusRow, EventRow, ObservationRow, ProblemRow, ShipmentRow, Store, VesselCallRow
from sync import IngestReport, IngestSettings, ingest

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
BOX = "MSKU1234565"
LA = "America/Los_Angeles"
SETTINGS = IngestSettings.from_patterns(["portal:*", "mail:*"])


def said(
    source: str, hours: float, fields: dict[str, str | None], *, subject: str = "container"
) -> Observation:
    return Observation(
        source,
        f"{source}/ref",
        T0 + timedelta(hours=hours),
        {"container_no": BOX, **fields} if subject == "container" else fields,
        subject=subject,
        time_zone=LA,  # type: ignore[arg-type]
    )


def run(store: Store, observations: Sequence[Observation]) -> IngestReport:
    with store.session() as session:
        return ingest(session, observations, settings=SETTINGS)


def status(store: Store, number: str = BOX) -> ContainerStatusRow:
    with store.session() as session:
        row = session.get(ContainerStatusRow, number)
        assert row is not None
        return row


def events(store: Store, code: str) -> list[EventRow]:
    with store.session() as session:
        return list(
            session.execute(
                select(EventRow).where(EventRow.event_code == code).order_by(EventRow.id)
            ).scalars()
        )


ON_VESSEL = {"available": "On Vessel", "customs_release": "HOLD", "vessel": "MSC PAMELA", "voyage": "123E"}
DISCHARGED = {
    "available": "Available",
    "discharge_date": "11/20/2026 09:30",
    "customs_release": "RELEASED",
    "last_free_day": "11/25/2026",
    "yard_location": "A01-11",
    "vessel": "MSC PAMELA",
    "voyage": "123E",
    "mbl_no": "MEDU1234567890",
}


def test_a_container_moves_through_its_lifecycle(any_store: Store) -> None:
    run(any_store, [said("portal:t", 0, ON_VESSEL)])
    first = status(any_store)
    assert (first.lifecycle, first.available, first.holds) == ("IN_TRANSIT", False, {"customs": "hold"})
    report = run(any_store, [said("portal:t", 4, DISCHARGED)])
    assert report.changed_containers == {BOX}
    now = status(any_store)
    assert now.lifecycle == "DISCHARGED"
    assert now.lifecycle_at == datetime(2026, 11, 20, 17, 30, tzinfo=UTC)  # 09:30 in Los Angeles
    assert now.available is True
    assert now.holds == {"customs": "released"}
    assert now.last_free_day.isoformat() == "2026-11-25"
    assert now.yard_location == "A01-11"
    assert now.bill_of_lading == "MEDU1234567890"
    assert now.time_zone == LA
    with any_store.session() as session:
        assert session.get(ShipmentRow, "MEDU1234567890") is not None


def test_reingesting_adds_nothing(any_store: Store) -> None:
    batch = [
        said("portal:t", 0, ON_VESSEL),
        said("portal:t", 4, DISCHARGED),
        said("mail:c", 5, {"status": "已卸船"}),
    ]
    assert run(any_store, batch).added > 0
    before = status(any_store)
    again = run(any_store, list(reversed(batch)))
    assert again.added == 0
    assert again.changed_containers == set()
    assert status(any_store).updated_at == before.updated_at


def test_an_older_observation_never_moves_a_container_backwards(any_store: Store) -> None:
    run(any_store, [said("portal:t", 4, DISCHARGED)])
    run(any_store, [said("portal:t", 0, ON_VESSEL)])  # arrives late
    row = status(any_store)
    assert row.lifecycle == "DISCHARGED"
    assert row.available is True
    assert row.holds == {"customs": "released"}


def test_a_repeated_snapshot_only_refreshes_freshness(any_store: Store) -> None:
    run(any_store, [said("portal:t", 4, DISCHARGED)])
    before = status(any_store)
    report = run(any_store, [said("portal:t", 6, DISCHARGED)])
    after = status(any_store)
    assert report.added == 0 and report.changed_containers == set()
    assert after.freshness["portal:t"][0] == (T0 + timedelta(hours=6)).isoformat()
    assert after.updated_at == before.updated_at
    with any_store.session() as session:
        stored = session.execute(select(ObservationRow)).scalars().one()
    assert stored.last_observed_at == T0 + timedelta(hours=6)


def test_a_correction_supersedes_and_keeps_the_previous_version(any_store: Store) -> None:
    run(any_store, [said("portal:t", 4, DISCHARGED)])
    corrected = {**DISCHARGED, "discharge_date": "11/20/2026 10:15"}
    run(any_store, [said("portal:t", 5, corrected)])
    versions = events(any_store, "DISC")
    assert len(versions) == 2
    old, new = versions
    assert new.superseded_by is None and old.superseded_by == new.id
    assert status(any_store).lifecycle_at == datetime(2026, 11, 20, 18, 15, tzinfo=UTC)


def test_a_flip_back_makes_the_restated_version_current_again(any_store: Store) -> None:
    corrected = {**DISCHARGED, "discharge_date": "11/20/2026 10:15"}
    run(any_store, [said("portal:t", 4, DISCHARGED)])
    run(any_store, [said("portal:t", 5, corrected)])
    run(any_store, [said("portal:t", 6, DISCHARGED)])  # the portal says 09:30 again
    current = [event for event in events(any_store, "DISC") if event.superseded_by is None]
    assert [event.event_at for event in current] == [datetime(2026, 11, 20, 17, 30, tzinfo=UTC)]


def test_eta_changes_keep_their_history(any_store: Store) -> None:
    for hours, eta in ((0, "2026-11-22 08:00"), (10, "2026-11-23 20:00"), (20, "2026-11-24 06:00")):
        run(any_store, [said("mail:c", hours, {"eta": eta, "vessel": "MSC PAMELA"})])
    arrivals = events(any_store, "ARRI")
    assert len(arrivals) == 3
    assert [event.superseded_by is None for event in arrivals] == [False, False, True]
    assert status(any_store).vessel_eta == datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def _current_discharge(store: Store) -> list[datetime]:
    return [event.event_at for event in events(store, "DISC") if event.superseded_by is None]


def test_equal_sources_differing_only_in_an_event_time_the_later_restatement_wins(any_store: Store) -> None:
    """Two terminals of equal strength agree on every status field but the discharge time: the
    one that says its snapshot again later is current, though the repeat changes no field."""
    later = {**DISCHARGED, "discharge_date": "11/20/2026 10:15"}
    run(any_store, [said("portal:a", 4, DISCHARGED)])
    run(any_store, [said("portal:b", 5, later)])
    assert _current_discharge(any_store) == [datetime(2026, 11, 20, 18, 15, tzinfo=UTC)]
    run(any_store, [said("portal:a", 6, DISCHARGED)])
    assert _current_discharge(any_store) == [datetime(2026, 11, 20, 17, 30, tzinfo=UTC)]


def test_two_snapshots_of_one_moment_then_one_said_again(any_store: Store) -> None:
    """A source giving two ETAs at the same moment, then one of them again: that one is current,
    whichever of the two the content hashes made the source's latest."""
    for first, again in (("2026-11-21 08:00", "2026-11-22 20:00"), ("2026-11-22 20:00", "2026-11-21 08:00")):
        box = "TGHU6961213" if first.startswith("2026-11-21") else BOX
        mail = [
            Observation("mail:c", "<m>", T0 + timedelta(hours=hours), {"container_no": box, "eta": eta})
            for hours, eta in ((0, first), (0, again), (1, again))
        ]
        for observation in mail:
            run(any_store, [observation])
        with any_store.session() as session:
            current = (
                session.execute(
                    select(EventRow.event_at).where(
                        EventRow.container_number == box,
                        EventRow.event_code == "ARRI",
                        EventRow.superseded_by.is_(None),
                    )
                )
                .scalars()
                .all()
            )
        assert current == [datetime.fromisoformat(again).replace(tzinfo=UTC)]


def test_a_repeat_beside_a_weaker_disagreeing_source_only_refreshes(any_store: Store) -> None:
    """The mail disagrees with the terminal on the last free day; the terminal repeating its
    snapshot cannot change who wins (strength decides, not recency), so it only refreshes."""
    run(any_store, [said("portal:t", 4, DISCHARGED), said("mail:c", 5, {"last_free_day": "2026-11-27"})])
    before = status(any_store)
    report = run(any_store, [said("portal:t", 6, DISCHARGED)])
    after = status(any_store)
    assert report.added == 0 and report.changed_containers == set()
    assert after.freshness["portal:t"][0] == (T0 + timedelta(hours=6)).isoformat()
    assert (after.last_free_day, after.disagreements) == (before.last_free_day, before.disagreements)


def test_source_precedence_and_a_visible_disagreement(any_store: Store) -> None:
    run(any_store, [said("portal:t", 4, DISCHARGED), said("mail:c", 6, {"last_free_day": "2026-11-27"})])
    row = status(any_store)
    assert row.last_free_day.isoformat() == "2026-11-25"  # the terminal's word wins over the newer mail
    assert row.disagreements["last_free_day"] == {"mail:c": "2026-11-27", "portal:t": "2026-11-25"}


def test_invalid_numbers_are_reported_never_stored_as_valid(any_store: Store) -> None:
    bad = Observation("mail:c", "<m1>", T0, {"container_no": "MSKU1234566", "status": "可提"})
    report = run(any_store, [bad, said("portal:t", 0, ON_VESSEL)])
    assert [problem.reason for problem in report.problems] == [
        "'MSKU1234566' is not a valid ISO 6346 container number: check digit is 6, expected 5"
    ]
    with any_store.session() as session:
        assert session.get(ContainerStatusRow, "MSKU1234566") is None
        problem = session.execute(select(ProblemRow)).scalars().one()
        assert (problem.kind, problem.subject_key, problem.source_ref) == ("business", "MSKU1234566", "<m1>")
    assert run(any_store, [bad]).problems == []  # reported once, not at every replay


def test_not_found_is_recorded_per_source_and_cleared_when_found(any_store: Store) -> None:
    run(any_store, [said("portal:t", 0, {"not_found": "Container could not be found"})])
    assert status(any_store).not_found == {"portal:t": "Container could not be found"}
    run(any_store, [said("portal:t", 2, ON_VESSEL)])
    assert status(any_store).not_found == {}


def test_a_vessel_schedule_gives_its_containers_their_eta(any_store: Store) -> None:
    run(any_store, [said("portal:t", 0, ON_VESSEL)])
    schedule = {
        "vessel": "MSC PAMELA",
        "voyage": "123E",
        "eta": "11/21/2026 06:00",
        "berth": "B04",
        "vessel_status": "EXPECTED",
    }
    run(any_store, [said("portal:t", 1, schedule, subject="vessel_call")])
    assert status(any_store).vessel_eta == datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
    with any_store.session() as session:
        call = session.execute(select(VesselCallRow)).scalars().one()
    assert (call.vessel_name, call.voyage, call.berth, call.status) == (
        "MSC PAMELA",
        "123E",
        "B04",
        "EXPECTED",
    )


def test_empty_return_ends_tracking(any_store: Store) -> None:
    run(any_store, [said("portal:t", 4, DISCHARGED)])
    gone = {**DISCHARGED, "available": "Delivered", "gate_out_date": "11/21/2026 10:00"}
    run(any_store, [said("portal:t", 30, gone)])
    assert (status(any_store).lifecycle, status(any_store).available) == ("GATED_OUT", False)
    run(any_store, [said("mail:c", 80, {"status": "已还空"})])
    row = status(any_store)
    assert (row.lifecycle, row.tracking) == ("EMPTY_RETURNED", "final")


def test_a_large_batch_pauses_the_cyclic_collector_and_restores_it(any_store: Store) -> None:
    seen: list[bool] = []
    settings = IngestSettings(SETTINGS.precedence, hooks=(lambda _s, _r, _n: seen.append(gc.isenabled()),))
    small = [said("portal:t", 0, ON_VESSEL)]
    large = [said("portal:t", hours / 100, ON_VESSEL) for hours in range(2_000)]
    was_on = gc.isenabled()
    try:
        gc.enable()
        for batch in (small, large):
            with any_store.session() as session:
                ingest(session, batch, settings=settings)
        assert seen == [True, False] and gc.isenabled()
        gc.disable()  # a caller that turned it off keeps it off
        with any_store.session() as session:
            ingest(session, large, settings=settings)
        assert not gc.isenabled()
    finally:
        (gc.enable if was_on else gc.disable)()
