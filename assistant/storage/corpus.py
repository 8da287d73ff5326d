"""The visible sentences held in memory, for lexical search and for the ranker's evidence.

Chroma answers nearest-neighbour queries; everything that needs the whole collection at
once lives here: BM25 indexes over sentences, over each sentence with its neighbours and
over paragraphs, term statistics, and the sentence embeddings. A :class:`Corpus` is built
from the store's contents (so it works the same against a Chroma server) and rebuilt
whenever the store's generation token changes.

Building one reads every sentence with its embedding and indexes them: seconds at 100,000
sentences. So each corpus is built into a folder of arrays in the store's cache folder
(:meth:`Store.cache_folder`), named by its generation token (:mod:`assistant.storage.index`),
and a process that starts on an unchanged store maps those files instead of building. The
cache is only ever a copy: a missing, stale, damaged or foreign one is rebuilt.

To keep memory flat, loading fast and the pages shared between the processes that answer
from one store, every per-row column is an array in those files (texts as one UTF-8 blob,
terms as term ids into one vocabulary): the sentence records, term tuples and term sets,
and the window and paragraph embeddings are made on access, since retrieval and the ranker
read them for a few dozen candidates per question. bm25s is imported only to build.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
import math
import operator
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from types import MappingProxyType
from typing import Generic, TypeVar

import numpy as np

import assistant.core.text
from assistant.core.records import ArticleInfo, Metadata
from assistant.core.settings import Settings
from assistant.core.text import content_terms
from assistant.storage import bm25, index
from assistant.storage.bm25 import BM25
from assistant.storage.index import Indexes, Parts
from assistant.storage.store import Store, StoredSentence
from assistant.storage.store import sentence_id as stored_id

log = logging.getLogger(__name__)

T = TypeVar("T")
# The generation of a corpus read while writes kept landing: no token is this, so it serves the
# answer it was read for and is neither saved nor used again.
UNSETTLED = "(unsettled)"


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


@dataclass(frozen=True, slots=True)
class Corpus:
    """Every visible sentence, in (article, sentence index) order, with what ranking needs."""

    generation: str
    sentences: Rows[StoredSentence]  # row -> its record, made on access
    article_of: np.ndarray  # row -> article number
    article_ids: tuple[str, ...]  # article number -> article id
    article_meta: tuple[Metadata, ...]  # article number -> its metadata (url, published, site...)
    paragraph_of: np.ndarray  # row -> paragraph number (over the whole corpus)
    paragraph_rows: np.ndarray  # the rows of paragraph p: paragraph_rows[paragraph_starts[p]:...[p + 1]]
    paragraph_starts: np.ndarray  # (paragraphs + 1,)
    previous: np.ndarray  # row -> row of the sentence before in its article (itself if first)
    following: np.ndarray  # row -> row of the sentence after in its article (itself if last)
    terms: Rows[tuple[str, ...]]  # row -> content terms, in order
    term_sets: Rows[frozenset[str]]  # row -> set of content terms
    window_terms: Rows[frozenset[str]]  # row -> terms of the sentence and neighbours
    paragraph_terms: Rows[frozenset[str]]  # paragraph number -> its terms
    title_terms: tuple[frozenset[str], ...]  # article number -> terms of its title
    term_id: Mapping[str, int]  # term -> its id: every term some sentence holds
    max_idf: float  # the idf of the rarest term (1.0 when there is none)
    embeddings: np.ndarray  # (rows, 384) unit vectors
    bm25_sentences: BM25
    bm25_windows: BM25
    bm25_paragraphs: BM25
    parts: Parts  # the columns the rest is made from, memory-mapped
    article_numbers: Mapping[str, int]  # article id -> article number
    article_starts: tuple[int, ...]  # (articles + 1,): article n's rows are article_starts[n]:...[n + 1]

    def __len__(self) -> int:
        return len(self.sentences)

    def idf_of(self, term: str, default: float) -> float:
        """The inverse sentence frequency of ``term``, ``default`` when no sentence holds it."""
        number = self.term_id.get(term)
        return default if number is None else float(self.parts.idf[number])

    def bm25(self, index: BM25, terms: list[str]) -> np.ndarray:
        """BM25 scores of ``index`` for ``terms``, one per document (zeros when none match).

        Cost: one float32 per document, plus the documents holding each known term."""
        return index.scores([self.term_id[t] for t in terms if t in self.term_id])

    def window_embeddings(self, rows: np.ndarray) -> np.ndarray:
        """Unit vectors of each row's sentence plus its neighbours, shape (len(rows), 384)."""
        e = self.embeddings
        return _unit(e[self.previous[rows]] + e[rows] + e[self.following[rows]])

    def row_of_id(self, sentence_id: str) -> int | None:
        """The row of a stored sentence, or None when it is not visible (an older version).

        An id is made of its article's id (which may hold ':'), content hash and sentence index,
        so it is read from the right and must be the id of that sentence of the article's
        current content. Cost: log of the article's sentence count."""
        rest, _, index_text = sentence_id.rpartition(":")
        article_id = rest.rpartition(":")[0]
        number = self.article_numbers.get(article_id)
        if number is None or not index_text.isdecimal():
            return None
        sentence_index = int(index_text)
        if stored_id(article_id, self.parts.content_hashes[number], sentence_index) != sentence_id:
            return None  # another version of the article
        return self._row_at(number, sentence_index)

    def row_of_sentence(self, article_id: str, sentence_index: int, text: str) -> int | None:
        """The row of an article's sentence as an answer quoted it (``text``), or None when this
        corpus holds no such sentence: the article was removed or changed since."""
        number = self.article_numbers.get(article_id)
        row = None if number is None else self._row_at(number, sentence_index)
        return row if row is not None and self.sentences[row].text == text else None

    def _row_at(self, number: int, sentence_index: int) -> int | None:
        """The row of sentence ``sentence_index`` of article ``number``; None when it has none
        (a read that never settled may lack one). Cost: log of the article's sentence count."""
        start, end = self.article_starts[number], self.article_starts[number + 1]
        indexes = self.parts.places[start:end, 0]  # ascending
        k = int(np.searchsorted(indexes, sentence_index))
        return start + k if k < len(indexes) and indexes[k] == sentence_index else None

    def article_number(self, article_id: str) -> int | None:
        """The number of an article in this corpus, or None when it holds none with that id."""
        return self.article_numbers.get(article_id)

    def rows_of_article(self, number: int) -> np.ndarray:
        """The rows of an article, in sentence order (an article's rows are contiguous)."""
        return np.arange(self.article_starts[number], self.article_starts[number + 1])

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


