"""The hostile world's knobs (at start-up, on the running object, over HTTP) and the admin endpoints."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sandbox_portal_http import PASSWORD, PINNED, PortalClient, hidden_fields

from parsers.portals.sandbox import classify_page, parse_detail, parse_results, parse_vessels
from quaysync.errors import LayoutChangedError
from quaysync.model import ParseContext
from sandbox.portal import KNOBS, PortalOptions, RunningPortal, start_portal

CONTEXT = ParseContext(source="portal:sandbox", source_ref="test")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def admin(http: httpx.Client):
    """admin(portal, "knobs") GETs /_sandbox/knobs; admin(portal, "knobs", {...}) POSTs JSON."""

    def call(portal: RunningPortal, path: str, body: dict | None = None) -> httpx.Response:
        url = portal.url + "_sandbox/" + path
        return http.post(url, json=body) if body is not None else http.get(url)

    return call


def test_latency_slows_every_page_but_not_the_admin(make_portal, make_client, admin) -> None:
    portal = make_portal(latency=0.5)
    client = make_client(portal)
    started = time.perf_counter()
    client.get("Login.aspx")
    assert time.perf_counter() - started >= 0.5
    started = time.perf_counter()
    admin(portal, "health")
    assert time.perf_counter() - started < 0.5
    portal.configure(latency=0)
    started = time.perf_counter()
    client.get("Login.aspx")
    assert time.perf_counter() - started < 0.5


def test_every_nth_page_is_a_server_error(make_portal, make_client) -> None:
    portal = make_portal(error_every=3)
    client = make_client(portal)
    statuses = [client.get("Login.aspx").status_code for _ in range(9)]
    assert statuses == [200, 200, 500, 200, 200, 502, 200, 200, 503]
    assert portal.counters()["errors_injected"] == 3
    portal.configure(error_every=0)
    assert {client.get("Login.aspx").status_code for _ in range(6)} == {200}


def test_error_pages_classify_as_errors(make_portal, make_client) -> None:
    portal = make_portal(error_every=1)
    client = make_client(portal)
    pages = [client.get("Login.aspx") for _ in range(3)]
    assert [page.status_code for page in pages] == [500, 502, 503]
    assert [classify_page(page.content) for page in pages] == ["error"] * 3


def test_error_rate_is_reproducible_for_a_seed(make_portal, make_client) -> None:
    runs = []
    for _ in range(2):
        portal = make_portal(error_rate=0.3, seed=5)
        client = make_client(portal)
        runs.append([client.get("Login.aspx").status_code for _ in range(40)])
    assert runs[0] == runs[1]
    failures = sum(status >= 500 for status in runs[0])
    assert 4 <= failures <= 20  # about 30 % of 40


def test_hanging_pages_time_out_clients_and_do_not_block_stop(make_portal, make_client) -> None:
    portal = make_portal(hang_every=2, hang_seconds=30)
    client = make_client(portal, timeout=0.5)
    assert client.get("Login.aspx").status_code == 200
    with pytest.raises(httpx.ReadTimeout):
        client.get("Login.aspx")
    assert portal.counters()["hangs_injected"] == 1
    # A request hanging right now must not keep stop() waiting for 30 s.
    hanging = threading.Thread(target=lambda: httpx.get(portal.url + "Login.aspx", timeout=60), daemon=True)
    client.get("Login.aspx")  # page 3: fine; the thread's request is page 4, a hang
    hanging.start()
    deadline = time.monotonic() + 5
    while portal.counters()["hangs_injected"] < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert portal.counters()["hangs_injected"] == 2
    started = time.perf_counter()
    portal.stop()
    assert time.perf_counter() - started < 5
    hanging.join(5)
    assert not hanging.is_alive()


def test_slow_pages_answer_after_the_hang(make_portal, make_client) -> None:
    portal = make_portal(hang_rate=1.0, hang_seconds=0.3)
    client = make_client(portal)
    started = time.perf_counter()
    assert classify_page(client.get("Login.aspx").content) == "login"
    assert time.perf_counter() - started >= 0.3


def test_maintenance_switch_and_daily_window(portal: RunningPortal, client: PortalClient) -> None:
    client.login()
    portal.configure(maintenance=True)
    page = client.get("Search.aspx")
    assert page.status_code == 503 and page.headers["retry-after"] == "1800"
    assert classify_page(page.content) == "maintenance"
    assert classify_page(client.get("Login.aspx").content) == "maintenance"
    portal.configure(maintenance=False)
    assert classify_page(client.get("Search.aspx").content) == "search"
    # A daily window in terminal-local world hours: 02:00-04:00.
    portal.configure(maintenance_hours=[2, 4])
    local_midnight = datetime(2026, 11, 6, 0, 0, tzinfo=UTC) + timedelta(hours=8)  # 00:00 PST
    portal.clock.pin(local_midnight + timedelta(hours=2, minutes=30))
    assert classify_page(client.get("Search.aspx").content) == "maintenance"
    portal.clock.advance(timedelta(hours=2))
    assert classify_page(client.get("Search.aspx").content) == "search"


def test_captcha_after_login_until_an_admin_solves_it(make_portal, make_client, admin) -> None:
    portal = make_portal(captcha="login")
    client = make_client(portal)
    assert client.login().status_code == 302
    challenge = client.get("Default.aspx")
    assert classify_page(challenge.content) == "captcha"
    answer = client.submit("Captcha.aspx", challenge, txtCaptcha="ABC123", btnVerify="Verify")
    assert classify_page(answer.content) == "captcha" and "did not match" in answer.text
    assert classify_page(client.get("Search.aspx").content) == "captcha"
    assert admin(portal, "captcha/solve", {}).json() == {"solved": True}
    assert classify_page(client.get("Default.aspx").content) == "frameset"
    assert portal.counters()["captcha_pages"] == 3


def test_captcha_on_search(make_portal, make_client) -> None:
    portal = make_portal(captcha="search")
    client = make_client(portal)
    client.login()
    assert classify_page(client.get("Search.aspx").content) == "search"
    numbers = [container.container_number for container in portal.world.containers[:3]]
    assert classify_page(client.search(numbers).content) == "captcha"
    portal.solve_captcha()
    assert classify_page(client.search(numbers).content) == "results"


def test_layout_v2_is_a_redesign_the_parser_refuses(portal: RunningPortal, client: PortalClient) -> None:
    client.login()
    numbers = [container.container_number for container in portal.world.containers[:25]]
    portal.configure(layout="v2")
    results = client.search(numbers)
    assert results.status_code == 200 and 'id="unitResults"' in results.text and "Unit #" in results.text
    assert classify_page(results.content) == "unknown"
    with pytest.raises(LayoutChangedError, match="gvResults"):
        parse_results(results.content, CONTEXT)
    with pytest.raises(LayoutChangedError, match="tblDetail"):
        parse_detail(client.get("ContainerDetail.aspx", cntr=numbers[0]).content, CONTEXT)
    with pytest.raises(LayoutChangedError, match="gvVessels"):
        parse_vessels(client.get("VesselSchedule.aspx").content, CONTEXT)
    # The redesign pages with its own postback target; the old one is refused.
    assert "ctl00$body$unitGrid" in results.text
    assert client.postback(results, "gvResults", "Page$2").status_code == 500
    assert 'class="current">2<' in client.postback(results, "ctl00$body$unitGrid", "Page$2").text
    portal.configure(layout="v1")
    assert classify_page(client.search(numbers).content) == "results"


def test_knobs_over_http(portal: RunningPortal, admin) -> None:
    knobs = admin(portal, "knobs").json()
    assert set(knobs) == set(KNOBS) and knobs["max_search"] == 50 and knobs["layout"] == "v1"
    changed = admin(portal, "knobs", {"latency": 0.01, "layout": "v2", "captcha": "search", "max_search": 7})
    assert changed.status_code == 200
    assert {key: changed.json()[key] for key in ("latency", "layout", "captcha", "max_search")} == {
        "latency": 0.01, "layout": "v2", "captcha": "search", "max_search": 7,
    }  # fmt: skip
    assert portal.options.layout == "v2" and portal.options.max_search == 7
    for bad in (
        {"layout": "v3"},
        {"error_rate": 2},
        {"no_such_knob": 1},
        {"host": "0.0.0.0"},
        {"page_size": 0},
    ):
        response = admin(portal, "knobs", bad)
        assert response.status_code == 400, bad
        assert response.json()["error"]
    assert portal.options.max_search == 7  # a refused change leaves everything as it was
    with pytest.raises(ValueError, match="unknown knob"):
        portal.configure(speed=3)


def test_clock_counters_and_containers_over_http(portal: RunningPortal, client: PortalClient, admin) -> None:
    assert admin(portal, "clock").json() == {
        "now": PINNED.isoformat(),
        "local": "11/07/2026 16:00",
        "pinned": True,
    }
    moved = admin(portal, "clock", {"advance_seconds": 7200}).json()
    assert moved["now"] == (PINNED + timedelta(hours=2)).isoformat()
    pinned = admin(portal, "clock", {"pin": "2026-11-10T12:00:00Z"}).json()
    assert pinned["now"] == "2026-11-10T12:00:00+00:00" and portal.clock.now() == datetime(
        2026, 11, 10, 12, tzinfo=UTC
    )
    assert admin(portal, "clock", {"pin": "yesterday"}).status_code == 400
    client.login()
    client.get("Search.aspx")
    counters = admin(portal, "counters").json()
    assert counters["logins"] == {"ops": 1} and counters["pages_served"] == 3
    assert counters["pages_by_path"] == {"/login.aspx": 2, "/search.aspx": 1}
    assert admin(portal, "counters/reset", {}).json()["pages_served"] == 0
    containers = admin(portal, "containers").json()["containers"]
    assert len(containers) == 120 and containers[0] == portal.world.containers[0].container_number
    assert admin(portal, "no/such/thing").status_code == 404
    assert admin(portal, "sessions/age", {"seconds": -1}).status_code == 400


def test_start_up_knobs_are_checked() -> None:
    with pytest.raises(ValueError, match="accounts"):
        start_portal(PortalOptions())
    with pytest.raises(ValueError, match="layout"):
        start_portal(PortalOptions(accounts={"ops": PASSWORD}, layout="v9"))  # type: ignore[arg-type]


def test_context_manager_stops_the_server() -> None:
    with start_portal(PortalOptions(accounts={"ops": PASSWORD})) as portal:
        url = portal.url
        assert httpx.get(url + "_sandbox/health").json()["ok"] is True
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "_sandbox/health")


def test_command_line_serves_with_the_password_from_the_secrets_file(tmp_path) -> None:
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(f"sandbox_portal_password: {PASSWORD}\n")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox.portal",
            "--port",
            "0",
            "--seed",
            "7",
            "--secrets-file",
            str(secrets),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()  # blocks until the portal prints its URL (or exits)
        assert line.startswith("sandbox portal on http://127.0.0.1:"), (line, process.stderr.read())
        url = line.split()[3]
        with httpx.Client(base_url=url) as http:
            form = http.get("/Login.aspx")
            fields = {
                **hidden_fields(form),
                "txtUserName": "ops",
                "txtPassword": PASSWORD,
                "btnLogin": "Log In",
            }
            signed_in = http.post("/Login.aspx", data=fields)
            assert signed_in.status_code == 302 and signed_in.headers["location"] == "/Default.aspx"
    finally:
        process.terminate()
        process.wait(10)
    assert process.returncode == 0
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "sandbox.portal",
            "--port",
            "0",
            "--secrets-file",
            str(tmp_path / "none.yaml"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert missing.returncode != 0 and "cannot read secrets file" in missing.stderr
