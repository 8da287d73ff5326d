"""The OpenAI-compatible endpoint under ``/v1``, so that any OpenAI client, LangChain's ``ChatOpenAI``
or an agent framework can ask the articles.

    GET  /v1/models              article-assistant, and article-assistant+<spec> per chat model offered
    POST /v1/chat/completions    OpenAI chat messages -> the answer as text, its citations as data

The last user message is the question, the earlier user messages are the conversation's earlier
questions; system and assistant messages are not read (the answer comes from the articles alone).
The model ``article-assistant`` answers as the JSON API does with no chat model named (the articles'
own sentences, or the server's default chat model); ``article-assistant+<spec>`` has the chat model
``spec`` write it (``+local``, ``+ollama:llama3.2``). The content is :meth:`Answer.as_text` (the short
answer, the answer with its [n] markers, the sources); beside it the completion carries ``citations``,
``short``, ``abstained``, ``reason`` and ``related`` as the JSON API gives them. ``article_ids``, a
field OpenAI does not have (``extra_body``), limits the articles asked. Options it does not use
(temperature, tools...) are accepted and ignored.

``"stream": true`` sends OpenAI's chunks: the role, the content, a last chunk with ``finish_reason``
and the citations, then ``[DONE]``. The content is only ever the checked answer. A chat model's
sentences are checked once it has written them all, and any of them may be left out, so what the
model writes streams as it comes in ``delta.reasoning_content`` (the field chat clients show as the
model's working, apart from its answer), and the checked answer follows as content.

Errors are the JSON API's, ``{"error": {"status", "message"}}``: 400 a request or question that cannot
be answered (a malformed request too, as OpenAI answers it), 404 an unknown model, 503 nothing
ingested yet. Once a stream has started, an error is an event ``{"error": ...}``, which the openai
client raises.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from assistant.answering.answerer import Streaming
from assistant.app import Assistant
from assistant.core.errors import InvalidQuestionError
from assistant.core.records import Answer
from assistant.interfaces.api import not_taken

log = logging.getLogger(__name__)

MODEL = "article-assistant"  # the articles' own sentences, or the server's default chat model
WRITTEN_BY = f"{MODEL}+"  # article-assistant+<spec>: the chat model <spec> writes the answer
EXTRAS = ("citations", "short", "abstained", "reason", "related")  # the answer's data beside its text


class ContentPart(BaseModel):
    """A part of a message's content; only text parts can be read."""

    type: str
    text: str | None = None


class Message(BaseModel):
    """One message of the conversation; only the user's are read."""

    role: str  # "system", "developer", "user", "assistant", "tool"
    content: str | list[ContentPart] | None = None


class StreamOptions(BaseModel):
    """How to stream: ``include_usage`` adds a last chunk with the token counts."""

    include_usage: bool = False


class CompletionRequest(BaseModel):
    """An OpenAI chat completion request; the options not named here are accepted and ignored."""

    model: str = Field(examples=[MODEL])
    messages: list[Message] = Field(
        min_length=1, examples=[[{"role": "user", "content": "Who is Khalil Haqqani?"}]]
    )
    stream: bool = False
    stream_options: StreamOptions | None = None
    article_ids: list[str] | None = Field(default=None, description="ask only these articles (default: all)")


class OpenAIRoute(APIRoute):
    """A route that answers a request it cannot read with 400, as OpenAI does (FastAPI's is 422)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, its validation errors made 400s."""
        handle = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await handle(request)
            except RequestValidationError as e:
                raise HTTPException(400, not_taken(e.errors())) from e

        return handler


def chat_model(name: str) -> str | None:
    """The spec of the chat model the model ``name`` has write the answer (None: the server's own
    choice), or a 404 as OpenAI's for a model it does not have."""
    if name == MODEL:
        return None
    spec = name.removeprefix(WRITTEN_BY).strip()
    if name.startswith(WRITTEN_BY) and spec:
        return spec
    raise HTTPException(
        404,
        f"The model {name!r} does not exist: ask {MODEL!r}, or {WRITTEN_BY + '<chat model>'!r} such as "
        f"{WRITTEN_BY + 'local'!r} (see GET /v1/models)",
    )


def conversation(messages: Sequence[Message]) -> tuple[str, list[str]]:
    """The question (the last user message) and the earlier questions (the user messages before
    it, oldest first), as the answerer takes them."""
    asked = [_text(m) for m in messages if m.role == "user"]
    if not asked:
        raise InvalidQuestionError("no user message: the last message with role 'user' is the question")
    return asked[-1], asked[:-1]


def _text(message: Message) -> str:
    if message.content is None or isinstance(message.content, str):
        return message.content or ""
    other = [p.type for p in message.content if p.type != "text"]
    if other:
        raise InvalidQuestionError(
            f"a user message holds a part of type {other[0]!r}: this model reads text only"
        )
    return "\n".join(p.text or "" for p in message.content)


