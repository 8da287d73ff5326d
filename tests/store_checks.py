"""What the robustness tests check a store and its articles with, and the articles they ingest.

- :func:`records`: every record of both collections, to compare two stores exactly;
- :func:`assert_consistent`: a store is whole: each article's sentences are exactly its
  current version's, in order, pointing into its text, with readable embeddings;
- :func:`write_articles`: a folder of small distinct articles, each about its own made-up
  place, so that a question about one of them has one right answer;
- :func:`versions_seen` and :func:`versions_of`: what a reader sees of each article, and
  what each version of it holds, to check that a reader sees every article whole;
- :func:`spawn_ingest`, :func:`wait_for_first_commit` and :func:`embedding_paused`: an ingest
  in a process of its own, the moment it has made its first articles visible, and a pause of
  its embedding worker that holds the store halfway written for as long as a test needs.
"""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import numpy as np
import psutil
import pytest

from assistant.core.settings import Settings
from assistant.storage.store import (
    ADDED,
    ARTICLE_ID,
    CONTENT_HASH,
    END,
    PENDING,
    SENTENCE_COUNT,
    SENTENCE_INDEX,
    START,
    Snapshot,
    Store,
    sentence_id,
)
from ingest.loader import read_article
from ingest.split import build_article
from tests.conftest import ROOT, child_env

COMMITTED = "committed "  # how `python -m ingest --verbose` reports a batch made visible

_SYLLABLES = ("ka", "lo", "mi", "re", "su", "ta", "vo", "ne", "di", "bu")
_NAMES = ("Anna Berg", "Tom Okafor", "Lena Ruiz", "Ravi Menon", "Sara Holm", "Ivo Petrov")
_THINGS = ("ferries", "buses", "schools", "clinics", "markets", "bridges", "farms", "libraries")


def place(number: int) -> str:
    """The made-up place article ``number`` is about, e.g. ``Kaloren``."""
    a, b, c = number % 10, number // 10 % 10, number // 100 % 10
    return (_SYLLABLES[a] + _SYLLABLES[b] + _SYLLABLES[c]).capitalize() + "n"


def article_text(number: int, sentences: int = 10, version: int = 1) -> str:
    """A plain-text article about :func:`place` ``(number)``: a title, then paragraphs of 4 sentences."""
    where = place(number)
    lines = [f"The {where} bridge reopened after {number % 9 + 2} months of repairs, version {version}."]
    for k in range(1, sentences):
        name, things = _NAMES[(number + k) % len(_NAMES)], _THINGS[(number * 3 + k) % len(_THINGS)]
        lines.append(
            f"{name} said that {k + number % 7} {things} in {where} had been checked during week "
            f"{k + version} by the regional office."
        )
    paragraphs = [" ".join(lines[i : i + 4]) for i in range(0, len(lines), 4)]
    return f"News from {where}, report {number}\n\n" + "\n\n".join(paragraphs) + "\n"


