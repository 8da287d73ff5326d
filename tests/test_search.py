"""The searcher and its candidate sources on a real store: every source keeps the contract
(rows of the searched articles, best first, at most k), and a new source is one class."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from assistant.app import Assistant
from assistant.core.settings import Settings
from assistant.question.parse import Question
from assistant.search.features import FEATURE_NAMES
from assistant.search.retrieval import CandidateSource, DenseSource, LexicalSource, Query
from assistant.search.searcher import Searcher
from tests.conftest import SAMPLE, library, make_root

HARBOUR = """Harbour Board of Eastport

The Eastport ferry left the harbour at noon on Tuesday. It carried ninety cars to the island.

In 1987 the harbour board bought a second ferry. Captain Mary Holt commanded it for ten years.
"""


@pytest.fixture(scope="module")
def two_articles(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    folder = tmp_path_factory.mktemp("two")
    (folder / "harbour.txt").write_text(HARBOUR)
    settings = Settings(store=folder / "store", chroma_host=None)
    library(settings).add_sources([folder / "harbour.txt", SAMPLE])
    return make_root(settings)


def test_the_root_searches_with_chroma_and_bm25() -> None:
    assert [type(s) for s in Assistant(Settings(chroma_host=None)).sources] == [DenseSource, LexicalSource]


@pytest.mark.parametrize("position", [0, 1], ids=["dense", "bm25"])
@pytest.mark.parametrize("scope", ["all", "harbour only"])
def test_every_source_gives_searched_rows_best_first(
    two_articles: Assistant, position: int, scope: str
) -> None:
    searcher = two_articles.searcher
    corpus = searcher.corpus()
    harbour = next(a for a in corpus.article_ids if a.startswith("harbour"))
    chosen = [harbour] if scope == "harbour only" else None
    query = searcher.query(Question.parse("Who commanded the ferry for ten years?"), chosen)
    source: CandidateSource = two_articles.searcher.sources[position]
    for k in (1, 3, 40):
        rows = source.find(query, k)
        assert 0 < len(rows) <= k and len(set(rows)) == len(rows)
        assert set(rows) <= set(query.rows.tolist())
        scores = (corpus.embeddings[rows] @ query.vector) if source.name == "dense" else query.bm25[rows]
        assert np.all(np.diff(scores) <= 1e-6), scores  # best first
    assert "commanded it for ten years" in corpus.sentences[source.find(query, 1)[0]].text


@dataclass(frozen=True)
class FirstSentences:
    """A made-up source for the test: every article's opening sentence."""

    name: str = "lead"

    def find(self, query: Query, k: int) -> list[int]:
        corpus = query.corpus
        firsts = [int(corpus.rows_of_article(n)[0]) for n in range(len(corpus.article_ids))]
        return [row for row in firsts if row in set(query.rows.tolist())][:k]


def test_a_new_candidate_source_is_one_class(two_articles: Assistant) -> None:
    base = two_articles.searcher
    question = Question.parse("Who commanded the ferry for ten years?")
    plain = {c.row for c in base.candidates(question, k=2)}
    extended = Searcher(base.corpora, base.embedder, [*base.sources, FirstSentences()], base.ranker)
    found = {c.row for c in extended.candidates(question, k=2)}
    corpus = base.corpus()
    firsts = {int(corpus.rows_of_article(n)[0]) for n in range(len(corpus.article_ids))}
    assert found == plain | firsts
    ranking = extended.search(question, k=2)
    assert {c.row for c in ranking.candidates} == found and "Mary Holt" in ranking.candidates[0].text


def test_the_answerer_and_the_retriever_search_alike(two_articles: Assistant) -> None:
    from assistant.interfaces.langchain import SentenceRetriever

    question = "Who commanded the ferry for ten years?"
    ranking = two_articles.searcher.search(Question.parse(question))
    traced = two_articles.extractive.trace(question).ranking
    assert [c.row for c in traced.candidates] == [c.row for c in ranking.candidates]
    documents = SentenceRetriever(searcher=two_articles.searcher, k=3).invoke(question)
    assert [d.page_content for d in documents] == [c.text for c in ranking.candidates[:3]]


def test_training_gathers_candidates_whatever_features_the_shipped_model_was_fitted_on(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.eval import train
    from assistant.eval.command import Case, Dataset
    from assistant.search import model

    shipped = model.read_model_file()
    older = {**shipped, "features": shipped["features"][:-1]}  # fitted before a feature was added
    monkeypatch.setattr("assistant.app.read_model_file", lambda: older)
    case = Case("Who is Khalil Haqqani?", (), True, supports=("Khalil Haqqani",))
    examples, _ = train.collect(Dataset("one", (case,), ()), settings)
    [example] = examples
    assert example.x.shape[1] == len(FEATURE_NAMES) and example.gold.any()
