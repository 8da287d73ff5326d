"""What a question asks for, end to end on a real store: the sentence that states the asked-for
amount, date or name is cited before the one only on the question's topic, and a question whose
asked-for detail (or named thing) the article does not give is declined, saying how."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant, answer
from assistant.core.settings import Settings
from tests.conftest import library, make_root

# Written for this test: none of its questions or sentences is in an evaluation set.
ARTICLE = "\n\n".join(  # a title, then paragraphs
    (
        "Tarvik opens its new ferry terminal",
        "The new ferry terminal in Tarvik opened to passengers on Saturday, after three years of building "
        "work on the old quay.",
        "The terminal was designed by the Danish architect Mara Lind, whose firm also drew the harbour "
        "library in Osk. "
        "Its roof of larch wood slopes down towards the water.",
        "The ferry terminal cost €31 million, most of it paid by the regional government. "
        "The port authority paid for the two new berths.",
        "Ferries to the islands of Osk and Vell leave from the terminal every hour in summer. "
        "In winter the crossing to Vell runs twice a day.",
        "The old terminal, built in 1962, will become a covered market. "
        "The town council expects the market hall to open next spring.",
    )
)


@pytest.fixture(scope="module")
def ferry_root(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    folder = tmp_path_factory.mktemp("ferry")
    path = Path(folder) / "tarvik-ferry-terminal.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    settings = Settings(store=folder / "store", chroma_host=None)
    assert library(settings).add_sources([path]).count("added") == 1
    return make_root(settings)


@pytest.mark.parametrize(
    ("question", "stated"),
    [
        ("How much did the new ferry terminal in Tarvik cost?", "€31 million"),
        ("When did the new ferry terminal in Tarvik open?", "on Saturday"),
        ("Who designed the new ferry terminal in Tarvik?", "Mara Lind"),
        ("How often do ferries leave the Tarvik terminal in winter?", "twice a day"),
    ],
)
def test_the_sentence_stating_the_asked_for_detail_is_cited(
    ferry_root: Assistant, question: str, stated: str
) -> None:
    reply = answer(question, assistant=ferry_root)
    assert not reply.abstained, reply.text
    assert stated in reply.citations[0].text


@pytest.mark.parametrize(
    "question",
    [
        "How much does a ferry ticket from Tarvik to Vell cost?",  # no amount is stated
        "How much did the harbour library in Osk cost?",  # another building than the terminal's
        "How much did the new ferry terminal in Bergen cost?",  # another town
    ],
)
def test_a_question_whose_detail_the_article_does_not_give_is_declined(
    ferry_root: Assistant, question: str
) -> None:
    reply = answer(question, assistant=ferry_root)
    assert reply.abstained, reply.citations[0].text
    assert not reply.short
