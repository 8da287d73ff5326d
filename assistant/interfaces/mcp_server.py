"""The MCP server: the assistant's answers and articles as tools for agents, over stdio or HTTP.

    ask(question, history, article_ids)   the answer, quoted from the articles and cited
    list_articles()                       the stored articles
    add_article(url | title + text)       unless the server is read-only
    remove_article(article_id)            unless the server is read-only

``article-assistant mcp`` serves it over stdio; ``article-assistant serve`` at ``/mcp`` over
streamable HTTP (see :func:`assistant.interfaces.server.create_app`). An error the user can act
on (nothing ingested, an unusable question, an unknown article) is a tool error carrying its
message; anything else is the SDK's generic tool error, its traceback logged on the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from assistant.app import Assistant
from assistant.core.errors import AssistantError

INSTRUCTIONS = """\
This server answers questions about the news articles in its store. Its answers are not written \
by a model: they are the articles' own sentences, quoted word for word, each marked [n] and cited \
with its article (id, title, site, date, url) and its place in the article (sentence index, \
character offsets start/end). When you use an answer, quote or paraphrase only what it cites, \
and name the articles it comes from. When an answer has "abstained": true, the articles do not \
say: tell the user so, and do not make up an answer from elsewhere. Call list_articles to see \
which articles there are, and pass their ids to ask to ask about some of them only."""

READS = ToolAnnotations(read_only_hint=True, open_world_hint=False)
ADDS = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=True)  # fetches links
REMOVES = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True)

Question = Annotated[
    str, Field(description="the question, in plain words", examples=["Who is Khalil Haqqani?"])
]
History = Annotated[
    list[str] | None,
    Field(
        description="the earlier questions of the conversation, oldest first, so that a follow-up "
        "such as 'What reward is on his head?' is understood"
    ),
]
ArticleIds = Annotated[
    list[str] | None, Field(description="ask only these articles (ids from list_articles); default: all")
]


def build_mcp(root: Assistant) -> MCPServer:
    """The MCP server over ``root``: its answers and articles as tools, without the tools that
    write when ``root.settings.read_only``."""
    mcp = MCPServer("article-assistant", instructions=INSTRUCTIONS, log_level="WARNING")

    @mcp.tool(title="Ask the articles", annotations=READS)
    def ask(question: Question, history: History = None, article_ids: ArticleIds = None) -> CallToolResult:
        """Answer a question from the stored news articles. The answer is the articles' own
        sentences quoted word for word, never invented: `text` holds them with [n] markers, and
        `citations[n-1]` is the sentence [n] quotes, with its article (article_id, title, site,
        published, url), sentence_index and character offsets (start, end) in the article.
        `short` is the phrase of the first cited sentence that answers, when one is likely enough.
        `abstained: true` means the articles do not say (`reason` says why): tell the user so
        and do not make up an answer."""
        with _tool_errors():
            reply = root.answer(question, history, article_ids)
        return CallToolResult(content=[TextContent(text=reply.as_text())], structured_content=reply.to_dict())

    @mcp.tool(title="List the articles", annotations=READS)
    def list_articles() -> dict[str, Any]:
        """The stored articles that ask answers from: id, title, source, site, published date,
        author, sentence count. Pass ids to ask's `article_ids` to ask about some only."""
        with _tool_errors():
            return {"articles": [a.to_dict() for a in root.store.articles()]}

    if root.settings.read_only:
        return mcp

    @mcp.tool(title="Add an article", annotations=ADDS)
    def add_article(
        url: Annotated[str | None, Field(description="a web page, a PDF or a feed to fetch")] = None,
        title: Annotated[str | None, Field(description="the title of an article given as text")] = None,
        text: Annotated[str | None, Field(description="the article's text, given with `title`")] = None,
    ) -> dict[str, Any]:
        """Add an article to the store, by `url` (a web page, a PDF, or a feed's newest articles)
        or as `title` and `text`. Adding the same article again updates it. Returns the outcome
        of each article read: status (added, updated, unchanged, skipped, failed), article_id."""
        if (url and (title or text)) or not (url or (title and text)):
            raise ToolError("give either `url`, or both `title` and `text`")
        from assistant.interfaces.web import ChatPage  # Gradio loads only when an article is added

        page = ChatPage.of(root)  # the chat's library and its rules for links
        with _tool_errors():
            if url:
                outcomes = page.library.add_sources([url], page.links).outcomes
            else:
                outcomes = (page.library.add_text(title, text),)
        if all(o.status == "failed" for o in outcomes):
            raise ToolError("; ".join(f"{o.source}: {o.detail}" for o in outcomes) or "nothing to add")
        return {"outcomes": [asdict(o) for o in outcomes]}

    @mcp.tool(title="Remove an article", annotations=REMOVES)
    def remove_article(
        article_id: Annotated[str, Field(description="the id of the article, from list_articles")],
    ) -> dict[str, Any]:
        """Remove an article and its sentences from the store; ask no longer answers from it."""
        with _tool_errors():
            if not root.store.remove_article(article_id):
                raise ToolError(f"no article with id {article_id!r}: see list_articles")
            root.store.touch()
        return {"removed": article_id}

    return mcp


@contextmanager
def _tool_errors() -> Iterator[None]:
    """Turn an error the user can act on into a tool error that carries its message."""
    try:
        yield
    except AssistantError as e:
        raise ToolError(str(e)) from e
