"""The short answer: the phrase of the first cited sentence that answers the question.

The candidates are the sentence's named entities and noun phrases ("the Greek god Apollo",
"a 24-hour study space", "the Denver Broncos"), and a noun phrase with the "of" phrase after it
("the procurement of 15 rockets"). A learned model (:class:`ShortReader`, fitted by
``python -m assistant.eval.train_short`` on SQuAD v1.1 dev-a) scores each by what the question
asks (its question word and the kinds of entity its form asks for: :attr:`Question.labels`),
what the phrase is (an entity of some kind, a number, a name, a plain noun phrase), its role in
the sentence (subject, object, object of a preposition, apposition...), whether the question
names it already (an answer is what the question does not say), and how near it stands to the
question's words. The phrase is given when the chance it is right is high enough: its share of
the model's probability times the probability of the cited sentence, at least the threshold
chosen in training (where the short answers given reach an F1 of 0.61 on articles the model
did not see). Choosing no phrase is one of the choices the model scores: what a question asking
"why" takes most often. "Who is Khalil Haqqani?" gets a description ("A Pakistani protege"), not
the name it asks about.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.answering.entities import Entity, EntityTagger
from assistant.core.records import Citation, Short
from assistant.core.text import content_terms
from assistant.question.parse import Question
from assistant.search.model import ScoreModel, check_names

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span

MODEL_FILE = "short.json"  # in this package (assistant.answering)

# The question words, most telling first: "how many" before "how", "whose" apart from "who".
QUESTION_WORDS = (
    "how many", "how much", "how long", "how", "what", "which", "who", "whom", "whose", "when", "where",
    "why", "other",
)  # fmt: skip
# What a phrase is, by its entity label, else by its words; "none" is the choice of no phrase.
PHRASE_KINDS = (
    "person", "organisation", "place", "date", "figure", "other_entity", "number", "name", "phrase", "none",
)  # fmt: skip
_KIND_OF_LABEL = {
    "PERSON": "person",
    **dict.fromkeys(("ORG", "NORP"), "organisation"),
    **dict.fromkeys(("GPE", "LOC", "FAC"), "place"),
    **dict.fromkeys(("DATE", "TIME"), "date"),
    **dict.fromkeys(("CARDINAL", "QUANTITY", "MONEY", "PERCENT", "ORDINAL"), "figure"),
}
# The phrase's role in the sentence: the dependency label of its head word.
ROLES = (
    "nsubj", "nsubjpass", "dobj", "pobj", "attr", "appos", "conj", "compound", "ROOT", "npadvmod", "poss",
    "dative", "other",
)  # fmt: skip
_POINTERS = frozenset("by as called named from in at on to of".split())  # "named after X", "by X"
PHRASE_SIGNALS = (
    "of_asked_label",  # an entity of a kind the question's form asks for
    "asked_label_rank",  # 1 for the likeliest asked kind, 1/2 for the next ...
    "question_asks_label",  # the question's form asks for some kind of entity
    "named_share",  # the share of its content words the question names
    "all_named",  # the question names every content word of it
    "distance",  # log(1 + tokens to the nearest question word outside it)
    "adjacent",  # a question word within two tokens
    "length",  # log(1 + tokens)
    "is_entity",
    "head_asked",  # the word it depends on is a word of the question ("designed by X")
    "head_head_asked",  # and the one above that
    "before_question_words",  # it stands before every question word of the sentence
    "after_question_words",  # it stands after every one
    "has_number",
    "opens_with_article",
    "position",  # where it starts in the sentence, 0 to 1
    "no_content",  # it has no content word (a pronoun, "that")
    "head_word_asked",  # its own head word is a word of the question
    "after_question_word",  # the word before it is a content word of the question
    "after_pointer",  # the word before it is "by", "as", "called", "named" ...
    "question_words_around",  # log(1 + question words within five tokens of it)
    "after_comma",  # the word before it is "," or "(": an apposition
    "near_asked_noun",  # the noun of "which X"/"what X" stands within two tokens of it
    "is_asked_noun",  # its head word is that noun
    "proper_noun",
    "numeral",
)
SHORT_FEATURE_NAMES: tuple[str, ...] = (
    *(f"{w}:{k}" for w in QUESTION_WORDS for k in PHRASE_KINDS),
    *(f"{w}:{r}" for w in QUESTION_WORDS for r in ROLES),
    *PHRASE_SIGNALS,
)
_COLUMN = {name: i for i, name in enumerate(SHORT_FEATURE_NAMES)}
_SIGNAL_COLUMNS = [_COLUMN[name] for name in PHRASE_SIGNALS]
_FINDS_WORD = tuple((w, re.compile(rf"\b{w}\b", re.I)) for w in QUESTION_WORDS if w != "other")


def question_word(question: str) -> str:
    """The question word that says what ``question`` asks (the first of QUESTION_WORDS it holds)."""
    return next((w for w, finds in _FINDS_WORD if finds.search(question)), "other")


def candidates(sentence: Doc, entities: Sequence[Entity]) -> list[Span]:
    """The phrases of ``sentence`` that may answer: its ``entities``, its noun phrases, and a
    noun phrase with the "of" phrase after it; each span once (an entity's, with its label, first)."""
    found: dict[tuple[int, int], Span] = {}
    for e in entities:
        span = sentence.char_span(e.start, e.end, label=e.label)
        if span is not None:
            found[span.start, span.end] = span
    chunks = list(sentence.noun_chunks)
    starts = {c.start: c for c in chunks}
    for chunk in chunks:  # as plain spans: spaCy labels a noun chunk "NP", which is no entity kind
        found.setdefault((chunk.start, chunk.end), sentence[chunk.start : chunk.end])
        after = chunk.end
        if after < len(sentence) and sentence[after].lower_ == "of" and after + 1 in starts:
            end = starts[after + 1].end
            found.setdefault((chunk.start, end), sentence[chunk.start : end])
    return list(found.values())


def _kind(span: Span) -> str:
    if span.label_:
        return _KIND_OF_LABEL.get(span.label_, "other_entity")
    if any(t.like_num for t in span):
        return "number"
    return "name" if any(t.pos_ == "PROPN" for t in span) else "phrase"


def _asked_noun(question: Doc) -> str | None:
    """The noun of "which X" / "what X" (within three words), lower-cased."""
    for token in question:
        if token.lower_ in ("what", "which"):
            nouns = [t for t in question[token.i + 1 : token.i + 4] if t.pos_ in ("NOUN", "PROPN")]
            return nouns[0].lower_ if nouns else None
    return None


def phrase_features(question: Question, reading: Reading) -> np.ndarray:
    """One row of :data:`SHORT_FEATURE_NAMES` per candidate phrase of the sentence read, then one
    for choosing no phrase (what questions asking "why" or "how" choose most)."""
    asked, sentence, spans = reading.asked, reading.sentence, reading.spans
    labels = question.labels
    named = {t.lower_ for t in asked if not t.is_punct}
    terms = set(content_terms(question.text))
    anchors = [
        t.i
        for t in sentence
        if not t.is_stop and not t.is_punct and (t.lower_ in named or set(content_terms(t.text)) & terms)
    ]
    noun = _asked_noun(asked)
    word = question_word(question.text)
    rows = np.zeros((len(spans) + 1, len(SHORT_FEATURE_NAMES)), dtype=np.float32)
    rows[-1, _COLUMN[f"{word}:none"]] = 1.0
    for row, span in zip(rows[:-1], spans, strict=True):
        role = span.root.dep_ if span.root.dep_ in ROLES else "other"
        row[_COLUMN[f"{word}:{_kind(span)}"]] = 1.0
        row[_COLUMN[f"{word}:{role}"]] = 1.0
        content = [t for t in span if not t.is_stop and not t.is_punct]
        share = sum(t.lower_ in named for t in content) / len(content) if content else 1.0
        outside = [a for a in anchors if not span.start <= a < span.end]
        distance = min((min(abs(a - span.start), abs(a - (span.end - 1))) for a in outside), default=30)
        before = sentence[span.start - 1] if span.start > 0 else None
        pointed = before is not None and before.lower_ in named and not before.is_stop
        head = span.root.head
        near = {t.lower_.rstrip("s") for t in sentence[max(0, span.start - 2) : span.end + 2]}
        signals = {
            "of_asked_label": float(span.label_ in labels),
            "asked_label_rank": 1 / (1 + labels.index(span.label_)) if span.label_ in labels else 0.0,
            "question_asks_label": float(bool(labels)),
            "named_share": share,
            "all_named": float(share == 1.0),
            "distance": math.log1p(distance),
            "adjacent": float(distance <= 2),
            "length": math.log1p(len(span)),
            "is_entity": float(bool(span.label_)),
            "head_asked": float(head.lower_ in named and not span.start <= head.i < span.end),
            "head_head_asked": float(head.head.lower_ in named),
            "before_question_words": float(bool(outside) and span.end <= min(outside)),
            "after_question_words": float(bool(outside) and span.start > max(outside)),
            "has_number": float(any(t.like_num for t in span)),
            "opens_with_article": float(span[0].lower_ in ("the", "a", "an")),
            "position": span.start / len(sentence),
            "no_content": float(not content),
            "head_word_asked": float(span.root.lower_ in named),
            "after_question_word": float(pointed),
            "after_pointer": float(before is not None and before.lower_ in _POINTERS),
            "question_words_around": math.log1p(sum(span.start - 5 <= a < span.end + 5 for a in outside)),
            "after_comma": float(before is not None and before.text in ("(", ",")),
            "near_asked_noun": float(noun is not None and noun.rstrip("s") in near),
            "is_asked_noun": float(span.root.lower_ == noun),
            "proper_noun": float(span.root.pos_ == "PROPN"),
            "numeral": float(span.root.pos_ == "NUM"),
        }
        row[_SIGNAL_COLUMNS] = [signals[name] for name in PHRASE_SIGNALS]
    return rows


def phrase_shares(model: ScoreModel, rows: np.ndarray) -> np.ndarray:
    """The model's probability for each row of :func:`phrase_features` (the last: no phrase)."""
    scores = model.score(rows)
    shares = np.exp(scores - scores.max())
    return shares / shares.sum()


def likeliest(model: ScoreModel, rows: np.ndarray) -> tuple[int, float]:
    """The row of the likeliest phrase (never the last one, no phrase) and its probability."""
    shares = phrase_shares(model, rows)
    i = int(shares[:-1].argmax())
    return i, float(shares[i])


@dataclass(frozen=True, slots=True)
class Reading:
    """A question and a sentence as the reader sees them: both parsed, and the sentence's
    candidate phrases."""

    asked: Doc
    sentence: Doc
    spans: list[Span]


def read(tagger: EntityTagger, question: str, sentence: str) -> Reading:
    """``question`` and ``sentence`` parsed (the question without its entities, which no feature
    reads), with the sentence's candidate phrases."""
    asked, parsed = tagger.parse([question, sentence])
    (entities,) = tagger.entities([sentence])
    return Reading(asked, parsed, candidates(parsed, entities))


@dataclass(frozen=True, slots=True)
class Pick:
    """The best phrase of a sentence and how likely it is the answer (with the sentence's own
    probability of answering folded in)."""

    span: Span
    confidence: float


@dataclass(frozen=True)
class ShortReader:
    """Scores the phrases of a cited sentence; gives the best when its confidence reaches the
    threshold."""

    model: ScoreModel
    threshold: float

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ShortReader:
        """The reader of a ``short.json``, checked against the features this code computes."""
        check_names(data, "features", SHORT_FEATURE_NAMES, MODEL_FILE, "python -m assistant.eval.train_short")
        return cls(ScoreModel.from_json(data["model"]), float(data["threshold"]))

    @classmethod
    def shipped(cls) -> ShortReader:
        """The reader shipped in this package."""
        text = resources.files("assistant.answering").joinpath(MODEL_FILE).read_text(encoding="utf-8")
        return cls.from_json(json.loads(text))

    def best(self, question: Question, reading: Reading, probability: float) -> Pick | None:
        """The likeliest phrase of the sentence read, whose own probability of answering is
        ``probability``; None when it has no candidate phrase."""
        if not reading.spans:
            return None
        i, share = likeliest(self.model, phrase_features(question, reading))
        return Pick(reading.spans[i], share * probability)

    def short_answer(
        self, tagger: EntityTagger, question: Question, cited: Citation, probability: float
    ) -> Short | None:
        """The phrase of the first cited sentence that answers ``question``, as a :class:`Short`
        pointing into its article; None when no phrase is likely enough."""
        pick = self.best(question, read(tagger, question.text, cited.text), probability)
        if pick is None or pick.confidence < self.threshold:
            return None
        start, end = pick.span.start_char, pick.span.end_char
        return Short(cited.text[start:end], cited.article_id, cited.start + start, cited.start + end, 1)
