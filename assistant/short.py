"""The short answer: the phrase of the best sentence that answers a question asking for an
amount, a number, a date, a duration, a person, a place or an organisation.

The question's form says what it asks for (:func:`asked_for`: "how many" wants a number,
"when" a date, "which country" a place...); the answer is the entity of that kind in the
sentence that the question does not already name, the one nearest the question's own words
(:func:`pick`). "Who is Khalil Haqqani?" asks for a description, not a name, so it gets no
short answer; neither does a question whose kind the sentence does not hold.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.entities import Entity
from assistant.text import content_terms, words

# (question pattern, entity labels that answer it, most likely first); the first match wins
_FORMS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(pattern, re.I), labels)
    for pattern, labels in (
        (r"\b(?:what|which) (?:percentage|percent|share|proportion)\b", ("PERCENT",)),
        (r"\bhow much\b", ("MONEY", "QUANTITY", "PERCENT", "CARDINAL")),
        (r"\bhow many\b", ("CARDINAL", "QUANTITY", "MONEY", "PERCENT")),
        (r"\bhow long\b", ("DATE", "TIME", "QUANTITY", "CARDINAL")),
        (r"\bhow old\b", ("DATE", "CARDINAL")),
        (r"\bhow (?:far|tall|big|high|large|wide|deep|heavy|fast)\b", ("QUANTITY", "CARDINAL")),
        (r"^\W*who(?:m|se)?\b|\b(?:by|to|for|with|of) whom\b|,\s*who\b", ("PERSON", "ORG", "NORP")),
        (r"^\W*when\b|\bwhen (?:did|does|do|was|were|is|will|had|has)\b", ("DATE", "TIME")),
        (r"^\W*where\b|\bwhere (?:did|does|do|was|were|is|are|will)\b", ("GPE", "LOC", "FAC", "ORG")),
    )
)
# What a "what X" / "which X" question asks for, by its head noun X: general English nouns.
_NOUNS: dict[tuple[str, ...], str] = {
    ("PERSON",): "person man woman king queen emperor empress president leader author writer poet composer "
    "artist painter architect player quarterback coach scientist physicist chemist biologist mathematician "
    "philosopher politician minister general commander founder inventor engineer actor actress singer "
    "director chancellor pope bishop saint ruler prince princess monarch sultan khan son daughter wife "
    "husband brother sister father mother teacher professor mayor governor senator judge spokesman "
    "spokeswoman spokesperson secretary ceo chairman owner explorer journalist reporter editor economist "
    "historian theologian mathematician astronomer physician doctor lawyer officer soldier pilot captain "
    "admiral lieutenant dictator",
    ("ORG", "NORP"): "company corporation firm organization organisation group team club university college "
    "school party agency newspaper network channel station band airline council committee institute "
    "league union association bank publisher magazine broadcaster studio label manufacturer retailer "
    "court government administration army navy ministry department commission movement tribe church",
    ("GPE", "LOC", "FAC"): "country nation city town village state province region area county district "
    "capital continent island river lake sea ocean mountain mountains desert place location neighborhood "
    "neighbourhood borough port territory kingdom empire republic peninsula valley coast border",
    ("DATE", "TIME"): "year date month day decade century era period season week time eon",
    ("CARDINAL", "QUANTITY", "MONEY", "PERCENT"): "number amount rate rating score population size length "
    "height weight distance temperature speed total count sum cost price fee reward bounty salary budget "
    "value revenue capacity attendance",
    ("EVENT",): "war battle event game championship tournament olympics festival revolution conference "
    "election match competition",
    ("FAC", "ORG", "GPE"): "building stadium bridge airport palace castle hospital museum cathedral tower "
    "street road square park hotel prison",
    ("WORK_OF_ART",): "book song album film movie novel poem painting show opera play series",
    ("LAW",): "law act treaty amendment constitution bill",
    ("NORP",): "nationality religion ethnicity",
    ("LANGUAGE", "NORP"): "language",
}
_NOUN_LABELS = {noun: labels for labels, nouns in _NOUNS.items() for noun in nouns.split()}
_WHAT_PHRASE = re.compile(
    r"\b(?:what|which)(?:\s+(?:kind|type|sort|name)\s+of)?((?:\s+[\w'’-]+){1,3})"
    r"|\bname (?:of )?(?:the|a|an)((?:\s+[\w'’-]+){1,3})",
    re.I,
)


def _head_noun_labels(question: str) -> tuple[str, ...]:
    """The labels of the first known noun after "what"/"which" (or "the name of the ...")."""
    for match in _WHAT_PHRASE.finditer(question):
        phrase = match.group(1) or match.group(2)
        for word in phrase.lower().split():
            word = re.sub(r"['’]s$", "", word)
            labels = _NOUN_LABELS.get(word) or _NOUN_LABELS.get(word.removesuffix("s"))
            if labels:
                return labels
    return ()


_IDENTITY = re.compile(
    r"^\s*(?i:who)\s+(?i:is|was|are|were)\s+[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*\s*\??\s*$"
)


def asked_for(question: str) -> tuple[str, ...]:
    """The entity labels that answer ``question``, most likely first; () when it asks for none."""
    if _IDENTITY.match(question):
        return ()  # "Who is X?" wants a description of X, not another name
    for pattern, labels in _FORMS[:6]:  # "how many", "how much"... say more than the noun after them
        if pattern.search(question):
            return labels
    head = _head_noun_labels(question)
    if head:
        return head
    for pattern, labels in _FORMS[6:]:
        if pattern.search(question):
            return labels
    return ()


@dataclass(frozen=True, slots=True)
class Pick:
    """The entity chosen as the short answer, and how many entities of the asked kind competed."""

    entity: Entity
    rivals: int


def _named_in(entity: Entity, question_words: set[str]) -> bool:
    own = [w for w in words(entity.text) if w not in ("the", "a", "an")]
    return bool(own) and all(w in question_words for w in own)


def pick(question: str, sentence: str, entities: Sequence[Entity]) -> Pick | None:
    """The entity of ``sentence`` that answers ``question``: of an asked-for label, not named in
    the question, nearest the question's words in the sentence (then the likelier label)."""
    labels = asked_for(question)
    if not labels:
        return None
    asked = set(words(question))
    candidates = [e for e in entities if e.label in labels and not _named_in(e, asked)]
    if not candidates:
        return None
    terms = set(content_terms(question))
    anchors = [
        m.start() for m in re.finditer(r"\w+(?:['’]\w+)*", sentence) if set(content_terms(m.group(0))) & terms
    ]

    def distance(e: Entity) -> int:
        if not anchors:
            return 0
        return min(0 if e.start <= a < e.end else min(abs(a - e.start), abs(a - e.end)) for a in anchors)

    best = min(candidates, key=lambda e: (distance(e), labels.index(e.label), e.start))
    return Pick(best, len(candidates))
