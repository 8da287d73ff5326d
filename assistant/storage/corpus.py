"""The visible sentences held in memory, for lexical search and for the ranker's evidence.

Chroma answers nearest-neighbour queries; everything that needs the whole collection at
once lives here: BM25 indexes over sentences, over each sentence with its neighbours and
over paragraphs, term statistics, and the sentence embeddings. A :class:`Corpus` is built
from the store's contents (so it works the same against a Chroma server) and rebuilt
whenever the store's generation token changes.

Building one reads every sentence with its embedding and indexes them: seconds at 100,000
sentences. So each built corpus is also saved in the store's cache folder under its
generation token (:meth:`Store.cache_folder`), and a process that starts on an unchanged
store loads it instead. The cache is only ever a copy: a missing, stale or unreadable one
is rebuilt from the store.

To keep memory flat and loading fast as the store grows, the sentence records
(``sentences``), the per-row term sets (``term_sets``, ``window_terms``,
``paragraph_terms``) and the window and paragraph embeddings are made on access from
plain columns, ``terms`` and ``embeddings`` rather than stored: retrieval and the ranker
read them for a few dozen candidates per question.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import operator
import os
import pickle
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np

from assistant.core.records import Metadata
from assistant.core.settings import Settings
from assistant.core.text import content_terms
from assistant.storage.store import Store, StoredSentence

log = logging.getLogger(__name__)

T = TypeVar("T")
CACHE_PREFIX = "corpus-"
# The generation of a corpus read while writes kept landing: no token is this, so it serves the
# answer it was read for and is neither saved nor used again.
UNSETTLED = "(unsettled)"


def _bm25(documents: list[list[str]]):
    import bm25s

    index = bm25s.BM25()
    index.index(documents or [[""]], show_progress=False)
    return index


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.clip(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12, None)


class Rows(Sequence, Generic[T]):
    """A read-only sequence whose items are made on access by ``make(index)``."""

    __slots__ = ("_length", "_make")

    def __init__(self, length: int, make: Callable[[int], T]) -> None:
        self._length = length
        self._make = make

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._make(i) for i in range(*index.indices(self._length))]
        i = operator.index(index)
        if i < 0:
            i += self._length
        if not 0 <= i < self._length:
            raise IndexError(index)
        return self._make(i)


@dataclass(frozen=True)
class Corpus:
    """Every visible sentence, in (article, sentence index) order, with what ranking needs."""

    generation: str
    sentences: Rows[StoredSentence]  # row -> its record, made on access
    row_of: dict[str, int]  # sentence id -> row
    article_of: np.ndarray  # row -> article number
    article_ids: tuple[str, ...]  # article number -> article id
    article_meta: tuple[Metadata, ...]  # article number -> its metadata (url, published, site...)
    paragraph_of: np.ndarray  # row -> paragraph number (over the whole corpus)
    paragraph_rows: np.ndarray  # the rows of paragraph p: paragraph_rows[paragraph_starts[p]:...[p + 1]]
    paragraph_starts: np.ndarray  # (paragraphs + 1,)
    previous: np.ndarray  # row -> row of the sentence before in its article (itself if first)
    following: np.ndarray  # row -> row of the sentence after in its article (itself if last)
    terms: tuple[tuple[str, ...], ...]  # row -> content terms, in order
    term_sets: Rows[frozenset[str]]  # row -> set of content terms
    window_terms: Rows[frozenset[str]]  # row -> terms of the sentence and neighbours
    paragraph_terms: Rows[frozenset[str]]  # paragraph number -> its terms
    title_terms: tuple[frozenset[str], ...]  # article number -> terms of its title
    idf: dict[str, float]  # term -> inverse sentence frequency
    embeddings: np.ndarray  # (rows, 384) unit vectors
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

    def window_embeddings(self, rows: np.ndarray) -> np.ndarray:
        """Unit vectors of each row's sentence plus its neighbours, shape (len(rows), 384)."""
        e = self.embeddings
        return _unit(e[self.previous[rows]] + e[rows] + e[self.following[rows]])

    def row_of_id(self, sentence_id: str) -> int | None:
        """The row of a stored sentence, or None when it is not visible (an older version)."""
        return self.row_of.get(sentence_id)

    def article_number(self, article_id: str) -> int | None:
        """The number of an article in this corpus, or None when it holds none with that id."""
        try:
            return self.article_ids.index(article_id)
        except ValueError:
            return None

    def rows_of_article(self, number: int) -> np.ndarray:
        """The rows of an article, in sentence order (an article's rows are contiguous)."""
        start, end = np.searchsorted(self.article_of, [number, number + 1])
        return np.arange(start, end)

    def row_of_sentence(self, article_id: str, sentence_index: int) -> int:
        """The row of an article's sentence (its sentences are its rows, in order)."""
        return int(self.rows_of_article(self.article_ids.index(article_id))[sentence_index])

    def rows_of_paragraph(self, paragraph: int) -> np.ndarray:
        """The rows of a paragraph, in order."""
        return self.paragraph_rows[self.paragraph_starts[paragraph] : self.paragraph_starts[paragraph + 1]]

    def paragraph_embeddings(self, paragraphs: np.ndarray) -> np.ndarray:
        """Unit vectors of the sums of each paragraph's sentences, shape (len(paragraphs), 384)."""
        wanted, position = np.unique(paragraphs, return_inverse=True)
        sums = np.zeros((len(wanted), self.embeddings.shape[1]), np.float32)
        for i, p in enumerate(wanted.tolist()):
            sums[i] = self.embeddings[self.rows_of_paragraph(p)].sum(axis=0)
        return _unit(sums)[position]


