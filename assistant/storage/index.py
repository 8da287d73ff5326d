"""The corpus cache on disk: numpy arrays and JSON in a folder per generation, checked, then memory-mapped.

Whoever can write the store folder writes this cache, and every process that answers from the
store reads it; so it holds nothing that runs: ``.npy`` arrays (read with ``allow_pickle=False``),
JSON, and bm25s's saved BM25 matrices (see :mod:`assistant.storage.bm25`). A manifest gives the
format and code version, the generation, the row count and every file's size, and each array's
dtype, shape, offsets and bounds are checked before use: anything else is refused and rebuilt.

The arrays are memory-mapped read-only, so the processes answering from one store on one
machine share their pages. A folder is written under a temporary name and renamed, never
changed in place: a process that still maps a folder that has since been replaced or deleted
keeps reading its files (Linux keeps an unlinked file while it is mapped).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

import numpy as np

from assistant.core.records import Metadata
from assistant.storage import bm25
from assistant.storage.bm25 import BM25
from assistant.storage.embedder import DIMENSION

T = TypeVar("T")
FORMAT = 1  # the layout of a cache folder; the code version covers how its contents are made
PREFIX = "corpus-"  # every cache folder's name (and the older single-file caches')
TEMPORARY = ".tmp"  # the suffix of a folder being written, or being deleted
STALE = 3600  # seconds after which a temporary folder belongs to a writer that died
MANIFEST = "manifest.json"
VOCABULARY = "vocabulary.json"
ARTICLES = "articles.json"
_META = tuple(f.name for f in fields(Metadata))


class Indexes(NamedTuple, Generic[T]):
    """One thing per BM25 index of a corpus, by what the index's documents are."""

    sentences: T  # each sentence
    windows: T  # each sentence with the one before and the one after it in its article
    paragraphs: T  # each paragraph


class Refused(ValueError):
    """A cache folder that is damaged, of another format, code or generation, or not ours."""


@dataclass(frozen=True, slots=True)
class Parts:
    """A corpus as plain columns: what a cache folder holds besides the BM25 indexes."""

    generation: str
    vocabulary: tuple[str, ...]  # term id -> term, for the terms below and the BM25 indexes
    article_ids: tuple[str, ...]  # article number -> article id
    titles: tuple[str, ...]  # article number -> title
    content_hashes: tuple[str, ...]  # article number -> hash of the content its rows are from
    metas: tuple[Metadata, ...]  # article number -> its metadata (url, published, site...)
    title_terms: tuple[tuple[str, ...], ...]  # article number -> content terms of its title
    embeddings: np.ndarray  # (rows, 384) float32 unit vectors
    text_bytes: np.ndarray  # (bytes,) uint8: the UTF-8 texts of the rows, one after another
    text_starts: np.ndarray  # (rows + 1,) int64: row r's text is text_bytes[text_starts[r] : ...[r + 1]]
    places: np.ndarray  # (rows, 4) int64: sentence index, paragraph index, start, end
    article_of: np.ndarray  # (rows,) int32: row -> article number, ascending
    paragraph_of: np.ndarray  # (rows,) int32: row -> paragraph number (over the whole corpus)
    paragraph_rows: np.ndarray  # (rows,) int64: the rows, paragraph after paragraph
    paragraph_starts: np.ndarray  # (paragraphs + 1,) int64: p is paragraph_rows[starts[p] : starts[p + 1]]
    previous: np.ndarray  # (rows,) int64: row -> row of the sentence before in its article (itself if first)
    following: np.ndarray  # (rows,) int64: row -> row of the sentence after in its article (itself if last)
    term_ids: np.ndarray  # (terms,) int32: the content terms of the rows, one after another
    term_starts: np.ndarray  # (rows + 1,) int64: row r's terms are term_ids[term_starts[r] : ...[r + 1]]
    idf: np.ndarray  # (vocabulary,) float64: term id -> inverse sentence frequency


