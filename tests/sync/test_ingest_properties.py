"""Properties of ingest over generated histories: arrival order and batching do not change the
final state, and re-ingesting anything already ingested adds nothing."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from quaysync.model import Observation
from store import ContainerStatusRow, EventRow, ObservationRow, ProblemRow, Store, open_store
from sync import IngestSettings, ingest

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
BOXES = ("MSKU1234565", "TGHU6961213")
SETTINGS = IngestSettings.from_patterns(["portal:*", "mail:*"])

# What sources say, in a few versions each: corrections, flip-backs, partial mails, bad numbers.
PORTAL_SNAPSHOTS: tuple[dict[str, str], ...] = (
    {"available": "On Vessel", "customs_release": "HOLD", "vessel": "MSC PAMELA"},
    {
        "available": "Available",
        "discharge_date": "11/20/2026 09:30",
        "customs_release": "RELEASED",
        "last_free_day": "11/25/2026",
        "demurrage": "$0.00",
    },
    {
        "available": "Available",
        "discharge_date": "11/20/2026 10:15",
        "customs_release": "RELEASED",
        "last_free_day": "11/25/2026",
        "demurrage": "$150.00",
    },
    {
        "available": "Delivered",
        "discharge_date": "11/20/2026 09:30",
        "gate_out_date": "11/22/2026 13:00",
        "last_free_day": "11/25/2026",
    },
    {"not_found": "Container could not be found"},
)
MAIL_SNAPSHOTS: tuple[dict[str, str], ...] = (
    {"status": "在船上", "eta": "2026-11-21 08:00"},
    {"status": "在船上", "eta": "2026-11-22 20:00"},
    {"status": "已卸船", "last_free_day": "2026-11-26"},
    {"status": "查验", "customs_release": "查验"},
    {"status": "已还空"},
)
PORTAL_SOURCES = ("portal:a", "portal:b")  # two of equal strength
MAIL_SOURCES = ("mail:c",)


@st.composite
def histories(draw: st.DrawFn) -> list[Observation]:
    observations = []
    for _ in range(draw(st.integers(min_value=1, max_value=14))):
        if observations and draw(st.booleans()):  # a source saying its snapshot again, later or earlier
            said = draw(st.sampled_from(observations))
            hours = draw(st.integers(min_value=0, max_value=30))
            observations.append(
                Observation(
                    said.source,
                    f"{said.source}/{hours}",
                    T0 + timedelta(hours=hours),
                    said.fields,
                    time_zone=said.time_zone,
                )
            )
            continue
        box = draw(st.sampled_from((*BOXES, "MSKU1234566")))  # the last has a wrong check digit
        if draw(st.booleans()):
            source, fields = draw(st.sampled_from(PORTAL_SOURCES)), draw(st.sampled_from(PORTAL_SNAPSHOTS))
            zone = "America/Los_Angeles"
        else:
            source, fields = draw(st.sampled_from(MAIL_SOURCES)), draw(st.sampled_from(MAIL_SNAPSHOTS))
            zone = "Asia/Shanghai"
        hours = draw(st.integers(min_value=0, max_value=30))
        observations.append(
            Observation(
                source,
                f"{source}/{hours}",
                T0 + timedelta(hours=hours),
                {"container_no": box, **fields},
                time_zone=zone,
            )
        )
    return observations


def visible_state(store: Store) -> dict[str, Any]:
    """Everything a reader of the store can see, without row ids and wall-clock stamps."""
    with store.session() as session:
        hashes = dict(session.execute(select(ObservationRow.id, ObservationRow.content_hash)).all())
        observations = sorted(
            (row.content_hash, row.observed_at, row.last_observed_at, row.subject_key)
            for row in session.execute(select(ObservationRow)).scalars()
        )
        rows = list(session.execute(select(EventRow)).scalars())
        version = {row.id: (row.natural_key, row.version_hash) for row in rows}
        events = sorted(
            (
                row.natural_key,
                row.version_hash,
                row.event_code,
                row.classifier,
                row.event_at,
                row.timed,
                row.source,
                row.observed_at,
                hashes.get(row.observation_id),
                version.get(row.superseded_by) if row.superseded_by else None,
            )
            for row in rows
        )
        statuses = {
            row.container_number: {
                name: value
                for name, value in row.model_dump().items()
                # provenance documents may differ in form (a repeated snapshot only moves freshness)
                if name not in ("updated_at", "field_sources")
            }
            for row in session.execute(select(ContainerStatusRow)).scalars()
        }
        problems = sorted(
            (row.source, row.kind, row.reason) for row in session.execute(select(ProblemRow)).scalars()
        )
    return {"observations": observations, "events": events, "statuses": statuses, "problems": problems}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for every example (migrating each time would be slow)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    open_store(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture
def fresh_store(template: Path, tmp_path: Path) -> Iterator[Any]:
    counter = iter(range(10**6))

    def make() -> Store:
        path = tmp_path / f"example-{next(counter)}.db"
        shutil.copyfile(template, path)
        return open_store(f"sqlite:///{path}", migrate=False)

    yield make


def ingest_in_batches(store: Store, observations: list[Observation], sizes: list[int]) -> int:
    added = 0
    position = 0
    for size in sizes:
        batch = observations[position : position + size]
        position += size
        if batch:
            with store.session() as session:
                added += ingest(session, batch, settings=SETTINGS).added
    with store.session() as session:
        added += ingest(session, observations[position:], settings=SETTINGS).added
    return added


EXAMPLES = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@EXAMPLES
@given(history=histories(), seed=st.integers(0, 2**16), sizes=st.lists(st.integers(1, 5), max_size=6))
def test_arrival_order_and_batching_do_not_change_the_final_state(
    fresh_store: Any, history: list[Observation], seed: int, sizes: list[int]
) -> None:
    in_time_order = fresh_store()
    ingest_in_batches(in_time_order, sorted(history, key=lambda observation: observation.observed_at), [])
    shuffled = list(history)
    random.Random(seed).shuffle(shuffled)
    any_order = fresh_store()
    ingest_in_batches(any_order, shuffled, sizes)
    assert visible_state(any_order) == visible_state(in_time_order)


@EXAMPLES
@given(history=histories(), seed=st.integers(0, 2**16))
def test_reingesting_is_a_no_op(fresh_store: Any, history: list[Observation], seed: int) -> None:
    store = fresh_store()
    ingest_in_batches(store, history, [])
    before = visible_state(store)
    replay = list(history)
    random.Random(seed).shuffle(replay)
    assert ingest_in_batches(store, replay[: len(replay) // 2 + 1], [1, 2]) == 0
    assert visible_state(store) == before


@EXAMPLES
@given(history=histories(), seed=st.integers(0, 2**16))
def test_one_batch_says_what_one_observation_at_a_time_says(
    fresh_store: Any, history: list[Observation], seed: int
) -> None:
    """A batch folds repeated snapshots together (sync.ingest: spans and runs); ingesting each
    observation alone, where nothing can be folded, must end in the same state."""
    one_by_one = fresh_store()
    ingest_in_batches(one_by_one, sorted(history, key=lambda observation: observation.observed_at), [1] * 14)
    shuffled = list(history)
    random.Random(seed).shuffle(shuffled)
    one_batch = fresh_store()
    ingest_in_batches(one_batch, shuffled, [])
    assert visible_state(one_batch) == visible_state(one_by_one)
