"""Ranking the candidates of a question with the learned model over :data:`FEATURES`.

A tiny model (a linear part plus four tanh units, fitted by ``python -m assistant.eval.train``
on SQuAD and shipped in ``ranker.json``) turns each candidate's features into a score; a
softmax over the candidates gives each one a probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.question.parse import Question
from assistant.search.features import FEATURE_NAMES, feature_matrix
from assistant.search.model import ScoreModel, check_names
from assistant.search.retrieval import Candidate
from assistant.storage.corpus import Corpus


@dataclass(frozen=True)
class Ranking:
    """A question's candidates in order of the ranker's score, best first, in the corpus they
    were found in."""

    corpus: Corpus
    question: Question
    candidates: tuple[Candidate, ...]
    features: np.ndarray  # (candidates, len(FEATURES)), in the same order
    scores: np.ndarray
    probabilities: np.ndarray  # softmax of the scores

    def __len__(self) -> int:
        return len(self.candidates)

    def promoted(self, i: int) -> Ranking:
        """The same ranking with candidate ``i`` put first (the rest keep their order), to judge
        it as the answer on its own evidence."""
        order = [i, *(j for j in range(len(self)) if j != i)]
        return Ranking(
            self.corpus,
            self.question,
            tuple(self.candidates[j] for j in order),
            self.features[order],
            self.scores[order],
            self.probabilities[order],
        )

    @classmethod
    def empty(cls, corpus: Corpus, question: Question) -> Ranking:
        """The ranking of a question nothing was searched for (one about a whole article)."""
        nothing = np.zeros(0, dtype=np.float32)
        return cls(
            corpus, question, (), np.zeros((0, len(FEATURE_NAMES)), dtype=np.float32), nothing, nothing
        )


def softmax(scores: np.ndarray) -> np.ndarray:
    """Probabilities from scores, stable for large values."""
    shifted = np.exp(scores - scores.max())
    return shifted / shifted.sum()


@dataclass(frozen=True)
class Ranker:
    """Orders candidates by the shipped model's score."""

    model: ScoreModel

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Ranker:
        """The ranker of a ``ranker.json``, checked against the features this code computes."""
        check_names(data, "features", FEATURE_NAMES)
        return cls(ScoreModel.from_json(data["ranker"]))

    def rank(self, corpus: Corpus, question: Question, candidates: Sequence[Candidate]) -> Ranking:
        """Score the candidates and sort them, best first (ties keep retrieval order)."""
        x = feature_matrix(corpus, question, candidates)
        scores = self.model.score(x) if len(candidates) else np.zeros(0)
        order = np.argsort(-scores, kind="stable")
        return Ranking(
            corpus=corpus,
            question=question,
            candidates=tuple(candidates[i] for i in order),
            features=x[order],
            scores=scores[order],
            probabilities=softmax(scores[order]) if len(order) else scores,
        )
