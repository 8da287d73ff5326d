"""The JSON API under ``/api``: answers, the articles, and health, for programs and scripts.

    POST   /api/answer          {"question", "history", "article_ids", "llm"} -> the answer
    GET    /api/articles        the articles
    POST   /api/articles        a link {"url"}, pasted text {"title", "text"}, or a file (multipart)
    DELETE /api/articles/{id}
    GET    /api/health

An answer is the same JSON as ``ask --json``. ``history`` is the earlier turns, oldest first:
questions as text, or ``{"question", "answer"}`` with the answer this API gave (then it is not
worked out again). Articles go in through the chat's own library, readers, limits and link
rules. Every error is JSON, ``{"error": {"status", "message"}}``, with a status that fits: 400 a
question or request that cannot be answered as it is, 403 writing to a read-only server, 404 an
unknown article, 413 too large, 422 an input that cannot be read, 503 nothing ingested yet.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.app import Assistant
from assistant.core.errors import (
    AssistantError,
    ConfigError,
    EmptyStoreError,
    InvalidQuestionError,
    StoreError,
)
from assistant.core.records import Answer, Outcome, Turn
from assistant.interfaces.web import ChatPage, safe_file_name

STATUS = (  # the status of each error a user can act on, the first that fits
    (EmptyStoreError, 503),
    (StoreError, 503),
    (InvalidQuestionError, 400),
    (ConfigError, 400),
    (AssistantError, 400),
)


class TurnIn(BaseModel):
    """An earlier turn: its question, and the answer this API gave it when the caller kept it."""

    question: str
    answer: dict[str, Any] | None = None


class AnswerRequest(BaseModel):
    """A question about the stored articles."""

    question: str = Field(examples=["Who is Khalil Haqqani?"])
    history: list[str | TurnIn] = Field(
        default=[], description="earlier questions, or turns with their answers"
    )
    article_ids: list[str] | None = Field(default=None, description="ask only these articles (default: all)")
    llm: str | None = Field(default=None, description='a chat model to write the answer, e.g. "local"')


class LinkIn(BaseModel):
    """An article by address: a web page, a PDF, or a feed's newest articles."""

    url: str


class TextIn(BaseModel):
    """An article pasted as text."""

    title: str
    text: str


def turns_in(history: list[str | TurnIn]) -> list[str | Turn]:
    """The history as the answerer takes it; an earlier answer that is not one is a 400."""
    try:
        return [
            item
            if isinstance(item, str)
            else Turn(item.question, Answer.from_dict(item.answer) if item.answer else None)
            for item in history
        ]
    except ValueError as e:
        raise InvalidQuestionError(f"an earlier turn's answer: {e}") from e


