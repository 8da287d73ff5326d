"""The short answer: the phrases of a real sentence the reader chooses among, the shipped
reader's picks on real sentences, and its training command on a real store of SQuAD articles."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.answering.entities import EntityTagger
from assistant.answering.short import (
    SHORT_FEATURE_NAMES,
    ShortReader,
    candidates,
    phrase_features,
    phrase_shares,
    read,
)
from assistant.core.errors import ConfigError
from assistant.eval import train_short
from assistant.question.parse import Question
from tests.conftest import ROOT

TAGGER = EntityTagger()


def _pick(question: str, sentence: str, probability: float = 1.0) -> str | None:
    pick = ShortReader.shipped().best(Question.parse(question), read(TAGGER, question, sentence), probability)
    return pick.span.text if pick and pick.confidence >= ShortReader.shipped().threshold else None


def test_the_candidates_are_the_entities_and_noun_phrases_of_the_sentence() -> None:
    sentence = "The council approved the procurement of 15 ferries for the Tarvik line."
    (parsed,) = TAGGER.parse([sentence])
    spans = candidates(parsed, TAGGER.entities([sentence])[0])
    found = {span.text for span in spans}
    assert {"The council", "the procurement", "15", "the Tarvik line"} <= found
    assert "the procurement of 15 ferries" in found  # a noun phrase with its "of" phrase
    assert len(found) == len(spans)  # each span once
    # the entities keep their labels; a noun phrase has none (spaCy's "NP" is no kind of entity)
    assert {s.text for s in spans if s.label_} == {"15", "Tarvik"}


def test_each_phrase_gets_a_row_of_features_and_no_phrase_the_last_one() -> None:
    question = Question.parse("Which line will the new ferries serve?")
    reading = read(TAGGER, question.text, "The council bought 15 ferries for the Tarvik line.")
    spans = reading.spans
    rows = phrase_features(question, reading)
    assert rows.shape == (len(spans) + 1, len(SHORT_FEATURE_NAMES))
    column = SHORT_FEATURE_NAMES.index
    assert rows[-1, column("which:none")] == 1.0 and rows[-1].sum() == 1.0
    line = next(i for i, s in enumerate(spans) if s.text == "the Tarvik line")
    assert rows[line, column("near_asked_noun")] == 1.0  # "line" is the noun "which" asks for
    shares = phrase_shares(ShortReader.shipped().model, rows)
    assert shares.sum() == pytest.approx(1.0) and len(shares) == len(spans) + 1


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        (
            "How many berths does the Tarvik terminal have?",
            "The Tarvik terminal opened with 12 berths.",
            "12",
        ),
        ("When did the Tarvik terminal open?", "The Tarvik terminal opened in March 2019.", "March 2019"),
        ("Who opened the Tarvik terminal?", "Mayor Ilse Brandt opened the Tarvik terminal.", "Ilse Brandt"),
        (
            "Who is Ilse Brandt?",
            "Ilse Brandt, the mayor of Tarvik, opened the terminal.",
            "the mayor of Tarvik",
        ),
    ],
)
def test_the_shipped_reader_picks_the_phrase_that_answers(
    question: str, sentence: str, expected: str
) -> None:
    assert _pick(question, sentence) == expected


def test_no_phrase_when_the_question_asks_why_or_the_sentence_is_unlikely() -> None:
    sentence = "The Tarvik terminal closed in 2021 because the harbour silted up."
    assert _pick("Why did the Tarvik terminal close?", sentence) is None
    assert _pick("When did the Tarvik terminal close?", sentence) == "2021"
    assert _pick("When did the Tarvik terminal close?", sentence, probability=0.05) is None


def test_a_reader_fitted_on_other_features_is_refused() -> None:
    data = json.loads((ROOT / "assistant" / "answering" / "short.json").read_text())
    with pytest.raises(ConfigError, match=r"assistant\.eval\.train_short"):
        ShortReader.from_json({**data, "features": data["features"][:-1]})


def test_the_threshold_keeps_the_target_f1_over_the_answers_it_lets_through() -> None:
    confidence = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    f1 = np.array([1.0, 1.0, 0.0, 1.0, 0.0])
    assert train_short.choose_threshold(confidence, f1, 0.75) == 0.6  # 3 of 4 right
    assert train_short.choose_threshold(confidence, f1, 0.6) == 0.5  # 3 of 5
    with pytest.raises(SystemExit):
        train_short.choose_threshold(confidence, np.zeros(5), 0.5)


def test_each_half_can_be_judged_with_the_threshold_of_the_other() -> None:
    confidence = np.array([0.9, 0.8, 0.7, 0.9, 0.8, 0.7])
    f1 = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    halves = np.array([0, 0, 0, 1, 1, 1])
    given = train_short.given_by_the_other_half(confidence, f1, halves, 0.6)
    # half 1 reaches 0.6 only above 0.9, half 0 down to 0.7: each applies the other's threshold
    assert given.tolist() == [True, False, False, True, True, True]


@pytest.mark.slow
def test_training_fits_a_reader_on_articles_it_did_not_see(tmp_path: Path, capsys) -> None:
    data = json.loads((ROOT.parent / "shared" / "eval" / "squad-v1.1-dev-a.json").read_text())
    small = {"data": [{**a, "paragraphs": a["paragraphs"][:3]} for a in data["data"][:4]]}
    squad = tmp_path / "small.json"
    squad.write_text(json.dumps(small))
    out = tmp_path / "short.json"
    assert train_short.main(["--squad", str(squad), "--out", str(out), "--target", "0.5"]) == 0
    reader = ShortReader.from_json(json.loads(out.read_text()))
    assert 0.0 < reader.threshold < 1.0
    printed = capsys.readouterr().out
    assert "short answer given (out of fold)" in printed and f"wrote {out}" in printed
