"""Login, frames, storage_state reuse, re-login after expiry, and blocked accounts — real Chromium."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from bot_helpers import (
    FAST,
    Scrape,
    Setup,
    assert_every_container_accounted_for,
    build_setup,
    count_rows,
    events,
    numbers_of,
    options,
)
from sqlalchemy import select

from bots import EngineThread
from bots.sessions import StateStore
from sandbox.portal import RunningPortal
from store import ContainerStatusRow, RunRow, SourceStateRow

pytestmark = pytest.mark.browser


def test_cold_run_logs_in_through_the_frameset_and_stores_every_container(
    portal: RunningPortal, setup: Setup, scrape: Scrape
) -> None:
    asked = numbers_of(portal, 12)
    result = scrape(asked)

    assert result.outcome == "ok", result.errors
    assert sorted(result.stored) == sorted(asked)
    assert result.counts["logins"] == 1 and portal.logins("ops") == 1
    served = portal.counters()["pages_by_path"]
    assert served["/default.aspx"] == 1 and served["/menu.aspx"] == 1  # the frameset and its frames
    with setup.store.session() as session:
        statuses = session.execute(select(ContainerStatusRow.container_number)).scalars().all()
        run = session.get(RunRow, result.run_id)
    assert set(asked) <= set(statuses)
    assert run is not None and run.source == "portal:sandbox" and run.kind == "scrape" and run.outcome == "ok"
    assert run.counts["stored"] == 12 and run.counts["logins"] == 1

    state_file = StateStore(setup.data_dir).path("sandbox", "ops")
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(state_file.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((setup.data_dir / "state").stat().st_mode) == 0o700


def test_warm_run_reuses_the_session_and_adds_nothing_twice(
    portal: RunningPortal, setup: Setup, scrape: Scrape
) -> None:
    asked = numbers_of(portal, 10, start=20)
    first = scrape(asked)
    stored_events = events(setup.store)
    second = scrape(asked)

    assert first.outcome == second.outcome == "ok"
    assert portal.logins("ops") == 1, "the warm run logged in again"
    assert second.counts["logins"] == 0
    assert second.counts["added_events"] == 0 and second.counts["added_observations"] == 0
    assert events(setup.store) == stored_events > 0


def test_relogin_when_the_session_dies_after_some_requests(
    portal: RunningPortal, setup: Setup, scrape: Scrape
) -> None:
    portal.configure(session_expire_after_requests=6)
    asked = numbers_of(portal, 20, start=40)
    result = scrape(asked, source=setup.portal_with(batch_size=4))

    assert result.outcome == "ok", result.errors
    assert sorted(result.stored) == sorted(asked)
    assert result.counts["logins"] >= 2 and portal.logins("ops") == result.counts["logins"]
    assert portal.counters()["session_expired_pages"] >= 1
    expired = [path for path in result.evidence if "session-expired" in path]
    assert expired and all(Path(path).exists() for path in expired)


def test_relogin_when_the_saved_session_has_gone_idle(
    portal: RunningPortal, setup: Setup, scrape: Scrape
) -> None:
    asked = numbers_of(portal, 5, start=60)
    assert scrape(asked).outcome == "ok"
    portal.age_sessions(portal.options.session_idle_seconds + 60)
    result = scrape(asked)

    assert result.outcome == "ok", result.errors
    assert result.counts["logins"] == 1 and portal.logins("ops") == 2
    assert portal.counters()["session_expired_pages"] == 1  # seen once, then a login, no hammering


def test_wrong_password_blocks_the_account_without_retrying(
    portal: RunningPortal, tmp_path: Path, engine: EngineThread
) -> None:
    setup = build_setup(tmp_path, portal.url, [{"username": "ops", "password": "${WRONG_PW}"}])
    asked = numbers_of(portal, 4)
    result = engine.scrape(setup.source, asked, store=setup.store, options=FAST, config=setup.config)

    assert result.outcome == "blocked"
    assert portal.counters()["login_failures"] == {"ops": 1}, "a wrong password must be tried once only"
    assert_every_container_accounted_for(result, asked)
    assert all(failure.kind == "blocked" for failure in result.failed)
    blocked = [error for error in result.errors if error["subject"] == "account:ops"]
    assert blocked and "password" in blocked[0]["action"] and blocked[0]["evidence"]
    with setup.store.session() as session:
        entry = session.get(SourceStateRow, ("portal:sandbox", "blocked:ops"))
    assert entry is not None and entry.value["kind"] == "login_rejected"

    # A later run does not touch the portal with that account.
    portal.reset_counters()
    again = engine.scrape(setup.source, asked, store=setup.store, options=FAST, config=setup.config)
    assert again.outcome == "blocked" and portal.counters()["pages_served"] == 0

    # A person fixed the password: --retry-blocked tries again and the block is cleared.
    fixed = build_setup(tmp_path, portal.url)
    healed = engine.scrape(
        fixed.source, asked, store=setup.store, options=options(retry_blocked=True), config=fixed.config
    )
    assert healed.outcome == "ok", healed.errors
    assert count_rows(setup.store, SourceStateRow, SourceStateRow.key == "blocked:ops") == 0
    setup.store.dispose()
    fixed.store.dispose()


def test_account_locked_after_failed_logins_is_blocked(
    portal: RunningPortal, tmp_path: Path, engine: EngineThread
) -> None:
    portal.configure(lock_after_failures=1)
    setup = build_setup(tmp_path, portal.url, [{"username": "ops", "password": "${WRONG_PW}"}])
    result = engine.scrape(
        setup.source, numbers_of(portal, 3), store=setup.store, options=FAST, config=setup.config
    )

    assert result.outcome == "blocked"
    assert result.blocked["ops"]["kind"] == "account_locked"
    assert "unlock" in result.blocked["ops"]["action"]
    assert portal.counters()["login_failures"] == {"ops": 1}
    setup.store.dispose()


def test_a_blocked_account_hands_its_batch_to_the_other_account(
    portal: RunningPortal, tmp_path: Path, engine: EngineThread
) -> None:
    setup = build_setup(
        tmp_path,
        portal.url,
        [{"username": "ops", "password": "${WRONG_PW}"}, {"username": "ops2", "password": "${PORTAL_PW2}"}],
        batch_size=5,
    )
    asked = numbers_of(portal, 15, start=80)
    result = engine.scrape(setup.source, asked, store=setup.store, options=FAST, config=setup.config)

    assert result.outcome == "blocked"  # a person must still fix ops
    assert sorted(result.stored) == sorted(asked) and not result.failed
    assert portal.logins("ops2") == 1 and portal.counters()["login_failures"] == {"ops": 1}
    setup.store.dispose()


def test_state_file_names_stay_in_their_folder_and_bad_files_mean_login(tmp_path: Path) -> None:
    states = StateStore(tmp_path)
    assert states.load("sandbox", "ops") is None
    path = states.save("sandbox", "ops/../x", {"cookies": [{"name": "a", "value": "v"}], "origins": []})
    assert path.parent == tmp_path / "state" / "sandbox"  # the slash cannot lead out of the folder
    path.write_text("not json")
    assert states.load("sandbox", "ops/../x") is None
