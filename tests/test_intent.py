"""Which kind of question a chat user asks: a table of phrasings, and SQuAD's questions, which
must all stay questions to search for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.question.intent import intent_of

KINDS = {
    "overview": [
        "Summarize the article",
        "Summarize the article.",
        "summarize it",
        "Can you summarise this story?",
        "What is this article about?",
        "What is this about?",
        "What's it about?",
        "What is the article about?",
        "Give me the key points",
        "What are the main points?",
        "TL;DR",
        "tl;dr?",
        "tldr",
        "What happened?",
        "What happened here?",
        "Sum it up",
        "Give me a summary",
        "Summary please",
        "Could you give me an overview of the article?",
        "What's the gist?",
        "In a nutshell?",
        "Key takeaways?",
        "Give me the highlights",
        "Summarize the article about the Taliban evacuation",
        "What does the article say?",
        "Tell me about this article",
        "Brief me",
        "Recap the story",
    ],
    "more": [
        "Tell me more",
        "tell me more.",
        "More",
        "Go on",
        "What else?",
        "Anything else?",
        "Continue",
        "More please",
    ],
    "published": [
        "When was this published?",
        "When was the article published?",
        "When was it written?",
        "What is the publication date?",
        "What date is this article from?",
        "When was this story posted?",
    ],
    "author": [
        "Who wrote the article?",
        "Who wrote this?",
        "Who is the author?",
        "Who is the author of the article?",
    ],
    "site": [
        "Which site published this?",
        "Which newspaper published the article?",
        "Where was this published?",
        "What is the source of this article?",
        "Which publication ran this story?",
    ],
    "question": [
        "What is the article's main claim about Pakistan?",
        "What happened to Khalil Haqqani?",
        "What happened at Kabul airport?",
        "Who is Khalil Haqqani?",
        "What reward is on his head?",
        "Who wrote the Declaration of Independence?",
        "When was the treaty published?",
        "Who is the author of Hamlet?",
        "What is the main point of contention between the US and the Taliban?",
        "What did Psaki say about the Taliban?",
        "What are the key points of the agreement with the Taliban?",
        "Summarize the negotiations",
        "What is the summary judgment procedure?",
        "Which newspaper reported the attack first?",
        "What is the gist of the Doha agreement?",
    ],
}


@pytest.mark.parametrize(("kind", "question"), [(k, q) for k, qs in KINDS.items() for q in qs])
def test_kind_of_question(kind: str, question: str) -> None:
    assert intent_of(question).kind == kind


def test_an_overview_can_name_its_article() -> None:
    assert intent_of("Summarize the article about the Taliban evacuation").topic == "taliban evacuation"
    assert intent_of("Summarize the article").topic == ""


def test_every_squad_question_stays_a_question_to_search_for() -> None:
    shared = Path(__file__).resolve().parents[2] / "shared" / "eval"
    for name in ("squad-v1.1-dev-a.json", "squad-v2.0-dev-a.json"):
        data = json.loads((shared / name).read_text())
        questions = [qa["question"] for a in data["data"] for p in a["paragraphs"] for qa in p["qas"]]
        assert [q for q in questions if intent_of(q).kind != "question"] == []
