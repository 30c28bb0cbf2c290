"""Errors as RFC 9457 problem details, for every error the API answers (404, 405, 401, 422, 500...).

    raise ApiProblem(422, "Invalid container number", "check digit is 6, expected 5",
                     slug="invalid-container-number", suggestion="MSKU1234565")

Under /v2 (DCSA Track & Trace) the same body also carries the DCSA error members (httpMethod,
requestUri, statusCode, statusCodeText, errorDateTime, errors[]) — RFC 9457 allows extension
members — and goes out as `application/json`, the media type the DCSA spec declares, unless the
client asks for `application/problem+json`.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
DCSA_PREFIX = "/v2/"
DCSA_API_VERSION = "2.2.0"


class ApiProblem(Exception):
    """An error to answer as a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        slug: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.slug = slug
        self.headers = headers or {}
        self.extensions = extensions


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str | None = None,
    *,
    slug: str | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": f"urn:quaysync:problem:{slug}" if slug else "about:blank",
        "title": title,
        "status": status,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    body.update(extensions or {})
    headers = dict(headers or {})
    media_type = PROBLEM_JSON
    if request.url.path.startswith(DCSA_PREFIX):
        body.update(
            httpMethod=request.method,
            requestUri=str(request.url),
            statusCode=status,
            statusCodeText=_phrase(status),
            errorDateTime=datetime.now(UTC).isoformat(timespec="seconds"),
            errors=[{"reason": slug or _phrase(status), "message": detail or title}],
        )
        headers["API-Version"] = DCSA_API_VERSION
        if PROBLEM_JSON not in request.headers.get("accept", ""):
            media_type = "application/json"
    if status == 304 or status < 200:
        return Response(status_code=status, headers=headers)
    return Response(
        json.dumps(body, ensure_ascii=False, default=str),
        status_code=status,
        headers=headers,
        media_type=media_type,
    )


def _validation_detail(error: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ()) if part not in ("body",)) or "request"
        problems.append({"field": where, "message": item.get("msg", "invalid")})
    detail = "; ".join(f"{problem['field']}: {problem['message']}" for problem in problems)
    return detail, problems


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    path = request.url.path
    for router in getattr(request.app.state, "routers", ()):
        for route in router.routes:
            regex = getattr(route, "path_regex", None)
            if regex is not None and regex.match(path):
                methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, error: Exception) -> Response:
        assert isinstance(error, ApiProblem)
        return problem_response(
            request,
            error.status,
            error.title,
            error.detail,
            slug=error.slug,
            headers=error.headers,
            extensions=error.extensions,
        )

    async def on_http(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        title = _phrase(error.status_code)
        detail = error.detail if isinstance(error.detail, str) and error.detail != title else None
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers.pop("allow", None)
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return problem_response(request, error.status_code, title, detail, headers=headers)

    async def on_validation(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        detail, problems = _validation_detail(error)
        # DCSA's convention for a malformed request is 400; elsewhere FastAPI's 422.
        status = 400 if request.url.path.startswith(DCSA_PREFIX) else 422
        return problem_response(
            request,
            status,
            "Invalid request",
            detail,
            slug="invalid-request",
            extensions={"invalid": problems},
        )

    async def on_crash(request: Request, error: Exception) -> Response:
        log.exception("unhandled error answering %s %s", request.method, request.url.path)
        return problem_response(request, 500, "Internal Server Error", "the error is logged on the server")

    app.add_exception_handler(ApiProblem, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Exception, on_crash)
