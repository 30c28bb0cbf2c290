"""The worker in-process: ticks skip paused, blocked, busy and out-of-hours sources; tracking goes
stale and shows; /health and /metrics answer from the running worker."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from bots.blocked import record_blocked
from bots.targets import active_containers
from quaysync.config import Config
from quaysync.errors import CaptchaRequired, LoginRejected
from store import ContainerStatusRow, RunRow, Store
from store.locks import SourceLocks, live_holder
from worker.control import set_paused
from worker.health import health_document


def run_count(store: Store, source: str) -> int:
    with store.session() as session:
        return session.execute(select(func.count()).where(RunRow.source == source)).scalar_one()


def test_health_and_metrics_answer_from_the_running_worker(
    orders_config: Config, orders_store: Store, make_worker: Callable[..., Any]
) -> None:
    worker = make_worker(orders_config)
    url = worker.api_url
    assert url is not None
    health = httpx.get(f"{url}health", timeout=10)
    assert health.status_code == 200, health.text
    document = health.json()
    assert document["status"] == "ok" and document["scheduler"]["alive"] is True
    assert {item["source"] for item in document["sources"]} == {"import:orders", "portal:terminal"}
    assert {job["id"] for job in document["scheduler"]["jobs"]} >= {
        "import:orders",
        "portal:terminal",
        "rules",
    }

    outcome = worker.fire("import:orders", "manual")
    assert outcome is not None and outcome.outcome == "ok" and outcome.counts["containers"] == 2
    metrics = httpx.get(f"{url}metrics", timeout=10)
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert 'quaysync_runs_total{kind="import",outcome="ok",source="import:orders"} 1.0' in text
    assert "quaysync_scheduler_up 1.0" in text
    assert 'quaysync_containers{tracking="active"} 2.0' in text
    assert 'quaysync_observations_stored_total{source="import:orders"} 2.0' in text
    assert "quaysync_browser_rss_bytes" in text and "process_resident_memory_bytes" in text

    again = httpx.get(f"{url}health", timeout=10).json()
    orders = next(item for item in again["sources"] if item["source"] == "import:orders")
    assert orders["last_run"]["outcome"] == "ok" and orders["last_success_at"] is not None

    worker.scheduler.shutdown(wait=False)  # the scheduler dies: the worker is not doing its job
    down = httpx.get(f"{url}health", timeout=10)
    assert down.status_code == 503 and down.json()["status"] == "down"


def test_a_paused_source_is_skipped_until_resumed(
    orders_config: Config, orders_store: Store, make_worker: Callable[..., Any]
) -> None:
    worker = make_worker(orders_config, serve_api=False)
    assert set_paused(orders_store, "import:orders", True)
    assert worker.fire("import:orders") is None
    assert run_count(orders_store, "import:orders") == 0
    assert 'reason="paused",source="import:orders"} 1.0' in worker.metrics.exposition().decode()
    assert set_paused(orders_store, "import:orders", False)
    outcome = worker.fire("import:orders")
    assert outcome is not None and outcome.outcome == "ok"
    assert run_count(orders_store, "import:orders") == 1


def test_a_source_running_elsewhere_is_not_run_again(
    orders_config: Config, orders_store: Store, make_worker: Callable[..., Any]
) -> None:
    worker = make_worker(orders_config, serve_api=False)
    other = SourceLocks(orders_store, "run-now")  # e.g. `run.py run-now import:orders` meanwhile
    with other.hold("import:orders"):
        assert live_holder(orders_store, "import:orders")["owner"] == "run-now"
        assert worker.fire("import:orders") is None
        assert run_count(orders_store, "import:orders") == 0
    assert live_holder(orders_store, "import:orders") is None
    assert worker.fire("import:orders") is not None
    assert run_count(orders_store, "import:orders") == 1


def test_blocked_accounts_stop_a_portal_until_a_person_clears_them(
    orders_config: Config, orders_store: Store, make_worker: Callable[..., Any]
) -> None:
    worker = make_worker(orders_config, serve_api=False)
    spec = worker.specs["portal:terminal"]
    with orders_store.session() as session:
        record_blocked(session, "terminal", "ops", LoginRejected("wrong password"), run_id=None, evidence=[])
    assert worker.skip_reason(spec) is None  # one account is left
    with orders_store.session() as session:
        record_blocked(session, "terminal", "ops2", CaptchaRequired("CAPTCHA"), run_id=None, evidence=[])
    assert worker.skip_reason(spec) == "blocked"
    assert worker.fire("portal:terminal") is None
    assert run_count(orders_store, "portal:terminal") == 0  # no hammering: nothing was tried
    code, document = health_document(worker)
    assert code == 200 and document["status"] == "degraded"
    assert {(item["source"], item["account"]) for item in document["blocked_accounts"]} == {
        ("portal:terminal", "ops"),
        ("portal:terminal", "ops2"),
    }


def test_ticks_outside_the_active_hours_are_skipped(
    orders_config: Config, orders_store: Store, make_worker: Callable[..., Any]
) -> None:
    from worker.sources import SourceSpec

    worker = make_worker(orders_config, serve_api=False)
    now = datetime.now(UTC)
    opens, closes = (now.hour + 2) % 24, (now.hour + 3) % 24  # a window that is not now
    schedule = orders_config.sources.portals[0].schedule
    spec = SourceSpec("portal", "terminal", schedule, active_hours=_window(opens, closes), time_zone="UTC")
    assert worker.skip_reason(spec, now) == "outside active hours"
    assert worker.skip_reason(spec, now.replace(hour=opens, minute=30)) is None


def _window(start: int, end: int) -> Any:
    from quaysync.config.types import HoursWindow

    return HoursWindow(time(start), time(end))


def test_containers_without_news_stop_being_tracked_and_it_shows(
    orders_config: Config, orders_store: Store, make_worker: Callable[..., Any], cli: Any
) -> None:
    worker = make_worker(orders_config, serve_api=False)
    assert worker.fire("import:orders") is not None
    assert active_containers(orders_store) == ["MSKU1234565", "TGHU6961213"]
    long_ago = datetime.now(UTC) - orders_config.sync.stop_tracking_after - timedelta(days=1)
    with orders_store.session() as session:
        row = session.get(ContainerStatusRow, "TGHU6961213")
        row.last_observed_at = long_ago
        row.freshness = {source: [long_ago.isoformat(), value[1]] for source, value in row.freshness.items()}
        row.first_seen_at = long_ago
    worker._evaluate_rules()  # the clock job (every minute in the worker)
    with orders_store.session() as session:
        assert session.get(ContainerStatusRow, "TGHU6961213").tracking == "stale"
    assert active_containers(orders_store) == ["MSKU1234565"]  # bots no longer search it
    _code, document = health_document(worker)
    assert document["tracking"] == {"active": 1, "stale": 1, "final": 0}
    shown = cli(orders_config.base_dir / "config.yaml", "sources", env={"WORKER_TEST_PW": "x"})
    assert shown.exit_code == 0, shown.output
    assert "1 active" in shown.output and "1 stale" in shown.output


def test_a_source_without_a_successful_run_for_three_periods_is_stale(
    orders_config: Config, make_worker: Callable[..., Any]
) -> None:
    worker = make_worker(orders_config, serve_api=False)
    assert worker.fire("import:orders") is not None
    code, now_document = health_document(worker)
    assert code == 200 and now_document["stale_sources"] == []
    later = datetime.now(UTC) + timedelta(hours=3, minutes=1)  # schedule 1h: stale after 3h
    code, later_document = health_document(worker, now=later)
    assert code == 200 and later_document["status"] == "degraded"
    assert set(later_document["stale_sources"]) == {"import:orders", "portal:terminal"}