@dataclass(frozen=True)
class _Parts:
    """What a corpus is made of, as saved in the cache: plain columns, arrays and indexes that
    load fast; the sentence records and term sets are made from them on access."""

    generation: str
    ids: tuple[str, ...]  # row -> sentence id
    texts: tuple[str, ...]  # row -> sentence text
    places: np.ndarray  # (rows, 4): sentence index, paragraph index, start, end
    article_ids: tuple[str, ...]  # article number -> article id
    titles: tuple[str, ...]  # article number -> title
    metas: tuple[Metadata, ...]  # article number -> its metadata
    layout: dict[str, np.ndarray]  # see _layout
    terms: tuple[tuple[str, ...], ...]
    title_terms: tuple[frozenset[str], ...]
    idf: dict[str, float]
    embeddings: np.ndarray
    bm25_sentences: object
    bm25_windows: object
    bm25_paragraphs: object


def _read(store: Store) -> tuple[str, list[StoredSentence], np.ndarray, dict[str, Metadata]]:
    """The generation token, every visible sentence with its embedding in corpus order, and
    each article's metadata."""
    snapshot = store.snapshot()
    order = sorted(
        range(len(snapshot.sentences)),
        key=lambda k: (snapshot.sentences[k].article_id, snapshot.sentences[k].sentence_index),
    )
    return (
        snapshot.generation if snapshot.consistent else UNSETTLED,
        [snapshot.sentences[k] for k in order],
        snapshot.embeddings[order],
        {a.article_id: a.meta for a in snapshot.articles},
    )


def _layout(
    sentences: Sequence[StoredSentence],
) -> tuple[list[str], list[str], dict[str, np.ndarray]]:
    """Article ids and titles by article number, and the layout arrays of the rows: article
    and paragraph number, the rows of each paragraph, and each row's neighbours."""
    n = len(sentences)
    article_ids: list[str] = []
    titles: list[str] = []
    article_number: dict[str, int] = {}
    paragraph_number: dict[tuple[str, int], int] = {}
    article_of = np.empty(n, dtype=np.int32)
    paragraph_of = np.empty(n, dtype=np.int32)
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
    return (
        article_ids,
        titles,
        {
            "article_of": article_of,
            "paragraph_of": paragraph_of,
            "paragraph_rows": np.argsort(paragraph_of, kind="stable"),
            "paragraph_starts": np.r_[
                0, np.cumsum(np.bincount(paragraph_of, minlength=len(paragraph_number)))
            ],
            "previous": np.where(same_before, rows - 1, rows),
            "following": np.where(same_after, rows + 1, rows),
        },
    )


def _window(
    terms: Sequence[tuple[str, ...]],
    previous: np.ndarray,
    following: np.ndarray,
    row: int,
):
    """The terms of the sentence before ``row``, of ``row`` and of the sentence after, in order."""
    p, f = int(previous[row]), int(following[row])
    return (terms[p] if p != row else ()) + terms[row] + (terms[f] if f != row else ())


def _paragraphs(terms: Sequence[tuple[str, ...]], layout: dict) -> list[list[str]]:
    """Paragraph number -> the terms of its sentences, in row order."""
    rows, starts = (
        layout["paragraph_rows"].tolist(),
        layout["paragraph_starts"].tolist(),
    )
    return [[t for row in rows[a:b] for t in terms[row]] for a, b in itertools.pairwise(starts)]


def _index(
    generation: str, sentences: list[StoredSentence], embeddings: np.ndarray, metas: dict[str, Metadata]
) -> _Parts:
    """Layout, terms, term statistics and the three BM25 indexes of the sentences."""
    interned: dict[str, str] = {}  # one string object per term keeps 100k rows of terms small
    terms = tuple(tuple(interned.setdefault(t, t) for t in content_terms(s.text)) for s in sentences)
    article_ids, titles, layout = _layout(sentences)
    n = len(sentences)
    frequency = Counter(t for ts in terms for t in set(ts))
    places = [(s.sentence_index, s.paragraph_index, s.start, s.end) for s in sentences]
    return _Parts(
        generation=generation,
        ids=tuple(s.id for s in sentences),
        texts=tuple(s.text for s in sentences),
        places=np.array(places, dtype=np.int64).reshape(n, 4),
        article_ids=tuple(article_ids),
        titles=tuple(titles),
        metas=tuple(metas.get(a, Metadata()) for a in article_ids),
        layout=layout,
        terms=terms,
        title_terms=tuple(frozenset(content_terms(t)) for t in titles),
        idf={t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in frequency.items()},
        embeddings=embeddings,
        bm25_sentences=_bm25([list(t) for t in terms]),
        bm25_windows=_bm25(
            [list(_window(terms, layout["previous"], layout["following"], r)) for r in range(n)]
        ),
        bm25_paragraphs=_bm25(_paragraphs(terms, layout)),
    )