def write_articles(folder: Path, count: int, sentences: int = 10, version: int = 1) -> list[Path]:
    """Write ``count`` articles as ``folder/NNNN.txt`` (created if needed); their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        path = folder / f"{number:04d}.txt"
        path.write_text(article_text(number, sentences, version), encoding="utf-8")
        paths.append(path)
    return paths


def records(settings: Settings) -> dict:
    """Every record of the store: ids with documents and metadata, and the embeddings.

    ``{"sentences": {id: (document, metadata)}, "articles": {id: (document, metadata)},
    "embeddings": {id: vector}}``, read in one locked session on a client that has seen
    every write (see :mod:`assistant.storage.store`).
    """
    store = Store(settings)
    with store._connection.session():
        sentences = store._sentences.get(include=["documents", "metadatas", "embeddings"])
        articles = store._articles.get(include=["documents", "metadatas"])
    return {
        "sentences": {
            i: (d, m)
            for i, d, m in zip(sentences["ids"], sentences["documents"], sentences["metadatas"], strict=True)
        },
        "articles": {
            i: (d, m)
            for i, d, m in zip(articles["ids"], articles["documents"], articles["metadatas"], strict=True)
        },
        "embeddings": {
            i: np.asarray(v, dtype=np.float32)
            for i, v in zip(sentences["ids"], sentences["embeddings"], strict=True)
        },
    }


def _unstamped(articles: dict) -> dict:
    """The article records without when each was stored, which no two runs share."""
    for _, meta in articles.values():
        assert datetime.fromisoformat(meta[ADDED]).tzinfo is not None
    return {i: (d, {k: v for k, v in m.items() if k != ADDED}) for i, (d, m) in articles.items()}


def assert_same_records(got: dict, expected: dict) -> None:
    """The same ids, documents and metadata, and the same embeddings up to batching noise.

    The default int8 model quantises activations per batch, so a sentence embedded in
    another batch (as after an interrupted run) comes out slightly different: cosine about
    0.99, where the float model gives 1.0.
    """
    assert _unstamped(got["articles"]) == _unstamped(expected["articles"])
    assert sorted(got["sentences"]) == sorted(expected["sentences"])
    assert got["sentences"] == expected["sentences"]
    for key, vector in expected["embeddings"].items():
        assert float(got["embeddings"][key] @ vector) > 0.98, key


def assert_consistent(settings: Settings, finished: bool = True) -> dict:
    """Check the store is whole and return its :func:`records`.

    Every article record has its sentences ``0..count-1`` of its current content hash under
    their proper ids, each ``text[start:end] == document``, each with a finite embedding
    that Chroma finds as its own nearest neighbour. With ``finished`` (the command that
    wrote them has ended), no other sentence record exists and no cleanup is pending; without
    it (a writer was killed), other records may wait for the next run, but never visibly.
    """
    found = records(settings)
    by_article: dict[str, dict[int, str]] = defaultdict(dict)  # article_id -> index -> id
    for key, (document, meta) in found["sentences"].items():
        registered = found["articles"].get(meta[ARTICLE_ID])
        if registered is None or registered[1][CONTENT_HASH] != meta[CONTENT_HASH]:
            assert not finished, f"sentence {key} belongs to no current article version"
            continue
        text = registered[0]
        assert text[meta[START] : meta[END]] == document, key
        assert meta[SENTENCE_INDEX] not in by_article[meta[ARTICLE_ID]], f"duplicate sentence {key}"
        by_article[meta[ARTICLE_ID]][meta[SENTENCE_INDEX]] = key
        assert np.all(np.isfinite(found["embeddings"][key])), key
    for article_id, (_, meta) in found["articles"].items():
        assert not (finished and meta.get(PENDING)), f"{article_id} still has a cleanup pending"
        indices = by_article[article_id]
        assert sorted(indices) == list(range(meta[SENTENCE_COUNT])), f"{article_id} is incomplete"
        assert all(indices[i] == sentence_id(article_id, meta[CONTENT_HASH], i) for i in indices), article_id
    store = Store(settings)
    visible = len(store.snapshot().sentences)
    assert visible == sum(m[SENTENCE_COUNT] for _, m in found["articles"].values())
    for key in itertools.islice((k for ids in by_article.values() for k in ids.values()), 0, None, 97):
        nearest = store.nearest(found["embeddings"][key], 1)
        assert nearest and nearest[0][1] > 0.999, f"{key} is not its own nearest neighbour: {nearest}"
    return found


def versions_seen(snapshot: Snapshot) -> dict[str, tuple[str, ...]]:
    """What a reader sees: article id -> its visible sentences, in order."""
    seen: dict[str, list] = {}
    for s in snapshot.sentences:
        seen.setdefault(s.article_id, []).append((s.sentence_index, s.text))
    return {a: tuple(text for _, text in sorted(rows)) for a, rows in seen.items()}


def versions_of(paths: list[Path]) -> dict[str, tuple[str, ...]]:
    """Article id -> the sentences the ingest makes of each file as it is now."""
    articles = (build_article(read_article(path)) for path in paths)
    return {a.article_id: tuple(s.text for s in a.sentences) for a in articles}


def assert_whole(seen: dict[str, tuple[str, ...]], old: dict, new: dict) -> int:
    """Every article is seen once, whole, in its ``old`` or its ``new`` version (as
    :func:`versions_of` gives them); how many in the new one."""
    assert seen.keys() == old.keys(), "an article went missing"
    for article_id, sentences in seen.items():
        assert sentences in (old[article_id], new[article_id]), article_id
    return sum(seen[i] == new[i] for i in seen)


def spawn_ingest(folder: Path, store: Path) -> subprocess.Popen:
    """``python -m ingest --verbose FOLDER`` into ``store``, in a process of its own."""
    return subprocess.Popen(
        [sys.executable, "-m", "ingest", "--quiet", "--verbose", str(folder)], cwd=ROOT,
        env=child_env(store), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_for_first_commit(process: subprocess.Popen) -> None:
    """Read the ingest's reports until it says it committed its first batch of articles.

    The moment is known, not polled for: the ingest has made some articles visible and has
    most of its batches still to embed and write (seconds of work), so what happens now
    happens in the middle, however fast or slow the machine is.
    """
    for line in process.stderr:
        if line.startswith(COMMITTED):
            return
    pytest.fail(f"the ingest ended without committing a batch: {process.communicate()}")


@contextmanager
def embedding_paused(process: subprocess.Popen) -> Iterator[None]:
    """The ingest's child processes (its embedding worker) stopped until the block ends: the
    ingest finishes the batches already embedded, then waits outside any store operation, so
    readers see the store halfway for as long as the block lasts."""
    children = psutil.Process(process.pid).children(recursive=True)
    assert children, "the ingest runs no embedding worker"
    for child in children:
        child.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        for child in children:
            child.send_signal(signal.SIGCONT)
