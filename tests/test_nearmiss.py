"""The near-miss rules on their own: each trips on the detail it is about, and not on the usual
ways a right sentence words the same thing."""

from __future__ import annotations

import json

import pytest

from assistant.answering.entities import Entity, EntityTagger
from assistant.answering.names import mentions
from assistant.answering.nearmiss import (
    HARD,
    RULES,
    Miss,
    Surroundings,
    mentions_every_word,
    misses,
    missing_name,
    missing_person,
    missing_place,
    names_in,
)
from assistant.question.parse import Question
from assistant.question.roles import role_asked
from tests.conftest import ROOT, library, make_root

TAGGER = EntityTagger()


def _tripped(question: str, sentence: str, paragraph: str = "", people: tuple[str, ...] = ()) -> set[str]:
    around = Surroundings(sentence, sentence, f"{paragraph} {sentence}", people)
    found = misses(Question.parse(question), lambda: TAGGER.entities([question])[0], around)
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
        # by its initials, the words of a name in a row (small words between them left out)
        ("He was patron of the National Society for the Prevention of Cruelty to Children.", "NSPCC", True),
        ("The North Atlantic Treaty Organization met.", "NATO", True),
        ("The North Atlantic Treaty Organization met.", "NAFTA", False),
    ],
)
def test_mentions_allows_the_usual_variants_of_a_name(text: str, name: str, expected: bool) -> None:
    assert mentions(text, name) is expected


def test_another_person_with_the_same_surname() -> None:
    question = "How much reward is offered for Sirajuddin Haqqani?"
    assert "other_person" in _tripped(question, "Khalil Haqqani has a USD 5 million reward on his head.")
    assert "other_person" not in _tripped(question, "Sirajuddin Haqqani has a USD 10 million reward.")
    assert "other_person" not in _tripped(question, "Haqqani has a reward on his head.")  # surname only
    # a double-barrelled name of the question: the part next to the last name is the first name
    deal = "How much was the Coty-Kylie Jenner deal worth?"
    assert "other_person" not in _tripped(deal, "Coty bought a stake in Kylie Jenner's company for $600m.")
    assert "other_person" in _tripped(deal, "Coty bought a stake in Kendall Jenner's company.")


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


def test_a_figure_the_whole_article_never_mentions_declines_outright() -> None:
    question = Question.parse("Which group did the port authority fine in 2015?")
    sentence = "The port authority fined the ferry group in 2012."

    def around(article: str) -> Surroundings:
        return Surroundings(sentence, sentence, sentence, (), lambda: article)

    found = misses(question, lambda: (), around(f"{sentence} It paid in 2013."))
    assert found.decline() == Miss("other_entity", "the article never mentions 2015")
    elsewhere = misses(question, lambda: (), around(f"{sentence} In 2015 it fined the fishing group."))
    assert elsewhere.flag("missing_figure") and elsewhere.decline() is None  # another paragraph has it
    assert misses(question, lambda: (), Surroundings(sentence, sentence, sentence, ())).decline() is None


def test_how_many_needs_a_number() -> None:
    # a count is asked for first, and only a figure states one: declined outright
    assert {"unstated", "no_amount"} <= _tripped(
        "How many civilians were evacuated?", "Civilians were evacuated at night."
    )
    assert not {"unstated", "no_amount"} & _tripped(
        "How many civilians were evacuated?", "Ninety civilians were evacuated."
    )
    # a number among other kinds of answer ("what number ...") only weighs in the abstention model
    assert _tripped("What number did the ferry carry?", "The ferry carried cars.") & {"no_amount"} == set()


def test_how_long_needs_a_span_of_time_and_how_old_a_figure() -> None:
    # a date says when, not how long: declined outright, as a count without a figure is
    question = "How long did the strike at the Tarvik mill last?"
    assert {"unstated", "no_amount"} <= _tripped(question, "The strike at the Tarvik mill began in 2019.")
    for span in (
        "It lasted 18 months.",
        "Workers stayed out from May to September.",
        "It has run since 2019.",
    ):
        assert not {"unstated", "no_amount"} & _tripped(
            question, f"The strike at the Tarvik mill ended. {span}"
        )
    assert "no_amount" in _tripped(
        "How old is the Tarvik mill?", "The Tarvik mill is the oldest in the region."
    )
    assert "no_amount" not in _tripped("How old is the Tarvik mill?", "The Tarvik mill is 140 years old.")


def test_what_something_cost_needs_a_sum_not_a_count() -> None:
    question = "How much did the Tarvik ferry terminal cost?"
    assert "no_amount" in _tripped(question, "The Tarvik ferry terminal has 12 berths.")
    assert "no_amount" not in _tripped(question, "The Tarvik ferry terminal cost €48 million.")
    assert "no_amount" not in _tripped("How much did the fare rise?", "The fare rose by 4 percent.")


def test_the_sentence_must_state_what_the_question_asks_for() -> None:
    question = Question.parse("How much did the Tarvik ferry terminal cost?")
    on_topic = Surroundings("The Tarvik ferry terminal opened to crowds.", "", "Tarvik ferry terminal", ())
    found = misses(question, lambda: (), on_topic)
    assert found.flag("unstated")
    assert found.explain() == Miss("missing_attribute", "the sentence does not state an amount")
    stating = Surroundings("The Tarvik ferry terminal cost €31 million.", "", "Tarvik ferry terminal", ())
    assert not misses(question, lambda: (), stating).flag("unstated")
    when = Question.parse("When did the Tarvik ferry terminal open?")
    assert misses(when, lambda: (), on_topic).flag("unstated")
    assert not _tripped("When did the ferry terminal open?", "The ferry terminal opened in May 2019.")