class _Counts(NamedTuple):
    rows: int
    articles: int
    vocabulary: int


# array -> (dtype, its shape given the counts; None: any length, checked against its offsets)
_ARRAYS: dict[str, tuple[str, Callable[[_Counts], tuple[int | None, ...]]]] = {
    "embeddings": ("<f4", lambda c: (c.rows, DIMENSION)),
    "text_bytes": ("|u1", lambda c: (None,)),
    "text_starts": ("<i8", lambda c: (c.rows + 1,)),
    "places": ("<i8", lambda c: (c.rows, 4)),
    "article_of": ("<i4", lambda c: (c.rows,)),
    "paragraph_of": ("<i4", lambda c: (c.rows,)),
    "paragraph_rows": ("<i8", lambda c: (c.rows,)),
    "paragraph_starts": ("<i8", lambda c: (None,)),
    "previous": ("<i8", lambda c: (c.rows,)),
    "following": ("<i8", lambda c: (c.rows,)),
    "term_ids": ("<i4", lambda c: (None,)),
    "term_starts": ("<i8", lambda c: (c.rows + 1,)),
    "idf": ("<f8", lambda c: (c.vocabulary,)),
}
_OFFSETS = {"text_starts": "text_bytes", "term_starts": "term_ids", "paragraph_starts": "paragraph_rows"}
_BM25_ARRAYS = {bm25.DATA: "<f4", bm25.INDICES: "<i4", bm25.INDPTR: "<i8"}


def _bm25_folder(name: str) -> str:
    return f"bm25-{name}"


def _expected_files() -> list[str]:
    return [
        *(f"{name}.npy" for name in _ARRAYS),
        VOCABULARY,
        ARTICLES,
        *(f"{_bm25_folder(name)}/{file}" for name in Indexes._fields for file in bm25.FILES),
    ]


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")


def write(cache: Path, name: str, parts: Parts, documents: Indexes[list[list[int]]], code: str) -> Path:
    """Write ``parts`` and the BM25 indexes of ``documents`` (each index's documents as term
    ids) into a new temporary folder in ``cache``, the manifest last; that folder.

    Give it its final ``name`` with :func:`publish`, or :func:`remove` it once opened."""
    folder = cache / f"{name}.{uuid.uuid4().hex}{TEMPORARY}"
    folder.mkdir(parents=True)
    try:
        for array, (dtype, _) in _ARRAYS.items():
            np.save(folder / f"{array}.npy", np.ascontiguousarray(getattr(parts, array), dtype=dtype))
        _write_json(folder / VOCABULARY, parts.vocabulary)
        _write_json(
            folder / ARTICLES,
            {
                "ids": parts.article_ids,
                "titles": parts.titles,
                "content_hashes": parts.content_hashes,
                "title_terms": parts.title_terms,
                "metas": [asdict(m) for m in parts.metas],
            },
        )
        vocabulary = {term: i for i, term in enumerate(parts.vocabulary)}
        for index, its_documents in documents._asdict().items():
            bm25.save(folder / _bm25_folder(index), its_documents, vocabulary)
        files = {p.relative_to(folder).as_posix(): p.stat().st_size for p in folder.rglob("*") if p.is_file()}
        manifest = {
            "format": FORMAT,
            "code": code,
            "generation": parts.generation,
            "rows": len(parts.text_starts) - 1,
            "files": dict(sorted(files.items())),
        }
        _write_json(folder / MANIFEST, manifest)
    except BaseException:
        remove(folder)
        raise
    return folder


def _size(path: Path) -> int:
    """The size of ``path``, which must be a regular file (not a folder, pipe or device)."""
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise Refused(f"{path.name} is not a regular file")
    return info.st_size


def _read_json(path: Path) -> Any:
    _size(path)
    return json.loads(path.read_bytes())


