"""article-assistant: answers questions about news articles with their own cited sentences.

    >>> from assistant import answer
    >>> reply = answer("Who is Khalil Haqqani?")
    >>> reply.text, reply.citations[0].start

``answer()`` uses a root built from the environment; build your own for another store:
``Assistant.from_settings(Settings(store=...)).answer(...)``. Importing the package loads
nothing heavy and changes nothing in the process (``--help`` stays fast); the parts load on
first use. The layout, a question's path and the seams: ``docs/architecture.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.core.errors import AssistantError, EmptyStoreError, InvalidQuestionError
from assistant.core.records import Answer, ArticleInfo, Citation, Turn
from assistant.core.settings import Settings

if TYPE_CHECKING:
    from assistant.answering.answerer import Answerer
    from assistant.app import Assistant, answer

__all__ = [
    "Answer",
    "Answerer",
    "ArticleInfo",
    "Assistant",
    "AssistantError",
    "Citation",
    "EmptyStoreError",
    "InvalidQuestionError",
    "Settings",
    "Turn",
    "answer",
]


def __getattr__(name: str) -> object:
    if name in ("answer", "Assistant"):
        from assistant import app

        return getattr(app, name)
    if name == "Answerer":
        from assistant.answering.answerer import Answerer

        return Answerer
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
