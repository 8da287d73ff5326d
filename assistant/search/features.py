"""What the ranker reads about each candidate: a table of named features.

Each :class:`Feature` is a name and the function that computes it from what the question
asks (:class:`Asked`) and what the candidate holds (:class:`Seen`), so a name and its
column can never drift apart; ``ranker.json`` records the names it was trained on and the
ranker refuses a file whose names differ.

The features: retrieval evidence (dense and BM25 scores of the sentence, of its window of
neighbours and of its paragraph, and their ranks), how much of the question the sentence,
its window, its paragraph and its article's title cover (a sentence opening with "It" or
"He" also borrows the sentence before), shared word pairs, how close together the matched
words sit, and whether it holds what the question asks for (a number for "how many", a
date for "when", a name for "who"/"where", a cause for "why"), and whether it states an
expression of the kind the question asks for that the question does not name itself
(:class:`~assistant.question.expressions.Expected`: an amount for "how much", a year for "when").
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from assistant.core.text import MONTHS, WEEKDAYS
from assistant.question.parse import Question
from assistant.search.retrieval import Candidate, Evidence
from assistant.storage.corpus import Corpus

_PRONOUN_START = re.compile(
    r"^(?:it|its|he|his|she|her|they|their|them|this|these|those|that|such|the latter|the former)\b",
    re.I,
)
_CAUSE = re.compile(
    r"\b(?:because|due to|since|as a result|in order to|so that|led to|caused|reason|thus|therefore)\b",
    re.I,
)
NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen|twenty|thirty"
    r"|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|dozen)\b",
    re.I,
)
DATE = re.compile(
    rf"\b(?:1[0-9]{{3}}|20[0-9]{{2}})s?\b|\b(?:{'|'.join((*MONTHS, *WEEKDAYS))}|century|decade)\b"
)
NAME = re.compile(r"\b[A-Z][\w’'-]+")


@dataclass(frozen=True, slots=True)
class Asked:
    """What every candidate of one question is compared with, computed once."""

    question: Question
    weights: dict[str, float]  # question term -> its idf
    total: float  # sum of the weights
    pairs: frozenset[tuple[str, str]]  # adjacent question terms
    names: frozenset[str]  # capitalised words of the question, lower-cased
    terms: frozenset[str]
    best_dense: dict[int, float]  # paragraph -> best dense score among the candidates in it


@dataclass(frozen=True, slots=True)
class Seen:
    """One candidate as the features read it."""

    text: str
    evidence: Evidence
    terms: tuple[str, ...]  # content terms, in order
    own: frozenset[str]
    window: frozenset[str]  # terms of the sentence and its neighbours
    paragraph: int
    paragraph_terms: frozenset[str]
    title: frozenset[str]  # terms of the article's title
    neighbours: tuple[frozenset[str], ...]  # terms of the sentences beside it in its paragraph
    first_in_paragraph: bool
    leans_back: bool  # opens with a pronoun, so it borrows the sentence before
    with_previous: frozenset[str]  # own terms, plus the previous sentence's when it leans back


class Feature(NamedTuple):
    """A named column of the ranker's input."""

    name: str
    compute: Callable[[Asked, Seen], float]


def _covered(asked: Asked, within: frozenset[str]) -> float:
    """Share of the question's idf weight whose terms are ``within``."""
    return sum(w for t, w in asked.weights.items() if t in within) / asked.total if asked.total else 0.0


def _share(asked: Asked, present: frozenset[str]) -> float:
    """Share of the question's distinct terms ``present``."""
    return len(asked.terms & present) / len(asked.terms) if asked.terms else 0.0


def _proximity(asked: Asked, seen: Seen) -> float:
    """Distinct asked terms per position of the stretch that holds them (1.0: side by side)."""
    at = [i for i, t in enumerate(seen.terms) if t in asked.terms]
    return len({seen.terms[i] for i in at}) / (at[-1] - at[0] + 1) if at else 0.0


def _bigrams(asked: Asked, seen: Seen) -> float:
    if not asked.pairs:
        return 0.0
    return len(asked.pairs & set(itertools.pairwise(seen.terms))) / len(asked.pairs)


def _new_names(asked: Asked, seen: Seen) -> float:
    if asked.question.kind != "name":
        return 0.0
    return min(len({w.lower() for w in NAME.findall(seen.text)} - asked.names), 5) / 5.0


def _states_asked(asked: Asked, seen: Seen) -> float:
    """1.0 when the sentence states what the question asks for, -1.0 when it does not, 0.0 when
    the question asks for no kind of expression the detectors know."""
    stated = asked.question.expects.stated_in(seen.text)
    return 0.0 if stated is None else 1.0 if stated else -1.0


