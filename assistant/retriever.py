"""Hybrid sentence retrieval as a LangChain retriever: Chroma's nearest neighbours and BM25.

The candidates are the union of the ``k`` sentences nearest to the question in Chroma and
the ``k`` best by BM25. Each comes back as a LangChain ``Document`` whose metadata carries
the sentence's place (``row`` in the corpus, ``article_id``, offsets) and its retrieval
evidence, all similarities where higher is better:

- ``dense``, ``dense_window``, ``dense_paragraph``: cosine of the question with the
  sentence, with the sentence and its neighbours, and with its paragraph;
- ``bm25``, ``bm25_window``, ``bm25_paragraph``: BM25 of the same three, divided by the
  best score over the searched sentences (so 1.0 is the best match);
- ``dense_rank``, ``bm25_rank``: 0-based ranks among the searched sentences (``k`` when
  past the first ``k``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.corpus import Corpus
from assistant.embedder import Embedder
from assistant.store import Store
from assistant.text import content_terms

CANDIDATES = 40  # taken from each of dense and BM25 search


def _share_of_best(scores: np.ndarray) -> np.ndarray:
    best = float(scores.max()) if len(scores) else 0.0
    return scores / best if best > 0 else np.zeros_like(scores)


class SentenceRetriever(BaseRetriever):
    """Candidate sentences for a question, from dense (Chroma) and lexical (BM25) search."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    corpus: Corpus  # one snapshot per question, so that rows stay valid through ranking
    store: Store
    embedder: Embedder
    k: int = CANDIDATES
    article_ids: tuple[str, ...] | None = None  # search only these articles (None: all)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return retrieve(self.corpus, self.store, self.embedder, query, self.k, self.article_ids)


def retrieve(
    corpus: Corpus,
    store: Store,
    embedder: Embedder,
    query: str,
    k: int,
    article_ids: Sequence[str] | None,
) -> list[Document]:
    """The candidate sentences for ``query`` with their retrieval evidence (see module doc)."""
    if not len(corpus):
        return []
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
        return []

    # Ranks past k are not known exactly and are all counted as k.
    dense_rank = {row: rank for rank, row in enumerate(dense_rows)}
    bm25_rank = {row: rank for rank, row in enumerate(bm25_best)}
    bm25_window = corpus.bm25(corpus.bm25_windows, terms)
    paragraphs = corpus.paragraph_of[rows]
    bm25_paragraph = corpus.bm25(corpus.bm25_paragraphs, terms)
    searched_paragraphs = bm25_paragraph if everywhere else bm25_paragraph[corpus.paragraph_of[searched]]
    evidence = {
        "dense": corpus.embeddings[rows] @ vector,
        "dense_window": corpus.window_embeddings(rows) @ vector,
        "dense_paragraph": corpus.paragraph_embeddings(paragraphs) @ vector,
        "bm25": _share_of_best(bm25)[rows],
        "bm25_window": _share_of_best(bm25_window[searched])[np.searchsorted(searched, rows)],
        "bm25_paragraph": bm25_paragraph[paragraphs] / max(float(searched_paragraphs.max()), 1e-9),
        "dense_rank": np.array([dense_rank.get(r, k) for r in rows.tolist()]),
        "bm25_rank": np.array([bm25_rank.get(r, k) for r in rows.tolist()]),
    }
    documents = []
    for j, row in enumerate(rows.tolist()):
        s = corpus.sentences[row]
        metadata = {
            "row": row,
            "id": s.id,
            "article_id": s.article_id,
            "title": s.title,
            "sentence_index": s.sentence_index,
            "paragraph_index": s.paragraph_index,
            "start": s.start,
            "end": s.end,
        }
        metadata.update({name: float(values[j]) for name, values in evidence.items()})
        documents.append(Document(page_content=s.text, metadata=metadata))
    return documents


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
