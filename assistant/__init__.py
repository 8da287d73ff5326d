"""article-assistant: answers questions about news articles with their own cited sentences.

    >>> from assistant import answer
    >>> reply = answer("Who is Khalil Haqqani?")
    >>> reply.text, reply.citations[0].start

Heavy libraries load on first use, so importing the package (and ``--help``) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.data import Answer, ArticleInfo, Citation
from assistant.errors import AssistantError, EmptyStoreError, InvalidQuestionError

if TYPE_CHECKING:
    from assistant.answerer import answer

__all__ = [
    "Answer",
    "ArticleInfo",
    "AssistantError",
    "Citation",
    "EmptyStoreError",
    "InvalidQuestionError",
    "answer",
]


def __getattr__(name: str) -> object:
    if name == "answer":
        from assistant.answerer import answer

        return answer
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
