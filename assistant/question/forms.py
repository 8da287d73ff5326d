"""What answer a question's form asks for: a kind of fact for the ranker ("how many" wants a
number, "when" a date, "who" a name), the entity labels a short answer would carry, and
whether it asks for a cause.

Rules over general English question forms and head nouns ("which country" wants a place,
"what year" a date), never over one article's words.
"""

from __future__ import annotations

import re
from typing import Literal

Kind = Literal["number", "date", "name", "other"]

_WHY = re.compile(r"\bwhy\b", re.I)
_NUMBER_QUESTION = re.compile(
    r"\bhow (?:many|much|long|old|far|large|big|tall|high|often)\b"
    r"|\bwhat (?:percentage|percent|number|amount|proportion|size)\b",
    re.I,
)
_DATE_QUESTION = re.compile(
    r"\bwhen\b|\b(?:what|which) (?:year|date|century|decade|month|day|time|period)\b", re.I
)
_NAME_QUESTION = re.compile(r"\bwho(?:m|se)?\b|\bwhere\b", re.I)


def question_kind(question: str) -> Kind:
    """What the question asks for: ``number``, ``date``, ``name`` or ``other``."""
    if _NUMBER_QUESTION.search(question):
        return "number"
    if _DATE_QUESTION.search(question):
        return "date"
    if _NAME_QUESTION.search(question):
        return "name"
    return "other"


def asks_cause(question: str) -> bool:
    """Whether the question asks why."""
    return bool(_WHY.search(question))


_HOW_MANY = r"\bhow many\b"
_HOW_OLD = r"\bhow old\b"
_FIGURE_QUESTION = re.compile(rf"{_HOW_MANY}|{_HOW_OLD}", re.I)
_HOW_LONG = r"\bhow long\b"
_DURATION_QUESTION = re.compile(_HOW_LONG, re.I)


def asks_figure(question: str) -> bool:
    """Whether the question asks how many or how old: for a count or an age, which only a
    figure states."""
    return bool(_FIGURE_QUESTION.search(question))


def asks_duration(question: str) -> bool:
    """Whether the question asks how long: for a span of time (or a length), which a sentence
    states with a unit or a "since"/"until", never with a bare date."""
    return bool(_DURATION_QUESTION.search(question))


# Words that make "how much" ask for a sum of money ("how much did it cost?")
_PRICED = (
    "costs?|costing|prices?|priced|pa(?:y|ys|id|ying)|spen(?:d|ds|t)|charge[sd]?|fees?|worth|sell(?:s)?|sold"
    "|b(?:uy|uys|ought)|earn(?:s|ed)?|raise[sd]?|donate[sd]?|invest(?:s|ed)?|owe[sd]?|fine[sd]?|budget"
)
_Forms = tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]


def _forms(*pairs: tuple[str, tuple[str, ...]]) -> _Forms:
    """(question pattern, entity labels that answer it, most likely first), compiled."""
    return tuple((re.compile(pattern, re.I), labels) for pattern, labels in pairs)


# Forms that say more than the noun after them ("how many", "how much" ...); the first match wins
_MEASURE_FORMS = _forms(
    (r"\b(?:what|which) (?:percentage|percent|share|proportion)\b", ("PERCENT",)),
    (rf"\bhow much\b(?=.*\b(?:{_PRICED})\b)", ("MONEY", "PERCENT")),  # a price, or its change
    (r"\bhow much\b", ("MONEY", "QUANTITY", "PERCENT", "CARDINAL")),
    (_HOW_MANY, ("CARDINAL", "QUANTITY", "MONEY", "PERCENT")),
    (_HOW_LONG, ("DATE", "TIME", "QUANTITY", "CARDINAL")),
    (_HOW_OLD, ("DATE", "CARDINAL")),
    (r"\bhow (?:far|tall|big|high|large|wide|deep|heavy|fast)\b", ("QUANTITY", "CARDINAL")),
)
# Forms read when the question names no noun of a known kind; the first match wins
_OTHER_FORMS = _forms(
    (r"^\W*(?:what|how much)\b.*\bworth\b", ("MONEY", "CARDINAL")),
    (r"^\W*who(?:m|se)?\b|\b(?:by|to|for|with|of) whom\b|,\s*who\b", ("PERSON", "ORG", "NORP")),
    (r"^\W*when\b|\bwhen (?:did|does|do|was|were|is|will|had|has)\b", ("DATE", "TIME")),
    (r"^\W*where\b|\bwhere (?:did|does|do|was|were|is|are|will)\b", ("GPE", "LOC", "FAC", "ORG")),
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
    "admiral lieutenant dictator official lineman publicist aide adviser advisor executive analyst "
    "researcher candidate",
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
    "value revenue capacity attendance level",
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
# "the name of the publicist": the noun a name is asked for, read before "what is the ..."
_NAME_OF = re.compile(r"\bname (?:of )?(?:the|a|an)((?:\s+[\w'’-]+){1,3})", re.I)
_WHAT_PHRASE = re.compile(
    r"\b(?:what|which)(?:['’]s)?(?:\s+(?:kind|type|sort|name)\s+of)?((?:\s+[\w'’-]+){1,3})", re.I
)


def _head_noun_labels(question: str) -> tuple[str, ...]:
    """The labels of the first known noun of "the name of the ...", else after "what"/"which"."""
    for match in (*_NAME_OF.finditer(question), *_WHAT_PHRASE.finditer(question)):
        for word in match.group(1).lower().split():
            word = re.sub(r"['’]s$", "", word)
            labels = _NOUN_LABELS.get(word) or _NOUN_LABELS.get(word.removesuffix("s"))
            if labels:
                return labels
    return ()


_IDENTITY = re.compile(
    r"^\s*(?i:who)\s+(?i:is|was|are|were)\s+[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*\s*\??\s*$"
)


# A clause before the question proper: "When rock folds, what does it form?" asks what, not when.
_LEADING_CLAUSE = re.compile(
    r"^\W*(?:when|if|while|once|as|after|before|since)\b[^,?]*,\s*(?=(?:what|which|who|whom|whose|how|where)\b)",
    re.I,
)


def asked_for(question: str) -> tuple[str, ...]:
    """The entity labels that answer ``question``, most likely first; () when it asks for none."""
    question = _LEADING_CLAUSE.sub("", question)
    if _IDENTITY.match(question):
        return ()  # "Who is X?" wants a description of X, not another name
    for pattern, labels in _MEASURE_FORMS:
        if pattern.search(question):
            return labels
    head = _head_noun_labels(question)
    if head:
        return head
    for pattern, labels in _OTHER_FORMS:
        if pattern.search(question):
            return labels
    return ()
