"""Hybrid sentence retrieval: Chroma's nearest neighbours and BM25, with their evidence.

The candidates for a question are the union of the ``k`` sentences nearest to it in Chroma
and the ``k`` best by BM25. Each is a :class:`Candidate`: the sentence, its row in the
corpus and its :class:`Evidence`, all similarities where higher is better.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.corpus import Corpus
from assistant.embedder import Embedder
from assistant.store import Store, StoredSentence
from assistant.text import content_terms

CANDIDATES = 40  # taken from each of dense and BM25 search


@dataclass(frozen=True, slots=True)
class Evidence:
    """How well a sentence matched the question in retrieval.

    ``dense*`` are cosines of the question with the sentence, with the sentence and its
    neighbours (window), and with its paragraph; ``bm25*`` are BM25 scores of the same three
    divided by the best score over the searched ones (1.0 is the best match); the ranks are
    0-based among the searched sentences (``k`` when past the first ``k``).
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


def _share_of_best(scores: np.ndarray) -> np.ndarray:
    best = float(scores.max()) if len(scores) else 0.0
    return scores / best if best > 0 else np.zeros_like(scores)


def retrieve(
    corpus: Corpus,
    store: Store,
    embedder: Embedder,
    query: str,
    k: int = CANDIDATES,
    article_ids: Sequence[str] | None = None,
) -> tuple[Candidate, ...]:
    """The candidate sentences for ``query`` from the chosen articles (all when None)."""
    if not len(corpus):
        return ()
    vector = embedder.embed([query])[0]
    nearest = store.nearest(vector, k, article_ids)
    searched = _searched_rows(corpus, article_ids)
    terms = content_terms(query)
    everywhere = len(searched) == len(corpus)
    bm25 = corpus.bm25(corpus.bm25_sentences, terms)
    if not everywhere:
        bm25[np.setdiff1d(np.arange(len(corpus)), searched, assume_unique=True)] = 0.0
    bm25_best = searched[_top(bm25[searched], k)].tolist()
    dense_rows = [corpus.row_of[i] for i, _ in nearest if i in corpus.row_of]
    rows = np.array(list(dict.fromkeys([*dense_rows, *bm25_best])), dtype=np.int64)
    if not len(rows):
        return ()

    # Ranks past k are not known exactly and are all counted as k.
    dense_rank = {row: rank for rank, row in enumerate(dense_rows)}
    bm25_rank = {row: rank for rank, row in enumerate(bm25_best)}
    bm25_window = corpus.bm25(corpus.bm25_windows, terms)
    paragraphs = corpus.paragraph_of[rows]
    bm25_paragraph = corpus.bm25(corpus.bm25_paragraphs, terms)
    searched_paragraphs = bm25_paragraph if everywhere else bm25_paragraph[corpus.paragraph_of[searched]]
    columns = zip(
        (corpus.embeddings[rows] @ vector).tolist(),
        (corpus.window_embeddings(rows) @ vector).tolist(),
        (corpus.paragraph_embeddings(paragraphs) @ vector).tolist(),
        _share_of_best(bm25)[rows].tolist(),
        _share_of_best(bm25_window[searched])[np.searchsorted(searched, rows)].tolist(),
        (bm25_paragraph[paragraphs] / max(float(searched_paragraphs.max()), 1e-9)).tolist(),
        strict=True,
    )
    return tuple(
        Candidate(
            row=row,
            sentence=corpus.sentences[row],
            evidence=Evidence(*scores, dense_rank.get(row, k), bm25_rank.get(row, k)),
        )
        for row, scores in zip(rows.tolist(), columns, strict=True)
    )


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


def _searched_rows(corpus: Corpus, article_ids: Sequence[str] | None) -> np.ndarray:
    if not article_ids:
        return np.arange(len(corpus))
    wanted = [n for n, a in enumerate(corpus.article_ids) if a in set(article_ids)]
    return np.flatnonzero(np.isin(corpus.article_of, wanted))
