"""The near-miss rules on their own: each trips on the detail it is about, and not on the usual
ways a right sentence words the same thing."""

from __future__ import annotations

import pytest

from assistant.answering.entities import EntityTagger
from assistant.answering.names import mentions
from assistant.answering.nearmiss import HARD, RULES, Surroundings, misses
from assistant.question.parse import Question
from assistant.question.roles import role_asked

TAGGER = EntityTagger()


def _tripped(question: str, sentence: str, paragraph: str = "", people: tuple[str, ...] = ()) -> set[str]:
    around = Surroundings(sentence, sentence, f"{paragraph} {sentence}", people)
    found = misses(Question.parse(question), TAGGER.entities([question])[0], around)
    return {rule for rule in RULES if found.flag(rule)}


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        ("The U.S. designated the group in 2012.", "US", True),
        ("American officials said so.", "US", True),
        ("Afghan forces held the airport.", "Afghanistan", True),
        ("The Carolina Panthers won.", "Panther", True),
        ("Montcalm focused on the defence.", "Moncalm", True),  # one letter off
        ("The US designated the group.", "UK", False),
        ("Officials in Berlin said so.", "France", False),
    ],
)
def test_mentions_allows_the_usual_variants_of_a_name(text: str, name: str, expected: bool) -> None:
    assert mentions(text, name) is expected


def test_another_person_with_the_same_surname() -> None:
    question = "How much reward is offered for Sirajuddin Haqqani?"
    assert "other_person" in _tripped(question, "Khalil Haqqani has a USD 5 million reward on his head.")
    assert "other_person" not in _tripped(question, "Sirajuddin Haqqani has a USD 10 million reward.")
    assert "other_person" not in _tripped(question, "Haqqani has a reward on his head.")  # surname only


def test_a_country_the_paragraph_does_not_mention() -> None:
    question = "When did the UK designate the Haqqani Network a terrorist group?"
    assert "missing_place" in _tripped(question, "The US first designated the Haqqani Network in 2012.")
    assert "missing_place" not in _tripped(
        question, "The Haqqani Network was designated in 2014.", "Britain joined later."
    )


def test_a_year_an_amount_or_a_day_the_paragraph_does_not_hold() -> None:
    assert "missing_figure" in _tripped("Which group was designated in 2015?", "It was designated in 2012.")
    assert "missing_figure" in _tripped("Who has a USD 10 million reward?", "He has a USD 5 million reward.")
    assert "missing_figure" in _tripped(
        "What did he say on Tuesday?", "He said Thursday that it would go on."
    )
    assert "missing_figure" not in _tripped("Which group was designated in 2012?", "In 2012 the US acted.")


def test_how_many_needs_a_number() -> None:
    assert "no_number" in _tripped("How many civilians were evacuated?", "Civilians were evacuated at night.")
    assert "no_number" not in _tripped(
        "How many civilians were evacuated?", "Ninety civilians were evacuated."
    )


def test_who_holds_a_role_needs_a_person_named_with_it() -> None:
    assert role_asked("Who leads the Islamic State Khorasan?") == "lead"
    assert role_asked("Who is the US ambassador to Afghanistan?") == "ambassador"
    assert role_asked("Who is Khalil Haqqani?") is None
    assert role_asked("Who runs the ferry service?") is None  # said of companies as often
    question = "Who commanded the Gull for ten years?"
    right = "Captain Mary Holt commanded the Gull for ten years."
    assert "unnamed_role" not in _tripped(question, right, people=("Mary Holt",))
    assert "unnamed_role" in _tripped(question, "The Gull sailed for ten years.", people=())
    leads = "Who leads the Islamic State Khorasan?"
    assert "unnamed_role" in _tripped(
        leads, "Biden may attack the Islamic State-Khorasan without approval.", people=("Biden",)
    )


def test_the_hard_rules_are_a_part_of_the_rules() -> None:
    assert set(HARD) < set(RULES)
