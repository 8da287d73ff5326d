"""Whether a sentence states what a question asks for: cheap detectors of amounts, percentages,
counts, dates, durations, times and names, read against the question's entity labels.

"How much did the stadium cost?" asks for an amount (its labels are MONEY, QUANTITY, PERCENT,
CARDINAL: :func:`~assistant.question.forms.asked_for`); "The $1.2 billion stadium opened in
2014." states one, "NFL owners awarded the game to Levi's Stadium on May 21, 2013." states only
a date, and a figure the question itself names ("the 7th festival") states nothing new. The
ranker reads this of every candidate, so the sentence that states the asked-for thing outranks
the one that is only on its topic, and the abstention model reads it of the best one.

Regular expressions only, no entity model, so every candidate can be checked: a few scans of
one sentence.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from assistant.core.text import MONTH_ABBREVIATIONS, MONTHS, STOPWORDS, WEEKDAYS

_NUMBER_WORDS = (
    "one(?!\\s+of\\b) two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred "
    "hundreds thousand thousands million millions billion billions trillion dozen dozens half third "
    "thirds quarter quarters twice double triple several numerous none few"
)
_TIME_UNITS = r"(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|decades?|centuries|century|nights?)"
_MEASURE_UNITS = (
    r"(?:miles?|mi|kilometres?|kilometers?|km|metres?|meters?|feet|foot|ft|inch(?:es)?|cm|mm|yards?"
    r"|acres?|hectares?|tons?|tonnes?|kg|kilograms?|grams?|lbs?|ounces?|oz|litres?|liters?"
    r"|gallons?|mph|km/h|degrees?|°[CF]?|mw|gw|kw|watts?|volts?|gb|tb|mb|calories|points)"
)
_CURRENCY = r"(?:[$€£¥₹]|\b(?-i:US|C|A|HK|NZ)\$|\b(?-i:USD|EUR|GBP)\s?)"
_CURRENCY_WORDS = r"(?:dollars?|euros?|pounds?|cents?|yuan|yen|rupees?|francs?|pesos?|bucks|rubles?|won)"
# One figure: an optional currency, a number (digits or words), an optional scale and unit.
_FIGURE = re.compile(
    rf"(?P<currency>{_CURRENCY})?(?P<number>\d[\d,.]*\d|\d|\b(?:{'|'.join(_NUMBER_WORDS.split())})\b)"
    rf"(?P<ordinal>st|nd|rd|th)?\b"
    rf"(?:[\s-]*(?P<scale>million|billion|trillion|thousand|[mbk]n?)\b)?"
    rf"(?:\s*(?P<percent>%|percent\b|per cent\b|percentage points?\b))?"
    rf"(?:[\s-]*(?P<money>{_CURRENCY_WORDS})\b)?"
    rf"(?:[\s-]*(?P<time>{_TIME_UNITS})\b)?"
    rf"(?:[\s-]*(?P<measure>{_MEASURE_UNITS})(?![\w]))?",
    re.I,
)
_YEAR = re.compile(r"^(?:1[0-9]{3}|20[0-9]{2})$")
_MONTHS = "|".join((*MONTHS, *MONTH_ABBREVIATIONS))
_CALENDAR = (*MONTHS, *MONTH_ABBREVIATIONS, *WEEKDAYS)
_DATE_WORDS = re.compile(
    rf"\b(?:{'|'.join(_CALENDAR)}|(?i:today|yesterday|tomorrow|tonight|ago|spring|summer|autumn|fall|winter|weekend"
    r"|(?:last|next|this|that|the following|the previous) (?:week|month|year|decade|season|century)"
    r"|(?:1[0-9]|20)[0-9]0s|centur(?:y|ies)|decades?))\b"
)
_TIME_WORDS = re.compile(
    r"\b\d{1,2}:\d\d\b|\b\d{1,2}\s?(?:a\.?m\.?|p\.?m\.?)|\b(?:noon|midnight|o['’]clock|morning|afternoon"
    r"|evening|overnight|dawn|dusk)\b",
    re.I,
)
_NAME = re.compile(r"\b[A-Z][\w'’.&-]*")
_NAME_LABELS = frozenset("PERSON ORG NORP GPE LOC FAC EVENT WORK_OF_ART LAW LANGUAGE PRODUCT".split())
_NOT_NAMES = frozenset(name.lower() for name in _CALENDAR) | STOPWORDS  # capitalised, yet no answer to "who"

# What a kind of expression is called when a sentence lacks it.
WHAT: dict[str, str] = {
    "MONEY": "an amount",
    "PERCENT": "a percentage",
    "CARDINAL": "a number",
    "QUANTITY": "a measure",
    "DATE": "a date",
    "TIME": "a time",
}


@dataclass(frozen=True, slots=True)
class Stated:
    """The expressions one sentence states, by kind (entity labels, as the question asks)."""

    figures: tuple[tuple[str, frozenset[str]], ...]  # (the figure's value, its kinds)
    dates: tuple[str, ...]  # date and time words, lower-cased
    names: tuple[str, ...]  # capitalised words, lower-cased


def _value(match: re.Match[str]) -> str:
    return match.group("number").replace(",", "").lower().rstrip(".")


_MONTH_BEFORE = re.compile(rf"\b(?:{_MONTHS})\.?\s*$")
_MONTH_AFTER = re.compile(rf"^(?:\s+of)?\s+(?:{_MONTHS})\b")


# A plural noun after a number ("2000 guests", "1013 times"): what the number counts.
_COUNTED = re.compile(r"^\s+(?!(?:was|has|is|as|its|his|this|thus|plus|across|us|does)\b)[a-z]{2,}s\b")


def _kinds(match: re.Match[str], sentence: str) -> frozenset[str]:
    before, after = (
        sentence[max(0, match.start() - 12) : match.start()],
        sentence[match.end() : match.end() + 16],
    )
    if _MONTH_BEFORE.search(before) or _MONTH_AFTER.match(after):
        return frozenset({"DATE"})  # a day of a month: "August 31", "31 August", "the 5th of May"
    if match.group("ordinal"):
        return frozenset({"DATE", "CARDINAL"})  # "the 16th century", "the 3rd"
    if match.group("currency") or match.group("money"):
        return frozenset({"MONEY", "CARDINAL"})
    if match.group("percent"):
        return frozenset({"PERCENT", "CARDINAL"})
    if match.group("time"):
        return frozenset({"DATE", "QUANTITY", "CARDINAL"})  # a duration: "180 days", "20-year"
    if match.group("measure"):
        return frozenset({"QUANTITY", "CARDINAL"})
    if _YEAR.match(_value(match)) and not match.group("scale"):
        if "," in match.group("number"):
            return frozenset({"CARDINAL"})  # "2,000" is a count, never a year
        if _COUNTED.match(after):
            return frozenset({"DATE", "CARDINAL"})  # "2000 guests", or "the 2012 elections"
        return frozenset({"DATE"})  # a bare year
    if match.group("scale"):
        return frozenset({"MONEY", "QUANTITY", "CARDINAL"})  # "600 million" is often an amount
    return frozenset({"CARDINAL"})


_POSSESSIVE = re.compile(r"['’]s$")


@functools.lru_cache(maxsize=4096)  # the ranker and the near-miss rules read the same sentences
def stated(sentence: str) -> Stated:
    """What ``sentence`` states: its figures, date words and capitalised words (but its first)."""
    figures = tuple((_value(m), _kinds(m, sentence)) for m in _FIGURE.finditer(sentence) if m.group("number"))
    dates = tuple(
        m.group(0).lower() for m in (*_DATE_WORDS.finditer(sentence), *_TIME_WORDS.finditer(sentence))
    )
    names = tuple(
        name
        for m in _NAME.finditer(sentence)
        if m.start() > 0 and (name := _POSSESSIVE.sub("", m.group(0).rstrip(".").lower())) not in _NOT_NAMES
    )
    return Stated(figures, dates, names)


# A span of time: a unit of time, or a span from a point ("since 1951", "until 1796", "from 1870 to 1939").
_SPAN = re.compile(
    rf"\b(?:{_TIME_UNITS}|since|until|till|throughout|from\b.{{1,60}}?\b(?:to|until|till)|lifetime|forever)\b",
    re.I,
)


def states_duration(sentence: str) -> bool:
    """Whether ``sentence`` states how long something lasts (or measures): a figure with a unit
    of time or measure, a unit of time ("after a year", "for decades") or a span from a point."""
    return any("QUANTITY" in kinds for _, kinds in stated(sentence).figures) or bool(_SPAN.search(sentence))


@dataclass(frozen=True, slots=True)
class Expected:
    """What a question asks a sentence to state: kinds of expression (entity labels), and
    what the question names itself (which a sentence repeating it does not state anew)."""

    labels: tuple[str, ...]  # the question's entity labels, most likely first
    own: frozenset[str]  # the question's figures, date words and words, lower-cased

    @classmethod
    def of(cls, question: str, labels: tuple[str, ...]) -> Expected:
        """What ``question``, asking for ``labels``, expects."""
        said = stated(question)
        words = {w.lower().strip("'’.") for w in re.findall(r"[\w'’.-]+", question)}
        words |= {_POSSESSIVE.sub("", w) for w in words}
        return cls(labels, frozenset({v for v, _ in said.figures} | set(said.dates) | words))

    @property
    def checked(self) -> bool:
        """Whether the detectors know any kind the question asks for."""
        return any(label in WHAT or label in _NAME_LABELS for label in self.labels)

    def stated_in(self, sentence: str) -> bool | None:
        """Whether ``sentence`` states an expression of an asked-for kind that the question
        does not name itself; None when the question asks for no kind the detectors know."""
        if not self.checked:
            return None
        wanted = set(self.labels)
        found = stated(sentence)
        if any(kinds & wanted and value not in self.own for value, kinds in found.figures):
            return True
        if wanted & {"DATE", "TIME"} and any(d not in self.own for d in found.dates):
            return True
        return bool(wanted & _NAME_LABELS) and any(n not in self.own for n in found.names)

    def lacking(self) -> str:
        """What a sentence that does not state it lacks ("an amount", "a date", "a name")."""
        return next((WHAT[label] for label in self.labels if label in WHAT), "a name")
