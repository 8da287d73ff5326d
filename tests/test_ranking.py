"""Each ranking feature on a real store: the evidence the ranker reads is what it claims."""

from pathlib import Path

import numpy as np
import pytest

from assistant.app import Assistant
from assistant.core.settings import Settings
from assistant.question.forms import question_kind
from assistant.question.parse import Question
from assistant.search.features import FEATURE_NAMES, FEATURES, feature_matrix
from tests.conftest import library, make_root

ARTICLE = """Harbour Board of Eastport

The Eastport ferry left the harbour at noon on Tuesday. It carried ninety cars to the island.

In 1987 the harbour board bought a second ferry. Captain Mary Holt commanded it for ten years.

The crossing was cancelled because a storm closed the channel. Fishermen stayed ashore.
"""


@pytest.fixture(scope="module")
def harbour(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    folder = tmp_path_factory.mktemp("harbour")
    (folder / "harbour.txt").write_text(ARTICLE)
    settings = Settings(store=folder / "store", chroma_host=None)
    library(settings).add_sources([folder / "harbour.txt"])
    return make_root(settings)


def _features(root: Assistant, question: str) -> dict[str, dict[str, float]]:
    """Sentence text -> feature name -> value, for every candidate of ``question``."""
    searcher = root.searcher
    corpus = searcher.corpus()
    parsed = Question.parse(question)
    candidates = searcher.candidates(parsed, corpus=corpus)
    x = feature_matrix(corpus, parsed, candidates)
    return {c.text: dict(zip(FEATURE_NAMES, row, strict=True)) for c, row in zip(candidates, x, strict=True)}


def test_feature_names_and_columns_come_from_one_table() -> None:
    assert tuple(f.name for f in FEATURES) == FEATURE_NAMES
    assert len(set(FEATURE_NAMES)) == len(FEATURES) == 28


def test_a_model_file_trained_on_other_features_is_refused() -> None:
    from assistant.core.errors import ConfigError
    from assistant.search.model import read_model_file
    from assistant.search.ranking import Ranker

    data = read_model_file()
    Ranker.from_json(data)  # the shipped file matches the code
    shuffled = {**data, "features": [*data["features"][1:], data["features"][0]]}
    with pytest.raises(ConfigError, match=r"python -m assistant\.eval\.train"):
        Ranker.from_json(shuffled)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many cars did the ferry carry?", "number"),
        ("When did the board buy a second ferry?", "date"),
        ("What year was the ferry bought?", "date"),
        ("Who commanded the second ferry?", "name"),
        ("Where did the ferry go?", "name"),
        ("What closed the channel?", "other"),
    ],
)
def test_question_kind(question: str, kind: str) -> None:
    assert question_kind(question) == kind


def test_coverage_is_one_when_every_question_term_is_in_the_sentence(harbour: Assistant) -> None:
    f = _features(harbour, "Which Eastport ferry left the harbour at noon?")
    first = f["The Eastport ferry left the harbour at noon on Tuesday."]
    assert first["coverage"] == pytest.approx(1.0)
    assert f["Fishermen stayed ashore."]["coverage"] == 0.0


def test_a_date_counts_for_when_questions(harbour: Assistant) -> None:
    f = _features(harbour, "When did the Eastport ferry leave the harbour?")
    assert f["The Eastport ferry left the harbour at noon on Tuesday."]["has_date"] == 1.0
    assert f["In 1987 the harbour board bought a second ferry."]["has_date"] == 1.0
    assert f["Fishermen stayed ashore."]["has_date"] == 0.0


def test_a_sentence_opening_with_a_pronoun_borrows_the_sentence_before(harbour: Assistant) -> None:
    f = _features(harbour, "How many cars did the Eastport ferry carry?")
    second = f["It carried ninety cars to the island."]
    assert second["opens_with_pronoun"] == 1.0
    assert second["share_previous"] > second["coverage"]  # "Eastport", "ferry" come from before
    assert second["has_number"] == 1.0  # "ninety"
    assert f["The Eastport ferry left the harbour at noon on Tuesday."]["opens_with_pronoun"] == 0.0


def test_title_terms_count_as_covered(harbour: Assistant) -> None:
    f = _features(harbour, "What did the Eastport board buy in 1987?")
    bought = f["In 1987 the harbour board bought a second ferry."]
    assert bought["share_title"] > 0.0
    assert bought["share_title"] >= bought["coverage"]


def test_names_count_for_who_questions_only(harbour: Assistant) -> None:
    who = _features(harbour, "Who commanded the second ferry?")
    assert who["Captain Mary Holt commanded it for ten years."]["new_names"] > 0
    what = _features(harbour, "What did the harbour board buy?")
    assert all(v["new_names"] == 0.0 for v in what.values())


def test_a_cause_counts_for_why_questions(harbour: Assistant) -> None:
    f = _features(harbour, "Why was the crossing cancelled?")
    assert f["The crossing was cancelled because a storm closed the channel."]["has_cause"] == 1.0
    assert f["Fishermen stayed ashore."]["has_cause"] == 0.0


def test_proximity_and_word_pairs(harbour: Assistant) -> None:
    f = _features(harbour, "Which second ferry did the harbour board buy?")
    bought = f["In 1987 the harbour board bought a second ferry."]
    assert bought["bigrams"] > 0  # "harbour board", "second ferry"
    assert 0 < bought["proximity"] <= 1.0


def test_paragraph_features(harbour: Assistant) -> None:
    f = _features(harbour, "Who commanded the second ferry bought in 1987?")
    bought = f["In 1987 the harbour board bought a second ferry."]
    captain = f["Captain Mary Holt commanded it for ten years."]
    assert bought["paragraph_start"] == 1.0 and captain["paragraph_start"] == 0.0
    assert max(bought["dense_below_paragraph_best"], captain["dense_below_paragraph_best"]) == 0.0
    assert min(bought["dense_below_paragraph_best"], captain["dense_below_paragraph_best"]) < 0.0
    assert bought["coverage_paragraph"] == captain["coverage_paragraph"]


def test_the_ranker_prefers_the_answering_sentence(harbour: Assistant) -> None:
    for question, expected in [
        ("Who commanded the ferry for ten years?", "Captain Mary Holt"),
        ("Why was the crossing cancelled?", "because a storm"),
        ("How many cars did the ferry carry?", "ninety cars"),
    ]:
        ranking = harbour.extractive.trace(question).ranking
        assert expected in ranking.candidates[0].text, question
        assert np.all(np.diff(ranking.scores) <= 1e-6)
        assert ranking.probabilities.sum() == pytest.approx(1.0, abs=1e-4)
        assert ranking.features.shape == (len(ranking), len(FEATURES))


def test_retrieval_evidence_is_normalised(harbour: Assistant, tmp_path: Path) -> None:
    candidates = harbour.extractive.trace("When did the ferry leave?").ranking.candidates
    for c in candidates:
        e = c.evidence
        for value in (e.bm25, e.bm25_window, e.bm25_paragraph):
            assert 0.0 <= value <= 1.0 + 1e-6
        assert -1.0 <= e.dense <= 1.0
    assert max(c.evidence.bm25 for c in candidates) == pytest.approx(1.0)
