"""The short answer: the phrase of a cited sentence that answers a question asking for an
amount, a number, a date, a duration, a person, a place or an organisation.

The question's form says what it asks for (:attr:`Question.labels`: "how many" wants a number,
"when" a date, "which country" a place...); the answer is the entity of that kind in the
sentence that the question does not already name, the one nearest the question's own words
(:func:`pick`). "Who is Khalil Haqqani?" asks for a description, not a name, so it gets no
short answer; neither does a question whose kind the sentence does not hold.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answering.entities import Entity, EntityTagger
from assistant.core.records import Citation, Short
from assistant.core.text import content_terms, words
from assistant.question.parse import Question


def _named_in(entity: Entity, question_words: set[str]) -> bool:
    own = [w for w in words(entity.text) if w not in ("the", "a", "an")]
    return bool(own) and all(w in question_words for w in own)


def pick(question: Question, sentence: str, entities: Sequence[Entity]) -> Entity | None:
    """The entity of ``sentence`` that answers ``question``: of an asked-for label, not named in
    the question, nearest the question's words in the sentence (then the likelier label)."""
    labels = question.labels
    if not labels:
        return None
    asked = set(words(question.text))
    candidates = [e for e in entities if e.label in labels and not _named_in(e, asked)]
    if not candidates:
        return None
    terms = set(question.terms)
    anchors = [
        m.start() for m in re.finditer(r"\w+(?:['’]\w+)*", sentence) if set(content_terms(m.group(0))) & terms
    ]

    def distance(e: Entity) -> int:
        if not anchors:
            return 0
        return min(0 if e.start <= a < e.end else min(abs(a - e.start), abs(a - e.end)) for a in anchors)

    return min(candidates, key=lambda e: (distance(e), labels.index(e.label), e.start))


def short_answer(tagger: EntityTagger, question: Question, citations: Sequence[Citation]) -> Short | None:
    """The phrase of the first cited sentence that holds one answering ``question``, as a
    :class:`Short` pointing into its article; None when the question asks for no such phrase."""
    if not question.labels:
        return None
    for n, (c, entities) in enumerate(
        zip(citations, tagger.entities([c.text for c in citations]), strict=True), 1
    ):
        found = pick(question, c.text, entities)
        if found:
            return Short(found.text, c.article_id, c.start + found.start, c.start + found.end, n)
    return None
