"""What a sentence states of what a question asks for: each kind of expression is found where a
sentence states it, and not where the sentence only repeats the question's own figures or names."""

from __future__ import annotations

import pytest

from assistant.question.expressions import Expected, stated
from assistant.question.forms import asked_for


def _states(question: str, sentence: str) -> bool | None:
    return Expected.of(question, asked_for(question)).stated_in(sentence)


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        # an amount for "how much"
        ("How much did the harbour bridge cost?", "The bridge cost €48 million to build.", True),
        ("How much did the harbour bridge cost?", "The bridge opened to traffic last spring.", False),
        ("How much does the bakery charge for a loaf?", "A loaf sells for 4 dollars there.", True),
        # a count for "how many", not the question's own figure
        ("How many stalls does the 3rd night market have?", "The 3rd night market opened in May.", False),
        ("How many stalls does the 3rd night market have?", "It has forty stalls this year.", True),
        ("How many stalls does the night market have?", "The market began in 1998.", False),  # a year
        ("How many stalls does the night market have?", "Traders rent 1,200 stalls there.", True),
        ("How many guests came to the gala?", "A dinner for 2000 guests marked the opening.", True),
        # a date for "when"; a duration for "how long"
        ("When did the ferry service resume?", "The ferry service resumed in March.", True),
        ("When did the ferry service resume?", "The ferry service resumed after repairs.", False),
        ("How long did the repairs take?", "Repairs took 18 months in all.", True),
        ("How long did the repairs take?", "The repairs were thorough.", False),
        # a percentage
        ("What percentage of voters turned out?", "Turnout reached 64 per cent.", True),
        ("What percentage of voters turned out?", "Turnout was high in the north.", False),
        # a name for "the name of the ...", not one the question names (possessive or not)
        ("What is the name of the mayor who resigned?", "Mayor Ilse Brandt resigned.", True),
        ("What is the name of the mayor of Tarvik's harbour?", "Tarvik’s mayor resigned.", False),
        # a name for "who", not one the question names
        ("Who opened the new library in Tarvik?", "Mayor Ilse Brandt opened the library.", True),
        ("Who opened the new library in Tarvik?", "The new library in Tarvik opened on time.", False),
    ],
)
def test_a_sentence_states_what_the_question_asks_for(question: str, sentence: str, expected: bool) -> None:
    assert _states(question, sentence) is expected


def test_a_question_asking_for_no_kind_of_expression_is_not_checked() -> None:
    assert _states("Why did the ferry service stop?", "It stopped after a storm.") is None
    assert _states("Who is Ilse Brandt?", "Ilse Brandt is the mayor.") is None  # a description


def test_figures_are_read_with_their_kind() -> None:
    kinds = dict(stated("The $1.2 billion stadium opened in 2014 after a 30-month build.").figures)
    assert "MONEY" in kinds["1.2"]
    assert kinds["2014"] == {"DATE"}  # a bare year is a date, not a count
    assert dict(stated("It employs 2,000 people.").figures)["2000"] == {"CARDINAL"}  # never a year
    assert dict(stated("The 2012 elections were close.").figures)["2012"] == {"DATE", "CARDINAL"}
    assert "DATE" in kinds["30"]  # a duration


@pytest.mark.parametrize("month", ["January", "Jan", "Sept", "Nov", "Dec", "December"])
def test_a_day_of_any_month_is_a_date_not_a_count(month: str) -> None:
    """Every month, by its full name or its abbreviation, makes the number beside it a day."""
    assert dict(stated(f"The vote is on {month} 5 in the capital.").figures)["5"] == {"DATE"}
    assert dict(stated(f"The vote was held on 5 {month}.").figures)["5"] == {"DATE"}
    assert _states("How many seats did the party win?", f"The party won on {month} 12.") is False


@pytest.mark.parametrize(
    ("question", "lacking"),
    [
        ("How much did the bridge cost?", "an amount"),
        ("How many stalls are there?", "a number"),
        ("When did it open?", "a date"),
        ("Who opened it?", "a name"),
    ],
)
def test_what_a_sentence_lacks_is_named_for_the_reply(question: str, lacking: str) -> None:
    assert Expected.of(question, asked_for(question)).lacking() == lacking
