"""The bots' small parts without a browser: masking, blocked-account state, page bytes, batches."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bots.blocked import blocked_accounts, clear_blocked, record_blocked
from bots.families import bot_class, families
from bots.masking import Masker
from bots.tab import as_sent
from bots.targets import batches, clean_numbers
from quaysync.errors import CaptchaRequired, ConfigError, MaintenanceWindow
from quaysync.secrets import MASK, REDACTOR
from store import open_store

SECRET = "Pilot-Harbour-9931"
COOKIE = "4f9a1c2e7b3d5a6f8e0c1d2b"


@pytest.fixture(autouse=True)
def registered() -> None:
    REDACTOR.register(SECRET)


def test_har_entries_lose_passwords_and_cookies_but_keep_their_shape() -> None:
    har = {
        "log": {
            "entries": [
                {
                    "request": {
                        "url": "http://portal/Login.aspx",
                        "headers": [{"name": "Cookie", "value": f"ASP.NET_SessionId={COOKIE}; lang=en"}],
                        "cookies": [{"name": "ASP.NET_SessionId", "value": COOKIE}],
                        "postData": {
                            "text": f"__VIEWSTATE=abc%2B&txtUserName=ops&txtPassword={SECRET}&btnLogin=Log+In"
                        },
                    },
                    "response": {
                        "headers": [
                            {"name": "Set-Cookie", "value": f"ASP.NET_SessionId={COOKIE}; path=/; HttpOnly"}
                        ],
                        "cookies": [{"name": "ASP.NET_SessionId", "value": COOKIE}],
                        "content": {"text": f"<p>welcome {SECRET}</p>"},
                    },
                }
            ]
        }
    }
    masked = json.dumps(Masker([COOKIE]).har_document(har))
    assert SECRET not in masked and COOKIE not in masked
    entry = json.loads(masked)["log"]["entries"][0]
    assert entry["request"]["postData"]["text"] == (
        f"__VIEWSTATE=abc%2B&txtUserName=ops&txtPassword={MASK}&btnLogin=Log+In"
    )
    assert entry["response"]["headers"][0]["value"] == f"ASP.NET_SessionId={MASK}; path=/; HttpOnly"
    assert entry["request"]["headers"][0]["value"] == f"ASP.NET_SessionId={MASK}; lang={MASK}"


def test_trace_zip_members_are_masked_and_images_left_alone(tmp_path: Path) -> None:
    trace = tmp_path / "trace.zip"
    image = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    network = {"type": "resource-snapshot", "snapshot": {
        "request": {"headers": [{"name": "Cookie", "value": f"ASP.NET_SessionId={COOKIE}"}], "cookies": []},
        "response": {"headers": [], "cookies": []}}}  # fmt: skip
    with zipfile.ZipFile(trace, "w") as archive:
        archive.writestr("trace.trace", json.dumps({"method": "fill", "params": {"value": SECRET}}))
        archive.writestr("trace.network", json.dumps(network) + "\n")
        archive.writestr("resources/page@1.png", image)
        archive.writestr("resources/abc.html", f"<input value='{SECRET}'>")
    Masker([COOKIE]).trace_zip(trace)
    with zipfile.ZipFile(trace) as archive:
        blobs = {name: archive.read(name) for name in archive.namelist()}
    assert set(blobs) == {"trace.trace", "trace.network", "resources/page@1.png", "resources/abc.html"}
    assert blobs["resources/page@1.png"] == image
    for name, blob in blobs.items():
        assert SECRET.encode() not in blob and COOKIE.encode() not in blob, name


def test_gbk_pages_come_back_as_the_portal_sent_them() -> None:
    page = '<meta http-equiv="Content-Type" content="text/html; charset=GBK" /><h2>集装箱提箱查询</h2>'
    sent = page.encode("gbk")
    assert as_sent(page.encode("utf-8"), "text/html; charset=GBK") == sent  # what Chromium hands over
    assert as_sent(sent, "text/html; charset=GBK") == sent  # already raw: untouched
    assert as_sent(page.encode("utf-8"), "text/html") == sent  # the <meta> says GBK
    assert as_sent(b"PK\x03\x04", "application/vnd.ms-excel") == b"PK\x03\x04"


def test_blocked_accounts_are_remembered_until_cleared_or_over(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'q.db'}")
    now = datetime(2026, 11, 8, tzinfo=UTC)
    with store.session() as session:
        value = record_blocked(session, "sandbox", "ops", CaptchaRequired("CAPTCHA on search"), run_id=3,
                               evidence=["a.png"], now=now)  # fmt: skip
        record_blocked(session, "sandbox", "ops2", MaintenanceWindow("down"), run_id=3, evidence=[], now=now)
    assert value["kind"] == "captcha" and "--retry-blocked" in value["action"] and value["until"] is None
    with store.session() as session:
        assert set(blocked_accounts(session, "sandbox", now)) == {"ops", "ops2"}
        assert set(blocked_accounts(session, "sandbox", now + timedelta(hours=1))) == {"ops"}  # window over
        clear_blocked(session, "sandbox", "ops")
    with store.session() as session:
        assert set(blocked_accounts(session, "sandbox", now)) == {"ops2"}
    store.dispose()


def test_container_numbers_are_cleaned_and_batched() -> None:
    assert clean_numbers([" msku 5205288", "MSKU5205288", "", "cbhu7648785\n"]) == [
        "MSKU5205288",
        "CBHU7648785",
    ]
    assert batches(list("abcdefg"), 3) == [["a", "b", "c"], ["d", "e", "f"], ["g"]]
    with pytest.raises(ValueError):
        batches(["a"], 0)


def test_families_are_found_by_name_and_terminal_suffix() -> None:
    assert "sandbox" in families()
    assert bot_class("sandbox_lgb") is bot_class("sandbox")
    with pytest.raises(ConfigError, match="no bot for this portal family"):
        bot_class("tideworks")


@pytest.mark.parametrize(
    ("page", "kind"),
    [
        (b"", "unknown"),
        (b"\xff\xfe\x00garbage", "unknown"),
        (b"<html><body><div id='pnlSearch'><section>new grid</section></div></body></html>", "unknown"),
        (b"<html><body><div id='pnlSearch'><span id='lblMessage'>too many</span></div></body></html>",
         "search_rejected"),
        (b"<html><body><div id='pnlLogin'><span id='lblError'>Account\n locked</span></div></body></html>",
         "account_locked"),
        (b"<html><body><div id='pnlDetail'><table id='other'></table></div></body></html>", "unknown"),
        (b"<!-- nothing but a comment -->", "unknown"),
        (b"<!-- Server Error in '/' Application. -->", "error"),
    ],
)  # fmt: skip
def test_classify_page_of_edge_pages(page: bytes, kind: str) -> None:
    from parsers.portals.sandbox import classify_page

    assert classify_page(page) == kind