def tokens(text: str) -> int:
    """An estimate of the tokens of ``text`` (four characters each), for the ``usage`` clients expect."""
    return -(-len(text) // 4)


@dataclass(frozen=True)
class Completion:
    """One reply to a request: its id, time and model, and the estimated tokens of what was asked."""

    model: str
    prompt_tokens: int
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex}")
    created: int = field(default_factory=lambda: int(time.time()))

    def whole(self, answer: Answer) -> dict[str, Any]:
        """The reply as one ``chat.completion``."""
        text = answer.as_text()
        message = {"role": "assistant", "content": text}
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
        usage = self._usage(text)
        return {**self._head("chat.completion"), "choices": [choice], "usage": usage, **extras(answer)}

    def events(self, items: Iterator[str | Answer], include_usage: bool) -> Iterator[str]:
        """The reply as server-sent ``chat.completion.chunk`` events: the role, what a chat model
        writes as it writes it (``reasoning_content``), the checked answer's text in pieces, a last
        chunk with the citations, the usage when asked for, then ``[DONE]``. ``items`` are an
        answerer's pieces then its :class:`Answer`; one that fails is an error event."""
        yield self._chunk({"role": "assistant", "content": ""})
        try:
            for item in items:
                if isinstance(item, str):
                    yield self._chunk({"reasoning_content": item})
                else:
                    answer = item
            text = answer.as_text()
            for piece in text.splitlines(keepends=True):
                yield self._chunk({"content": piece})
            yield self._chunk({}, finish_reason="stop", **extras(answer))
            if include_usage:
                usage = self._usage(text)
                yield _event({**self._head("chat.completion.chunk"), "choices": [], "usage": usage})
        except Exception as e:  # the response has started: the error goes as an event
            log.exception("a streamed answer failed")
            yield _event({"error": {"status": 500, "message": f"the answer failed: {type(e).__name__}"}})
            return
        yield "data: [DONE]\n\n"

    def _head(self, kind: str) -> dict[str, Any]:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model}

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None, **more: Any) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return _event({**self._head("chat.completion.chunk"), "choices": [choice], **more})

    def _usage(self, text: str) -> dict[str, int]:
        written = tokens(text)
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": written,
                "total_tokens": self.prompt_tokens + written}  # fmt: skip


def extras(answer: Answer) -> dict[str, Any]:
    """The answer's data a program reads beside its text: citations, short answer, whether and why
    it abstained."""
    data = answer.to_dict()
    return {key: data[key] for key in EXTRAS}


def _event(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data)}\n\n"


def router(root: Assistant) -> APIRouter:
    """The OpenAI-compatible routes over ``root``."""
    routes = APIRouter(prefix="/v1", route_class=OpenAIRoute, tags=["OpenAI-compatible"])
    listed = int(time.time())

    @routes.get("/models")
    def models() -> dict[str, Any]:
        """The models to ask: ``article-assistant``, and ``article-assistant+<spec>`` for each chat
        model this server can use as it is (its default one, and the ones it offers)."""
        specs = dict.fromkeys(s for s in (root.settings.llm, *root.chat_models.offered()) if s)
        names = [MODEL, *(WRITTEN_BY + spec for spec in specs)]
        data = [{"id": name, "object": "model", "created": listed, "owned_by": MODEL} for name in names]
        return {"object": "list", "data": data}

    @routes.post("/chat/completions", response_model=None)
    def completions(request: CompletionRequest) -> dict[str, Any] | StreamingResponse:
        """Answer the last user message, after the earlier ones, with the articles' own sentences
        or the chat model the model name asks for; each sentence cited (``citations``).

        Cost: one answer; a follow-up about the conversation's article ("Tell me more") also works
        out the earlier answers it leans on, since earlier questions come as text here."""
        llm = chat_model(request.model)
        question, history = conversation(request.messages)
        answerer = root.answerer_for(llm)
        reply = Completion(request.model, prompt_tokens=sum(map(tokens, [question, *history])))
        if not request.stream:
            return reply.whole(answerer.answer(question, history, request.article_ids))
        if isinstance(answerer, Streaming):
            pieces = answerer.stream(question, history, request.article_ids)
            # a question that cannot be answered fails here, before the response starts, with its status
            items = itertools.chain([next(pieces)], pieces)
        else:
            items = iter([answerer.answer(question, history, request.article_ids)])
        usage = bool(request.stream_options and request.stream_options.include_usage)
        return StreamingResponse(
            reply.events(items, usage), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    @routes.api_route(
        "/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
    )
    def unknown(path: str) -> None:
        raise HTTPException(404, f"no such route: /v1/{path}; there are /v1/models and /v1/chat/completions")

    return routes
