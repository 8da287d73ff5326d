"""The composition root: one object, built from :class:`Settings`, that owns the long-lived
parts (store connection, corpus cache, embedder, searcher, policy, wording, chat models) and
the answerers made of them.

Entry points build one (``Assistant.from_settings(Settings.from_env())``) and hand it, or
its parts, down; tests build their own around a temporary store. Each part is made on first
use, so a command that only lists articles never loads the embedding model. This is the one
place that says which candidate sources search uses, which chat-model providers exist, and
which library adds articles.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from assistant.answering.abstention import Abstention
from assistant.answering.answerer import Answerer, ExtractiveAnswerer, History
from assistant.answering.entities import EntityTagger
from assistant.answering.nearmiss import NearMissJudge
from assistant.answering.policy import Policy
from assistant.answering.short import ShortReader
from assistant.answering.wording import Messages
from assistant.core.records import Answer
from assistant.core.settings import Settings, configure_process
from assistant.search.model import read_model_file
from assistant.search.ranking import Ranker
from assistant.search.retrieval import CandidateSource, DenseSource, LexicalSource
from assistant.search.searcher import Searcher
from assistant.storage.corpus import CorpusCache
from assistant.storage.embedder import Embedder
from assistant.storage.store import Store

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

    from assistant.core.library import Library
    from assistant.generation.answerer import GeneratedAnswerer
    from assistant.generation.providers import ChatModels, Writer


class Assistant:
    """Everything answering needs for one store, made once and shared by every caller."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        llm: BaseChatModel | Writer | None = None,
    ) -> None:
        """A root for ``settings``; ``embedder`` shares an already loaded model (tests do);
        ``llm`` is a chat model (or a provider's :class:`Writer`) to write answers with in place
        of the one ``settings.llm`` names (the benchmark's)."""
        self.settings = settings
        self._lock = threading.RLock()  # the chat answers from several threads
        self._store: Store | None = None
        self._corpus_cache: CorpusCache | None = None
        self._embedder = embedder
        self._searcher: Searcher | None = None
        self._extractive: ExtractiveAnswerer | None = None
        self._chat_models: ChatModels | None = None
        self.messages = Messages.load()
        self.tagger = EntityTagger()  # its model loads on the first question that needs it
        self._llm = llm
        self._generated: dict[str | None, GeneratedAnswerer] = {}  # chat model spec -> its answerer
        self._making = threading.Lock()  # one chat model made at a time: the local one loads for seconds

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        llm: BaseChatModel | Writer | None = None,
    ) -> Assistant:
        """The root for the store and options in ``settings``; opens the store now, so that a
        store that cannot be opened fails here with a clear message."""
        root = cls(settings, embedder=embedder, llm=llm)
        root.store  # noqa: B018
        return root

    # -- storage ------------------------------------------------------------------------------

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
    def library(self) -> Library:
        """How articles get into this store: the same code as ``python -m ingest``."""
        from ingest.pipeline import Library

        return Library(self.store, self.settings, lambda: self.embedder)

    # -- answering ----------------------------------------------------------------------------

    @property
    def sources(self) -> tuple[CandidateSource, ...]:
        """Where search finds candidate sentences: Chroma's nearest ones and BM25's best."""
        return (DenseSource(self.store), LexicalSource())

    @property
    def searcher(self) -> Searcher:
        """Question -> ranking: the sources' candidates, ranked by the shipped model."""
        with self._lock:
            if self._searcher is None:
                ranker = Ranker.from_json(read_model_file())
                self._searcher = Searcher(self.corpus_cache, self.embedder, self.sources, ranker)
            return self._searcher

    @property
    def extractive(self) -> ExtractiveAnswerer:
        """The extractive answerer: cited article sentences, abstaining on weak evidence."""
        with self._lock:
            if self._extractive is None:
                self._extractive = self.extractive_with(ShortReader.shipped())
            return self._extractive

    def extractive_with(self, reader: ShortReader) -> ExtractiveAnswerer:
        """An extractive answerer that gives short answers with ``reader`` (the shipped one, or
        none while ``python -m assistant.eval.train_short`` fits one)."""
        policy = Policy(Abstention.from_json(read_model_file()), NearMissJudge(self.tagger))
        return ExtractiveAnswerer(self.searcher, policy, self.tagger, reader, self.messages)

    @property
    def answerer(self) -> Answerer:
        """The answering strategy the settings choose: the extractive one, unless a chat model
        writes the answers (``settings.llm``, or the one given to the root)."""
        return self.answerer_for(self.settings.llm)

    def answerer_for(self, llm: str | None) -> Answerer:
        """The answerer that writes with the chat model ``llm`` names (a provider spec such as
        "ollama:llama3.2", or "local"); with None, the root's own choice. Raises ConfigError
        when the chat model cannot be made (a provider package missing, an unknown spec)."""
        if self._spec(llm) is None and self._llm is None:
            return self.extractive
        return self.generated(llm)

    def _spec(self, llm: str | None) -> str | None:
        """The spec of the chat model to write with: ``llm``, else None when a model was given
        to the root (it is the one), else the settings' one."""
        if llm:
            return llm
        return None if self._llm is not None else self.settings.llm or None

    @property
    def chat_models(self) -> ChatModels:
        """The chat-model providers: ``local``, OpenAI and Ollama, and any other provider
        LangChain's ``init_chat_model`` knows."""
        from assistant.generation.local import LocalProvider
        from assistant.generation.providers import (
            ChatModels,
            LangChainProvider,
            ollama_provider,
            openai_provider,
        )

        with self._lock:
            if self._chat_models is None:
                timeout = self.settings.llm_timeout
                self._chat_models = ChatModels(
                    {
                        "local": LocalProvider(self.settings.model_cache),
                        "openai": openai_provider(timeout),
                        "ollama": ollama_provider(timeout),
                    },
                    fallback=LangChainProvider(),
                )
            return self._chat_models

    def generated(self, llm: str | None = None) -> GeneratedAnswerer:
        """The generated answerer with the chat model ``llm`` names, or else the one given to
        the root, or else the settings' one; made once each."""
        key = self._spec(llm)
        with self._making:  # not the root's lock: the chat answers from other threads meanwhile
            if key in self._generated:
                return self._generated[key]
            made = self._generate_with(key)
            self._generated[key] = made
            return made

    def _generate_with(self, key: str | None) -> GeneratedAnswerer:
        """A generated answerer over the chat model ``key`` names (or the one given to the root);
        the local model is converted (once) and loaded here."""
        from assistant.generation.answerer import GeneratedAnswerer
        from assistant.generation.providers import Writer
        from assistant.generation.verify import Verifier

        if key:
            writer = self.chat_models.writer(key)
        else:
            given = self._llm
            writer = given if isinstance(given, Writer) else Writer(type(given).__name__, given)
        return GeneratedAnswerer(
            self.extractive, writer, Verifier(self.embedder, self.tagger), self.settings.llm_timeout
        )

    def answer(
        self,
        question: str,
        history: History = None,
        article_ids: Sequence[str] | None = None,
        llm: str | None = None,
    ) -> Answer:
        """Answer ``question`` with the settings' answerer, or written by the chat model
        ``llm`` names (see :func:`assistant.answer`)."""
        return self.answerer_for(llm).answer(question, history, article_ids)

    def warm(self) -> None:
        """Load everything a first question needs (the corpus, the embedder, the entity model,
        the shipped models), so that it is answered at the speed of any other."""
        self.corpus_cache.get()  # an empty store too: the chat can add the first article
        self.extractive  # noqa: B018
        self.embedder.embed(["warm"])
        self.tagger.entities(["Warm"])


