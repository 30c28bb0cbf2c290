"""POST /ask: a customer's question in, ready sentences (zh/en) and the data behind them out."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from api.ask import answer
from api.auth import KeyedRoute
from api.db import run_db
from api.responses import json_response

router = APIRouter(tags=["Ask"], route_class=KeyedRoute)


class Question(BaseModel):
    question: str = Field(min_length=1, max_length=2000, examples=["柜子到哪了 MSKU1234565?"])
    language: Literal["zh", "en"] | None = Field(
        None, description="default: from the question (zh if any CJK)"
    )


@router.post("/ask", summary="Answer a question about containers, B/Ls or orders")
async def ask(request: Request, body: Question) -> Response:
    document = await run_db(request, lambda session: answer(session, body.question, language=body.language))
    return json_response(request, document)
