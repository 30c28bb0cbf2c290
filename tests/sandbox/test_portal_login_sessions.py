"""Sandbox portal over real HTTP: login, anti-forgery tokens, locks, frames, session expiry."""

from __future__ import annotations

import re

from sandbox_portal_http import PASSWORD, PortalClient, hidden_fields, page_text

from parsers.portals.sandbox import classify_page
from sandbox.portal import RunningPortal
from sandbox.portal.sessions import COOKIE


def test_login_page_tokens_change_on_every_response(client: PortalClient) -> None:
    first, second = client.get("Login.aspx"), client.get("Login.aspx")
    assert first.status_code == second.status_code == 200
    assert classify_page(first.content) == "login"
    one, two = hidden_fields(first), hidden_fields(second)
    assert one["__VIEWSTATE"] and one["__EVENTVALIDATION"]
    assert one["__VIEWSTATE"] != two["__VIEWSTATE"]
    assert one["__EVENTVALIDATION"] != two["__EVENTVALIDATION"]
    assert COOKIE in first.headers["set-cookie"] and "HttpOnly" in first.headers["set-cookie"]


def test_login_leads_to_the_frameset_with_a_menu_and_a_main_frame(
    portal: RunningPortal, client: PortalClient
) -> None:
    response = client.login()
    assert response.status_code == 302 and response.headers["location"] == "/Default.aspx"
    frameset = client.get("Default.aspx")
    assert classify_page(frameset.content) == "frameset"
    frames = dict(re.findall(r'<frame name="(\w+)" id="\w+" src="([\w.]+)"', frameset.text))
    assert frames == {"menu": "Menu.aspx", "main": "Search.aspx"}
    menu = client.get("Menu.aspx")
    assert classify_page(menu.content) == "menu"
    assert (
        'href="Search.aspx" target="main"' in menu.text
        and 'href="VesselSchedule.aspx" target="main"' in menu.text
    )
    assert "Signed in as ops" in menu.text
    assert classify_page(client.get("Search.aspx").content) == "search"
    assert portal.logins("ops") == 1


def test_a_post_without_tokens_is_refused(portal: RunningPortal, client: PortalClient) -> None:
    client.get("Login.aspx")  # a session cookie, but no tokens sent
    response = client.post(
        "Login.aspx", {"txtUserName": "ops", "txtPassword": PASSWORD, "btnLogin": "Log In"}
    )
    assert response.status_code == 500
    assert "Validation of viewstate MAC failed" in response.text
    assert classify_page(response.content) == "error"
    assert portal.logins("ops") == 0
    assert portal.counters()["viewstate_rejections"] == 1


def test_forged_foreign_and_stale_tokens_are_refused(
    portal: RunningPortal, client: PortalClient, make_client
) -> None:
    form = client.get("Login.aspx")
    good = hidden_fields(form)
    credentials = {"txtUserName": "ops", "txtPassword": PASSWORD, "btnLogin": "Log In"}

    forged = {**good, "__VIEWSTATE": good["__VIEWSTATE"][:-6] + "AAAAAA"}
    assert client.post("Login.aspx", {**forged, **credentials}).status_code == 500

    other = make_client(portal)
    foreign = hidden_fields(other.get("Login.aspx"))  # valid, but for another session
    assert client.post("Login.aspx", {**foreign, **credentials}).status_code == 500

    for _ in range(portal.options.viewstate_window):
        client.get("Login.aspx")  # newer pages push the first token out of the window
    stale = client.post("Login.aspx", {**good, **credentials})
    assert stale.status_code == 500 and "(stale)" in stale.text
    assert portal.logins("ops") == 0 and portal.counters()["viewstate_rejections"] == 3
    assert client.login().status_code == 302  # fresh tokens still work


def test_wrong_password_shows_the_error_and_counts(portal: RunningPortal, client: PortalClient) -> None:
    response = client.login(password="not-it")
    assert response.status_code == 200
    assert classify_page(response.content) == "login_failed"
    assert "Invalid user name or password." in response.text
    assert PASSWORD not in response.text and "not-it" not in response.text
    assert portal.counters()["login_failures"] == {"ops": 1}
    assert client.get("Search.aspx").status_code == 302  # still not signed in


