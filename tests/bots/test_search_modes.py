"""Searching: postback paging, the export download, the GBK variant, details, vessels, batching, limits."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from bot_helpers import Scrape, Setup, build_setup, count_rows, numbers_of, options
from sqlalchemy import select
from stdnum import iso6346

from bots import EngineThread
from bots.limits import RateLimiter, worker_plan
from quaysync.aio import run_sync
from quaysync.config import PortalSource
from quaysync.secrets import SecretsResolver
from sandbox.portal import RunningPortal
from store import ContainerStatusRow, ObservationRow, ProblemRow, VesselCallRow

pytestmark = pytest.mark.browser


def _parsers(setup: Setup) -> set[str]:
    with setup.store.session() as session:
        return set(session.execute(select(ObservationRow.parser)).scalars())


def test_postback_paging_reads_every_results_page(
    portal: RunningPortal, setup: Setup, scrape: Scrape
) -> None:
    portal.configure(page_size=5)
    asked = numbers_of(portal, 12)
    result = scrape(asked, options=options(mode="pages"))

    assert result.outcome == "ok", result.errors
    assert sorted(result.stored) == sorted(asked)
    counters = portal.counters()
    assert counters["searches"] == 1 and counters["result_pages"] == 3 and counters["exports"] == 0
    assert _parsers(setup) == {"sandbox.results/1"}


def test_export_download_reads_every_row_of_a_search(
    portal: RunningPortal, setup: Setup, scrape: Scrape
) -> None:
    portal.configure(page_size=5)
    asked = numbers_of(portal, 12, start=12)
    result = scrape(asked, options=options(mode="export"))

    assert result.outcome == "ok", result.errors
    assert sorted(result.stored) == sorted(asked)
    counters = portal.counters()
    assert counters["exports"] == 1 and counters["result_pages"] == 1  # no paging needed
    assert _parsers(setup) == {"sandbox.export/1"}


def test_pages_and_export_state_the_same_facts(portal: RunningPortal, setup: Setup, scrape: Scrape) -> None:
    asked = numbers_of(portal, 8, start=30)
    scrape(asked, options=options(mode="pages"))
    stored = count_rows(setup.store, ObservationRow)
    again = scrape(asked, options=options(mode="export"))
    assert again.counts["added_observations"] == 0 and again.counts["added_events"] == 0
    assert count_rows(setup.store, ObservationRow) == stored


def test_chinese_pages_in_gbk(portal: RunningPortal, setup: Setup, scrape: Scrape) -> None:
    asked = numbers_of(portal, 6, start=40)
    for mode in ("pages", "export"):
        result = scrape(asked, source=setup.portal_with(language="zh"), options=options(mode=mode))
        assert result.outcome == "ok", result.errors
        assert sorted(result.stored) == sorted(asked)
    assert "/zh/search.aspx" in portal.counters()["pages_by_path"]
    with setup.store.session() as session:
        statuses = [
            fields.get("status", "") for fields in session.execute(select(ObservationRow.fields)).scalars()
        ]
    assert any(any("\u4e00" <= char <= "\u9fff" for char in status) for status in statuses), statuses


def test_details_and_the_vessel_schedule(portal: RunningPortal, setup: Setup, scrape: Scrape) -> None:
    asked = numbers_of(portal, 3, start=50)
    result = scrape(asked, options=options(details=True, include_vessels=True))

    assert result.outcome == "ok", result.errors
    counters = portal.counters()
    assert counters["detail_pages"] == 3 and counters["vessel_pages"] == 1
    assert "sandbox.detail/1" in _parsers(setup)
    assert count_rows(setup.store, VesselCallRow) == len(portal.world.vessel_calls)
    assert result.counts["vessel_calls"] == len(portal.world.vessel_calls)


def test_unknown_and_invalid_numbers_are_business_answers(
    portal: RunningPortal, setup: Setup, scrape: Scrape
) -> None:
    unknown = "MSKU000000" + iso6346.calc_check_digit("MSKU000000")  # valid, but not at this terminal
    invalid = "ABCD1234560"  # wrong check digit
    asked = [*numbers_of(portal, 2, start=60), unknown, invalid]
    result = scrape(asked)

    assert result.outcome == "ok" and not result.failed
    assert sorted(result.not_found) == sorted([unknown, invalid])
    assert portal.counters()["searches"] == 1  # no retry for a business answer
    with setup.store.session() as session:
        status = session.get(ContainerStatusRow, unknown)
        problems = session.execute(select(ProblemRow).where(ProblemRow.kind == "business")).scalars().all()
    assert status is not None and status.not_found.get("portal:sandbox")
    assert any(invalid in problem.reason for problem in problems), [problem.reason for problem in problems]


def test_batches_follow_the_family_limit_and_the_config(
    portal: RunningPortal, setup: Setup, scrape: Scrape
) -> None:
    asked = numbers_of(portal, 60)
    result = scrape(asked)
    assert result.outcome == "ok" and portal.counters()["searches"] == 2  # 50 + 10
    portal.reset_counters()
    result = scrape(asked, source=setup.portal_with(batch_size=25))
    assert result.outcome == "ok" and portal.counters()["searches"] == 3


def test_a_search_refused_as_too_large_is_split(portal: RunningPortal, setup: Setup, scrape: Scrape) -> None:
    portal.configure(max_search=8)
    asked = numbers_of(portal, 20, start=70)
    result = scrape(asked)

    assert result.outcome == "ok", result.errors
    assert sorted(result.stored) == sorted(asked)
    assert portal.counters()["search_rejections"] >= 1 and result.counts["batch_size"] <= 8


def test_two_accounts_share_the_work(portal: RunningPortal, tmp_path: Path, engine: EngineThread) -> None:
    setup = build_setup(
        tmp_path,
        portal.url,
        [{"username": "ops", "password": "${PORTAL_PW}"}, {"username": "ops2", "password": "${PORTAL_PW2}"}],
        batch_size=5,
        concurrency=2,
    )
    asked = numbers_of(portal, 30, start=80)
    result = engine.scrape(setup.source, asked, store=setup.store, options=options(), config=setup.config)
    assert result.outcome == "ok", result.errors
    assert sorted(result.stored) == sorted(asked)
    assert portal.counters()["logins"] == {"ops": 1, "ops2": 1}
    setup.store.dispose()


def test_rate_limit_spaces_page_loads(portal: RunningPortal, setup: Setup, scrape: Scrape) -> None:
    started = time.monotonic()
    result = scrape(numbers_of(portal, 4), source=setup.portal_with(rate_limit_per_minute=300, batch_size=2))
    elapsed = time.monotonic() - started
    assert result.outcome == "ok", result.errors
    # The bot starts 6 loads (login page, sign-in, and search + export for each of 2 batches), at
    # least 0.2 s apart: the first is free, each later one waits its turn.
    assert portal.counters()["searches"] == 2 and portal.counters()["exports"] == 2
    assert elapsed >= 5 * 0.2


def test_worker_plan_honours_portal_and_account_concurrency() -> None:
    portal = PortalSource.model_validate(
        {
            "name": "p",
            "family": "sandbox",
            "base_url": "http://127.0.0.1:1/",
            "concurrency": 3,
            "accounts": [
                {"username": "a", "password": "${A}", "concurrency": 2},
                {"username": "b", "password": "${A}", "concurrency": 1},
            ],
        },
        context={"secrets": _resolver()},
    )
    assert worker_plan(portal, ["a", "b"]) == ["a", "b", "a"]
    assert worker_plan(portal, ["b"]) == ["b"]
    assert worker_plan(portal.model_copy(update={"concurrency": 1}), ["a", "b"]) == ["a"]


def _resolver() -> SecretsResolver:
    return SecretsResolver(environ={"A": "secret-a"})


def test_rate_limiter_has_no_bursts() -> None:
    async def five_slots() -> float:
        limiter = RateLimiter(per_minute=1200)  # one every 50 ms
        started = time.monotonic()
        for _ in range(5):
            await limiter.acquire()
        return time.monotonic() - started

    assert run_sync(five_slots()) >= 0.2