def _read(store: Store) -> tuple[str, list[StoredSentence], np.ndarray, dict[str, ArticleInfo]]:
    """The generation token, every visible sentence with its embedding in corpus order, and
    each article's record."""
    snapshot = store.snapshot()
    order = sorted(
        range(len(snapshot.sentences)),
        key=lambda k: (snapshot.sentences[k].article_id, snapshot.sentences[k].sentence_index),
    )
    return (
        snapshot.generation if snapshot.consistent else UNSETTLED,
        [snapshot.sentences[k] for k in order],
        snapshot.embeddings[order],
        {a.article_id: a for a in snapshot.articles},
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


class _RowTerms:
    """The term ids of a row, of a row's window and of a paragraph, read from the CSR columns
    (``term_ids``, ``term_starts``) and the layout arrays.

    Through memoryviews: indexing one gives a Python int several times faster than a numpy
    scalar, and the ranker reads the terms of every candidate and its surroundings per question."""

    __slots__ = ("_following", "_ids", "_paragraph_rows", "_paragraph_starts", "_previous", "_starts")

    def __init__(self, parts: Parts) -> None:
        self._ids, self._starts = memoryview(parts.term_ids), memoryview(parts.term_starts)
        self._previous, self._following = memoryview(parts.previous), memoryview(parts.following)
        self._paragraph_rows = memoryview(parts.paragraph_rows)
        self._paragraph_starts = memoryview(parts.paragraph_starts)

    def rows(self, first: int, last: int) -> list[int]:
        """The term ids of rows ``first`` to ``last`` (included), one row after another."""
        return self._ids[self._starts[first] : self._starts[last + 1]].tolist()

    def window(self, row: int) -> list[int]:
        """The term ids of the sentence before ``row`` in its article, of ``row`` and of the
        sentence after (a window's rows are contiguous)."""
        return self.rows(self._previous[row], self._following[row])

    def paragraph(self, paragraph: int) -> list[int]:
        """The term ids of a paragraph's sentences, in row order."""
        members = self._paragraph_rows[
            self._paragraph_starts[paragraph] : self._paragraph_starts[paragraph + 1]
        ]
        if members and members[-1] - members[0] + 1 == len(members):  # contiguous, as a paragraph's rows are
            return self.rows(members[0], members[-1])
        return list(itertools.chain.from_iterable(self.rows(row, row) for row in members))


def _offsets(lengths: list[int]) -> np.ndarray:
    """Where each item starts when items of these lengths lie one after another, then where the
    last ends: (len(lengths) + 1,) int64."""
    return np.r_[0, np.cumsum(lengths, dtype=np.int64)]


def _index(
    generation: str, sentences: list[StoredSentence], embeddings: np.ndarray, articles: dict[str, ArticleInfo]
) -> tuple[Parts, Indexes[list[list[int]]]]:
    """The columns of the sentences, and the documents of each BM25 index as term ids."""
    term_id: dict[str, int] = {}  # term -> id, in order of first appearance
    ids = [[term_id.setdefault(t, len(term_id)) for t in content_terms(s.text)] for s in sentences]
    article_ids, titles, layout = _layout(sentences)
    n = len(sentences)
    frequency = Counter(i for row in ids for i in set(row))  # term id -> sentences holding it
    texts = [s.text.encode() for s in sentences]
    term_ids = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int32)
    term_starts = _offsets([len(row) for row in ids])
    parts = Parts(
        generation=generation,
        vocabulary=tuple(term_id),
        article_ids=tuple(article_ids),
        titles=tuple(titles),
        content_hashes=tuple(articles[a].content_hash for a in article_ids),
        metas=tuple(articles[a].meta for a in article_ids),
        title_terms=tuple(tuple(content_terms(t)) for t in titles),
        embeddings=embeddings,
        text_bytes=np.frombuffer(b"".join(texts), dtype=np.uint8),
        text_starts=_offsets([len(t) for t in texts]),
        places=np.array(
            [(s.sentence_index, s.paragraph_index, s.start, s.end) for s in sentences], dtype=np.int64
        ).reshape(n, 4),
        term_ids=term_ids,
        term_starts=term_starts,
        idf=np.array(
            [math.log(1 + (n - frequency[i] + 0.5) / (frequency[i] + 0.5)) for i in range(len(term_id))],
            dtype=np.float64,
        ),
        **layout,
    )
    terms = _RowTerms(parts)
    return parts, Indexes(
        sentences=ids,
        windows=[terms.window(r) for r in range(n)],
        paragraphs=[terms.paragraph(p) for p in range(len(parts.paragraph_starts) - 1)],
    )


