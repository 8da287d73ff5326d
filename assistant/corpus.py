"""The visible sentences held in memory, for lexical search and for the ranker's evidence.

Chroma answers nearest-neighbour queries; everything that needs the whole collection at
once lives here: BM25 indexes over sentences, over each sentence with its neighbours and
over paragraphs, term statistics, and the sentence, window and paragraph embeddings. A
:class:`Corpus` is built from the store (so it works the same against a Chroma server)
and rebuilt whenever the store's generation token changes.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np

from assistant.store import Store, StoredSentence
from assistant.text import content_terms

log = logging.getLogger(__name__)


def _bm25(documents: list[list[str]]):
    import bm25s

    index = bm25s.BM25()
    index.index(documents or [[""]], show_progress=False)
    return index


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.clip(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12, None)


@dataclass(frozen=True)
class Corpus:
    """Every visible sentence, in (article, sentence index) order, with what ranking needs."""

    generation: str
    sentences: tuple[StoredSentence, ...]
    row_of: dict[str, int]  # sentence id -> row
    article_of: np.ndarray  # row -> article number
    article_ids: tuple[str, ...]  # article number -> article id
    paragraph_of: np.ndarray  # row -> paragraph number (over the whole corpus)
    previous: np.ndarray  # row -> row of the sentence before in its article (itself if first)
    following: np.ndarray  # row -> row of the sentence after in its article (itself if last)
    terms: tuple[tuple[str, ...], ...]  # row -> content terms, in order
    term_sets: tuple[frozenset[str], ...]  # row -> set of content terms
    window_terms: tuple[frozenset[str], ...]  # row -> terms of the sentence and neighbours
    paragraph_terms: tuple[frozenset[str], ...]  # paragraph number -> its terms
    title_terms: tuple[frozenset[str], ...]  # article number -> terms of its title
    idf: dict[str, float]  # term -> inverse sentence frequency
    embeddings: np.ndarray  # (rows, 384) unit vectors
    window_embeddings: np.ndarray  # (rows, 384) sentence + neighbours, unit vectors
    paragraph_embeddings: np.ndarray  # (paragraphs, 384) unit vectors
    bm25_sentences: object
    bm25_windows: object
    bm25_paragraphs: object

    def __len__(self) -> int:
        return len(self.sentences)

    def bm25(self, index: object, terms: list[str]) -> np.ndarray:
        """BM25 scores of ``index`` for ``terms``, one per document (zeros when none match)."""
        known = [t for t in terms if t in index.vocab_dict]
        if not known:
            return np.zeros(index.scores["num_docs"], dtype=np.float32)
        return index.get_scores(known)


def build_corpus(store: Store) -> Corpus:
    """Read every visible sentence and its embedding from the store and index them."""
    started = time.perf_counter()
    generation = store.generation()
    seen: dict[str, tuple[StoredSentence, np.ndarray]] = {}
    for page, vectors in store.sentence_pages():
        for sentence, vector in zip(page, vectors, strict=True):
            seen[sentence.id] = (sentence, vector)
    ordered = sorted(seen.values(), key=lambda sv: (sv[0].article_id, sv[0].sentence_index))
    sentences = tuple(s for s, _ in ordered)
    n = len(sentences)
    embeddings = np.stack([v for _, v in ordered]).astype(np.float32) if n else np.zeros((0, 384), np.float32)

    article_ids: list[str] = []
    article_number: dict[str, int] = {}
    paragraph_number: dict[tuple[str, int], int] = {}
    article_of = np.empty(n, dtype=np.int32)
    paragraph_of = np.empty(n, dtype=np.int32)
    titles: list[str] = []
    for row, s in enumerate(sentences):
        if s.article_id not in article_number:
            article_number[s.article_id] = len(article_ids)
            article_ids.append(s.article_id)
            titles.append(s.title)
        article_of[row] = article_number[s.article_id]
        paragraph_of[row] = paragraph_number.setdefault(
            (s.article_id, s.paragraph_index), len(paragraph_number)
        )
    rows = np.arange(n)
    same_before = np.r_[False, article_of[1:] == article_of[:-1]]
    same_after = np.r_[article_of[:-1] == article_of[1:], False]
    previous = np.where(same_before, rows - 1, rows)
    following = np.where(same_after, rows + 1, rows)

    terms = tuple(tuple(content_terms(s.text)) for s in sentences)
    windows = [
        (terms[p] if p != r else ()) + terms[r] + (terms[f] if f != r else ())
        for r, p, f in zip(rows, previous, following, strict=True)
    ]
    paragraphs: list[list[str]] = [[] for _ in paragraph_number]
    for row in rows:
        paragraphs[paragraph_of[row]].extend(terms[row])
    frequency = Counter(t for ts in terms for t in set(ts))
    idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in frequency.items()}

    window_embeddings = _unit(embeddings[previous] + embeddings + embeddings[following])
    paragraph_embeddings = np.zeros((len(paragraphs), embeddings.shape[1]), np.float32)
    np.add.at(paragraph_embeddings, paragraph_of, embeddings)
    corpus = Corpus(
        generation=generation,
        sentences=sentences,
        row_of={s.id: row for row, s in enumerate(sentences)},
        article_of=article_of,
        article_ids=tuple(article_ids),
        paragraph_of=paragraph_of,
        previous=previous,
        following=following,
        terms=terms,
        term_sets=tuple(frozenset(t) for t in terms),
        window_terms=tuple(frozenset(w) for w in windows),
        paragraph_terms=tuple(frozenset(p) for p in paragraphs),
        title_terms=tuple(frozenset(content_terms(t)) for t in titles),
        idf=idf,
        embeddings=embeddings,
        window_embeddings=window_embeddings,
        paragraph_embeddings=_unit(paragraph_embeddings),
        bm25_sentences=_bm25([list(t) for t in terms]),
        bm25_windows=_bm25([list(w) for w in windows]),
        bm25_paragraphs=_bm25(paragraphs),
    )
    log.info("indexed %d sentences in %.2f s", n, time.perf_counter() - started)
    return corpus


class CorpusCache:
    """Keeps one :class:`Corpus` per store and rebuilds it when the store has changed."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._corpus: Corpus | None = None
        self._lock = threading.Lock()

    def get(self) -> Corpus:
        """The corpus for the store's current generation."""
        generation = self.store.generation()
        corpus = self._corpus
        if corpus is not None and corpus.generation == generation:
            return corpus
        with self._lock:
            if self._corpus is None or self._corpus.generation != generation:
                self._corpus = build_corpus(self.store)
            return self._corpus