FEATURES: tuple[Feature, ...] = (
    Feature("dense", lambda a, s: s.evidence.dense),
    Feature("dense_window", lambda a, s: s.evidence.dense_window),
    Feature("dense_paragraph", lambda a, s: s.evidence.dense_paragraph),
    Feature("bm25", lambda a, s: s.evidence.bm25),
    Feature("bm25_window", lambda a, s: s.evidence.bm25_window),
    Feature("bm25_paragraph", lambda a, s: s.evidence.bm25_paragraph),
    Feature("dense_rank", lambda a, s: 1.0 / (1.0 + s.evidence.dense_rank)),
    Feature("bm25_rank", lambda a, s: 1.0 / (1.0 + s.evidence.bm25_rank)),
    Feature("coverage", lambda a, s: _covered(a, s.own)),
    Feature("coverage_window", lambda a, s: _covered(a, s.window)),
    Feature("coverage_paragraph", lambda a, s: _covered(a, s.paragraph_terms)),
    Feature("bigrams", _bigrams),
    Feature("title", lambda a, s: len(s.title & a.terms) / len(s.title) if s.title else 0.0),
    Feature("has_number", lambda a, s: float(a.question.kind == "number" and bool(NUMBER.search(s.text)))),
    Feature("has_date", lambda a, s: float(a.question.kind == "date" and bool(DATE.search(s.text)))),
    Feature("new_names", _new_names),
    Feature("length", lambda a, s: math.log1p(len(s.terms))),
    Feature("paragraph_start", lambda a, s: float(s.first_in_paragraph)),
    Feature("share_previous", lambda a, s: _share(a, s.with_previous)),
    Feature("share_title", lambda a, s: _share(a, s.own | s.title)),
    Feature("opens_with_pronoun", lambda a, s: float(s.leans_back)),
    Feature("dense_below_paragraph_best", lambda a, s: s.evidence.dense - a.best_dense[s.paragraph]),
    Feature("proximity", _proximity),
    Feature("has_cause", lambda a, s: float(a.question.cause and bool(_CAUSE.search(s.text)))),
    Feature("share_window_title", lambda a, s: _share(a, s.own.union(s.title, *s.neighbours))),
    Feature("share_paragraph_title", lambda a, s: _share(a, s.paragraph_terms | s.title)),
    Feature("share_previous_title", lambda a, s: _share(a, s.with_previous | s.title)),
    Feature("states_asked", _states_asked),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
COLUMN: dict[str, int] = {name: i for i, name in enumerate(FEATURE_NAMES)}


def asked(corpus: Corpus, question: Question, candidates: Sequence[Candidate]) -> Asked:
    """What the candidates of ``question`` are compared with."""
    weights = {t: corpus.idf_of(t, corpus.max_idf) for t in question.terms}
    best_dense: dict[int, float] = {}
    for c in candidates:
        paragraph = int(corpus.paragraph_of[c.row])
        best_dense[paragraph] = max(best_dense.get(paragraph, -math.inf), np.float32(c.evidence.dense))
    return Asked(
        question=question,
        weights=weights,
        total=sum(weights.values()),
        pairs=frozenset(itertools.pairwise(question.terms)),
        names=frozenset(w.lower() for w in NAME.findall(question.text)),
        terms=frozenset(question.terms),
        best_dense=best_dense,
    )


def seen(corpus: Corpus, candidate: Candidate) -> Seen:
    """The candidate's terms and surroundings, from the corpus."""
    row = candidate.row
    paragraph = int(corpus.paragraph_of[row])
    same_paragraph = [
        r for r in (int(corpus.previous[row]), int(corpus.following[row]))
        if r != row and corpus.paragraph_of[r] == paragraph
    ]  # fmt: skip
    before = int(corpus.previous[row])
    previous = corpus.term_sets[before] if before in same_paragraph else frozenset()
    own = corpus.term_sets[row]
    leans_back = bool(_PRONOUN_START.match(candidate.text))
    return Seen(
        text=candidate.text,
        evidence=candidate.evidence,
        terms=corpus.terms[row],
        own=own,
        window=corpus.window_terms[row],
        paragraph=paragraph,
        paragraph_terms=corpus.paragraph_terms[paragraph],
        title=corpus.title_terms[corpus.article_of[row]],
        neighbours=tuple(corpus.term_sets[r] for r in same_paragraph),
        first_in_paragraph=before == row or corpus.paragraph_of[before] != paragraph,
        leans_back=leans_back,
        with_previous=own | previous if leans_back else own,
    )


def feature_matrix(corpus: Corpus, question: Question, candidates: Sequence[Candidate]) -> np.ndarray:
    """One row of :data:`FEATURES` per candidate, shape (len(candidates), len(FEATURES))."""
    context = asked(corpus, question, candidates)
    out = np.zeros((len(candidates), len(FEATURES)), dtype=np.float32)
    for j, candidate in enumerate(candidates):
        view = seen(corpus, candidate)
        out[j] = [feature.compute(context, view) for feature in FEATURES]
    return out