def _assemble(parts: Parts, indexes: Indexes[BM25]) -> Corpus:
    """The corpus of ``parts``, with its sentence records, terms and term sets made on access."""
    term_of, row_terms = parts.vocabulary.__getitem__, _RowTerms(parts)
    texts, text_starts = memoryview(parts.text_bytes), memoryview(parts.text_starts)  # as in _RowTerms
    places, article_of = parts.places, parts.article_of

    def terms(r: int) -> tuple[str, ...]:
        return tuple(map(term_of, row_terms.rows(r, r)))

    def sentence(r: int) -> StoredSentence:
        a = int(article_of[r])
        index_, paragraph, start, end = places[r].tolist()
        return StoredSentence(
            stored_id(parts.article_ids[a], parts.content_hashes[a], index_),
            str(texts[text_starts[r] : text_starts[r + 1]], "utf-8"),
            parts.article_ids[a],
            parts.titles[a],
            index_,
            paragraph,
            start,
            end,
        )

    def term_set(found: list[int]) -> frozenset[str]:
        return frozenset(map(term_of, found))

    n = len(parts.text_starts) - 1
    return Corpus(
        generation=parts.generation,
        sentences=Rows(n, sentence),
        article_of=article_of,
        article_ids=parts.article_ids,
        article_meta=parts.metas,
        paragraph_of=parts.paragraph_of,
        paragraph_rows=parts.paragraph_rows,
        paragraph_starts=parts.paragraph_starts,
        previous=parts.previous,
        following=parts.following,
        terms=Rows(n, terms),
        term_sets=Rows(n, lambda r: term_set(row_terms.rows(r, r))),
        window_terms=Rows(n, lambda r: term_set(row_terms.window(r))),
        paragraph_terms=Rows(len(parts.paragraph_starts) - 1, lambda p: term_set(row_terms.paragraph(p))),
        title_terms=tuple(frozenset(t) for t in parts.title_terms),
        term_id=MappingProxyType({term: i for i, term in enumerate(parts.vocabulary)}),
        max_idf=float(parts.idf.max()) if len(parts.idf) else 1.0,
        embeddings=parts.embeddings,
        bm25_sentences=indexes.sentences,
        bm25_windows=indexes.windows,
        bm25_paragraphs=indexes.paragraphs,
        parts=parts,
        article_numbers=MappingProxyType({a: number for number, a in enumerate(parts.article_ids)}),
        article_starts=tuple(np.searchsorted(article_of, np.arange(len(parts.article_ids) + 1)).tolist()),
    )


