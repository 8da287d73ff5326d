"""The decision to cite or abstain, on its own: a ranking built in memory from real sentences,
with stand-ins for the two judgements it reads (the abstention model's "too weak" and the
near-miss rules), so each branch of the policy is checked with nothing else in the way."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from assistant.answering.nearmiss import HARD, NO_MISSES, REASONS, RULES, Misses
from assistant.answering.policy import EXTRA_CITATION_RATIO, Abstain, Cite, Policy
from assistant.question.parse import Question
from assistant.search.features import COLUMN, FEATURES
from assistant.search.ranking import Ranking
from assistant.search.retrieval import Candidate, Evidence
from assistant.storage.store import StoredSentence

SENTENCES = (
    "Khalil Haqqani has a USD 5 million reward on his head.",
    "The US designated him a terrorist ten years ago.",
    "Khalil Haqqani has a reward of USD 5 million on his head.",  # says the first one again
    "He is a regular visitor to Pakistan's military headquarters.",
)


@dataclass(frozen=True)
class SmallCorpus:
    """The one part of a corpus the policy reads: the sentences' unit embeddings."""

    embeddings: np.ndarray


def _corpus() -> SmallCorpus:
    vectors = np.eye(len(SENTENCES), dtype=np.float32)
    vectors[2] = vectors[0] * 0.99 + vectors[2] * 0.14  # a near-duplicate of the first
    return SmallCorpus(vectors / np.linalg.norm(vectors, axis=1, keepdims=True))


def _ranking(
    probabilities: list[float], question: str = "What reward is on Khalil Haqqani's head?"
) -> Ranking:
    """Candidates 0..n-1 of SENTENCES in this order, with these probabilities."""
    n = len(probabilities)
    candidates = tuple(
        Candidate(
            row, StoredSentence(f"a:h:{row}", SENTENCES[row], "a", "T", row, 0, 0, 1), Evidence(*[0.0] * 8)
        )
        for row in range(n)
    )
    p = np.array(probabilities, dtype=np.float32)
    return Ranking(_corpus(), Question.parse(question), candidates, _features(n), np.log(p), p)


def _features(n: int, coverage: float = 0.5) -> np.ndarray:
    """Ranking features of n candidates: zeros, but each holds some of the question's words."""
    features = np.zeros((n, len(FEATURES)))
    features[:, COLUMN["coverage"]] = coverage
    return features


def _misses(rule: str | None) -> Misses:
    return NO_MISSES if rule is None else Misses(tuple(f"trips {rule}" if r == rule else None for r in RULES))


@dataclass
class Judgements:
    """Stand-ins for the abstention model and the near-miss judge: which candidates (by row) are
    too weak to answer with when judged first, and which rule each trips."""

    weak_rows: set[int] = field(default_factory=set)
    tripped: dict[int, str] = field(default_factory=dict)

    def weak(self, ranking: Ranking, misses: Misses = NO_MISSES) -> bool:
        return ranking.candidates[0].row in self.weak_rows

    def of(self, ranking: Ranking):
        return lambda i: _misses(self.tripped.get(ranking.candidates[i].row))


def decide(ranking: Ranking, judgements: Judgements):
    return Policy(judgements, judgements).decide(ranking)


def test_a_question_with_no_word_to_search_for() -> None:
    assert decide(_ranking([0.9, 0.1], question="Who is it?"), Judgements()) == Abstain("no_terms")


def test_nothing_found_is_weak_evidence() -> None:
    assert decide(_ranking([]), Judgements()) == Abstain("weak_evidence")


def near_miss(rule: str) -> Abstain:
    """The decline of a best candidate that trips ``rule``: its reason, how, and it as related."""
    return Abstain(REASONS[rule], f"trips {rule}", related=0)


def test_a_weak_best_candidate_is_weak_evidence_or_a_near_miss_that_says_how() -> None:
    assert decide(_ranking([0.9, 0.1]), Judgements(weak_rows={0})) == Abstain("weak_evidence")
    hard = HARD[0]
    declined = decide(_ranking([0.9, 0.1]), Judgements(weak_rows={0}, tripped={0: hard}))
    assert declined == near_miss(hard)
    soft = next(rule for rule in RULES if rule not in HARD)  # a signal of the model, not a refusal
    assert decide(_ranking([0.9, 0.1]), Judgements(tripped={0: soft})) == Cite((0,))
    # ... yet when the model declines, the reply says how the sentence misses
    declined = decide(_ranking([0.9, 0.1]), Judgements(weak_rows={0}, tripped={0: soft}))
    assert declined == near_miss(soft)


def test_a_near_miss_on_another_subject_shows_no_related_sentence() -> None:
    ranking = _ranking([0.9, 0.1])
    ranking.features[:, COLUMN["coverage"]] = 0.0  # the sentence holds none of the question's words
    declined = decide(ranking, Judgements(weak_rows={0}, tripped={0: HARD[0]}))
    assert declined == Abstain(REASONS[HARD[0]], f"trips {HARD[0]}", related=None)


@pytest.mark.parametrize("rule", RULES)
def test_each_rule_declines_with_the_reason_for_how_it_misses(rule: str) -> None:
    declined = decide(_ranking([0.9, 0.1]), Judgements(weak_rows={0}, tripped={0: rule}))
    assert declined.reason == REASONS[rule] and declined.related == 0
    attribute, role = {"unstated", "no_amount"}, {"unnamed_role"}  # the rest: another name, figure, place
    assert declined.reason == (
        "missing_attribute" if rule in attribute else "other_role" if rule in role else "other_entity"
    )


def test_the_best_then_up_to_two_strong_runners_up_that_say_something_else() -> None:
    assert decide(_ranking([0.4, 0.3, 0.2, 0.1]), Judgements()) == Cite((0, 1, 3))  # 2 repeats 0
    assert decide(_ranking([0.5, 0.25, 0.2, 0.05]), Judgements()) == Cite((0, 1))  # 3 is far below
    ratio = EXTRA_CITATION_RATIO
    assert decide(_ranking([0.9, ratio * 0.9 - 0.01]), Judgements()) == Cite((0,))
    assert decide(_ranking([0.8, ratio * 0.8 + 0.01]), Judgements()) == Cite((0, 1))


def test_a_runner_up_that_is_weak_on_its_own_or_a_near_miss_is_passed_over() -> None:
    assert decide(_ranking([0.6, 0.4]), Judgements(weak_rows={1})) == Cite((0,))
    assert decide(_ranking([0.6, 0.4]), Judgements(tripped={1: HARD[0]})) == Cite((0,))


def test_a_near_missing_best_gives_way_to_one_strong_on_its_own() -> None:
    # the best trips a hard rule; the next is strong enough judged as if it were first
    assert decide(_ranking([0.6, 0.4]), Judgements(tripped={0: HARD[0]})) == Cite((1,))
    # ... unless it is weak on its own: then the reply says how the best one misses
    declined = decide(_ranking([0.6, 0.4]), Judgements(weak_rows={1}, tripped={0: HARD[0]}))
    assert declined == near_miss(HARD[0])


@pytest.mark.parametrize("probabilities", [[1.0], [0.7, 0.3], [0.4, 0.3, 0.2, 0.1]])
def test_a_decision_cites_positions_of_the_ranking_best_first(probabilities: list[float]) -> None:
    ranking = _ranking(probabilities)
    decision = decide(ranking, Judgements())
    assert isinstance(decision, Cite) and decision.positions[0] == 0
    assert list(decision.positions) == sorted(decision.positions)
    assert decision.rows(ranking) == tuple(ranking.candidates[i].row for i in decision.positions)
