"""When the evidence is too weak to answer: the abstention model and the signals it reads.

A logistic model over :data:`ABSTAIN_FEATURES` gives the probability that the best-ranked
sentence answers the question. Besides how strong and how clear the best candidate is, the
signals count what the question asks about that the sentence lacks: terms no article
knows, terms missing from the sentence, names or numbers it does not mention, a negation it
does not share, and which near-miss rules it trips (:mod:`assistant.answering.nearmiss`). Below the
threshold chosen by ``python -m assistant.eval.train`` (the best SQuAD v2 answer-or-abstain
accuracy that keeps SQuAD v1.1 hit@1 and gets every seed question right), the assistant says
the articles do not answer; a candidate that trips a hard near-miss rule is declined whatever
its probability, and the next one may be cited in its place when it is strong on its own
(:mod:`assistant.answering.policy` makes that decision).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from assistant.answering.nearmiss import NO_MISSES, RULES, Misses
from assistant.search.features import COLUMN
from assistant.search.model import ScoreModel, check_names
from assistant.search.ranking import Ranking

_NEGATION = re.compile(r"\b(?:not|no|never|none|nor|without|neither|cannot)\b|n['’]t\b", re.I)
_NAME_OR_NUMBER = re.compile(r"\b[A-Z][\w'’-]+|\b\d[\d,.]*\b")


@dataclass(frozen=True, slots=True)
class Top:
    """The best-ranked candidate of a question, as the abstention signals read it."""

    ranking: Ranking
    sentence_terms: frozenset[str]
    known_terms: Container[str]  # every term some sentence holds (the idf table)
    misses: Misses  # the near-miss rules the best candidate trips

    @property
    def features(self) -> np.ndarray:
        """The ranking features of the best candidate."""
        return self.ranking.features[0]


class Signal(NamedTuple):
    """A named input of the abstention model."""

    name: str
    compute: Callable[[Top], float]


def _margin(top: Top) -> float:
    scores = top.ranking.scores
    return float(scores[0] - scores[1]) if len(scores) > 1 else 10.0


def _unknown_terms(top: Top) -> float:
    terms = top.ranking.question.terms
    return sum(t not in top.known_terms for t in terms) / len(terms) if terms else 1.0


def _missing_names(top: Top) -> float:
    question = top.ranking.question.text
    lowered = top.ranking.candidates[0].text.lower()
    return sum(
        m.start() > 0 and m.group(0).lower() not in lowered for m in _NAME_OR_NUMBER.finditer(question)
    )


def _negation_mismatch(top: Top) -> float:
    asks = bool(_NEGATION.search(top.ranking.question.text))
    return float(asks and not _NEGATION.search(top.ranking.candidates[0].text))


ABSTAIN_FEATURES: tuple[Signal, ...] = (
    Signal("top_score", lambda t: float(t.ranking.scores[0])),
    Signal("margin", _margin),
    Signal("top_probability", lambda t: float(t.ranking.probabilities[0])),
    Signal("dense", lambda t: float(t.features[COLUMN["dense"]])),
    Signal("coverage", lambda t: float(t.features[COLUMN["coverage"]])),
    Signal("coverage_window", lambda t: float(t.features[COLUMN["coverage_window"]])),
    Signal("unknown_terms", _unknown_terms),
    Signal("missing_terms", lambda t: sum(x not in t.sentence_terms for x in t.ranking.question.terms)),
    Signal("negation_mismatch", _negation_mismatch),
    Signal("missing_names", _missing_names),
    *(Signal(f"miss_{rule}", lambda t, rule=rule: t.misses.flag(rule)) for rule in RULES),
)
ABSTAIN_FEATURE_NAMES: tuple[str, ...] = tuple(s.name for s in ABSTAIN_FEATURES)


def abstain_features(ranking: Ranking, misses: Misses = NO_MISSES) -> np.ndarray:
    """The evidence for "the articles answer this": one row of :data:`ABSTAIN_FEATURES`;
    ``misses`` are the near-miss rules the best candidate trips."""
    corpus = ranking.corpus
    top = Top(ranking, corpus.term_sets[ranking.candidates[0].row], corpus.term_id, misses)
    return np.array([signal.compute(top) for signal in ABSTAIN_FEATURES], dtype=np.float32)


@dataclass(frozen=True)
class Abstention:
    """The abstention policy: its model and the threshold below which it abstains."""

    model: ScoreModel
    threshold: float

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Abstention:
        """The policy of a ``ranker.json``, checked against the signals this code computes."""
        check_names(data, "abstain_features", ABSTAIN_FEATURE_NAMES)
        return cls(ScoreModel.from_json(data["abstain"]), float(data["abstain"]["threshold"]))

    def answerable(self, ranking: Ranking, misses: Misses = NO_MISSES) -> float:
        """The calibrated probability that the best candidate answers the question."""
        if not len(ranking) or not ranking.question.terms:
            return 0.0
        logit = float(self.model.score(abstain_features(ranking, misses)[None, :])[0])
        return 1.0 / (1.0 + np.exp(-logit))

    def weak(self, ranking: Ranking, misses: Misses = NO_MISSES) -> bool:
        """Whether the best candidate is too weak to answer with (below the threshold)."""
        return self.answerable(ranking, misses) < self.threshold
