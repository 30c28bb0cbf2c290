"""The status board (/board): every active container and each source's health, for ops.

Server-rendered with Jinja2, autoescape on: everything scraped is shown as text. A strict
Content-Security-Policy (scripts only from this origin) backs that up. Failure evidence is
served read-only from <data_dir>/evidence/ by /evidence/{path}; paths that leave that folder
are refused, and captured HTML is served sandboxed (no scripts, no same-origin access).

With API keys on, a browser opens /board?key=<token> once; the token moves into an HttpOnly,
SameSite=Strict cookie and the address bar is cleaned by a redirect.
"""

from __future__ import annotations

import mimetypes
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from api.auth import BOARD_COOKIE, authenticate, key_name_for
from api.problems import ApiProblem
from api.queries import status_document
from api.zones import local
from store.tables import ContainerStatusRow, RunRow, SourceStateRow

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = TEMPLATES / "static"
BOARD_LIMIT = 2000
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
)
EVIDENCE_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
LIGHTS = ("red", "amber", "green")
LIFECYCLES = ("UNKNOWN", "IN_TRANSIT", "ARRIVED", "DISCHARGED", "GATED_OUT", "EMPTY_RETURNED")
HEALTH = {
    "ok": "ok",
    "running": "running",
    "partial": "degraded",
    "failed": "failing",
    "interrupted": "failing",
    "blocked": "needs a person",
    "layout_changed": "needs a person",
}

router = APIRouter(include_in_schema=False)
_environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))


def _when(moment: datetime | None, zone_name: str | None = None) -> str:
    value = local(moment, zone_name)
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


_environment.filters["when"] = _when


def board_containers(
    session: Session,
    *,
    light: str | None = None,
    terminal: str | None = None,
    lifecycle: str | None = None,
    search: str | None = None,
    now: datetime | None = None,
    limit: int = BOARD_LIMIT,
) -> list[dict[str, Any]]:
    """Containers still being tracked (not final), red first, then by last free day."""
    status = ContainerStatusRow.__table__
    statement = select(status).where(status.c.tracking != "final")
    if light:
        statement = statement.where(status.c.traffic_light == light)
    if terminal:
        statement = statement.where(status.c.terminal == terminal)
    if lifecycle:
        statement = statement.where(status.c.lifecycle == lifecycle)
    if search:
        text = search.strip().upper()
        statement = statement.where(
            status.c.container_number.contains(text) | status.c.bill_of_lading.contains(text)
        )
    rows = session.execute(statement.order_by(status.c.container_number).limit(limit)).all()
    rank = {"red": 0, "amber": 1, "green": 2}
    documents = [status_document(row, None, now) for row in rows]
    documents.sort(
        key=lambda doc: (
            rank.get(doc["traffic_light"]["light"] or "", 3),
            doc["last_free_day"] is None,
            doc["last_free_day"] or datetime.max.date(),
            doc["container_number"],
        )
    )
    return documents


