"""The in-memory corpus: built from the store, saved in its cache folder, loaded by the next process."""

import dataclasses
import io
import json
import logging
import math
import os
import pickle
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from assistant.core.records import RawArticle
from assistant.core.settings import Settings
from assistant.question.parse import Question
from assistant.storage import corpus as corpus_module
from assistant.storage import index
from assistant.storage.corpus import UNSETTLED, Corpus, CorpusCache
from assistant.storage.store import Store, sentence_id
from ingest.split import build_article
from tests.conftest import ROOT, SAMPLE, child_env, library, make_root

QUESTION = "What reward is on Khalil Haqqani's head?"
REFUSED = "ignoring the corpus cache"


def evidence(corpus: Corpus, store: Store, settings: Settings) -> list:
    return list(make_root(settings).searcher.candidates(Question.parse(QUESTION), corpus=corpus))


def same_corpus(a: Corpus, b: Corpus) -> None:
    assert a.generation == b.generation
    assert list(a.sentences) == list(b.sentences)
    assert list(a.terms) == list(b.terms)
    assert a.term_id == b.term_id
    assert [a.idf_of(t, -1.0) for t in a.term_id] == [b.idf_of(t, -1.0) for t in b.term_id]
    assert a.max_idf == b.max_idf
    assert a.title_terms == b.title_terms
    assert (a.article_ids, a.article_meta) == (b.article_ids, b.article_meta)
    assert list(a.term_sets) == list(b.term_sets)
    assert list(a.window_terms) == list(b.window_terms)
    assert list(a.paragraph_terms) == list(b.paragraph_terms)
    layout = ("article_of", "paragraph_of", "paragraph_rows", "paragraph_starts", "previous", "following")
    for name in ("embeddings", *layout):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    for name in ("bm25_sentences", "bm25_windows", "bm25_paragraphs"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.documents == y.documents, name
        for part in ("data", "indices", "indptr"):
            assert np.array_equal(getattr(x, part), getattr(y, part)), (name, part)


@pytest.fixture
def sample_store(settings: Settings) -> Store:
    library(settings).add_sources([SAMPLE])
    return Store(settings)


def cache_entries(store: Store) -> list[Path]:
    return sorted(store.cache_folder().glob(f"{index.PREFIX}*"))


def saved_folder(store: Store) -> Path:
    [saved] = cache_entries(store)
    assert saved.is_dir() and (saved / index.MANIFEST).is_file()
    return saved


def reload(settings: Settings, caplog: pytest.LogCaptureFixture) -> Corpus:
    """The corpus as a new process gets it, with the log of getting it in ``caplog``."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="assistant.storage.corpus"):
        return CorpusCache(Store(settings)).get()


def test_the_next_process_loads_the_saved_corpus(
    sample_store: Store, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    built = CorpusCache(sample_store).get()
    saved = saved_folder(sample_store)
    assert built.generation in saved.name
    manifest = json.loads((saved / index.MANIFEST).read_text())
    assert manifest["rows"] == len(built) == 25 and manifest["generation"] == built.generation
    assert all(f.suffix in (".npy", ".json") for f in saved.rglob("*") if f.is_file())
    loaded = reload(settings, caplog)
    assert "loaded 25 sentences" in caplog.text and REFUSED not in caplog.text
    assert isinstance(loaded.embeddings, np.ndarray) and not loaded.embeddings.flags.writeable  # mapped
    same_corpus(built, loaded)
    assert evidence(built, sample_store, settings) == evidence(loaded, sample_store, settings)


class _Bomb:
    """Unpickling it creates ``marker``: what a planted cache file would run in every reader."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _pickle_bomb(marker: Path) -> bytes:
    return pickle.dumps(_Bomb(marker))


def _object_array(marker: Path) -> bytes:
    """A .npy file of an object array holding a bomb (it takes pickle to load)."""
    buffer = io.BytesIO()
    np.save(buffer, np.array([_Bomb(marker), None], dtype=object), allow_pickle=True)
    return buffer.getvalue()


def test_the_planted_files_would_run_if_unpickled(tmp_path: Path) -> None:
    for n, (make, load) in enumerate(
        [(_pickle_bomb, pickle.loads), (_object_array, lambda b: np.load(io.BytesIO(b), allow_pickle=True))]
    ):
        marker = tmp_path / f"ran-{n}"
        load(make(marker))
        assert marker.exists()


def _overwrite(path: Path, data: bytes) -> None:
    """Put ``data`` in place of ``path`` as a new file, as a writer would: this process maps the
    old one (truncating a mapped file in place would crash every process that maps it)."""
    new = path.with_name(path.name + ".new")
    new.write_bytes(data)
    new.replace(path)


def _set_size_in_manifest(folder: Path, file: str) -> None:
    """Make the manifest agree with ``file``'s new size, so only the checks of its content can refuse it."""
    manifest = json.loads((folder / index.MANIFEST).read_text())
    manifest["files"][file] = (folder / file).stat().st_size
    _overwrite(folder / index.MANIFEST, json.dumps(manifest).encode())


def _replace_array(file: str, make: Callable[[np.ndarray], np.ndarray]) -> Callable[[Path, Path], None]:
    def damage(folder: Path, marker: Path) -> None:
        buffer = io.BytesIO()
        np.save(buffer, make(np.load(folder / file)))
        _overwrite(folder / file, buffer.getvalue())
        _set_size_in_manifest(folder, file)

    return damage


def _straddle(folder: Path) -> None:
    """Put "é" (two bytes) across the end of the first text and the start of the second: still
    UTF-8 as a whole, but the second text would begin inside a character."""
    second = int(np.load(folder / "text_starts.npy")[1])
    texts = np.load(folder / "text_bytes.npy")
    texts[second - 1 : second + 1] = np.frombuffer("é".encode(), np.uint8)
    buffer = io.BytesIO()
    np.save(buffer, texts)
    _overwrite(folder / "text_bytes.npy", buffer.getvalue())
    _set_size_in_manifest(folder, "text_bytes.npy")


def _plant(file: str, content: Callable[[Path], bytes], fix_size: bool) -> Callable[[Path, Path], None]:
    def damage(folder: Path, marker: Path) -> None:
        _overwrite(folder / file, content(marker))
        if fix_size:
            _set_size_in_manifest(folder, file)

    return damage


def _edit_manifest(key: str, value: object) -> Callable[[Path, Path], None]:
    def damage(folder: Path, marker: Path) -> None:
        manifest = json.loads((folder / index.MANIFEST).read_text())
        _overwrite(folder / index.MANIFEST, json.dumps({**manifest, key: value}).encode())

    return damage


def _truncate(file: str) -> Callable[[Path, Path], None]:
    def damage(folder: Path, marker: Path) -> None:
        data = (folder / file).read_bytes()
        _overwrite(folder / file, data[: len(data) // 2])

    return damage


def _edit_json(file: str, edit: Callable[[object], object]) -> Callable[[Path, Path], None]:
    def damage(folder: Path, marker: Path) -> None:
        _overwrite(folder / file, json.dumps(edit(json.loads((folder / file).read_text()))).encode())
        _set_size_in_manifest(folder, file)

    return damage


def _replace_folder(folder: Path, marker: Path) -> None:
    index.remove(folder)
    folder.write_bytes(_pickle_bomb(marker))


DAMAGES = {
    "a pickle in place of the folder": _replace_folder,
    "truncated embeddings": _truncate("embeddings.npy"),
    "garbage manifest": _plant(index.MANIFEST, lambda m: b"\x00garbage\xff", fix_size=False),
    "pickle as an array, same size in the manifest": _plant("embeddings.npy", _pickle_bomb, fix_size=True),
    "pickle as the manifest": _plant(index.MANIFEST, _pickle_bomb, fix_size=False),
    "pickle as bm25s's params": _plant("bm25-windows/params.index.json", _pickle_bomb, fix_size=True),
    "object array": _plant("text_starts.npy", _object_array, fix_size=True),
    "int64 term ids": _replace_array("term_ids.npy", lambda a: a.astype(np.int64)),
    "big-endian embeddings": _replace_array("embeddings.npy", lambda a: a.astype(">f4")),
    "a row short": _replace_array("previous.npy", lambda a: a[:-1]),
    "term ids past the vocabulary": _replace_array("term_ids.npy", lambda a: a + 10_000),
    "texts not split by their offsets": _replace_array("text_starts.npy", lambda a: a[::-1].copy()),
    "a byte of the texts changed, same size": _replace_array(
        "text_bytes.npy", lambda a: np.where(np.arange(len(a)) == 3, 0xFF, a).astype(a.dtype)
    ),
    "a text starting inside a character": lambda folder, marker: _straddle(folder),
    "bm25 documents out of range": _replace_array(
        "bm25-sentences/indices.csc.index.npy", lambda a: a + 1_000_000
    ),
    "other code": _edit_manifest("code", "0123456789ab"),
    "other format": _edit_manifest("format", index.FORMAT + 1),
    "other generation": _edit_manifest("generation", "another-generation"),
    "other row count": _edit_manifest("rows", 24),
    "a file missing from the manifest": _edit_manifest("files", {}),
    "vocabulary of numbers": _edit_json(index.VOCABULARY, lambda v: list(range(len(v)))),
    "metadata with other fields": _edit_json(
        index.ARTICLES, lambda a: {**a, "metas": [{"url": None, "script": "x"} for _ in a["metas"]]}
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGES), ids=list(DAMAGES))
def test_a_damaged_or_foreign_cache_is_refused_never_run_and_rebuilt(
    damage: str, sample_store: Store, settings: Settings, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    built = CorpusCache(sample_store).get()
    folder = saved_folder(sample_store)
    marker = tmp_path / "pickle-ran"
    DAMAGES[damage](folder, marker)
    rebuilt = reload(settings, caplog)
    assert not marker.exists(), "a pickle in the cache was executed"
    refusals = [r for r in caplog.records if r.getMessage().startswith(REFUSED)]
    assert len(refusals) == 1 and refusals[0].levelno == logging.WARNING, caplog.text
    assert "indexed 25 sentences" in caplog.text
    same_corpus(built, rebuilt)
    assert evidence(built, sample_store, settings) == evidence(rebuilt, sample_store, settings)
    assert saved_folder(sample_store) == folder  # rebuilt under the same name, whole again
    reload(settings, caplog)
    assert "loaded 25 sentences" in caplog.text and REFUSED not in caplog.text


def test_another_code_version_is_not_read_and_the_caches_it_replaces_are_deleted(
    sample_store: Store, settings: Settings, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = CorpusCache(sample_store).get()
    current = saved_folder(sample_store)
    cache = sample_store.cache_folder()
    marker = cache.parent / "pickle-ran"
    before_this_format = cache / f"{index.PREFIX}04378d886593-{built.generation}.pkl"
    before_this_format.write_bytes(_pickle_bomb(marker))  # the single-pickle cache of older versions
    writing = cache / f"{current.name}.{'1' * 32}{index.TEMPORARY}"  # another process writing now
    died = cache / f"{current.name}.{'2' * 32}{index.TEMPORARY}"  # a writer that died long ago
    for folder in (writing, died):
        folder.mkdir()
    long_ago = time.time() - 2 * index.STALE
    os.utime(died, (long_ago, long_ago))
    older_generation = cache / f"{index.PREFIX}0123456789ab-{'3' * 32}"  # of the code that builds next
    older_generation.mkdir()
    monkeypatch.setattr(corpus_module, "_code_version", lambda: "0123456789ab")
    rebuilt = reload(settings, caplog)
    assert "indexed 25 sentences" in caplog.text and REFUSED not in caplog.text
    same_corpus(built, rebuilt)
    new = cache / f"{index.PREFIX}0123456789ab-{built.generation}"
    # the other code's cache stays (another install on the same store), as does a writer at work
    assert set(cache_entries(sample_store)) == {new, current, writing}
    assert not marker.exists()


def test_bm25_scores_are_bm25s_own(sample_store: Store) -> None:
    import bm25s

    corpus = CorpusCache(sample_store).get()
    n = len(corpus)
    terms = [list(corpus.terms[r]) for r in range(n)]
    documents = {  # each index's documents, as bm25s was given them before the cache held term ids
        "bm25_sentences": terms,
        "bm25_windows": [
            (terms[p] if p != r else []) + terms[r] + (terms[f] if f != r else [])
            for r in range(n)
            for p, f in [(int(corpus.previous[r]), int(corpus.following[r]))]
        ],
        "bm25_paragraphs": [
            [t for r in corpus.rows_of_paragraph(p).tolist() for t in terms[r]]
            for p in range(len(corpus.paragraph_starts) - 1)
        ],
    }
    vocabulary = list(corpus.term_id)
    queries = [
        *([t] for t in vocabulary),
        Question.parse(QUESTION).terms,
        ["haqqani", "haqqani", "reward", "no-such-term"],
        vocabulary[::7],
    ]
    saved = saved_folder(sample_store)
    for name, docs in documents.items():
        reference = bm25s.BM25()
        reference.index(docs, show_progress=False)
        loaded = bm25s.BM25.load(saved / f"bm25-{name.removeprefix('bm25_')}")
        for query in queries:
            known = [t for t in query if t in reference.vocab_dict]
            ours = corpus.bm25(getattr(corpus, name), list(query))
            assert ours.dtype == np.float32 and len(ours) == len(docs)
            assert np.array_equal(ours, reference.get_scores(known)), (name, query)
            assert np.array_equal(ours, loaded.get_scores(known)), (name, query)


def test_term_statistics_are_the_sentences(sample_store: Store) -> None:
    corpus = CorpusCache(sample_store).get()
    n = len(corpus)
    for term in corpus.term_id:
        holding = sum(term in corpus.term_sets[r] for r in range(n))
        assert corpus.idf_of(term, -1.0) == math.log(1 + (n - holding + 0.5) / (holding + 0.5))
    assert corpus.max_idf == max(corpus.idf_of(t, -1.0) for t in corpus.term_id)
    assert corpus.idf_of("zzyzx", 42.0) == 42.0 and "zzyzx" not in corpus.term_id


def test_a_reader_keeps_its_mapped_corpus_when_a_writer_replaces_the_cache(
    sample_store: Store, settings: Settings, tmp_path: Path
) -> None:
    reader = CorpusCache(sample_store).get()
    old_folder = saved_folder(sample_store)
    sentences, embeddings = list(reader.sentences), np.array(reader.embeddings)
    scores = reader.bm25(reader.bm25_windows, list(Question.parse(QUESTION).terms))
    extra = tmp_path / "harbour.txt"
    extra.write_text("Harbour report\n\nThe Zephyrine ferry to Skye left at noon carrying forty cars.\n")
    library(settings).add_sources([extra])
    writer = CorpusCache(Store(settings)).get()
    assert saved_folder(sample_store).name.endswith(writer.generation)
    assert not old_folder.exists()  # deleted while the reader maps its files
    assert list(reader.sentences) == sentences and np.array_equal(reader.embeddings, embeddings)
    assert np.array_equal(reader.bm25(reader.bm25_windows, list(Question.parse(QUESTION).terms)), scores)
    assert len(writer) == len(reader) + 1


def test_a_new_article_makes_a_new_corpus_and_replaces_the_cache(
    sample_store: Store, settings: Settings, tmp_path: Path
) -> None:
    cache = CorpusCache(sample_store)
    before = cache.get()
    extra = tmp_path / "harbour.txt"
    extra.write_text("Harbour report\n\nThe Zephyrine ferry to Skye left at noon carrying forty cars.\n")
    library(settings).add_sources([extra])
    after = cache.get()
    assert after.generation != before.generation
    assert len(after) == len(before) + 1
    assert any("Zephyrine" in s.text for s in after.sentences)
    assert [after.row_of_id(s.id) for s in after.sentences] == list(range(len(after)))
    assert after.generation in saved_folder(sample_store).name


def test_sentence_ids_are_found_without_a_table(settings: Settings) -> None:
    # an article id holding ':' (ids are read from the right), written through the store itself
    raw = RawArticle("note.txt", "Port news", ("The ferry left. It came back.", "Rain fell."))
    article = dataclasses.replace(build_article(raw), article_id="site:2024:port-news")
    store = Store(settings)
    vectors = make_root(settings).embedder.embed([s.text for s in article.sentences])
    store.write_sentences([(article, s) for s in article.sentences], vectors)
    store.commit_articles([article])
    library(settings).add_sources([SAMPLE])
    corpus = CorpusCache(store).get()
    assert "site:2024:port-news" in corpus.article_ids
    assert [corpus.row_of_id(s.id) for s in corpus.sentences] == list(range(len(corpus)))
    number = corpus.article_number("site:2024:port-news")
    row = corpus.row_of_sentence("site:2024:port-news", 2, "Rain fell.")
    assert corpus.sentences[row].text == "Rain fell." and corpus.article_of[row] == number
    # a sentence quoted from an earlier version, or from an article no longer here, has no row
    assert corpus.row_of_sentence("site:2024:port-news", 2, "Snow fell.") is None
    assert corpus.row_of_sentence("site:2024:port-news", 7, "Rain fell.") is None
    assert corpus.row_of_sentence("removed-article", 2, "Rain fell.") is None
    older = sentence_id("site:2024:port-news", "0" * 64, 0)  # another version of the article
    past_the_end = sentence_id("site:2024:port-news", article.content_hash, 3)
    for missing in (older, past_the_end, "site:2024", "", "a:b:c:d", f"{older[:-1]}x"):
        assert corpus.row_of_id(missing) is None, missing
    assert corpus.row_of_id(sentence_id("site:2024:port-news", article.content_hash, 1)) == row - 1


def test_a_read_with_an_article_incomplete_serves_one_answer_and_is_not_kept(
    sample_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    # A sentence gone from under its registered article (deleted here behind the registry's
    # back) is what a read that a server's delete landed in looks like; this one never settles.
    whole = sample_store.snapshot()
    assert whole.consistent
    with sample_store._connection.session(writing=True):
        sample_store._sentences.delete(ids=[whole.sentences[3].id])
    with caplog.at_level(logging.WARNING, logger="assistant.storage.store"):
        assert not sample_store.snapshot().consistent
    assert "an article in it is incomplete" in caplog.text
    cache = CorpusCache(sample_store)
    first = cache.get()
    assert first.generation == UNSETTLED and len(first) == len(whole.sentences) - 1
    assert cache_entries(sample_store) == []
    assert first.row_of_id(whole.sentences[3].id) is None
    assert [first.row_of_id(s.id) for s in first.sentences] == list(range(len(first)))
    assert cache.get() is not first  # read again for the next answer


def test_an_empty_store_and_an_unwritable_cache_folder(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(settings)
    empty = CorpusCache(store).get()
    assert len(empty) == 0 and len(empty.bm25(empty.bm25_sentences, ["ferry"])) == 0
    assert len(reload(settings, caplog)) == 0 and "loaded 0 sentences" in caplog.text
    assert "indexed" not in caplog.text  # an empty corpus loaded is used, not built again
    library(settings).add_sources([SAMPLE])
    index.remove(store.cache_folder())
    store.cache_folder().write_text("a file where the cache folder should be")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="assistant.storage.corpus"):
        served = CorpusCache(Store(settings)).get()
    assert "could not save the corpus cache" in caplog.text and len(served) == 25
    assert served.sentences[0].text and np.any(served.embeddings)  # mapped from a folder since deleted


def test_term_sets_are_made_from_the_terms(sample_store: Store) -> None:
    corpus = CorpusCache(sample_store).get()
    row = int(np.flatnonzero(corpus.previous != np.arange(len(corpus)))[0])  # a row with a sentence before
    assert corpus.term_sets[row] == frozenset(corpus.terms[row])
    assert corpus.window_terms[row] >= corpus.term_sets[row] | corpus.term_sets[corpus.previous[row]]
    paragraph = corpus.paragraph_of[row]
    assert corpus.paragraph_terms[paragraph] >= corpus.term_sets[row]
    assert (
        len(corpus.term_sets) == len(corpus) and len(corpus.paragraph_terms) == corpus.paragraph_of.max() + 1
    )
    with pytest.raises(IndexError):
        corpus.term_sets[len(corpus)]


@pytest.mark.subprocess
def test_a_process_answering_from_a_saved_cache_never_imports_bm25s_or_scipy(
    sample_store: Store, settings: Settings
) -> None:
    CorpusCache(sample_store).get()
    code = (
        "import json, sys\n"
        "from assistant import answer\n"
        "reply = answer('Who is Khalil Haqqani?')\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('bm25s', 'scipy'))\n"
        "print(json.dumps([reply.text, heavy]))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=child_env(settings.store),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    text, heavy = json.loads(run.stdout.splitlines()[-1])
    assert "Haqqani" in text and heavy == []
    assert "indexed" not in run.stderr  # loaded, not built
