"""article-assistant: answers questions about news articles with their own cited sentences.

    >>> from assistant import answer
    >>> reply = answer("Who is Khalil Haqqani?")
    >>> reply.text, reply.citations[0].start

``answer()`` uses a root built from the environment; build your own for another store:
``Assistant.from_settings(Settings(store=...)).answer(...)``. Heavy libraries load on
first use, so importing the package (and ``--help``) stays fast.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

# Before anything imports torch (spaCy does, then the local model runs on it): OpenMP threads
# that spin while they wait make the local model's generation several times slower as soon as
# another process uses a core (a question timed out at 60 s instead of taking 29 s beside a
# pip install). Read once, when torch loads its OpenMP runtime; a value already set is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

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
