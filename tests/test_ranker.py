"""Each ranking feature on a real store: the evidence the ranker reads is what it claims."""

from pathlib import Path

import numpy as np
import pytest

from assistant.answerer import get_answerer
from assistant.ranker import FEATURES, Question, features, question_kind
from assistant.settings import Settings
from ingest.pipeline import ingest_paths

ARTICLE = """Harbour Board of Eastport

The Eastport ferry left the harbour at noon on Tuesday. It carried ninety cars to the island.

In 1987 the harbour board bought a second ferry. Captain Mary Holt commanded it for ten years.

The crossing was cancelled because a storm closed the channel. Fishermen stayed ashore.
"""


@pytest.fixture(scope="module")
def harbour(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("harbour")
    (folder / "harbour.txt").write_text(ARTICLE)
    settings = Settings(store=folder / "store", chroma_host=None)
    ingest_paths([folder / "harbour.txt"], settings)
    return settings


def _features(settings: Settings, question: str) -> dict[str, dict[str, float]]:
    """Sentence text -> feature name -> value, for every candidate of ``question``."""
    answerer = get_answerer(settings)
    state = answerer.run(question, retrieval_only=True)
    x = features(state["corpus"], Question.parse(state["query"]), state["documents"])
    return {
        d.page_content: dict(zip(FEATURES, row, strict=True))
        for d, row in zip(state["documents"], x, strict=True)
    }


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


def test_coverage_is_one_when_every_question_term_is_in_the_sentence(harbour: Settings) -> None:
    f = _features(harbour, "Which Eastport ferry left the harbour at noon?")
    first = f["The Eastport ferry left the harbour at noon on Tuesday."]
    assert first["coverage"] == pytest.approx(1.0)
    assert f["Fishermen stayed ashore."]["coverage"] == 0.0


def test_a_date_counts_for_when_questions(harbour: Settings) -> None:
    f = _features(harbour, "When did the Eastport ferry leave the harbour?")
    assert f["The Eastport ferry left the harbour at noon on Tuesday."]["has_date"] == 1.0
    assert f["In 1987 the harbour board bought a second ferry."]["has_date"] == 1.0
    assert f["Fishermen stayed ashore."]["has_date"] == 0.0


def test_a_sentence_opening_with_a_pronoun_borrows_the_sentence_before(harbour: Settings) -> None:
    f = _features(harbour, "How many cars did the Eastport ferry carry?")
    second = f["It carried ninety cars to the island."]
    assert second["opens_with_pronoun"] == 1.0
    assert second["share_previous"] > second["coverage"]  # "Eastport", "ferry" come from before
    assert second["has_number"] == 1.0  # "ninety"
    assert f["The Eastport ferry left the harbour at noon on Tuesday."]["opens_with_pronoun"] == 0.0


def test_title_terms_count_as_covered(harbour: Settings) -> None:
    f = _features(harbour, "What did the Eastport board buy in 1987?")
    bought = f["In 1987 the harbour board bought a second ferry."]
    assert bought["share_title"] > 0.0
    assert bought["share_title"] >= bought["coverage"]


def test_names_count_for_who_questions_only(harbour: Settings) -> None:
    who = _features(harbour, "Who commanded the second ferry?")
    assert who["Captain Mary Holt commanded it for ten years."]["new_names"] > 0
    what = _features(harbour, "What did the harbour board buy?")
    assert all(v["new_names"] == 0.0 for v in what.values())


def test_a_cause_counts_for_why_questions(harbour: Settings) -> None:
    f = _features(harbour, "Why was the crossing cancelled?")
    assert f["The crossing was cancelled because a storm closed the channel."]["has_cause"] == 1.0
    assert f["Fishermen stayed ashore."]["has_cause"] == 0.0


def test_proximity_and_word_pairs(harbour: Settings) -> None:
    f = _features(harbour, "Which second ferry did the harbour board buy?")
    bought = f["In 1987 the harbour board bought a second ferry."]
    assert bought["bigrams"] > 0  # "harbour board", "second ferry"
    assert 0 < bought["proximity"] <= 1.0


def test_paragraph_features(harbour: Settings) -> None:
    f = _features(harbour, "Who commanded the second ferry bought in 1987?")
    bought = f["In 1987 the harbour board bought a second ferry."]
    captain = f["Captain Mary Holt commanded it for ten years."]
    assert bought["paragraph_start"] == 1.0 and captain["paragraph_start"] == 0.0
    assert max(bought["dense_below_paragraph_best"], captain["dense_below_paragraph_best"]) == 0.0
    assert min(bought["dense_below_paragraph_best"], captain["dense_below_paragraph_best"]) < 0.0
    assert bought["coverage_paragraph"] == captain["coverage_paragraph"]


def test_the_ranker_prefers_the_answering_sentence(harbour: Settings) -> None:
    answerer = get_answerer(harbour)
    for question, expected in [
        ("Who commanded the ferry for ten years?", "Captain Mary Holt"),
        ("Why was the crossing cancelled?", "because a storm"),
        ("How many cars did the ferry carry?", "ninety cars"),
    ]:
        ranked = answerer.run(question)["ranked"]
        assert expected in ranked.documents[0].page_content, question
        assert np.all(np.diff(ranked.scores) <= 1e-6)
        assert ranked.probabilities.sum() == pytest.approx(1.0, abs=1e-4)


def test_retrieval_evidence_is_normalised(harbour: Settings, tmp_path: Path) -> None:
    state = get_answerer(harbour).run("When did the ferry leave?", retrieval_only=True)
    for d in state["documents"]:
        for key in ("bm25", "bm25_window", "bm25_paragraph"):
            assert 0.0 <= d.metadata[key] <= 1.0 + 1e-6
        assert -1.0 <= d.metadata["dense"] <= 1.0
    assert max(d.metadata["bm25"] for d in state["documents"]) == pytest.approx(1.0)