def _evidence_paths(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [path for item in value.values() for path in _evidence_paths(item)]
    if isinstance(value, list):
        return [path for item in value for path in _evidence_paths(item)]
    return []


def evidence_link(path: str, root: Path | None) -> str | None:
    """The /evidence/... link of a stored evidence path, when it is a file under the root."""
    if root is None:
        return None
    base = root.resolve()
    candidate = Path(path)
    options = [candidate] if candidate.is_absolute() else [base / candidate, base.parent / candidate]
    for option in options:
        resolved = option.resolve()
        if resolved.is_relative_to(base) and resolved.is_file():
            return "/evidence/" + resolved.relative_to(base).as_posix()
    return None


def source_health(session: Session, evidence_root: Path | None) -> list[dict[str, Any]]:
    """Each source's last run, last good run and state (pause, blocked accounts)."""
    latest = select(func.max(RunRow.id)).group_by(RunRow.source)
    runs = (
        session.execute(select(RunRow).where(RunRow.id.in_(latest)).order_by(RunRow.source)).scalars().all()
    )
    last_ok = dict(
        session.execute(
            select(RunRow.source, func.max(RunRow.ended_at))
            .where(RunRow.outcome == "ok")
            .group_by(RunRow.source)
        ).all()
    )
    states: dict[str, list[dict[str, Any]]] = {}
    for state in session.execute(select(SourceStateRow).order_by(SourceStateRow.key)).scalars():
        states.setdefault(state.source, []).append({"key": state.key, "value": state.value})
    sources = []
    seen = set()
    for run in runs:
        seen.add(run.source)
        paths = _evidence_paths(run.evidence) + _evidence_paths(
            [error.get("evidence") for error in run.errors]
        )
        sources.append(
            {
                "source": run.source,
                "run": run,
                "health": HEALTH.get(run.outcome, run.outcome),
                "last_ok": last_ok.get(run.source),
                "errors": [str(error.get("message", error)) for error in run.errors][:5],
                "evidence": [{"path": path, "link": evidence_link(path, evidence_root)} for path in paths],
                "states": states.get(run.source, []),
            }
        )
    for source in sorted(set(states) - seen):
        sources.append(
            {
                "source": source,
                "run": None,
                "health": "no runs",
                "last_ok": None,
                "errors": [],
                "evidence": [],
                "states": states[source],
            }
        )
    return sources


def _login_page(request: Request, detail: str) -> Response:
    if "text/html" not in request.headers.get("accept", ""):
        raise ApiProblem(401, "Unauthorized", detail, slug="unauthorized")
    html = _environment.get_template("login.html").render(detail=detail)
    return HTMLResponse(html, status_code=401, headers={"Content-Security-Policy": CSP})


@router.get("/board")
def board(
    request: Request,
    light: str | None = None,
    terminal: str | None = None,
    lifecycle: str | None = None,
    q: str | None = None,
    key: str | None = None,
) -> Response:
    if key is not None and request.app.state.options.require_api_key:
        target = request.url.remove_query_params("key")
        return _sign_in(request, key, str(target.path) + (f"?{target.query}" if target.query else ""))
    try:
        authenticate(request, cookie=True)
    except ApiProblem as problem:
        return _login_page(request, problem.detail or "an API key is needed")
    now = datetime.now(UTC)
    light = light if light in LIGHTS else None
    lifecycle = lifecycle if lifecycle in LIFECYCLES else None
    with request.app.state.store.session() as session:
        containers = board_containers(
            session, light=light, terminal=terminal or None, lifecycle=lifecycle, search=q, now=now
        )
        status = ContainerStatusRow.__table__
        terminals = [
            name
            for name in session.execute(
                select(status.c.terminal)
                .where(status.c.terminal.is_not(None))
                .distinct()
                .order_by(status.c.terminal)
            ).scalars()
        ]
        sources = source_health(session, request.app.state.evidence_dir)
    counts = {name: sum(1 for doc in containers if doc["traffic_light"]["light"] == name) for name in LIGHTS}
    html = _environment.get_template("board.html").render(
        containers=containers,
        sources=sources,
        terminals=terminals,
        lifecycles=LIFECYCLES,
        counts=counts,
        filters={"light": light, "terminal": terminal, "lifecycle": lifecycle, "q": q},
        limit=BOARD_LIMIT,
        now=now,
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"})


def _sign_in(request: Request, key: str, target: str) -> Response:
    """Check a key; if good, keep it in the board cookie and go on to `target` (303)."""
    with request.app.state.store.session() as session:
        valid = key_name_for(session, key) is not None
    if not valid:
        return _login_page(request, "that key is unknown or revoked")
    response = RedirectResponse(target, 303)
    secure = request.url.scheme == "https"
    response.set_cookie(BOARD_COOKIE, key, httponly=True, samesite="strict", secure=secure, path="/")
    return response


@router.post("/board/login")
async def board_login(request: Request) -> Response:
    """The login form: the key travels in the body, so it never lands in URLs or access logs."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    key = (form.get("key") or [""])[0].strip()
    if not key:
        return _login_page(request, "an API key is needed")
    return await run_in_threadpool(_sign_in, request, key, "/board")


@router.get("/board/static/{name}")
def board_static(name: str) -> Response:
    path = (STATIC / name).resolve()
    if not path.is_relative_to(STATIC.resolve()) or not path.is_file():
        raise ApiProblem(404, "Not Found", slug="not-found")
    return FileResponse(path, headers={"Cache-Control": "max-age=300", "X-Content-Type-Options": "nosniff"})


@router.get("/evidence/{path:path}")
def evidence(request: Request, path: str) -> Response:
    """A failure evidence file (screenshot, HTML snapshot, trace), read-only, never outside the folder."""
    authenticate(request, cookie=True)
    root: Path | None = request.app.state.evidence_dir
    if root is None or ".." in Path(path).parts or "\\" in path or path.startswith("/"):
        raise ApiProblem(404, "Not Found", "no such evidence file", slug="evidence-not-found")
    base = root.resolve()
    target = (base / path).resolve()
    if not target.is_relative_to(base) or not target.is_file():
        raise ApiProblem(404, "Not Found", "no such evidence file", slug="evidence-not-found")
    media_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": EVIDENCE_CSP}
    inline = media_type.startswith("image/") or media_type in ("text/html", "text/plain")
    if not inline:
        headers["Content-Disposition"] = f'attachment; filename="{target.name}"'
    return FileResponse(target, media_type=media_type, headers=headers)
