"""Every chaos knob of the sandbox portal against the bot: each container ends stored, not found, or
failed with a reason and evidence; nothing is stored twice; blocked pages are not hammered; a
redesigned portal stores no guesses."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from bot_helpers import (
    PASSWORD,
    PINNED,
    Scrape,
    Setup,
    assert_every_container_accounted_for,
    build_setup,
    count_rows,
    numbers_of,
    observations,
    options,
)
from sqlalchemy import func, select

from bots import EngineThread
from bots.sessions import StateStore
from sandbox.portal import RunningPortal
from sandbox.world import TERMINAL_ZONE
from store import EventRow, SourceStateRow

pytestmark = pytest.mark.browser


def _events_per_container(setup: Setup) -> dict[str, int]:
    with setup.store.session() as session:
        rows = session.execute(
            select(EventRow.container_number, func.count()).group_by(EventRow.container_number)
        ).all()
    return {number: count for number, count in rows if number}


def test_latency_slows_but_does_not_break(portal: RunningPortal, setup: Setup, scrape: Scrape) -> None:
    portal.configure(latency=0.15)
    asked = numbers_of(portal, 6)
    result = scrape(asked)
    assert result.outcome == "ok", result.errors
    assert sorted(result.stored) == sorted(asked) and result.counts["retries"] == 0


def test_every_nth_page_a_server_error(portal: RunningPortal, setup: Setup, scrape: Scrape) -> None:
    portal.configure(error_every=4)
    asked = numbers_of(portal, 20, start=10)
    result = scrape(asked, source=setup.portal_with(batch_size=4))

    assert_every_container_accounted_for(result, asked)
    assert portal.counters()["errors_injected"] >= 2 and result.counts["retries"] >= 2
    assert result.outcome == "ok", result.errors  # three retries ride over every fourth page failing
    portal_errors = [path for path in result.evidence if "portal-error" in path]
    assert portal_errors and all(Path(path).exists() for path in portal_errors)


def test_random_server_errors_and_a_replay_adds_nothing(
    portal: RunningPortal, setup: Setup, scrape: Scrape
) -> None:
    portal.configure(error_rate=0.35)
    asked = numbers_of(portal, 15, start=30)
    source = setup.portal_with(batch_size=3, retries=1)
    first = scrape(asked, source=source)
    assert_every_container_accounted_for(first, asked)
    assert portal.counters()["errors_injected"] > 0
    before = _events_per_container(setup)

    second = scrape(asked, source=source)
    assert_every_container_accounted_for(second, asked)
    after = _events_per_container(setup)
    for number in set(first.stored) & set(second.stored):
        assert after.get(number) == before.get(number), f"{number} got events twice"


def test_hanging_pages_time_out_and_are_retried(portal: RunningPortal, setup: Setup, scrape: Scrape) -> None:
    portal.configure(hang_every=7, hang_seconds=5)
    asked = numbers_of(portal, 12, start=60)
    result = scrape(asked, source=setup.portal_with(batch_size=3, timeout="2s"))

    assert_every_container_accounted_for(result, asked)
    assert portal.counters()["hangs_injected"] >= 1 and result.counts["retries"] >= 1
    assert result.outcome == "ok", result.errors
    assert any("timed out" in str(error) for error in result.errors) or result.counts["retries"] >= 1


def test_randomly_hanging_pages_leave_no_container_unaccounted(
    portal: RunningPortal, setup: Setup, scrape: Scrape
) -> None:
    portal.configure(hang_rate=0.15, hang_seconds=2)
    asked = numbers_of(portal, 6, start=72)
    result = scrape(asked, source=setup.portal_with(batch_size=3, timeout="1s", retries=2))

    assert_every_container_accounted_for(result, asked)
    assert portal.counters()["hangs_injected"] >= 1
    assert result.outcome in ("ok", "partial"), result.errors


def test_a_portal_that_fails_every_page_lists_every_container_as_failed(
    portal: RunningPortal, setup: Setup, scrape: Scrape
) -> None:
    scrape(numbers_of(portal, 1))  # signed in; then every page fails
    portal.configure(error_every=1)
    portal.reset_counters()
    asked = numbers_of(portal, 6, start=80)
    result = scrape(asked, source=setup.portal_with(batch_size=3, retries=2))

    assert result.outcome == "failed"
    assert_every_container_accounted_for(result, asked)
    assert all(failure.kind == "portal" and "after 2 retries" in failure.reason for failure in result.failed)
    traces = [path for failure in result.failed for path in failure.evidence if path.endswith(".trace.zip")]
    assert traces, "a batch that failed for good keeps its trace"
    assert portal.counters()["pages_served"] <= 2 * 3 * 3  # 2 batches x 3 attempts x (up to 3 loads)


def test_session_expiry_is_survived(portal: RunningPortal, setup: Setup, scrape: Scrape) -> None:
    portal.configure(session_expire_after_requests=5)
    asked = numbers_of(portal, 12, start=90)
    result = scrape(asked, source=setup.portal_with(batch_size=3))
    assert result.outcome == "ok", result.errors
    assert sorted(result.stored) == sorted(asked)
    assert result.counts["logins"] >= 2


def test_viewstate_window_of_one_with_two_pages_of_one_account(
    portal: RunningPortal, tmp_path: Path, engine: EngineThread
) -> None:
    portal.configure(viewstate_window=1)
    setup = build_setup(
        tmp_path,
        portal.url,
        [{"username": "ops", "password": "${PORTAL_PW}", "concurrency": 2}],
        batch_size=3,
    )
    asked = numbers_of(portal, 12, start=100)
    result = engine.scrape(setup.source, asked, store=setup.store, options=options(), config=setup.config)
    assert_every_container_accounted_for(result, asked)
    assert result.stored, result.errors
    assert portal.logins("ops") == 1
    setup.store.dispose()


def test_maintenance_blocks_at_once(portal: RunningPortal, setup: Setup, scrape: Scrape) -> None:
    portal.configure(maintenance=True)
    asked = numbers_of(portal, 10)
    result = scrape(asked, source=setup.portal_with(batch_size=2))

    assert result.outcome == "blocked"
    assert portal.counters()["pages_served"] == 1, "maintenance must stop the run at the first page"
    assert_every_container_accounted_for(result, asked)
    assert all("maintenance" in failure.reason for failure in result.failed)
    assert result.blocked["ops"]["kind"] == "maintenance" and result.blocked["ops"]["until"]
    assert any(path.endswith(".png") for path in result.blocked["ops"]["evidence"])


def test_maintenance_hours_of_the_terminal(portal: RunningPortal, setup: Setup, scrape: Scrape) -> None:
    hour = PINNED.astimezone(TERMINAL_ZONE).hour
    portal.configure(maintenance_hours=[hour, (hour + 1) % 24])
    result = scrape(numbers_of(portal, 3))
    assert result.outcome == "blocked" and portal.counters()["maintenance_pages"] == 1


@pytest.mark.parametrize("where", ["login", "search"])
def test_captcha_blocks_without_hammering(
    portal: RunningPortal, setup: Setup, scrape: Scrape, where: str
) -> None:
    portal.configure(captcha=where)
    asked = numbers_of(portal, 10)
    result = scrape(asked, source=setup.portal_with(batch_size=2))

    assert result.outcome == "blocked"
    counters = portal.counters()
    assert counters["captcha_pages"] == 1 and counters["searches"] == 0
    assert counters["pages_served"] <= 6  # login page, sign-in, frameset (+ frames), one search
    assert_every_container_accounted_for(result, asked)
    assert result.blocked["ops"]["kind"] == "captcha" and "CAPTCHA" in result.blocked["ops"]["action"]
    with setup.store.session() as session:
        assert session.get(SourceStateRow, ("portal:sandbox", "blocked:ops")) is not None
    assert observations(setup.store) == 0


def test_redesigned_portal_is_layout_changed_and_stores_no_guesses(
    portal: RunningPortal, setup: Setup, scrape: Scrape
) -> None:
    portal.configure(layout="v2")
    asked = numbers_of(portal, 10)
    for mode in ("export", "pages"):
        result = scrape(
            asked, source=setup.portal_with(batch_size=2), options=options(mode=mode, include_vessels=True)
        )
        assert result.outcome == "layout_changed"
        assert_every_container_accounted_for(result, asked)
        assert portal.counters()["searches"] == 1, "the run stops at the first redesigned page"
        evidence = next(error for error in result.errors if error["subject"] == "page")["evidence"]
        assert {Path(path).suffix for path in evidence} >= {".html", ".png", ".zip"}
        portal.reset_counters()
    assert observations(setup.store) == 0 and count_rows(setup.store, EventRow) == 0


def test_evidence_never_holds_the_password_or_the_session_cookie(
    portal: RunningPortal, setup: Setup, scrape: Scrape
) -> None:
    portal.configure(captcha="search")  # fails after a real login, with a trace of it
    result = scrape(numbers_of(portal, 2))
    assert result.outcome == "blocked"
    state = StateStore(setup.data_dir).load("sandbox", "ops")
    cookies = StateStore.cookie_values(state)
    assert cookies and PASSWORD
    files = [Path(path) for path in result.evidence]
    trace = next(path for path in files if path.name.endswith(".trace.zip"))
    with zipfile.ZipFile(trace) as archive:
        names = archive.namelist()
        blobs = [archive.read(name) for name in names]
    assert any(name.endswith(".trace") for name in names)
    assert any(b"txtUserName" in blob for blob in blobs), "the trace shows the login it masks"
    secrets = [PASSWORD.encode(), *(cookie.encode() for cookie in cookies)]
    for path in files:
        if path.suffix != ".png":
            assert not any(secret in path.read_bytes() for secret in secrets), path
    for name, blob in zip(names, blobs, strict=True):
        assert not any(secret in blob for secret in secrets), name


def test_wrong_password_is_blocked_once_not_a_lock(
    portal: RunningPortal, tmp_path: Path, engine: EngineThread
) -> None:
    portal.configure(lock_after_failures=2)
    setup = build_setup(tmp_path, portal.url, [{"username": "ops", "password": "${WRONG_PW}"}])
    for _ in range(3):  # later runs skip the blocked account: the lock is never reached
        result = engine.scrape(setup.source, numbers_of(portal, 2), store=setup.store, options=options(),
                               config=setup.config)  # fmt: skip
        assert result.outcome == "blocked"
    assert portal.counters()["login_failures"] == {"ops": 1}
    assert portal.unlock("ops") is False, "the account was never locked"
    setup.store.dispose()
