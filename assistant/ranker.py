"""Ranking candidate sentences with more evidence than one score, and the learned model
that weighs it.

Each candidate gets a feature vector: its retrieval evidence (dense and BM25 scores of the
sentence, of its window of neighbours and of its paragraph), how much of the question's
weight (IDF) it, its window and its paragraph cover, shared word pairs, overlap of the
question with the article title, and whether it holds what the question asks for (a
number for "how many", a date for "when", a name for "who"/"where"). A linear model,
fitted by ``python -m assistant.train`` on SQuAD and shipped as ``ranker.json``, turns the
features into a score; a softmax over the candidates gives each one a probability.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from langchain_core.documents import Document

from assistant.corpus import Corpus
from assistant.text import content_terms

MODEL_FILE = Path(__file__).with_name("ranker.json")

FEATURES = (
    "dense", "dense_window", "dense_paragraph", "bm25", "bm25_window", "bm25_paragraph",
    "dense_rank", "bm25_rank", "coverage", "coverage_window", "coverage_paragraph",
    "bigrams", "title", "has_number", "has_date", "new_names", "length", "paragraph_start",
)  # fmt: skip

_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|billion|dozen)\b",
    re.I,
)
_DATE = re.compile(
    r"\b(?:1[0-9]{3}|20[0-9]{2})s?\b|\b(?:January|February|March|April|May|June|July|August"
    r"|September|October|November|December|Monday|Tuesday|Wednesday|Thursday|Friday"
    r"|Saturday|Sunday|century|decade)\b"
)
_NAME = re.compile(r"\b[A-Z][\w’'-]+")
_NUMBER_QUESTION = re.compile(
    r"\bhow (?:many|much|long|old|far|large|big|tall|high|often)\b"
    r"|\bwhat (?:percentage|percent|number|amount|proportion|size)\b",
    re.I,
)
_DATE_QUESTION = re.compile(
    r"\bwhen\b|\b(?:what|which) (?:year|date|century|decade|month|day|time|period)\b", re.I
)
_NAME_QUESTION = re.compile(r"\bwho(?:m|se)?\b|\bwhere\b", re.I)


def question_kind(question: str) -> str:
    """What the question asks for: ``number``, ``date``, ``name`` or ``other``."""
    if _NUMBER_QUESTION.search(question):
        return "number"
    if _DATE_QUESTION.search(question):
        return "date"
    if _NAME_QUESTION.search(question):
        return "name"
    return "other"


@dataclass(frozen=True, slots=True)
class Question:
    """A question as the ranker reads it."""

    text: str
    terms: tuple[str, ...]
    kind: str

    @classmethod
    def parse(cls, text: str) -> Question:
        """Terms and kind of ``text``."""
        return cls(text, tuple(content_terms(text)), question_kind(text))


def _covered(weights: dict[str, float], total: float, within: frozenset[str]) -> float:
    return sum(w for t, w in weights.items() if t in within) / total if total else 0.0


def features(corpus: Corpus, question: Question, documents: list[Document]) -> np.ndarray:
    """One row of :data:`FEATURES` per candidate document."""
    weights = {t: corpus.idf.get(t, max(corpus.idf.values(), default=1.0)) for t in question.terms}
    total = sum(weights.values())
    pairs = set(zip(question.terms, question.terms[1:], strict=False))
    asked_names = {w.lower() for w in _NAME.findall(question.text)}
    question_set = frozenset(question.terms)
    out = np.zeros((len(documents), len(FEATURES)), dtype=np.float32)
    for j, doc in enumerate(documents):
        m = doc.metadata
        row = m["row"]
        terms = corpus.terms[row]
        title = corpus.title_terms[corpus.article_of[row]]
        text = doc.page_content
        names = {w.lower() for w in _NAME.findall(text)} - asked_names
        out[j] = (
            m["dense"],
            m["dense_window"],
            m["dense_paragraph"],
            m["bm25"],
            m["bm25_window"],
            m["bm25_paragraph"],
            1.0 / (1.0 + m["dense_rank"]),
            1.0 / (1.0 + m["bm25_rank"]),
            _covered(weights, total, corpus.term_sets[row]),
            _covered(weights, total, corpus.window_terms[row]),
            _covered(weights, total, corpus.paragraph_terms[corpus.paragraph_of[row]]),
            len(pairs & set(itertools.pairwise(terms))) / len(pairs) if pairs else 0.0,
            len(title & question_set) / len(title) if title else 0.0,
            float(question.kind == "number" and bool(_NUMBER.search(text))),
            float(question.kind == "date" and bool(_DATE.search(text))),
            min(len(names), 5) / 5.0 if question.kind == "name" else 0.0,
            math.log1p(len(terms)),
            float(
                corpus.previous[row] == row
                or corpus.paragraph_of[corpus.previous[row]] != corpus.paragraph_of[row]
            ),
        )
    return out


@dataclass(frozen=True)
class LinearModel:
    """Standardise, then a weighted sum: ``score = ((x - mean) / scale) @ weights + bias``."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float = 0.0

    def score(self, x: np.ndarray) -> np.ndarray:
        """One score per row of ``x``; higher is more likely the answer."""
        return ((x - self.mean) / self.scale) @ self.weights + self.bias

    def to_json(self) -> dict:
        """Plain numbers for ``ranker.json``."""
        arrays = {k: getattr(self, k).round(6).tolist() for k in ("mean", "scale", "weights")}
        return {**arrays, "bias": round(self.bias, 6)}

    @classmethod
    def from_json(cls, data: dict) -> LinearModel:
        """The model saved by :meth:`to_json`."""
        arrays = (np.asarray(data[k], dtype=np.float32) for k in ("mean", "scale", "weights"))
        return cls(*arrays, bias=float(data.get("bias", 0.0)))


@lru_cache(maxsize=1)
def load_models(path: Path = MODEL_FILE) -> dict:
    """The shipped models: ``ranker`` and ``abstain`` (:class:`LinearModel`) and ``threshold``."""
    data = json.loads(path.read_text())
    if tuple(data["features"]) != FEATURES:
        raise RuntimeError(f"{path} was trained on other features: run `python -m assistant.train`")
    return {
        "ranker": LinearModel.from_json(data["ranker"]),
        "abstain": LinearModel.from_json(data["abstain"]),
        "threshold": float(data["abstain"]["threshold"]),
    }


def softmax(scores: np.ndarray) -> np.ndarray:
    """Probabilities from scores, stable for large values."""
    shifted = np.exp(scores - scores.max())
    return shifted / shifted.sum()