def _manifest(folder: Path, generation: str, code: str) -> int:
    """Check the manifest and every file's size against it; the row count."""
    manifest = _read_json(folder / MANIFEST)
    if not isinstance(manifest, dict):
        raise Refused("the manifest is not a JSON object")
    for key, wanted in (("format", FORMAT), ("code", code), ("generation", generation)):
        if manifest.get(key) != wanted:
            raise Refused(f"{key} {manifest.get(key)!r}, not {wanted!r}")
    rows, files = manifest.get("rows"), manifest.get("files")
    if type(rows) is not int or rows < 0 or not isinstance(files, dict):
        raise Refused("the manifest has no row count or file list")
    for file in _expected_files():
        if file not in files:
            raise Refused(f"the manifest lists no {file}")
    for file, size in files.items():
        if (actual := _size(folder / file)) != size:
            raise Refused(f"{file} has {actual} bytes, not {size}")
    return rows


def _array(path: Path, dtype: str, shape: tuple[int | None, ...]) -> np.ndarray:
    """The array in the .npy file ``path``, memory-mapped read-only, if it has this dtype and shape."""
    array = np.load(path, allow_pickle=False, mmap_mode="r")
    if array.dtype != np.dtype(dtype) or not array.flags.c_contiguous:
        order = "C" if array.flags.c_contiguous else "Fortran"
        raise Refused(f"{path.name} holds {array.dtype} in {order} order, not {np.dtype(dtype)} in C order")
    if len(array.shape) != len(shape) or any(
        w is not None and s != w for s, w in zip(array.shape, shape, strict=True)
    ):
        raise Refused(f"{path.name} has shape {array.shape}, not {shape}")
    return array.view(np.ndarray)


def _check_offsets(starts: np.ndarray, length: int, name: str) -> None:
    """``starts`` must split ``length`` items: from 0 to ``length``, never decreasing."""
    if len(starts) == 0 or starts[0] != 0 or starts[-1] != length or np.any(starts[1:] < starts[:-1]):
        raise Refused(f"{name} do not split {length} items")


def _check_below(values: np.ndarray, count: int, name: str) -> None:
    if len(values) and (int(values.min()) < 0 or int(values.max()) >= count):
        raise Refused(f"{name} has values outside 0..{count - 1}")


def _check_texts(blob: np.ndarray, starts: np.ndarray) -> None:
    """The texts are UTF-8 and each row's begins on a character (cost: one pass over the blob,
    a few milliseconds at 100,000 sentences)."""
    try:
        memoryview(blob).tobytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise Refused(f"the texts are not UTF-8: {e}") from e
    firsts = starts[:-1][starts[:-1] < len(blob)]
    if np.any((blob[firsts] & 0xC0) == 0x80):
        raise Refused("a text begins inside a character")


def _list(value: Any, name: str, length: int | None = None) -> list:
    if not isinstance(value, list) or (length is not None and len(value) != length):
        raise Refused(f"{name}: not a list" + ("" if length is None else f" of {length} items"))
    return value


def _strings(value: Any, name: str, length: int | None = None) -> tuple[str, ...]:
    items = _list(value, name, length)
    if not all(isinstance(v, str) for v in items):
        raise Refused(f"{name}: not all text")
    return tuple(items)


def _metadata(value: Any) -> Metadata:
    if not isinstance(value, dict) or set(value) != set(_META):
        raise Refused("an article's metadata has other fields")
    if not all(v is None or isinstance(v, str) for v in value.values()):
        raise Refused("an article's metadata is not text")
    return Metadata(**value)


def _bm25(folder: Path, documents: int, vocabulary: int) -> BM25:
    """The BM25 index bm25s saved in ``folder``, checked to hold ``documents`` x ``vocabulary``."""
    params = _read_json(folder / bm25.PARAMS)
    if not isinstance(params, dict) or params.get("num_docs") != documents:
        raise Refused(f"{folder.name} is not an index of {documents} documents")
    data, indices, indptr = (
        _array(folder / file, dtype, (vocabulary + 1,) if file == bm25.INDPTR else (None,))
        for file, dtype in _BM25_ARRAYS.items()
    )
    if len(indices) != len(data):
        raise Refused(f"{folder.name} has {len(indices)} documents for {len(data)} scores")
    _check_offsets(indptr, len(data), f"{folder.name} column starts")
    _check_below(indices, documents, f"{folder.name} documents")
    return BM25(data, indices, indptr, documents)


