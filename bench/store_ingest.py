"""Ingest throughput: 200,000 synthetic observations (10,000 containers) into a fresh SQLite store.

Runs the real normalize + merge path (`sync.ingest`) on the batch, then ingests the same batch
again (a replay must add nothing), and compares with a baseline in the same run: a plain per-row
ORM `session.add` + commit-per-batch loop storing the same observation rows. By default the
200,000 observations are one batch, as the issue words it; `--batch-size 5000` splits them
(time order across batches, shuffled within each), which is closer to a worker's small batches
and slower: every batch reloads the state of the containers it touches.

    .venv/bin/python bench/store_ingest.py [--containers 10000] [--per-container 20] [--batch-size 0]

Last line of output: {"observations": N, "per_s": ..., "replay_per_s": ..., "replay_added": 0,
"baseline_per_s": ..., "ratio": ...}
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stdnum import iso6346

from quaysync.model import Observation
from store import ObservationRow, open_store
from sync import IngestSettings, ingest

EPOCH = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def container_numbers(count: int, rng: random.Random) -> list[str]:
    numbers: set[str] = set()
    while len(numbers) < count:
        body = f"{rng.choice(('MSKU', 'CSNU', 'TGHU', 'MEDU'))}{rng.randrange(10**6):06d}"
        numbers.add(body + iso6346.calc_check_digit(body))
    return sorted(numbers)


def synthetic_observations(containers: int, per_container: int, seed: int = 11) -> list[Observation]:
    """What a worker sees: portal scrapes every two hours and a carrier mail twice a day per container.

    Each container is watched for `per_container` statements around its discharge; its state moves
    (on vessel → discharged → customs released → demurrage accruing → gated out), so most scrapes
    repeat the previous snapshot and some change it — the mix a real worker stores. The list is in
    arrival order: time order across batches, shuffled within a batch by the caller.
    """
    rng = random.Random(seed)
    observations: list[Observation] = []
    for index, number in enumerate(container_numbers(containers, rng)):
        vessel = f"VESSEL {index % 40}"
        start = EPOCH + timedelta(minutes=rng.randrange(24 * 60))
        discharge = start + timedelta(hours=rng.randrange(2, 14), minutes=rng.randrange(60))
        released = discharge + timedelta(hours=rng.randrange(1, 12))
        gate_out = discharge + timedelta(hours=rng.randrange(16, 60))
        last_free_day = discharge.date() + timedelta(days=1)
        for step in range(per_container):
            mail = step % 7 == 6
            moment = start + timedelta(hours=2 * step, minutes=7 if mail else 0)
            discharged = moment >= discharge
            fields: dict[str, str | None] = {
                "container_no": number,
                "vessel": vessel,
                "voyage": f"{index % 40:03d}E",
                "mbl_no": f"BL{index:010d}",
            }
            if mail:  # carrier mail: fewer columns, Chinese words, another zone
                fields["status"] = "已卸船" if discharged else "在船上"
                fields["eta"] = (discharge - timedelta(hours=6)).strftime("%Y-%m-%d %H:%M")
                source, zone = "mail:carrier", "Asia/Shanghai"
            else:
                days_late = max(0, (moment.date() - last_free_day).days)
                fields.update(
                    {
                        "container_spec": "40' HIGH CUBE DRY",
                        "carrier": "MSC",
                        "available": "Delivered"
                        if moment >= gate_out
                        else "Available"
                        if moment >= released
                        else "Discharged"
                        if discharged
                        else "On Vessel",
                        "customs_release": "RELEASED" if moment >= released else "HOLD",
                        "discharge_date": discharge.strftime("%m/%d/%Y %H:%M") if discharged else "",
                        "last_free_day": last_free_day.strftime("%m/%d/%Y") if discharged else "",
                        "gate_out_date": gate_out.strftime("%m/%d/%Y %H:%M") if moment >= gate_out else "",
                        "demurrage": f"${days_late * 150}.00" if discharged else "",
                        "yard_location": f"A{index % 50:02d}-{index % 5}"
                        if discharged and moment < gate_out
                        else "",
                    }
                )
                source, zone = "portal:terminal", "UTC"
            observations.append(
                Observation(
                    source, f"bench://{source}/{step}", moment, fields, parser="bench/1", time_zone=zone
                )
            )
    observations.sort(key=lambda observation: observation.observed_at)
    return observations


def batches(observations: list[Observation], size: int) -> Iterator[list[Observation]]:
    shuffle = random.Random(3).shuffle
    size = size or len(observations)  # 0: one batch
    for start in range(0, len(observations), size):
        batch = observations[start : start + size]
        shuffle(batch)  # arrival order within a batch must not matter
        yield batch


def run_ingest(url: str, observations: list[Observation], batch_size: int) -> tuple[float, int]:
    store = open_store(url)
    settings = IngestSettings.from_patterns(["portal:*", "mail:*"])
    added = 0
    started = time.perf_counter()
    for batch in batches(observations, batch_size):
        with store.session() as session:
            added += ingest(session, batch, settings=settings).added
    elapsed = time.perf_counter() - started
    store.dispose()
    return elapsed, added


def run_baseline(url: str, observations: list[Observation], batch_size: int) -> float:
    store = open_store(url)
    started = time.perf_counter()
    now = datetime.now(UTC)
    for batch in batches(observations, batch_size):
        with store.session() as session:
            for observation in batch:
                session.add(
                    ObservationRow(
                        content_hash=observation.content_hash(),
                        source=observation.source,
                        source_ref=observation.source_ref,
                        subject=observation.subject,
                        subject_key=observation.container_number,
                        observed_at=observation.observed_at,
                        last_observed_at=observation.observed_at,
                        parser=observation.parser,
                        time_zone=observation.time_zone,
                        fields=dict(observation.fields),
                        created_at=now,
                    )
                )
    elapsed = time.perf_counter() - started
    store.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=10_000)
    parser.add_argument("--per-container", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=0, help="observations per batch (0: one batch)")
    parser.add_argument("--baseline-sample", type=int, default=0, help="rows the baseline stores (0: all)")
    args = parser.parse_args()

    observations = synthetic_observations(args.containers, args.per_container)
    # The same synthetic rows without repeats: the baseline stores rows, it does not deduplicate.
    unique = list({observation.content_hash(): observation for observation in observations}.values())
    print(f"{len(observations)} observations, {len(unique)} distinct", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="quaysync-bench-") as folder:
        url = f"sqlite:///{folder}/ingest.db"
        seconds, _added = run_ingest(url, observations, args.batch_size)
        print(f"ingest: {seconds:.1f}s", file=sys.stderr)
        replay_seconds, replay_added = run_ingest(url, observations, args.batch_size)
        print(f"replay: {replay_seconds:.1f}s, added {replay_added}", file=sys.stderr)
        sample = unique[: args.baseline_sample] if args.baseline_sample else unique
        baseline_seconds = run_baseline(f"sqlite:///{folder}/baseline.db", sample, args.batch_size)
        print(f"baseline: {baseline_seconds:.1f}s for {len(sample)} rows", file=sys.stderr)
    per_s = len(observations) / seconds
    baseline_per_s = len(sample) / baseline_seconds
    print(
        json.dumps(
            {
                "observations": len(observations),
                "per_s": round(per_s),
                "replay_per_s": round(len(observations) / replay_seconds),
                "replay_added": replay_added,
                "baseline_per_s": round(baseline_per_s),
                "ratio": round(per_s / baseline_per_s, 2),
                "batch_size": args.batch_size or len(observations),
            }
        )
    )


if __name__ == "__main__":
    main()
