"""Capture the sandbox portal's pages (pinned clock, seed 7) as the sandbox parser's fixtures.

    .venv/bin/python tests/sandbox/capture_sandbox_fixtures.py

writes tests/parsers/fixtures/sandbox/*. `test_portal_fixture_drift.py` checks that a live portal
still produces pages that read the same as the saved ones, so the fixtures cannot silently rot.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox.portal import PortalOptions, RunningPortal

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "parsers" / "fixtures" / "sandbox"
UNKNOWN_NUMBER = "ZZZU0000005"  # a valid ISO 6346 number no sandbox world of seed 7 holds
INVALID_NUMBER = "MSKU1234567"  # wrong check digit
# The vessel schedule is captured earlier than the rest: vessels expected, working, berthed, departed.
VESSELS_MOMENT = datetime(2026, 11, 4, 14, 0, tzinfo=UTC)


def search_numbers(portal: RunningPortal) -> list[str]:
    """25 containers covering every state (20 on page 1, 7 on page 2), one unknown, one invalid."""
    world, now = portal.world, portal.clock.now()
    states = [world.state(container, now) for container in world.containers]
    wanted = (
        lambda state: state.on_vessel,
        lambda state: state.empty_returned_at is not None,
        lambda state: state.customs == "INSPECTION",
        lambda state: state.demurrage_usd > 0,
        lambda state: state.usda == "HOLD",
        lambda state: state.gate_out_at is not None and state.empty_returned_at is None,
        lambda state: state.available and state.appointment_at is not None,
        lambda state: state.available and state.appointment_at is None,
    )
    picked: list[str] = []
    for test in wanted:
        matching = [state.container.container_number for state in states if test(state)]
        picked += [number for number in matching if number not in picked][:2]
    picked += [
        state.container.container_number for state in states if state.container.container_number not in picked
    ]
    numbers = picked[:25]
    return [*numbers[:10], UNKNOWN_NUMBER, *numbers[10:], INVALID_NUMBER]


def capture_pages(portal: RunningPortal) -> dict[str, bytes]:
    """Every fixture, by file name. The portal must have accounts ops and clerk (see `fixture_options`)."""
    from sandbox_portal_http import PortalClient

    pages: dict[str, bytes] = {}
    numbers = search_numbers(portal)
    detail_number = numbers[0]
    for language in ("en", "zh"):
        client = PortalClient(portal, language)
        pages[f"login_{language}.html"] = client.get("Login.aspx").content
        failed = client.login(password="wrong password")
        pages[f"login_failed_{language}.html"] = failed.content
        client.login()
        pages[f"frameset_{language}.html"] = client.get("Default.aspx").content
        pages[f"menu_{language}.html"] = client.get("Menu.aspx").content
        pages[f"search_{language}.html"] = client.get("Search.aspx").content
        first = client.search(numbers)
        pages[f"results_{language}_p1.html"] = first.content
        second = client.postback(first, "gvResults", "Page$2")
        pages[f"results_{language}_p2.html"] = second.content
        pages[f"export_{language}.xlsx"] = client.export(second).content
        pages[f"detail_{language}.html"] = client.get("ContainerDetail.aspx", cntr=detail_number).content
        pages[f"detail_not_found_{language}.html"] = client.get(
            "ContainerDetail.aspx", cntr=UNKNOWN_NUMBER
        ).content
        moment = portal.clock.now()
        portal.clock.pin(VESSELS_MOMENT)
        pages[f"vessels_{language}.html"] = client.get("VesselSchedule.aspx").content
        portal.clock.pin(moment)
        too_many = [container.container_number for container in portal.world.containers[:51]]
        pages[f"search_rejected_{language}.html"] = client.search(too_many).content

        portal.configure(layout="v2")
        pages[f"results_v2_{language}.html"] = client.search(numbers).content
        pages[f"detail_v2_{language}.html"] = client.get("ContainerDetail.aspx", cntr=detail_number).content
        portal.clock.pin(VESSELS_MOMENT)
        pages[f"vessels_v2_{language}.html"] = client.get("VesselSchedule.aspx").content
        portal.clock.pin(moment)
        portal.configure(layout="v1")

        portal.configure(captcha="login")
        pages[f"captcha_{language}.html"] = client.get("Search.aspx").content
        portal.solve_captcha()

        portal.configure(maintenance=True)
        pages[f"maintenance_{language}.html"] = client.get("Search.aspx").content
        portal.configure(maintenance=False)

        portal.configure(lock_after_failures=1)
        pages[f"account_locked_{language}.html"] = client.login("clerk", "not the password").content
        portal.unlock("clerk")
        portal.configure(lock_after_failures=None)

        portal.age_sessions(3600)
        pages[f"session_expired_{language}.html"] = client.get("Search.aspx").content
        client.close()
    error_client = PortalClient(portal)
    portal.configure(error_every=1)
    for _status in (500, 502, 503):  # injected errors cycle through these with the page counter
        response = error_client.get("Login.aspx")
        pages[f"server_error_{response.status_code}.html"] = response.content
    portal.configure(error_every=0)
    error_client.close()
    return pages


def fixture_options() -> PortalOptions:
    from sandbox_portal_http import PASSWORD, options

    return options(accounts={"ops": PASSWORD, "clerk": PASSWORD + "-clerk"})


def main() -> int:
    sys.path[:0] = [str(REPO), str(Path(__file__).resolve().parent)]
    from sandbox.portal import start_portal

    FIXTURES.mkdir(parents=True, exist_ok=True)
    with start_portal(fixture_options()) as portal:
        pages = capture_pages(portal)
    for name, content in sorted(pages.items()):
        (FIXTURES / name).write_bytes(content)
        print(f"{name}: {len(content)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
