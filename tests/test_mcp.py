"""The MCP server through the official client: over stdio (``python -m assistant mcp``) and over
streamable HTTP at ``/mcp`` of ``python -m assistant serve`` (child processes), and in process."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult

from assistant.core.records import Answer
from assistant.core.settings import Settings
from assistant.interfaces.mcp_server import build_mcp
from tests.conftest import ROOT, child_env, make_root
from tests.ui_support import DAM_TEXT, DAM_TITLE, QUESTION, served_chat

ALL_TOOLS = {"ask", "list_articles", "add_article", "remove_article"}
READING_TOOLS = {"ask", "list_articles"}
TOKEN = "secret"

Session = Callable[[Client], Awaitable[None]]


def run_with(transport: Any, session: Session) -> None:
    """Connect a client through ``transport`` and run ``session`` with it."""

    async def main() -> None:
        async with Client(transport) as client:
            await session(client)

    anyio.run(main)


def run_over_stdio(store: Path, folder: Path, session: Session, *flags: str) -> None:
    """Run ``session`` with ``python -m assistant mcp FLAGS`` over ``store``; its stderr in ``folder``."""
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "assistant", "mcp", *flags], env=child_env(store), cwd=ROOT
    )
    with (folder / "stderr.log").open("w") as log:
        run_with(stdio_client(params, errlog=log), session)


def answer_of(result: CallToolResult) -> dict[str, Any]:
    """The Answer JSON of an ``ask`` result, checked against its text."""
    assert not result.is_error, result.content
    answer = result.structured_content
    assert answer is not None
    assert result.content[0].text == Answer.from_dict(answer).as_text()
    return answer


def error_of(result: CallToolResult) -> str:
    """The message of a tool error, which is never a traceback."""
    assert result.is_error
    message = result.content[0].text
    assert "Traceback" not in message
    return message


def test_read_only_tools_and_a_user_error_in_process(settings: Settings) -> None:
    async def session(client: Client) -> None:
        assert {t.name for t in (await client.list_tools()).tools} == READING_TOOLS
        assert "no articles ingested yet" in error_of(await client.call_tool("ask", {"question": QUESTION}))

    run_with(build_mcp(make_root(settings.with_overrides(read_only=True))), session)


@pytest.mark.subprocess
def test_stdio_answers_from_the_sample_article(sample_settings: Settings, tmp_path: Path) -> None:
    async def session(client: Client) -> None:
        assert "abstained" in (client.instructions or "")
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(tools) == ALL_TOOLS
        assert "quoted" in tools["ask"].description and "abstained: true" in tools["ask"].description
        assert tools["ask"].input_schema["required"] == ["question"]
        assert {"history", "article_ids"} <= set(tools["ask"].input_schema["properties"])
        assert set(tools["add_article"].input_schema["properties"]) == {"url", "title", "text"}
        assert tools["remove_article"].input_schema["required"] == ["article_id"]
        assert tools["ask"].annotations.read_only_hint
        assert tools["remove_article"].annotations.destructive_hint

        cited = answer_of(await client.call_tool("ask", {"question": QUESTION}))
        first = cited["citations"][0]
        assert not cited["abstained"] and "[1]" in cited["text"]
        assert "Khalil Haqqani" in first["text"]
        assert 0 <= first["start"] < first["end"] and first["article_id"] and first["title"]

        follow_up = {"question": "What reward is on his head?", "history": [QUESTION]}
        assert "5 million" in answer_of(await client.call_tool("ask", follow_up))["text"]

        declined = answer_of(await client.call_tool("ask", {"question": "What is the capital of France?"}))
        assert declined["abstained"] is True and declined["reason"] and declined["citations"] == []
        assert declined["related"] is None  # no sentence of the articles is on that subject

        listed = (await client.call_tool("list_articles", {})).structured_content["articles"]
        assert [a["article_id"] for a in listed] == [first["article_id"]]
        assert listed[0]["sentence_count"] > 10

        unknown = {"question": QUESTION, "article_ids": ["no-such-id"]}
        assert "none of the articles" in error_of(await client.call_tool("ask", unknown))
        assert "question is empty" in error_of(await client.call_tool("ask", {"question": " "}))

    run_over_stdio(sample_settings.store, tmp_path, session)


@pytest.mark.subprocess
def test_stdio_adds_and_removes_articles_in_its_store(tmp_path: Path) -> None:
    async def session(client: Client) -> None:
        empty = error_of(await client.call_tool("ask", {"question": "When was the Veltra dam completed?"}))
        assert "no articles ingested yet" in empty
        assert "either `url`" in error_of(await client.call_tool("add_article", {"title": DAM_TITLE}))

        added = await client.call_tool("add_article", {"title": DAM_TITLE, "text": DAM_TEXT})
        assert not added.is_error, added.content
        [outcome] = added.structured_content["outcomes"]
        assert outcome["status"] == "added" and outcome["title"] == DAM_TITLE
        listed = (await client.call_tool("list_articles", {})).structured_content["articles"]
        assert [a["article_id"] for a in listed] == [outcome["article_id"]]
        reply = answer_of(await client.call_tool("ask", {"question": "When was the Veltra dam completed?"}))
        assert "1987" in reply["citations"][0]["text"]

        removed = await client.call_tool("remove_article", {"article_id": outcome["article_id"]})
        assert removed.structured_content == {"removed": outcome["article_id"]}
        assert (await client.call_tool("list_articles", {})).structured_content["articles"] == []
        again = await client.call_tool("remove_article", {"article_id": outcome["article_id"]})
        assert "no article with id" in error_of(again)

    run_over_stdio(tmp_path / "store", tmp_path, session)


@pytest.mark.subprocess
def test_stdio_read_only_has_no_tool_that_writes(sample_settings: Settings, tmp_path: Path) -> None:
    async def session(client: Client) -> None:
        assert {t.name for t in (await client.list_tools()).tools} == READING_TOOLS

    run_over_stdio(sample_settings.store, tmp_path, session, "--read-only")


def served(store: Path, folder: Path, **env: str) -> Iterator[str]:
    """The server (`python -m assistant`) over ``store`` with ``env`` set, until the module ends; its /mcp."""
    with ExitStack() as stack:
        with pytest.MonkeyPatch.context() as patch:  # for the server's start only
            for name, value in env.items():
                patch.setenv(name, value)
            url = stack.enter_context(served_chat(store, folder))
        yield f"{url}mcp"


@pytest.fixture(scope="module")
def read_only_url(sample_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A read-only server over the sample store, without tokens."""
    yield from served(sample_settings.store, tmp_path_factory.mktemp("mcp-http"), ASSISTANT_READ_ONLY="true")


