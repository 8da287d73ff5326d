"""The OpenAI-compatible endpoint (``/v1``) as OpenAI's own client and LangChain's ChatOpenAI use it:
against a real ``article-assistant serve`` in a child process over the sample store, its chat model
(``article-assistant+openai:gpt-4o-mini``) the loopback stand-in of :mod:`tests.test_generated`.
Two routes' edges (a server's default chat model, an empty store) run in this process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from langchain_openai import ChatOpenAI
from openai import OpenAI

from assistant.app import Assistant
from assistant.core.settings import Settings
from assistant.interfaces import api, openai_api
from tests.conftest import ROOT, child_env, free_port, make_root, wait_for_port
from tests.test_generated import INVENTED, ChatServer

QUESTION = "Who is Khalil Haqqani?"
FOLLOW_UP = "What reward is on his head?"
WRITTEN = "article-assistant+openai:gpt-4o-mini"  # written by the stand-in model


@pytest.fixture(scope="module")
def url(sample_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``article-assistant serve`` over the sample store, its OpenAI chat model the stand-in; its URL."""
    log = tmp_path_factory.mktemp("openai-api") / "server.log"
    port = free_port()
    with ChatServer() as upstream, log.open("w") as out:
        env = child_env(
            sample_settings.store,
            OPENAI_BASE_URL=upstream.url,
            OPENAI_API_KEY="test-key",
            NO_PROXY="127.0.0.1",
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "assistant", "serve", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            try:
                wait_for_port(port, process)
            except AssertionError as e:
                raise AssertionError(f"{e}\n{log.read_text()}") from None
            yield f"http://127.0.0.1:{port}/"
        finally:
            process.terminate()
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def client(url: str) -> OpenAI:
    """OpenAI's own client, pointed at the server."""
    return OpenAI(base_url=f"{url}v1", api_key="unused", max_retries=0)


def asking(*questions: str) -> list[dict[str, str]]:
    """OpenAI messages asking ``questions`` in turn, each earlier one with an answer of its own."""
    messages = [{"role": "system", "content": "Answer from the articles."}]
    for question in questions[:-1]:
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": "(an answer)"}]
    return [*messages, {"role": "user", "content": questions[-1]}]


def streamed(client: OpenAI, model: str, messages: list[dict]) -> tuple[list, str, str]:
    """The chunks of a streamed completion, its content joined, and its ``reasoning_content`` joined."""
    options = {"include_usage": True}
    chunks = list(
        client.chat.completions.create(model=model, messages=messages, stream=True, stream_options=options)
    )
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    content = "".join(d.content or "" for d in deltas)
    return chunks, content, "".join((d.model_extra or {}).get("reasoning_content", "") for d in deltas)


@pytest.mark.subprocess
def test_the_openai_client_gets_the_cited_answer(client: OpenAI, sample_root: Assistant) -> None:
    completion = client.chat.completions.create(
        model="article-assistant", messages=asking(QUESTION), temperature=0
    )
    assert completion.object == "chat.completion" and completion.model == "article-assistant"
    (choice,) = completion.choices
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    content = choice.message.content
    assert content == sample_root.answer(QUESTION).as_text()
    assert "\n\nSources:\n[1] US to engage with Taliban" in content
    first = completion.citations[0]  # the client keeps the fields OpenAI's have not
    assert "Khalil Haqqani" in first["text"] and f"{first['text']} [1]" in content
    article = sample_root.store.article_text(first["article_id"])
    assert article[first["start"] : first["end"]] == first["text"]
    assert completion.model_extra["abstained"] is False and completion.model_extra["reason"] is None
    assert completion.model_extra["related"] is None  # a declined answer's closest sentence, apart
    assert (
        completion.usage.completion_tokens > 0
        and completion.usage.total_tokens > completion.usage.prompt_tokens
    )


@pytest.mark.subprocess
def test_a_stream_joins_into_the_same_answer_and_ends_with_its_citations(client: OpenAI) -> None:
    whole = client.chat.completions.create(model="article-assistant", messages=asking(QUESTION))
    chunks, content, drafts = streamed(client, "article-assistant", asking(QUESTION))
    assert {c.object for c in chunks} == {"chat.completion.chunk"} and len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    assert content == whole.choices[0].message.content and drafts == ""
    last, usage = chunks[-2:]
    assert last.choices[0].finish_reason == "stop" and last.citations == whole.citations
    assert last.model_extra["short"] == whole.model_extra["short"] and last.model_extra["abstained"] is False
    assert usage.choices == [] and usage.usage.total_tokens == whole.usage.total_tokens


@pytest.mark.subprocess
def test_a_follow_up_is_answered_after_the_earlier_questions(client: OpenAI) -> None:
    messages = asking(QUESTION, FOLLOW_UP)
    messages[-1]["content"] = [{"type": "text", "text": FOLLOW_UP}]  # content as parts
    completion = client.chat.completions.create(model="article-assistant", messages=messages)
    content = completion.choices[0].message.content
    assert content.startswith("USD 5 million\n\n") and "a USD 5 million reward" in content
    assert completion.model_extra["short"]["text"] == "USD 5 million"
    assert "USD 5 million" in completion.citations[0]["text"]


@pytest.mark.subprocess
def test_langchain_chat_openai_invokes_and_streams(client: OpenAI, url: str) -> None:
    model = ChatOpenAI(base_url=f"{url}v1", api_key="unused", model="article-assistant", max_retries=0)
    whole = client.chat.completions.create(model="article-assistant", messages=asking(QUESTION))
    content = whole.choices[0].message.content
    assert model.invoke(QUESTION).content == content
    assert "".join(chunk.content for chunk in model.stream(QUESTION)) == content


@pytest.mark.subprocess
def test_a_chat_model_writes_and_only_its_checked_answer_is_the_content(client: OpenAI) -> None:
    completion = client.chat.completions.create(model=WRITTEN, messages=asking(QUESTION))
    content = completion.choices[0].message.content
    answer, rejected = content.split("\n\nNot supported by the articles, so left out:\n")
    short = completion.model_extra["short"]  # the cited sentence's phrase that answers, if any
    written = answer.removeprefix(f"{short['text']}\n\n") if short else answer
    assert written.startswith("Khalil Haqqani has a USD 5 million reward on his head [1].")
    assert INVENTED not in answer and INVENTED in rejected
    assert "USD 5 million" in completion.citations[0]["text"]
    _, streamed_content, drafts = streamed(client, WRITTEN, asking(QUESTION))
    assert INVENTED in drafts and "Sources:" not in drafts  # the model's text, as it wrote it
    assert streamed_content == content


@pytest.mark.subprocess
def test_the_models_are_listed(client: OpenAI) -> None:
    models = client.models.list().data
    assert models[0].id == "article-assistant" and models[0].object == "model"
    assert all(m.id.startswith("article-assistant+") for m in models[1:])


@pytest.mark.subprocess
@pytest.mark.parametrize(
    ("model", "messages", "error"),
    [
        ("gpt-4o", asking(QUESTION), openai.NotFoundError),
        ("article-assistant+", asking(QUESTION), openai.NotFoundError),
        ("article-assistant", asking("  "), openai.BadRequestError),
        ("article-assistant", [], openai.BadRequestError),
        ("article-assistant", [{"role": "system", "content": "Hi"}], openai.BadRequestError),
        ("article-assistant", [{"content": QUESTION}], openai.BadRequestError),
        ("article-assistant", [{"role": "user", "content": [{"type": "image_url"}]}], openai.BadRequestError),
    ],
    ids=[
        "unknown model",
        "no chat model",
        "blank question",
        "no message",
        "no user message",
        "no role",
        "image",
    ],
)
def test_requests_that_cannot_be_answered_raise_the_clients_error(
    client: OpenAI, model: str, messages: list, error: type[openai.APIStatusError]
) -> None:
    for stream in (False, True):
        with pytest.raises(error) as caught:
            client.chat.completions.create(model=model, messages=messages, stream=stream)
        assert caught.value.body["status"] == caught.value.status_code  # the API's own error format
        assert caught.value.body["message"]


@pytest.mark.subprocess
def test_an_unknown_route_is_a_json_404(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError, match="no such route: /v1/embeddings"):
        client.embeddings.create(model="article-assistant", input="text")


def in_process(root: Assistant) -> OpenAI:
    """OpenAI's client over the routes of ``root``, served in this process."""
    app = FastAPI()
    api.install_errors(app)
    app.include_router(openai_api.router(root))
    return OpenAI(
        base_url="http://testserver/v1", api_key="unused", http_client=TestClient(app), max_retries=0
    )


def test_the_servers_default_chat_model_is_listed(sample_settings: Settings) -> None:
    root = make_root(sample_settings.model_copy(update={"llm": "ollama:llama3.2"}))
    ids = [m.id for m in in_process(root).models.list().data]
    assert ids[:2] == ["article-assistant", "article-assistant+ollama:llama3.2"] and len(set(ids)) == len(ids)


def test_an_empty_store_is_a_503(tmp_path: Path) -> None:
    client = in_process(make_root(Settings(store=tmp_path / "store", chroma_host=None)))
    with pytest.raises(openai.InternalServerError, match="no articles ingested yet") as caught:
        client.chat.completions.create(model="article-assistant", messages=asking(QUESTION))
    assert caught.value.status_code == 503


def test_a_stream_that_fails_once_started_ends_with_an_error_event() -> None:
    def failing() -> Iterator[str]:
        yield "a draft"
        raise RuntimeError("the model broke")

    *events, last = openai_api.Completion("article-assistant", 1).events(failing(), include_usage=False)
    assert '"reasoning_content": "a draft"' in events[-1]
    assert last == 'data: {"error": {"status": 500, "message": "the answer failed: RuntimeError"}}\n\n'