def load(folder: Path, generation: str, code: str) -> tuple[Parts, Indexes[BM25]]:
    """The parts and BM25 indexes saved in ``folder``, memory-mapped.

    Raises :class:`Refused` (or the error of a file that cannot be read) when the folder is not
    a whole cache of ``generation`` written by this ``code``: nothing in it is ever executed."""
    rows = _manifest(folder, generation, code)
    vocabulary = _strings(_read_json(folder / VOCABULARY), "the vocabulary")
    articles = _read_json(folder / ARTICLES)
    if not isinstance(articles, dict):
        raise Refused("the articles are not a JSON object")
    article_ids = _strings(articles.get("ids"), "the article ids")
    count = len(article_ids)
    counts = _Counts(rows, count, len(vocabulary))
    arrays = {
        name: _array(folder / f"{name}.npy", dtype, shape(counts)) for name, (dtype, shape) in _ARRAYS.items()
    }
    for starts, items in _OFFSETS.items():
        _check_offsets(arrays[starts], len(arrays[items]), starts)
    for name, bound in (
        ("article_of", count),
        ("paragraph_of", len(arrays["paragraph_starts"]) - 1),
        ("paragraph_rows", rows),
        ("previous", rows),
        ("following", rows),
        ("term_ids", len(vocabulary)),
    ):
        _check_below(arrays[name], bound, name)
    if np.any(arrays["article_of"][1:] < arrays["article_of"][:-1]):
        raise Refused("the rows are not in article order")
    _check_texts(arrays["text_bytes"], arrays["text_starts"])
    parts = Parts(
        generation=generation,
        vocabulary=vocabulary,
        article_ids=article_ids,
        titles=_strings(articles.get("titles"), "the titles", count),
        content_hashes=_strings(articles.get("content_hashes"), "the content hashes", count),
        metas=tuple(_metadata(m) for m in _list(articles.get("metas"), "the metadata", count)),
        title_terms=tuple(
            _strings(terms, "a title's terms")
            for terms in _list(articles.get("title_terms"), "the title terms", count)
        ),
        **arrays,
    )
    documents = Indexes(sentences=rows, windows=rows, paragraphs=len(arrays["paragraph_starts"]) - 1)
    return parts, Indexes(
        *(
            _bm25(folder / _bm25_folder(name), count, len(vocabulary))
            for name, count in documents._asdict().items()
        )
    )


def remove(path: Path) -> None:
    """Delete a cache folder or file; one that another process deleted first is no error. A
    process that maps its files keeps reading them."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def publish(folder: Path, final: Path) -> None:
    """Give the folder :func:`write` made its ``final`` name, in place of whatever has it, then
    delete the caches it replaces: other generations made by the same code, caches of the
    older single-file format, and temporary folders of writers that died. Another version of
    the code (another install on the same store) keeps its own."""
    try:
        folder.rename(final)
    except OSError:  # the name is taken: by a refused cache, or one another process just wrote
        aside = final.with_name(f"{final.name}.{uuid.uuid4().hex}{TEMPORARY}")
        final.rename(aside)
        folder.rename(final)
        remove(aside)
    same_code = final.name.rpartition("-")[0] + "-"  # corpus-<code>-
    now = time.time()
    for entry in final.parent.glob(f"{PREFIX}*"):
        if entry == final:
            continue
        if entry.name.endswith(TEMPORARY):
            if now - os.lstat(entry).st_mtime > STALE:
                remove(entry)
        elif entry.name.startswith(same_code) or entry.suffix == ".pkl":
            remove(entry)
