"""Ranking candidate sentences with more evidence than one score, and the learned model
that weighs it.

Each candidate gets a feature vector: its retrieval evidence (dense and BM25 scores of the
sentence, of its window of neighbours and of its paragraph), how much of the question it,
its window, its paragraph and its article's title cover (a sentence opening with "It" or
"He" also borrows the sentence before), shared word pairs, how close together the
matched words sit, and whether it holds what the question asks for (a number for "how
many", a date for "when", a name for "who"/"where", a cause for "why"). A tiny model
(a linear part plus four hidden units), fitted by ``python -m assistant.train`` on SQuAD
and shipped as ``ranker.json``, turns the features into a score; a softmax over the
candidates gives each one a probability.
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
    "share_previous", "share_title", "opens_with_pronoun", "dense_below_paragraph_best",
    "proximity", "has_cause", "share_window_title", "share_paragraph_title", "share_previous_title",
)  # fmt: skip
_PRONOUN_START = re.compile(
    r"^(?:it|its|he|his|she|her|they|their|them|this|these|those|that|such|the latter|the former)\b",
    re.I,
)
_CAUSE = re.compile(
    r"\b(?:because|due to|since|as a result|in order to|so that|led to|caused|reason|thus|therefore)\b",
    re.I,
)
_WHY = re.compile(r"\bwhy\b", re.I)

_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen|twenty|thirty"
    r"|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|dozen)\b",
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


def _share(asked: frozenset[str], present: frozenset[str]) -> float:
    return len(asked & present) / len(asked) if asked else 0.0


def _proximity(terms: tuple[str, ...], asked: frozenset[str]) -> float:
    """Distinct asked terms per position of the stretch that holds them (1.0: side by side)."""
    at = [i for i, t in enumerate(terms) if t in asked]
    return len({terms[i] for i in at}) / (at[-1] - at[0] + 1) if at else 0.0


def features(corpus: Corpus, question: Question, documents: list[Document]) -> np.ndarray:
    """One row of :data:`FEATURES` per candidate document."""
    weights = {t: corpus.idf.get(t, max(corpus.idf.values(), default=1.0)) for t in question.terms}
    total = sum(weights.values())
    pairs = set(itertools.pairwise(question.terms))
    asked_names = {w.lower() for w in _NAME.findall(question.text)}
    asked = frozenset(question.terms)
    why = bool(_WHY.search(question.text))
    rows = [doc.metadata["row"] for doc in documents]
    dense = np.array([doc.metadata["dense"] for doc in documents], dtype=np.float32)
    paragraphs = corpus.paragraph_of[rows] if rows else np.zeros(0, dtype=np.int64)
    out = np.zeros((len(documents), len(FEATURES)), dtype=np.float32)
    for j, doc in enumerate(documents):
        m = doc.metadata
        row = m["row"]
        terms = corpus.terms[row]
        own = corpus.term_sets[row]
        paragraph = corpus.paragraph_of[row]
        title = corpus.title_terms[corpus.article_of[row]]
        neighbours = [
            corpus.term_sets[r]
            for r in (corpus.previous[row], corpus.following[row])
            if r != row and corpus.paragraph_of[r] == paragraph
        ]
        before = corpus.previous[row]
        previous = (
            corpus.term_sets[before]
            if before != row and corpus.paragraph_of[before] == paragraph
            else frozenset()
        )
        text = doc.page_content
        leans_back = bool(_PRONOUN_START.match(text))
        with_previous = own | previous if leans_back else own
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
            _covered(weights, total, own),
            _covered(weights, total, corpus.window_terms[row]),
            _covered(weights, total, corpus.paragraph_terms[paragraph]),
            len(pairs & set(itertools.pairwise(terms))) / len(pairs) if pairs else 0.0,
            len(title & asked) / len(title) if title else 0.0,
            float(question.kind == "number" and bool(_NUMBER.search(text))),
            float(question.kind == "date" and bool(_DATE.search(text))),
            min(len(names), 5) / 5.0 if question.kind == "name" else 0.0,
            math.log1p(len(terms)),
            float(before == row or corpus.paragraph_of[before] != paragraph),
            _share(asked, with_previous),
            _share(asked, own | title),
            float(leans_back),
            dense[j] - dense[paragraphs == paragraph].max(),
            _proximity(terms, asked),
            float(why and bool(_CAUSE.search(text))),
            _share(asked, own.union(title, *neighbours)),
            _share(asked, corpus.paragraph_terms[paragraph] | title),
            _share(asked, with_previous | title),
        )
    return out


@dataclass(frozen=True)
class ScoreModel:
    """Standardise, then a linear part plus an optional layer of tanh units:

    ``z = (x - mean) / scale``; ``score = z @ weights + bias + tanh(z @ hidden + hidden_bias) @ out``.
    Without hidden units it is plain linear (or logistic, read as log-odds).
    """

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float = 0.0
    hidden: np.ndarray | None = None  # (features, units)
    hidden_bias: np.ndarray | None = None  # (units,)
    out: np.ndarray | None = None  # (units,)

    def score(self, x: np.ndarray) -> np.ndarray:
        """One score per row of ``x``; higher is more likely the answer."""
        z = (x - self.mean) / self.scale
        linear = z @ self.weights + self.bias
        if self.hidden is None:
            return linear
        return linear + np.tanh(z @ self.hidden + self.hidden_bias) @ self.out

    def to_json(self) -> dict:
        """Plain numbers for ``ranker.json``."""
        data: dict = {"bias": round(float(self.bias), 6)}
        for key in ("mean", "scale", "weights", "hidden", "hidden_bias", "out"):
            value = getattr(self, key)
            if value is not None:
                data[key] = np.round(value, 6).tolist()
        return data

    @classmethod
    def from_json(cls, data: dict) -> ScoreModel:
        """The model saved by :meth:`to_json`."""
        arrays = {
            key: np.asarray(data[key], dtype=np.float32)
            for key in ("mean", "scale", "weights", "hidden", "hidden_bias", "out")
            if key in data
        }
        return cls(bias=float(data.get("bias", 0.0)), **arrays)


@lru_cache(maxsize=1)
def load_models(path: Path = MODEL_FILE) -> dict:
    """The shipped models: ``ranker`` and ``abstain`` (:class:`ScoreModel`) and ``threshold``."""
    data = json.loads(path.read_text())
    if tuple(data["features"]) != FEATURES:
        raise RuntimeError(f"{path} was trained on other features: run `python -m assistant.train`")
    return {
        "ranker": ScoreModel.from_json(data["ranker"]),
        "abstain": ScoreModel.from_json(data["abstain"]),
        "threshold": float(data["abstain"]["threshold"]),
    }


def softmax(scores: np.ndarray) -> np.ndarray:
    """Probabilities from scores, stable for large values."""
    shifted = np.exp(scores - scores.max())
    return shifted / shifted.sum()
