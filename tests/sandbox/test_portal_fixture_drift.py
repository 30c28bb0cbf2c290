"""The sandbox parser's saved fixtures still match what the live portal serves (same seed, same clock).

Anti-forgery tokens differ between captures, so pages are compared by what they say: the page kind
and the observations the parser reads from them.
"""

from __future__ import annotations

from pathlib import Path

from capture_sandbox_fixtures import FIXTURES, capture_pages, fixture_options

from parsers.portals.sandbox import PAGES, classify_page
from quaysync.model import ParseContext
from sandbox.portal import start_portal

CONTEXT = ParseContext(source="portal:sandbox", source_ref="drift")
PARSER_OF = {"results": "results", "detail": "detail", "vessels": "vessels"}


def _reading(name: str, content: bytes) -> tuple[str, list[dict[str, str | None]]]:
    if name.endswith(".xlsx"):
        return "export", [dict(o.fields) for o in PAGES["export"](content, CONTEXT)]
    kind = classify_page(content)
    parser = PAGES.get(PARSER_OF.get(kind, ""))
    return kind, [dict(o.fields) for o in parser(content, CONTEXT)] if parser else []


def test_live_pages_read_the_same_as_the_saved_fixtures() -> None:
    with start_portal(fixture_options()) as portal:
        live = capture_pages(portal)
    saved = {
        path.name: path.read_bytes() for path in Path(FIXTURES).iterdir() if path.suffix in (".html", ".xlsx")
    }
    assert set(live) == set(saved), "fixtures missing or extra: run tests/sandbox/capture_sandbox_fixtures.py"
    drifted = [name for name in sorted(live) if _reading(name, live[name]) != _reading(name, saved[name])]
    assert drifted == [], f"portal output changed for {drifted}: regenerate the fixtures and review the diff"
