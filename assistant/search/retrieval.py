"""Candidate sentences for a question, and the evidence of how well each matched.

A :class:`Query` is a question as the sources see it, worked out once: its embedding, the rows
it may search, and its BM25 scores (computed on first use, shared by the lexical source and
the evidence). Each :class:`CandidateSource` turns it into up to ``k`` rows, best first:
:class:`DenseSource` asks Chroma for the nearest sentences, :class:`LexicalSource` takes the
best by BM25. The candidates are the union, in source order; each gets its :class:`Evidence`,
all similarities where higher is better.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from assistant.question.parse import Question
from assistant.storage.corpus import Corpus
from assistant.storage.store import Store, StoredSentence

CANDIDATES = 40  # taken from each source


@dataclass(frozen=True, slots=True)
class Evidence:
    """How well a sentence matched the question in retrieval.

    ``dense*`` are cosines of the question with the sentence, with the sentence and its
    neighbours (window), and with its paragraph; ``bm25*`` are BM25 scores of the same three
    divided by the best score over the searched ones (1.0 is the best match); the ranks are
    0-based in the dense and the lexical source's lists (``k`` when not in the first ``k``).
    """

    dense: float
    dense_window: float
    dense_paragraph: float
    bm25: float
    bm25_window: float
    bm25_paragraph: float
    dense_rank: int
    bm25_rank: int


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence that may answer the question, with where it is and how it matched."""

    row: int  # in the corpus the candidate was retrieved from
    sentence: StoredSentence
    evidence: Evidence

    @property
    def text(self) -> str:
        """The sentence's text."""
        return self.sentence.text


@dataclass(frozen=True)
class Query:
    """A question as the candidate sources and the evidence read it, worked out once."""

    question: Question
    corpus: Corpus
    vector: np.ndarray  # the question's unit embedding, (384,)
    article_ids: tuple[str, ...] | None  # the articles searched (None: all)
    rows: np.ndarray  # the rows searched, ascending

    @property
    def everywhere(self) -> bool:
        """Whether every row is searched."""
        return len(self.rows) == len(self.corpus)

    @functools.cached_property
    def bm25(self) -> np.ndarray:
        """BM25 score of every sentence (zero outside the searched rows)."""
        scores = self.corpus.bm25(self.corpus.bm25_sentences, list(self.question.terms))
        if not self.everywhere:
            outside = np.ones(len(self.corpus), dtype=bool)
            outside[self.rows] = False
            scores[outside] = 0.0
        return scores

    @functools.cached_property
    def bm25_windows(self) -> np.ndarray:
        """BM25 score of every sentence with its neighbours."""
        return self.corpus.bm25(self.corpus.bm25_windows, list(self.question.terms))

    @functools.cached_property
    def bm25_paragraphs(self) -> np.ndarray:
        """BM25 score of every paragraph."""
        return self.corpus.bm25(self.corpus.bm25_paragraphs, list(self.question.terms))


class CandidateSource(Protocol):
    """Finds sentences that may answer a query: a new kind of search is one class of these."""

    name: str  # "dense", "bm25": the ranks of these two are ranking features

    def find(self, query: Query, k: int) -> list[int]:
        """Up to ``k`` of the query's searched rows, best first."""
        ...


@dataclass(frozen=True)
class DenseSource:
    """The sentences nearest the question's embedding, from Chroma's vector index."""

    store: Store
    name: str = "dense"

    def find(self, query: Query, k: int) -> list[int]:
        """The nearest sentences the corpus holds (Chroma may hold versions it does not show)."""
        nearest = self.store.nearest(query.vector, k, query.article_ids)
        rows = (query.corpus.row_of_id(sentence_id) for sentence_id, _ in nearest)
        return [row for row in rows if row is not None]


@dataclass(frozen=True)
class LexicalSource:
    """The sentences with the best BM25 scores over the in-memory corpus."""

    name: str = "bm25"

    def find(self, query: Query, k: int) -> list[int]:
        """The ``k`` best by BM25, ties in row order, filled with non-matching rows when fewer match."""
        return query.rows[_top(query.bm25[query.rows], k)].tolist()


def candidates(
    query: Query, sources: Sequence[CandidateSource], k: int = CANDIDATES
) -> tuple[Candidate, ...]:
    """The union of the sources' rows for ``query`` (in source order), each with its evidence."""
    found = {source.name: source.find(query, k) for source in sources}
    rows = np.array(list(dict.fromkeys(row for listed in found.values() for row in listed)), dtype=np.int64)
    if not len(rows):
        return ()
    ranks = {name: {row: rank for rank, row in enumerate(listed)} for name, listed in found.items()}
    corpus, vector = query.corpus, query.vector
    paragraphs = corpus.paragraph_of[rows]
    searched_paragraphs = (
        query.bm25_paragraphs if query.everywhere else query.bm25_paragraphs[corpus.paragraph_of[query.rows]]
    )
    columns = zip(
        (corpus.embeddings[rows] @ vector).tolist(),
        (corpus.window_embeddings(rows) @ vector).tolist(),
        (corpus.paragraph_embeddings(paragraphs) @ vector).tolist(),
        _share_of_best(query.bm25)[rows].tolist(),
        _share_of_best(query.bm25_windows[query.rows])[np.searchsorted(query.rows, rows)].tolist(),
        (query.bm25_paragraphs[paragraphs] / max(float(searched_paragraphs.max()), 1e-9)).tolist(),
        strict=True,
    )
    dense, lexical = ranks.get("dense", {}), ranks.get("bm25", {})
    return tuple(
        Candidate(
            row=row,
            sentence=corpus.sentences[row],
            evidence=Evidence(*scores, dense.get(row, k), lexical.get(row, k)),  # past k: counted as k
        )
        for row, scores in zip(rows.tolist(), columns, strict=True)
    )


def searched_rows(corpus: Corpus, article_ids: Sequence[str] | None) -> np.ndarray:
    """The rows of the chosen articles, ascending (every row when None)."""
    if not article_ids:
        return np.arange(len(corpus))
    wanted = [n for n, a in enumerate(corpus.article_ids) if a in set(article_ids)]
    return np.flatnonzero(np.isin(corpus.article_of, wanted))


def _share_of_best(scores: np.ndarray) -> np.ndarray:
    best = float(scores.max()) if len(scores) else 0.0
    return scores / best if best > 0 else np.zeros_like(scores)


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest BM25 scores, best first, ties in position order.

    The same as the first ``k`` of a stable descending argsort (BM25 scores are never
    negative), without sorting the sentences that do not match at all.
    """
    matching = np.flatnonzero(scores)
    if len(matching) > k:  # keep the k best and every tie with the k-th, in position order
        kth = np.partition(scores[matching], len(matching) - k)[len(matching) - k]
        matching = matching[scores[matching] >= kth]
    best = matching[np.argsort(-scores[matching], kind="stable")][:k]
    if len(best) < k:
        best = np.r_[best, np.flatnonzero(scores == 0)[: k - len(best)]]
    return best
