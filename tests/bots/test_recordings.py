"""Recordings: `record_portal` captures a session with secrets masked; the bot's flow replays from the
HAR alone (`route_from_har`, unknown requests aborted, no server); parsers read the snapshots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bot_helpers import PASSWORD, make_portal, numbers_of
from pydantic import SecretStr

from bots import EngineThread
from bots.recorder import REPLAY_PASSWORD, load_manifest, record_portal, replay_recording
from parsers.portals import parse_page
from quaysync.config import PortalAccount, PortalSource
from quaysync.model import ParseContext
from quaysync.secrets import REDACTOR

pytestmark = pytest.mark.browser

COMMITTED = Path(__file__).resolve().parents[2] / "recordings" / "sandbox"


def _context(manifest: dict, url: str) -> ParseContext:
    return ParseContext(
        source=f"portal:{manifest['portal']}", source_ref=url, time_zone=manifest["time_zone"]
    )


def test_the_committed_recording_replays_without_the_portal(engine: EngineThread) -> None:
    manifest = load_manifest(COMMITTED)
    session = engine.call(replay_recording(COMMITTED, pool=engine.engine.pool))

    assert len(session.loads) == len(manifest["pages"])
    for loaded, page in zip(session.loads, manifest["pages"], strict=True):
        assert loaded.url == page["url"] and loaded.frame == page["frame"]
        assert loaded.content == (COMMITTED / page["file"]).read_bytes(), page["file"]
    kinds = [capture.page for capture in session.captures]
    assert kinds.count("results") >= 2, "the recording holds postback paging"
    assert {"export", "detail", "vessels"} <= set(kinds)


def test_parsers_read_the_committed_snapshots() -> None:
    manifest = load_manifest(COMMITTED)
    asked = manifest["containers"]
    by_page: dict[str, list[str]] = {}
    for page in manifest["pages"]:
        if not page["parser_page"]:
            continue
        content = (COMMITTED / page["file"]).read_bytes()
        observations = parse_page(
            manifest["family"], page["parser_page"], content, _context(manifest, page["url"])
        )
        assert observations, page["file"]
        by_page.setdefault(page["parser_page"], []).extend(
            str(observation.fields.get("container_no") or observation.fields.get("vessel"))
            for observation in observations
        )
    assert by_page["results"] == asked  # every results page, in order, once
    assert by_page["export"] == asked
    assert by_page["detail"] == asked[:1]
    assert len(by_page["vessels"]) >= 1


def test_the_committed_recording_holds_no_secret() -> None:
    har = json.loads((COMMITTED / "session.har").read_text(encoding="utf-8"))
    logins = [
        entry for entry in har["log"]["entries"]
        if entry["request"]["method"] == "POST" and entry["request"]["url"].endswith("Login.aspx")
    ]  # fmt: skip
    assert logins and f"txtPassword={REPLAY_PASSWORD}" in logins[0]["request"]["postData"]["text"]
    for entry in har["log"]["entries"]:
        for side in ("request", "response"):
            for header in entry[side]["headers"]:
                if header["name"].lower() in ("cookie", "set-cookie"):
                    assert "=********" in header["value"], header


def test_record_masks_secrets_and_replays_after_the_portal_is_gone(
    tmp_path: Path, engine: EngineThread
) -> None:
    REDACTOR.register(PASSWORD)
    portal = make_portal(page_size=2)
    try:
        source = PortalSource(
            name="sandbox",
            family="sandbox",
            base_url=portal.url,
            time_zone="America/Los_Angeles",
            timeout=10,
            accounts=[PortalAccount(username="ops", password=SecretStr(PASSWORD))],
        )
        asked = numbers_of(portal, 3)
        manifest = engine.call(record_portal(source, asked, tmp_path / "rec", pool=engine.engine.pool))
        cookies = [session.session_id for session in portal._portal.sessions.sessions_of("ops")]
    finally:
        portal.stop()
    assert manifest["containers"] == asked and cookies
    files = [path for path in (tmp_path / "rec").rglob("*") if path.is_file()]
    for path in files:
        blob = path.read_bytes()
        assert PASSWORD.encode() not in blob, path
        assert not any(cookie.encode() in blob for cookie in cookies), path

    session = engine.call(replay_recording(tmp_path / "rec", pool=engine.engine.pool))
    assert [loaded.content for loaded in session.loads] == [
        (tmp_path / "rec" / page["file"]).read_bytes() for page in manifest["pages"]
    ]
