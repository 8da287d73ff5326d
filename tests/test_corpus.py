"""The in-memory corpus: built from the store, saved in its cache folder, loaded by the next process."""

import logging
from pathlib import Path

import numpy as np
import pytest

from assistant.core.settings import Settings
from assistant.question.parse import Question
from assistant.storage.corpus import UNSETTLED, Corpus, CorpusCache
from assistant.storage.store import Store
from tests.conftest import SAMPLE, library, make_root

QUESTION = "What reward is on Khalil Haqqani's head?"


def evidence(corpus: Corpus, store: Store, settings: Settings) -> list:
    return list(make_root(settings).searcher.candidates(Question.parse(QUESTION), corpus=corpus))


def same_corpus(a: Corpus, b: Corpus) -> None:
    assert a.generation == b.generation
    assert list(a.sentences) == list(b.sentences)
    assert a.terms == b.terms
    assert a.idf == b.idf
    assert a.title_terms == b.title_terms
    assert list(a.term_sets) == list(b.term_sets)
    assert list(a.window_terms) == list(b.window_terms)
    assert list(a.paragraph_terms) == list(b.paragraph_terms)
    for name in ("embeddings", "article_of", "paragraph_of", "previous", "following"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


@pytest.fixture
def sample_store(settings: Settings) -> Store:
    library(settings).add_sources([SAMPLE])
    return Store(settings)


def cache_files(store: Store) -> list[Path]:
    return sorted(store.cache_folder().glob("corpus-*.pkl"))


def test_the_next_process_loads_the_saved_corpus(
    sample_store: Store, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    built = CorpusCache(sample_store).get()
    [saved] = cache_files(sample_store)
    assert built.generation in saved.name
    with caplog.at_level(logging.INFO, logger="assistant.storage.corpus"):
        loaded = CorpusCache(Store(settings)).get()
    assert "loaded" in caplog.text
    same_corpus(built, loaded)
    assert evidence(built, sample_store, settings) == evidence(loaded, sample_store, settings)


def test_a_damaged_cache_is_rebuilt_from_the_store(
    sample_store: Store, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    built = CorpusCache(sample_store).get()
    [saved] = cache_files(sample_store)
    saved.write_bytes(b"not a corpus")
    with caplog.at_level(logging.INFO, logger="assistant.storage.corpus"):
        rebuilt = CorpusCache(Store(settings)).get()
    assert "ignoring the corpus cache" in caplog.text
    same_corpus(built, rebuilt)
    assert saved.read_bytes() != b"not a corpus"


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
    assert [after.row_of[s.id] for s in after.sentences] == list(range(len(after)))
    [saved] = cache_files(sample_store)
    assert after.generation in saved.name


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
    assert cache_files(sample_store) == []
    assert cache.get() is not first  # read again for the next answer


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