def test_account_locks_after_n_failures_until_unlocked(make_portal, make_client, http) -> None:
    portal = make_portal(lock_after_failures=3)
    client = make_client(portal)
    kinds = [classify_page(client.login(password=f"guess-{n}").content) for n in range(3)]
    assert kinds == ["login_failed", "login_failed", "account_locked"]
    locked = client.login()  # even the right password
    assert classify_page(locked.content) == "account_locked" and locked.status_code == 200
    assert http.get(portal.url + "_sandbox/accounts").json()["ops"] == {"failures": 3, "locked": True}
    assert http.post(portal.url + "_sandbox/accounts/unlock", json={"username": "ops"}).json() == {
        "unlocked": True
    }
    assert client.login().status_code == 302
    assert portal.logins("ops") == 1


def test_pages_need_a_signed_in_session(client: PortalClient) -> None:
    for page in ("Default.aspx", "Menu.aspx", "Search.aspx", "VesselSchedule.aspx"):
        response = client.get(page)
        assert response.status_code == 302 and response.headers["location"] == "/Login.aspx"
    assert client.get("").headers["location"] == "/Login.aspx"
    assert client.get("NoSuchPage.aspx").status_code == 404


def test_idle_timeout_expires_the_session(make_portal, make_client, http) -> None:
    portal = make_portal(session_idle_seconds=600, session_max_age_seconds=3600)
    client = make_client(portal)
    client.login()
    portal.age_sessions(500)
    assert classify_page(client.get("Search.aspx").content) == "search"  # activity resets the idle timer
    portal.age_sessions(601)
    expired = client.get("Search.aspx")
    assert classify_page(expired.content) == "session_expired"
    assert 'href="Login.aspx" target="_top"' in expired.text
    assert http.get(portal.url + "_sandbox/sessions").json()["expired"]["idle"] == 1
    assert client.login().status_code == 302  # a re-login works
    assert classify_page(client.get("Search.aspx").content) == "search"


def test_maximum_age_expires_an_active_session(make_portal, make_client, http) -> None:
    portal = make_portal(session_idle_seconds=600, session_max_age_seconds=1000)
    client = make_client(portal)
    client.login()
    for _ in range(3):
        portal.age_sessions(400)
        page = client.get("Search.aspx")
        if classify_page(page.content) != "search":
            break
    assert classify_page(page.content) == "session_expired"
    assert http.get(portal.url + "_sandbox/sessions").json()["expired"] == {
        "idle": 0,
        "max_age": 1,
        "requests": 0,
    }


def test_session_ends_after_n_signed_in_requests(make_portal, make_client) -> None:
    portal = make_portal(session_expire_after_requests=4)
    client = make_client(portal)
    client.login()
    kinds = [classify_page(client.get("Search.aspx").content) for _ in range(5)]
    assert kinds == ["search"] * 4 + ["session_expired"]
    assert portal.counters()["session_expired_pages"] == 1


def test_admin_session_reset_signs_everyone_out(portal: RunningPortal, client: PortalClient, http) -> None:
    client.login()
    assert http.get(portal.url + "_sandbox/sessions").json()["signed_in"] == 1
    assert http.post(portal.url + "_sandbox/sessions/reset").json()["dropped"] >= 1
    assert classify_page(client.get("Search.aspx").content) == "session_expired"


def test_logout_ends_the_session(client: PortalClient) -> None:
    client.login()
    response = client.get("Logout.aspx")
    assert response.status_code == 302 and response.headers["location"] == "/Login.aspx"
    after = client.get("Search.aspx")
    assert after.status_code == 302 and after.headers["location"] == "/Login.aspx"


def test_chinese_login_is_gbk(portal: RunningPortal, make_client) -> None:
    client = make_client(portal, "zh")
    form = client.get("Login.aspx")
    assert form.headers["content-type"] == "text/html; charset=GBK"
    assert "用户登录" in page_text(form)
    failed = client.login(password="错误的密码")  # the browser posts it GBK-encoded
    assert classify_page(failed.content) == "login_failed" and "用户名或密码错误" in page_text(failed)
    assert client.login().headers["location"] == "/zh/Default.aspx"