def test_a_name_or_figure_of_the_question_the_paragraph_does_not_mention() -> None:
    assert (
        missing_name("How much is the Xbox controller on sale for?", "The PS4 controller is $39.") == "Xbox"
    )
    assert missing_name("What was the theme of the 6th light festival?", "The 7th light festival") == "6th"
    assert missing_name("What did the Haqqanis want?", "what the Haqqani network wanted") is None  # a form
    assert missing_name("Which team did Carolina beat?", "The Carolina Panthers beat Arizona") is None
    assert (
        missing_name(
            "Which NSPCC campaign?",
            "a campaign of the National Society for the Prevention of Cruelty to Children",
        )
        is None
    )
    assert "missing_name" in _tripped(
        "How much is the Xbox controller on sale for?", "The PS4 controller is on sale for $39."
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
    # a role named by its noun of action: "the founding of ... by", "leading"
    founded = "The founding of the Tarvik Rowing Club in 1928 by Mary Holt drew crowds."
    asked = "Who founded the Tarvik Rowing Club?"
    assert "unnamed_role" not in _tripped(asked, founded, people=("Mary Holt",))


def test_the_hard_rules_are_a_part_of_the_rules() -> None:
    assert set(HARD) < set(RULES)


def _squad_questions(count: int) -> list[str]:
    data = json.loads((ROOT.parent / "shared" / "eval" / "squad-v1.1-dev-a.json").read_text())
    found = [qa["question"] for article in data["data"] for p in article["paragraphs"] for qa in p["qas"]]
    return found[:: max(1, len(found) // count)][:count]


def test_a_paragraph_with_every_word_of_the_question_names_all_it_names() -> None:
    # The rules on the question's places and people are skipped (and the entity model not asked)
    # when a paragraph mentions every word of the question but its question words: check on real
    # questions with their real entities that those rules could not have tripped.
    questions = _squad_questions(400)
    for question, entities in zip(questions, TAGGER.entities(questions), strict=True):
        words = [w for w in question.rstrip("?").split() if w.lower() not in ("who", "what", "is", "was")]
        shuffled = " ".join(reversed(words))  # every other word, no phrase kept as it was
        assert mentions_every_word(question, shuffled), question
        named = names_in(entities)
        assert missing_place(named, shuffled) is None, (question, named)
        assert missing_person(named, shuffled) is None, (question, named)


def test_a_paragraph_missing_a_word_of_the_question_may_miss_a_name() -> None:
    assert mentions_every_word("Who is Khalil Haqqani?", "Known as the emissary, Khalil Haqqani came")
    assert mentions_every_word("What do the Haqqanis want?", "what they want, the Haqqani network")  # forms
    assert not mentions_every_word("Who is Sirajuddin Haqqani?", "Khalil Haqqani, who is a regular visitor")
    assert not mentions_every_word("Did the UK act?", "The US did act.")


def test_a_span_looked_for_by_a_question_word_is_not_a_name() -> None:
    found = [
        Entity("Khalil Haqqani", "PERSON", 7, 21),
        Entity("Who is Khalil", "PERSON", 0, 13),
        Entity("Do Kwon", "PERSON", 0, 7),  # looked for by "kwon" only: a name
        Entity("Do", "PERSON", 0, 2),
    ]
    assert names_in(found) == [found[0], found[2]]


def test_the_question_s_entities_are_asked_for_only_when_a_rule_needs_them() -> None:
    asked: list[str] = []

    def entities(question: str):
        return lambda: asked.append(question) or TAGGER.entities([question])[0]

    here = Surroundings("Khalil Haqqani has a reward.", "", "Khalil Haqqani has a reward. Title", ())
    question = "Who is Khalil Haqqani?"
    assert not any(misses(Question.parse(question), entities(question), here).reasons)
    assert asked == []
    elsewhere = "When did the UK designate the Haqqani Network?"
    assert misses(Question.parse(elsewhere), entities(elsewhere), here).flag("missing_place")
    assert asked == [elsewhere]


CLUB = (
    "Tarvik rowing club marks its centenary\n\n"
    "The chairman of the Tarvik Rowing Club praised the crews at the centenary regatta on Saturday. "
    "Mary Holt, who rowed in the first boat, thanked the volunteers. "
    "The regatta drew 3,000 visitors to the harbour.\n"
)


@pytest.mark.parametrize(
    ("wording", "declined"),
    [
        (CLUB, True),  # the chairman is not named; Mary Holt, named beside him, holds no such role
        (
            CLUB.replace("The chairman of the Tarvik Rowing Club praised", "Club chairman Erik Lund praised"),
            False,
        ),
    ],
)
def test_a_role_holder_is_a_person_named_in_a_sentence_with_the_role(
    settings, tmp_path, wording: str, declined: bool
) -> None:
    (tmp_path / "club.txt").write_text(wording)
    library(settings).add_sources([tmp_path / "club.txt"])
    reply = make_root(settings).answer("Who is the chairman of the Tarvik Rowing Club?")
    assert reply.abstained is declined
    assert reply.reason == ("other_role" if declined else None)