def router(root: Assistant) -> APIRouter:
    """The routes over ``root``, sharing the chat's library and link rules."""
    page = ChatPage.of(root)
    routes = APIRouter(prefix="/api")

    @routes.post("/answer", tags=["answers"])
    def answer(request: AnswerRequest) -> dict[str, Any]:
        """Answer a question with the articles' own sentences, each cited with its offsets; or say
        why the articles do not answer (``abstained``, ``reason``)."""
        reply = root.answer(request.question, turns_in(request.history), request.article_ids, llm=request.llm)
        return reply.to_dict()

    @routes.get("/articles", tags=["articles"])
    def articles() -> list[dict[str, Any]]:
        """Every ingested article: id, title, source, sentence count, content hash, metadata."""
        return [a.to_dict() for a in root.store.articles()]

    @routes.post("/articles", tags=["articles"], status_code=201)
    async def add(request: Request) -> dict[str, Any]:
        """Add an article: JSON ``{"url"}`` (a page, a PDF or a feed), JSON ``{"title", "text"}``,
        or a file as multipart form data (``file``). The outcome of each article read."""
        _writable(root)
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            outcomes = await _upload(request, page)
        else:
            body = await _json(request)
            if isinstance(body, dict) and "url" in body:
                link = _valid(LinkIn, body)
                report = await run_in_threadpool(page.library.add_sources, [link.url], page.links)
                outcomes = list(report.outcomes)
            else:
                pasted = _valid(TextIn, body)
                outcomes = [await run_in_threadpool(page.library.add_text, pasted.title, pasted.text)]
        good = [o for o in outcomes if o.status != "failed"]
        if not good:
            raise HTTPException(
                422, "; ".join(f"{o.source}: {o.detail}" for o in outcomes) or "nothing to add"
            )
        return {"outcomes": [_outcome(o) for o in outcomes]}

    @routes.delete("/articles/{article_id}", tags=["articles"])
    def remove(article_id: str) -> dict[str, Any]:
        """Remove an article and its sentences."""
        _writable(root)
        if not root.store.remove_article(article_id):
            raise HTTPException(404, f"no article with id {article_id!r}: see GET /api/articles")
        root.store.touch()
        return {"removed": article_id}

    @routes.get("/health", tags=["health"])
    def health() -> dict[str, Any]:
        """Whether the store answers, and what it holds."""
        listed = root.store.articles()
        return {
            "status": "ok",
            "articles": len(listed),
            "sentences": sum(a.sentence_count for a in listed),
            "read_only": root.settings.read_only,
        }

    @routes.api_route(
        "/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
    )
    def unknown(path: str) -> None:
        raise HTTPException(404, f"no such route: /api/{path}; see /docs")

    return routes


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError as e:
        raise HTTPException(400, f"the body is not JSON: {e}") from e


def _valid(model: type[BaseModel], body: Any) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as e:
        raise HTTPException(422, not_taken(e.errors())) from e


async def _upload(request: Request, page: ChatPage) -> list[Outcome]:
    """The outcome of the file in a multipart request, read as the chat reads an upload."""
    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise HTTPException(400, "send the article as the form field 'file'")
    name = safe_file_name(upload.filename or "upload")
    with tempfile.TemporaryDirectory(prefix="assistant-upload-") as folder:
        path = Path(folder) / name
        size = 0
        with path.open("wb") as out:
            while chunk := await upload.read(1 << 20):
                size += len(chunk)
                if size > page.library.max_bytes:
                    raise HTTPException(
                        413, f"{name} is over the {page.library.max_bytes / 2**20:.0f} MB limit"
                    )
                out.write(chunk)
        return [await run_in_threadpool(page.library.add_file, path, f"upload:{name}")]


def _outcome(o: Outcome) -> dict[str, Any]:
    return {"source": o.source, "status": o.status, "detail": o.detail, "article_id": o.article_id,
            "title": o.title, "sentences": o.sentences}  # fmt: skip


def _writable(root: Assistant) -> None:
    if root.settings.read_only:
        raise HTTPException(403, "this server is read-only: it adds and removes no article")


def not_taken(problems: Sequence[Any]) -> str:
    """What is wrong with a request, from pydantic's errors: each field and what it must be."""
    said = "; ".join(f"{_field(p['loc'])}: {p['msg']}" for p in problems)
    return f"the request is not one this route takes ({said})"


def _field(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc if part != "body") or "body"


def error_body(status: int, message: str) -> dict[str, Any]:
    """The JSON of every error the API answers."""
    return {"error": {"status": status, "message": message}}


def install_errors(app: FastAPI) -> None:
    """Answer every error of the app's routes as JSON, never a traceback."""

    @app.exception_handler(AssistantError)
    async def assistant_error(request: Request, e: AssistantError) -> JSONResponse:
        status = next(code for kind, code in STATUS if isinstance(e, kind))
        return JSONResponse(error_body(status, str(e)), status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, e: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            error_body(e.status_code, str(e.detail)), status_code=e.status_code, headers=e.headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body(422, not_taken(e.errors())), 422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, e: Exception) -> JSONResponse:
        return JSONResponse(error_body(500, f"the server failed: {type(e).__name__}"), status_code=500)