def _assemble(parts: _Parts) -> Corpus:
    """The corpus of ``parts``, with its sentence records and term sets made on access."""
    ids, texts, places, terms, layout = (
        parts.ids,
        parts.texts,
        parts.places,
        parts.terms,
        parts.layout,
    )
    article_of, previous, following = (
        layout["article_of"],
        layout["previous"],
        layout["following"],
    )
    rows, starts = layout["paragraph_rows"], layout["paragraph_starts"]
    n = len(ids)

    def sentence(r: int) -> StoredSentence:
        a = int(article_of[r])
        index, paragraph, start, end = places[r].tolist()
        return StoredSentence(
            ids[r],
            texts[r],
            parts.article_ids[a],
            parts.titles[a],
            index,
            paragraph,
            start,
            end,
        )

    def paragraph(p: int) -> frozenset[str]:
        return frozenset(t for row in rows[starts[p] : starts[p + 1]].tolist() for t in terms[row])

    return Corpus(
        generation=parts.generation,
        sentences=Rows(n, sentence),
        row_of={sentence_id: row for row, sentence_id in enumerate(ids)},
        article_of=article_of,
        article_ids=parts.article_ids,
        article_meta=parts.metas,
        paragraph_of=layout["paragraph_of"],
        paragraph_rows=rows,
        paragraph_starts=starts,
        previous=previous,
        following=following,
        terms=terms,
        term_sets=Rows(n, lambda r: frozenset(terms[r])),
        window_terms=Rows(n, lambda r: frozenset(_window(terms, previous, following, r))),
        paragraph_terms=Rows(len(starts) - 1, paragraph),
        title_terms=parts.title_terms,
        idf=parts.idf,
        embeddings=parts.embeddings,
        bm25_sentences=parts.bm25_sentences,
        bm25_windows=parts.bm25_windows,
        bm25_paragraphs=parts.bm25_paragraphs,
    )


def _code_version() -> str:
    """Changes whenever the code that makes the cached parts changes, so old caches are not read."""
    from importlib.metadata import version

    import assistant.core.text

    digest = hashlib.sha256(version("bm25s").encode())
    for module in (assistant.core.text.__file__, __file__):
        digest.update(Path(module).read_bytes())
    return digest.hexdigest()[:12]


class CorpusCache:
    """Keeps one :class:`Corpus` per store and rebuilds it when the store has changed.

    Built corpora are saved in the store's cache folder (one file, for the newest
    generation) and loaded from there by the next process.
    """

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
                self._corpus = self._load(generation) or self._build()
            return self._corpus

    def _file(self, generation: str) -> Path:
        return self.store.cache_folder() / f"{CACHE_PREFIX}{_code_version()}-{generation}.pkl"

    def _load(self, generation: str) -> Corpus | None:
        path = self._file(generation)
        started = time.perf_counter()
        try:
            with path.open("rb") as f:
                parts = pickle.load(f)
        except FileNotFoundError:
            return None
        except Exception as e:  # a damaged or foreign file is only a missed cache
            log.warning("ignoring the corpus cache %s: %s", path, e)
            return None
        corpus = _assemble(parts)
        log.info(
            "loaded %d sentences from %s in %.2f s",
            len(corpus),
            path,
            time.perf_counter() - started,
        )
        return corpus

    def _build(self) -> Corpus:
        started = time.perf_counter()
        parts = _index(*_read(self.store))
        self._save(parts)
        corpus = _assemble(parts)
        log.info("indexed %d sentences in %.2f s", len(corpus), time.perf_counter() - started)
        return corpus

    def _save(self, parts: _Parts) -> None:
        """Write the parts for their generation and drop older cache files; failures only log."""
        if parts.generation == UNSETTLED:
            return
        path = self._file(parts.generation)
        partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with partial.open("wb") as f:
                pickle.dump(parts, f, protocol=pickle.HIGHEST_PROTOCOL)
            partial.replace(path)
            for old in path.parent.glob(f"{CACHE_PREFIX}*.pkl"):
                if old != path:
                    old.unlink(missing_ok=True)
        except OSError as e:
            partial.unlink(missing_ok=True)
            log.warning("could not save the corpus cache in %s: %s", path.parent, e)


def _build_and_save(settings: Settings) -> int:
    return len(CorpusCache(Store(settings)).get())


def prepare(settings: Settings) -> int:
    """Build the store's corpus and save it, in a fresh process; its number of sentences.

    For a command that has just changed the store: the next process that answers loads the
    saved corpus instead of building it. A fresh process, because the caller (an ingest)
    already holds Chroma's index in memory: building the corpus beside it took one process
    from 374 MB to 1.4 GB at 100k sentences.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_build_and_save, settings).result()
