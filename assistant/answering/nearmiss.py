"""Near misses: a sentence that matches the question's words but not what it asks about.

"When did the UK designate the Haqqani Network a terrorist group?" matches "The US first
designated the Haqqani Network as a terrorist group in 2012." on every word but one, and
that one decides: the sentence answers another question. A candidate is a near miss when:

- **another person**: the question names someone ("Sirajuddin Haqqani") whose last name the
  sentence gives to someone else ("Khalil Haqqani"), and the first name nowhere near;
- **another country or nationality**: a country, nationality or other place the question
  names ("the UK", "British") is not mentioned in the sentence's paragraph or its article's
  title ("U.S." for "US", "Afghan" for "Afghanistan" count as mentions);
- **another figure or day**: a year, an amount, a count with its unit or a named day or
  month of the question ("in 2015", "USD 10 million", "20 years", "on Tuesday") is not in
  the paragraph; when the whole article does not hold it either, this declines the sentence
  outright (**figure not in the article**; the article is read only then);
- **someone not there**: a person the question names is mentioned nowhere in the paragraph;
- **not stated**: the question asks for a kind of expression (an amount for "how much", a
  date for "when", a name for "who") and the sentence states none that the question does not
  name itself (:class:`~assistant.question.expressions.Expected`); when it asks for an amount,
  a percentage, a count or an age first ("how much does it cost?", "how many people came?",
  "how old is it?"), or how long something lasts (which a unit of time or a "since"/"until"
  states, a date alone does not), this declines the sentence outright (**no amount**);
- **a name not there**: a capitalised word or a figure of the question ("Xbox", "6th") is
  not mentioned in the paragraph, in any form :func:`alike` takes for it;
- **no one in that role**: the question asks who holds a role ("Who leads ISIS-K?", "Who is
  the ambassador to ...?") and neither the sentence nor its neighbours name a person in a
  sentence with a word of that role ("the chairman praised ..." names none).

Each rule was kept only where it costs almost no right answer on SQuAD v1.1 while declining
SQuAD v2's unanswerable questions (``docs/quality.md``). Names come from the question's
capitalised words; countries, nationalities and people from
:class:`~assistant.answering.entities.EntityTagger`, asked only when the answer can matter: a
paragraph that mentions every word of the question (but its question words, "who", "is" ...,
which no name holds) mentions every name in it, whichever words those are, so then the rules
on the question's places and people cannot trip and the entity model need not even load.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.answering.entities import Entity, EntityTagger
from assistant.answering.names import alike, initials, looked_for, mentions, normal
from assistant.core.records import Reason
from assistant.core.text import MONTHS, WEEKDAYS
from assistant.question.expressions import states_duration
from assistant.question.forms import asks_duration, asks_figure
from assistant.question.parse import Question
from assistant.question.roles import role_words
from assistant.search.ranking import Ranking

PLACES = ("GPE", "NORP", "LOC")  # countries, nationalities, other places
AMOUNTS = ("MONEY", "PERCENT")  # what "how much" and "what percentage" ask for first
_UNITS = (
    "million billion trillion thousand years? months? weeks? days? hours? minutes? percent per cent "
    "people members soldiers times miles kilometres kilometers km metres meters feet dollars euros pounds"
)
_FIGURE = re.compile(
    rf"\b(\d[\d,.]*\d|\d)\s+({'|'.join(_UNITS.split())})\b|\b(1[0-9]{{3}}|20[0-9]{{2}})\b", re.I
)
_DAY = re.compile(rf"\b(?:{'|'.join((*WEEKDAYS, *MONTHS))})\b")


@dataclass(frozen=True, slots=True)
class Surroundings:
    """What a candidate sentence is judged with."""

    sentence: str
    window: str  # the sentence and its neighbours in the paragraph
    paragraph: str  # the sentence's paragraph and its article's title
    people: tuple[str, ...]  # the persons named in a sentence of the window with a word of the role asked
    article: Callable[[], str] = str  # the text of its whole article, read when asked ("": unknown)


def other_person(question: str, sentence: str, paragraph: str) -> str | None:
    """The question's "First Last" when the sentence gives "Last" another first name and "First"
    is nowhere in the paragraph; else None."""
    words = normal(paragraph).split()
    tokens = question.split()
    for position in range(1, len(tokens) - 1):  # the question's first word is capitalised anyway
        first = tokens[position].strip('"“(')
        last = tokens[position + 1].strip('?,.;:!"”“()').removesuffix("’s").removesuffix("'s")
        if not (last[:1].isupper() and first[:1].isupper()):
            continue
        asked = normal(first).split()[-1:]  # "Kylie" of "Coty-Kylie Jenner"
        for match in re.finditer(rf"\b([A-Z][\w’'.-]*)\s+{re.escape(last)}\b", sentence):
            given = normal(match.group(1)).split()
            elsewhere = any(alike(asked[0], w) for w in words) if asked else True
            if given and not elsewhere and not alike(asked[0], given[-1]):
                return f"{first} {last}"
    return None


# Question words and auxiliaries: never part of a person's or a place's name (a span holding one
# is a tagging slip, not a name).
_FUNCTION_WORDS = frozenset(
    "who whom whose what which when where why how is are was were am be been being do does did "
    "has have had".split()
)


def names_in(entities: Sequence[Entity]) -> list[Entity]:
    """The entities that can be names: none of the words they are looked for by is a question
    word or an auxiliary ("Do Kwon" is looked for by "kwon", and stays)."""
    return [e for e in entities if not _FUNCTION_WORDS.intersection(looked_for(e.text))]


def mentions_every_word(question: str, paragraph: str) -> bool:
    """Whether ``paragraph`` mentions every word of ``question`` that a name can hold, in a form
    :func:`alike` takes for it: then it mentions every name the question holds."""
    found = set(normal(paragraph).split())
    return all(_found(word, found) for word in set(normal(question).split()) - _FUNCTION_WORDS)


def _found(word: str, found: set[str]) -> bool:
    """Whether the normalised ``word`` is among the words ``found``, in a form :func:`alike` takes
    for it (words of three letters or more)."""
    return word in found or (len(word) > 2 and any(alike(word, other) for other in found))


def missing_place(places: Sequence[Entity], paragraph: str) -> str | None:
    """A country, nationality or place the question names that the paragraph does not mention."""
    return next((e.text for e in places if e.label in PLACES and not mentions(paragraph, e.text)), None)


def missing_figure(question: str, paragraph: str) -> str | None:
    """A year, an amount, a count with its unit or a day of the question ("2015", "10 million",
    "20 years", "Tuesday") absent from the paragraph."""
    plain = paragraph.replace(",", "")
    for match in _FIGURE.finditer(question):
        figure = match.group(3) or f"{match.group(1).replace(',', '')} {match.group(2)}"
        if not re.search(rf"(?<![\d.]){re.escape(figure)}\b", plain, re.I):
            return figure
    return next((m.group(0) for m in _DAY.finditer(question) if m.group(0) not in paragraph), None)


def missing_person(question_entities: Sequence[Entity], paragraph: str) -> str | None:
    """A person the question names whom the paragraph mentions by none of their names."""
    words = normal(paragraph).split()
    for e in question_entities:
        names = [part for part in normal(e.text).split() if len(part) > 2]
        if e.label == "PERSON" and names and not any(alike(n, w) for n in names for w in words):
            return e.text
    return None


_NAME_OR_FIGURE = re.compile(r"\b(?:[A-Z][\w'’-]*|\w*\d[\w-]*)")


def missing_name(question: str, paragraph: str) -> str | None:
    """A capitalised word or a figure of the question (but its first word) that the paragraph
    does not mention in any form :func:`alike` takes for it ("Xbox", "6th")."""
    found = set(normal(paragraph).split()) | initials(paragraph)
    for match in _NAME_OR_FIGURE.finditer(question):
        if match.start() == 0:
            continue
        if any(w not in _FUNCTION_WORDS and not _found(w, found) for w in normal(match.group(0)).split()):
            return match.group(0).removesuffix("’s").removesuffix("'s")
    return None


def role_unnamed(role: str, question_people: set[str], around: Surroundings) -> bool:
    """The window names no person (besides the question's own) together with a word of ``role``."""
    words = set(normal(around.window).split())
    people = [p for p in around.people if normal(p) not in question_people]
    return not (people and words & role_words(role))


RULES = (
    "other_person",
    "missing_place",
    "missing_person",
    "missing_figure",
    "unstated",
    "unnamed_role",
    "missing_name",
    "no_amount",
    "figure_not_in_article",
)
# Declined outright: the rules that decline almost no right answer on SQuAD v1.1. The others
# weigh in the abstention model as signals, each with the weight it earned there.
HARD = ("other_person", "missing_place", "unnamed_role", "no_amount", "figure_not_in_article")
# What a decline by each rule tells a program: how the closest sentence misses.
REASONS: dict[str, Reason] = {
    "other_person": "other_entity",
    "missing_place": "other_entity",
    "missing_person": "other_entity",
    "missing_figure": "other_entity",
    "unstated": "missing_attribute",
    "unnamed_role": "other_role",
    "missing_name": "other_entity",
    "no_amount": "missing_attribute",
    "figure_not_in_article": "other_entity",
}


@dataclass(frozen=True, slots=True)
class Miss:
    """How a candidate misses the question: the reason value, and the words that say how
    ("nothing here mentions the UK")."""

    reason: Reason
    detail: str


@dataclass(frozen=True, slots=True)
class Misses:
    """Which near-miss rules a candidate trips, each with its reason (None when it does not)."""

    reasons: tuple[str | None, ...]  # one per rule of RULES

    def flag(self, rule: str) -> float:
        """1.0 when ``rule`` trips, else 0.0: a signal of the abstention model."""
        return float(self.reasons[RULES.index(rule)] is not None)

    def decline(self) -> Miss | None:
        """Why the candidate is declined outright (a hard rule tripped), or None."""
        return self._first(HARD)

    def explain(self) -> Miss | None:
        """How the candidate misses, when it does: a hard rule's reason first, else the first
        other rule's (what a decline of the abstention model says)."""
        return self.decline() or self._first(RULES)

    def _first(self, rules: Sequence[str]) -> Miss | None:
        rule = next((r for r in rules if self.flag(r)), None)
        return Miss(REASONS[rule], self.reasons[RULES.index(rule)] or "") if rule else None


NO_MISSES = Misses((None,) * len(RULES))


def misses(
    question: Question, question_entities: Callable[[], Sequence[Entity]], around: Surroundings
) -> Misses:
    """How the candidate in ``around`` may answer another question than this one;
    ``question_entities`` gives the question's entities, asked only when they can matter."""
    text = question.text
    every = mentions_every_word(text, around.paragraph)
    named = [] if every else names_in(question_entities())
    person = other_person(text, around.sentence, around.paragraph)
    place = missing_place(named, around.paragraph)
    absent = missing_person(named, around.paragraph)
    figure = missing_figure(text, around.paragraph)
    whole = around.article() if figure is not None else ""  # "": the article is not known
    nowhere = bool(whole) and missing_figure(text, whole) is not None
    unstated = question.expects.stated_in(around.sentence) is False
    figure_first = bool(question.labels) and (question.labels[0] in AMOUNTS or asks_figure(text))
    lacks = f"the sentence does not state {question.expects.lacking()}"
    if asks_duration(text):  # a span of time, which a date alone does not state
        figure_first, unstated = True, not states_duration(around.sentence)
        lacks = "the sentence does not state how long"
    name = None if every else missing_name(text, around.paragraph)
    unnamed = False
    if question.role is not None:
        asked = {normal(e.text) for e in names_in(question_entities()) if e.label == "PERSON"}
        unnamed = role_unnamed(question.role, asked, around)
    return Misses(
        (
            f"the sentence is about someone else than {person}" if person else None,
            f"nothing here mentions {place}" if place else None,
            f"nothing here mentions {absent}" if absent else None,
            f"nothing here mentions {figure}" if figure else None,
            lacks if unstated else None,
            "no one here is named in that role" if unnamed else None,
            f"nothing here mentions {name}" if name else None,
            lacks if unstated and figure_first else None,
            f"the article never mentions {figure}" if nowhere else None,
        )
    )


class NearMissJudge:
    """Judges the candidates of a ranking by the rules above, with the entity tagger."""

    def __init__(self, tagger: EntityTagger) -> None:
        self.tagger = tagger

    def of(self, ranking: Ranking) -> Callable[[int], Misses]:
        """The rules each candidate of ``ranking`` trips (by position), worked out when first
        asked: a candidate's surroundings only when it is judged, the question's entities once,
        when a rule first needs them."""
        question = ranking.question

        @functools.cache
        def entities() -> tuple[Entity, ...]:
            return self.tagger.entities([question.text])[0]

        @functools.cache
        def judged(i: int) -> Misses:
            return misses(question, entities, self._surroundings(ranking, ranking.candidates[i].row))

        return judged

    def _surroundings(self, ranking: Ranking, row: int) -> Surroundings:
        """The sentence in ``row`` with its neighbours and paragraph."""
        corpus = ranking.corpus
        paragraph = corpus.paragraph_of[row]
        window_rows = (int(corpus.previous[row]), row, int(corpus.following[row]))
        nearby = [
            corpus.sentences[r].text
            for r in dict.fromkeys(window_rows)
            if corpus.paragraph_of[r] == paragraph
        ]
        sentence = corpus.sentences[row]
        texts = [corpus.sentences[int(r)].text for r in corpus.rows_of_paragraph(paragraph)]
        people = ()
        role = ranking.question.role
        if role:  # only a "who holds this role" question needs people: those named beside the role
            holding = [text for text in nearby if role_words(role) & set(normal(text).split())]
            found = self.tagger.entities(holding) if holding else []
            people = tuple(e.text for entities in found for e in entities if e.label == "PERSON")
        window = " ".join(nearby)

        def article() -> str:
            rows = corpus.rows_of_article(int(corpus.article_of[row]))
            return " ".join([*(corpus.sentences[int(r)].text for r in rows), sentence.title])

        return Surroundings(sentence.text, window, " ".join([*texts, sentence.title]), people, article)