_default: Assistant | None = None
_default_lock = threading.Lock()


def default_assistant() -> Assistant:
    """The root :func:`answer` uses: built once, from the environment, on first use."""
    global _default
    with _default_lock:
        if _default is None:
            configure_process()
            _default = Assistant.from_settings(Settings.from_env())
        return _default


def answer(
    question: str,
    history: History = None,
    *,
    article_ids: Sequence[str] | None = None,
    assistant: Assistant | None = None,
    llm: str | None = None,
) -> Answer:
    """Answer ``question`` from the ingested articles with cited sentences.

    ``history`` is the earlier turns, oldest first: earlier questions as strings, or
    :class:`~assistant.core.records.Turn` records holding each question with the answer it got
    (then no earlier turn is answered again). ``article_ids`` limits the search to some
    articles. ``assistant`` is the root to answer with; by default one built from the
    environment (``ASSISTANT_STORE`` and the other settings) on first use. ``llm`` has a chat
    model write the answer from the best-ranked sentences, every sentence checked against the
    ones it cites: a spec such as ``"ollama:llama3.2"`` or ``"openai:gpt-4o-mini"``, or
    ``"local"`` (default: ``ASSISTANT_LLM``; without either, the articles' own sentences).
    Raises :class:`~assistant.core.errors.InvalidQuestionError` (a ``ValueError``) for an empty
    question, :class:`~assistant.core.errors.EmptyStoreError` when nothing is ingested and
    :class:`~assistant.core.errors.ConfigError` when the chat model cannot be made.
    """
    return (assistant or default_assistant()).answer(question, history, article_ids, llm=llm)