@functools.cache
def _code_version() -> str:
    """Changes whenever the code that makes the cached parts changes, so old caches are not read."""
    digest = hashlib.sha256(version("bm25s").encode())
    for module in (assistant.core.text, bm25, index):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:12]


class CorpusCache:
    """Keeps one :class:`Corpus` per store and rebuilds it when the store has changed.

    Built corpora are saved in the store's cache folder (one folder, for the newest
    generation) and mapped from there by the next process.
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
                loaded = self._load(generation)
                self._corpus = loaded if loaded is not None else self._build()
            return self._corpus

    def _folder(self, generation: str) -> Path:
        return self.store.cache_folder() / f"{index.PREFIX}{_code_version()}-{generation}"

    def _load(self, generation: str) -> Corpus | None:
        folder = self._folder(generation)
        if not (folder.exists() or folder.is_symlink()):
            return None
        started = time.perf_counter()
        try:
            corpus = _assemble(*index.load(folder, generation, _code_version()))
        except Exception as e:  # a damaged or foreign cache is only a missed one: it is rebuilt
            log.warning("ignoring the corpus cache %s: %s", folder, e)
            return None
        log.info("loaded %d sentences from %s in %.2f s", len(corpus), folder, time.perf_counter() - started)
        return corpus

    def _build(self) -> Corpus:
        """Index the store into a new cache folder and map it; it becomes the cache unless the
        store would not settle (then, or when the cache folder cannot be written, it is
        deleted once mapped: Linux keeps its files while they are mapped)."""
        started = time.perf_counter()
        parts, documents = _index(*_read(self.store))
        final, code = self._folder(parts.generation), _code_version()
        keep = parts.generation != UNSETTLED
        try:
            folder = index.write(final.parent, final.name, parts, documents, code)
        except OSError as e:
            log.warning("could not save the corpus cache in %s: %s", final.parent, e)
            folder, keep = index.write(Path(tempfile.gettempdir()), final.name, parts, documents, code), False
        corpus = _assemble(*index.load(folder, parts.generation, code))
        if keep:
            try:
                index.publish(folder, final)
            except OSError as e:
                log.warning("could not save the corpus cache in %s: %s", final.parent, e)
                keep = False
        if not keep:
            index.remove(folder)
        log.info("indexed %d sentences in %.2f s", len(corpus), time.perf_counter() - started)
        return corpus


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
