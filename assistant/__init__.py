"""article-assistant: answers questions about news articles with their own cited sentences.

    >>> from assistant import answer
    >>> reply = answer("Who is Khalil Haqqani?")
    >>> reply.text, reply.citations[0].start

``answer()`` uses a root built from the environment; build your own for another store:
``Assistant.from_settings(Settings(store=...)).answer(...)``. Heavy libraries load on
first use, so importing the package (and ``--help``) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.data import Answer, ArticleInfo, Citation
from assistant.errors import AssistantError, EmptyStoreError, InvalidQuestionError
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.answerer import Answerer
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
    "answer",
]


def __getattr__(name: str) -> object:
    if name in ("answer", "Assistant"):
        from assistant import app

        return getattr(app, name)
    if name == "Answerer":
        from assistant.answerer import Answerer

        return Answerer
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
