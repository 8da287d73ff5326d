"""The composition root: one object, built from :class:`Settings`, that owns the long-lived
parts (store connection, corpus cache, embedder, shipped models, wording) and the answerer
made of them.

Entry points build one (``Assistant.from_settings(Settings.from_env())``) and hand it, or
its parts, down; tests build their own around a temporary store. Each part is made on first
use, so a command that only lists articles never loads the embedding model.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from assistant.abstention import Abstention
from assistant.answerer import Answerer, ExtractiveAnswerer
from assistant.corpus import CorpusCache
from assistant.data import Answer
from assistant.embedder import Embedder
from assistant.messages import Messages
from assistant.model import read_model_file
from assistant.ranking import Ranker
from assistant.settings import Settings, stay_offline
from assistant.store import Store

if TYPE_CHECKING:
    from langchain_core.runnables import Runnable

    from assistant.chain import SentenceRetriever


class Assistant:
    """Everything answering needs for one store, made once and shared by every caller."""

    def __init__(self, settings: Settings, *, embedder: Embedder | None = None) -> None:
        """A root for ``settings``; ``embedder`` shares an already loaded model (tests do)."""
        self.settings = settings
        self._lock = threading.RLock()  # the chat answers from several threads
        self._store: Store | None = None
        self._corpus_cache: CorpusCache | None = None
        self._embedder = embedder
        self._answerer: ExtractiveAnswerer | None = None
        self.messages = Messages.load()

    @classmethod
    def from_settings(cls, settings: Settings, *, embedder: Embedder | None = None) -> Assistant:
        """The root for the store and options in ``settings``; opens the store now, so that a
        store that cannot be opened fails here with a clear message."""
        root = cls(settings, embedder=embedder)
        root.store  # noqa: B018
        return root

    @property
    def store(self) -> Store:
        """The connection to the Chroma store."""
        with self._lock:
            if self._store is None:
                self._store = Store(self.settings)
            return self._store

    @property
    def corpus_cache(self) -> CorpusCache:
        """The in-memory corpus of the store, rebuilt when the store changes."""
        with self._lock:
            if self._corpus_cache is None:
                self._corpus_cache = CorpusCache(self.store)
            return self._corpus_cache

    @property
    def embedder(self) -> Embedder:
        """The sentence embedder (the bundled model, loaded on first use)."""
        with self._lock:
            if self._embedder is None:
                self._embedder = Embedder(self.settings.embedding_backend, self.settings.model_cache)
            return self._embedder

    @property
    def answerer(self) -> Answerer:
        """The answering strategy the settings choose (the extractive one by default)."""
        return self.extractive

    @property
    def extractive(self) -> ExtractiveAnswerer:
        """The extractive answerer: cited article sentences, abstaining on weak evidence."""
        with self._lock:
            if self._answerer is None:
                models = read_model_file()
                self._answerer = ExtractiveAnswerer(
                    store=self.store,
                    corpus_cache=self.corpus_cache,
                    embedder=self.embedder,
                    ranker=Ranker.from_json(models),
                    abstention=Abstention.from_json(models),
                    messages=self.messages,
                )
            return self._answerer

    def answer(
        self,
        question: str,
        history: Sequence[object] | None = None,
        article_ids: Sequence[str] | None = None,
    ) -> Answer:
        """Answer ``question`` with the settings' answerer (see :func:`assistant.answer`)."""
        return self.answerer.answer(question, history, article_ids)

    def retriever(self, k: int = 8, article_ids: Sequence[str] | None = None) -> SentenceRetriever:
        """A LangChain retriever over the store: the ``k`` best-ranked sentences as Documents."""
        from assistant.chain import SentenceRetriever

        return SentenceRetriever(answerer=self.extractive, k=k, article_ids=article_ids)

    def chain(self) -> Runnable:
        """A LangChain Runnable: a question (or {"question", "history", "article_ids"}) -> Answer."""
        from assistant.chain import answer_chain

        return answer_chain(self.answerer)


_default: Assistant | None = None
_default_lock = threading.Lock()


def default_assistant() -> Assistant:
    """The root :func:`answer` uses: built once, from the environment, on first use."""
    global _default
    with _default_lock:
        if _default is None:
            stay_offline()
            _default = Assistant.from_settings(Settings.from_env())
        return _default


def answer(
    question: str,
    history: Sequence[object] | None = None,
    *,
    article_ids: Sequence[str] | None = None,
    assistant: Assistant | None = None,
) -> Answer:
    """Answer ``question`` from the ingested articles with cited sentences.

    ``history`` is the earlier user turns, oldest first, as strings (Gradio message dicts
    are accepted too). ``article_ids`` limits the search to some articles. ``assistant`` is
    the root to answer with; by default one built from the environment (``ASSISTANT_STORE``
    and the other settings) on first use. Raises
    :class:`~assistant.errors.InvalidQuestionError` (a ``ValueError``) for an empty
    question and :class:`~assistant.errors.EmptyStoreError` when nothing is ingested.
    """
    return (assistant or default_assistant()).answer(question, history, article_ids)