@pytest.fixture(scope="module")
def guarded_url(sample_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server over the sample store whose API takes the bearer token :data:`TOKEN`."""
    yield from served(sample_settings.store, tmp_path_factory.mktemp("mcp-auth"), ASSISTANT_API_TOKENS=TOKEN)


async def asks_the_sample(client: Client, tools: set[str]) -> None:
    """Check that ``client`` lists ``tools`` and has ``ask`` answer from the sample article."""
    assert {t.name for t in (await client.list_tools()).tools} == tools
    reply = answer_of(await client.call_tool("ask", {"question": QUESTION}))
    assert "Khalil Haqqani" in reply["citations"][0]["text"]


@pytest.mark.subprocess
def test_http_answers_at_mcp(read_only_url: str) -> None:
    run_with(read_only_url, lambda client: asks_the_sample(client, READING_TOOLS))


@pytest.mark.subprocess
def test_http_mcp_takes_the_api_token(guarded_url: str) -> None:
    statuses: list[int] = []

    async def record(response: httpx2.Response) -> None:
        statuses.append(response.status_code)

    async def main(headers: dict[str, str]) -> None:
        hooks = {"response": [record]}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=60, event_hooks=hooks) as http,
            Client(streamable_http_client(guarded_url, http_client=http)) as client,
        ):
            await asks_the_sample(client, ALL_TOOLS)

    with pytest.raises(ExceptionGroup) as refused:
        anyio.run(main, {})
    assert refused.group_contains(MCPError) and statuses and set(statuses) == {401}
    statuses.clear()
    anyio.run(main, {"Authorization": f"Bearer {TOKEN}"})
    assert statuses and set(statuses) <= {200, 202}


def test_an_exposed_server_adds_no_link_into_its_own_network(tmp_path: Path, news_server: str) -> None:
    root = make_root(Settings(store=tmp_path / "store", chroma_host=None, host="0.0.0.0"))

    async def session(client: Client) -> None:
        refused = await client.call_tool("add_article", {"url": news_server})
        assert "private or local address" in error_of(refused)

    run_with(build_mcp(root), session)
    assert root.store.articles() == []
