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
from assistant.entities import EntityTagger
from assistant.messages import Messages
from assistant.model import read_model_file
from assistant.ranking import Ranker
from assistant.settings import Settings, stay_offline
from assistant.store import Store

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.runnables import Runnable

    from assistant.chain import SentenceRetriever
    from assistant.generated import GeneratedAnswerer


class Assistant:
    """Everything answering needs for one store, made once and shared by every caller."""

    def __init__(
        self, settings: Settings, *, embedder: Embedder | None = None, llm: BaseChatModel | None = None
    ) -> None:
        """A root for ``settings``; ``embedder`` shares an already loaded model (tests do);
        ``llm`` is a chat model to write answers with in place of the one ``settings.llm``
        names (the benchmark's)."""
        self.settings = settings
        self._lock = threading.RLock()  # the chat answers from several threads
        self._store: Store | None = None
        self._corpus_cache: CorpusCache | None = None
        self._embedder = embedder
        self._answerer: ExtractiveAnswerer | None = None
        self.messages = Messages.load()
        self.tagger = EntityTagger()  # its model loads on the first question that needs it
        self._llm = llm
        self._generated: dict[str | None, GeneratedAnswerer] = {}  # chat model spec -> its answerer

    @classmethod
    def from_settings(
        cls, settings: Settings, *, embedder: Embedder | None = None, llm: BaseChatModel | None = None
    ) -> Assistant:
        """The root for the store and options in ``settings``; opens the store now, so that a
        store that cannot be opened fails here with a clear message."""
        root = cls(settings, embedder=embedder, llm=llm)
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
        """The answering strategy the settings choose: the extractive one, unless a chat model
        writes the answers (``settings.llm``, or the one given to the root)."""
        return self.answerer_for(self.settings.llm)

    def answerer_for(self, llm: str | None) -> Answerer:
        """The answerer that writes with the chat model ``llm`` names (an ``init_chat_model``
        spec or "local"); with None, the root's own choice. Raises ConfigError when the
        chat model cannot be made (a provider package missing, an unknown spec)."""
        if self._spec(llm) is None and self._llm is None:
            return self.extractive
        return self.generated(llm)

    def _spec(self, llm: str | None) -> str | None:
        """The spec of the chat model to write with: ``llm``, else None when a model was given
        to the root (it is the one), else the settings' one."""
        if llm:
            return llm
        return None if self._llm is not None else self.settings.llm or None

    def generated(self, llm: str | None = None) -> GeneratedAnswerer:
        """The generated answerer with the chat model ``llm`` names, or else the one given to
        the root, or else the settings' one; made once each."""
        from assistant.generated import GeneratedAnswerer
        from assistant.llm import chat_model
        from assistant.verify import Verifier

        key = self._spec(llm)
        with self._lock:
            if key in self._generated:
                return self._generated[key]
        # made outside the lock: the local model is converted (once) and loaded here
        model = chat_model(key, self.settings.model_cache, self.settings.llm_timeout) if key else self._llm
        label = key or type(model).__name__
        made = GeneratedAnswerer(
            self.extractive, model, Verifier(self.embedder, self.tagger), label, self.settings.llm_timeout
        )
        with self._lock:
            return self._generated.setdefault(key, made)

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
                    tagger=self.tagger,
                )
            return self._answerer

    def answer(
        self,
        question: str,
        history: Sequence[object] | None = None,
        article_ids: Sequence[str] | None = None,
        llm: str | None = None,
    ) -> Answer:
        """Answer ``question`` with the settings' answerer, or written by the chat model
        ``llm`` names (see :func:`assistant.answer`)."""
        return self.answerer_for(llm).answer(question, history, article_ids)

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
            _default.tagger.preload()
        return _default


def answer(
    question: str,
    history: Sequence[object] | None = None,
    *,
    article_ids: Sequence[str] | None = None,
    assistant: Assistant | None = None,
    llm: str | None = None,
) -> Answer:
    """Answer ``question`` from the ingested articles with cited sentences.

    ``history`` is the earlier user turns, oldest first, as strings (Gradio message dicts
    are accepted too). ``article_ids`` limits the search to some articles. ``assistant`` is
    the root to answer with; by default one built from the environment (``ASSISTANT_STORE``
    and the other settings) on first use. ``llm`` has a chat model write the answer from the
    best-ranked sentences, every sentence checked against the ones it cites: an
    ``init_chat_model`` spec such as ``"ollama:llama3.2"`` or ``"openai:gpt-4o-mini"``, or
    ``"local"`` (default: ``ASSISTANT_LLM``; without either, the articles' own sentences).
    Raises :class:`~assistant.errors.InvalidQuestionError` (a ``ValueError``) for an empty
    question, :class:`~assistant.errors.EmptyStoreError` when nothing is ingested and
    :class:`~assistant.errors.ConfigError` when the chat model cannot be made.
    """
    return (assistant or default_assistant()).answer(question, history, article_ids, llm=llm)
