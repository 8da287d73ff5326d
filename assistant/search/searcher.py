"""The one way from a question to its ranked candidates: sources, evidence, features, ranker.

    searcher.search(question, article_ids=None, k=40)
      -> the store's corpus as it is now (rebuilt when the store changed)
      -> the question embedded once; its BM25 scores computed once
      -> each candidate source's best k rows, their union, each with its evidence
      -> the ranker's order and probabilities: a Ranking

The extractive answerer, the LangChain retriever and chain, and training all go through it,
so a new candidate source (one :class:`~assistant.search.retrieval.CandidateSource` class,
added in the composition root) or another ranker reaches every one of them.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.core.errors import EmptyStoreError
from assistant.question.parse import Question
from assistant.search.ranking import Ranker, Ranking
from assistant.search.retrieval import (
    CANDIDATES,
    Candidate,
    CandidateSource,
    Query,
    candidates,
    searched_rows,
)
from assistant.storage.corpus import Corpus, CorpusCache
from assistant.storage.embedder import Embedder


class Searcher:
    """Turns a parsed question and the articles to search into a :class:`Ranking`."""

    def __init__(
        self,
        corpora: CorpusCache,
        embedder: Embedder,
        sources: Sequence[CandidateSource],
        ranker: Ranker | None,
    ) -> None:
        """Search the corpus ``corpora`` keeps with ``sources``, in order; without a ranker it can
        only gather candidates (as ``python -m assistant.eval.train`` does to fit one). Each
        source has a name of its own: its ranks are read by that name."""
        names = [source.name for source in sources]
        if len(set(names)) != len(names):
            raise ValueError(f"two candidate sources share a name: {names}")
        self.corpora = corpora
        self.embedder = embedder
        self.sources = tuple(sources)
        self.ranker = ranker

    def corpus(self) -> Corpus:
        """The corpus of the store as it is now; raises :class:`EmptyStoreError` when it is empty."""
        corpus = self.corpora.get()
        if not len(corpus):
            raise EmptyStoreError(self.corpora.store.label)
        return corpus

    def query(
        self, question: Question, article_ids: Sequence[str] | None = None, corpus: Corpus | None = None
    ) -> Query:
        """``question`` as the sources read it, over the chosen articles (all when None)."""
        corpus = corpus if corpus is not None else self.corpus()
        chosen = tuple(article_ids) if article_ids else None
        vector = self.embedder.embed([question.text])[0]
        return Query(question, corpus, vector, chosen, searched_rows(corpus, chosen))

    def candidates(
        self,
        question: Question,
        article_ids: Sequence[str] | None = None,
        k: int = CANDIDATES,
        corpus: Corpus | None = None,
    ) -> tuple[Candidate, ...]:
        """The candidates of ``question``: each source's best ``k``, in source order."""
        return candidates(self.query(question, article_ids, corpus), self.sources, k)

    def search(
        self,
        question: Question,
        article_ids: Sequence[str] | None = None,
        k: int = CANDIDATES,
        corpus: Corpus | None = None,
    ) -> Ranking:
        """The candidates of ``question`` ranked, best first. Cost: one embedding, one Chroma
        query, BM25 scores over the searched rows, features of at most ``k`` per source."""
        query = self.query(question, article_ids, corpus)
        return self.ranker.rank(query.corpus, question, candidates(query, self.sources, k))
