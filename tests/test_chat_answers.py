"""What chat users ask first, on real stores: summaries and "tell me more", a short answer
first, near misses declined, questions about the page's own metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import Answer, Assistant
from assistant.core.settings import Settings
from tests.conftest import ROOT, library, make_root, run_main

LEAD = "President Joe Biden has directed Secretary of State Antony Blinken"
NEAR_MISSES = ROOT / "data" / "eval" / "near_misses.jsonl"
DAM = (
    "Veltra dam history",
    """The Veltra dam was completed in 1987 after eleven years of construction.

It holds back the waters of Lake Veltra, which supplies drinking water to three towns.

The dam is 142 metres tall and was built by a consortium of Swiss engineering firms.

Engineers inspect its concrete walls every spring for cracks.""",
)
MARKET = (
    "Harbour market reopens",
    """The Eastport harbour market reopened on Saturday after a fire in March.

Forty stalls sell fish, bread and flowers, said the market's manager, Ines Koval.

The town council paid for a new roof and a sprinkler system.

Visitors queued from six in the morning.""",
)


def _assert_cited_in_order(reply: Answer, root: Assistant) -> None:
    assert not reply.abstained and len(reply.citations) >= 3
    assert [c.sentence_index for c in reply.citations] == sorted(c.sentence_index for c in reply.citations)
    for n, c in reply.numbered():
        assert f"{c.text} [{n}]" in reply.text
        assert root.store.article_text(c.article_id)[c.start : c.end] == c.text


@pytest.mark.parametrize(
    "question", ["Summarize the article", "What is this article about?", "Give me the key points"]
)
def test_overview_questions_get_a_cited_summary_with_the_lead(sample_root: Assistant, question: str) -> None:
    reply = sample_root.answer(question)
    _assert_cited_in_order(reply, sample_root)
    assert len(reply.citations) <= 5
    assert reply.citations[0].sentence_index == 0 and reply.citations[0].text.startswith(LEAD)
    assert len({c.text for c in reply.citations}) == len(reply.citations)


def test_tell_me_more_continues_with_sentences_not_shown(sample_root: Assistant) -> None:
    first = sample_root.answer("Summarize the article")
    more = sample_root.answer("Tell me more", ["Summarize the article"])
    again = sample_root.answer("Tell me more", ["Summarize the article", "Tell me more"])
    shown = [{c.sentence_index for c in r.citations} for r in (first, more, again)]
    _assert_cited_in_order(more, sample_root)
    assert not shown[0] & shown[1] and not (shown[0] | shown[1]) & shown[2]


def test_summarize_it_after_an_exchange_is_about_that_article(tmp_path: Path) -> None:
    settings = Settings(store=tmp_path / "store", chroma_host=None)
    for title, text in (DAM, MARKET):
        assert library(settings).add_text(title, text).status == "added"
    root = make_root(settings)
    reply = root.answer("summarize it", ["When was the Veltra dam completed?"])
    assert {c.title for c in reply.citations} == {"Veltra dam history"}
    named = root.answer("Summarize the article about the harbour market")
    assert {c.title for c in named.citations} == {"Harbour market reopens"}
    # Several articles and no clue: the opening line of each, and an invitation to pick one.
    both = root.answer("What is this about?")
    assert {c.title for c in both.citations} == {"Veltra dam history", "Harbour market reopens"}
    assert all(c.sentence_index == 0 for c in both.citations) and "Summarize" in both.text
    only = root.answer("Summarize the article", article_ids=[reply.citations[0].article_id])
    assert {c.title for c in only.citations} == {"Veltra dam history"}


def test_a_question_asking_for_an_amount_opens_with_it(sample_root: Assistant) -> None:
    reply = sample_root.answer("What reward is on Khalil Haqqani's head?")
    assert reply.short is not None and "5 million" in reply.short.text
    text = sample_root.store.article_text(reply.short.article_id)
    assert text[reply.short.start : reply.short.end] == reply.short.text
    cited = reply.citations[reply.short.citation - 1]
    assert cited.start <= reply.short.start < reply.short.end <= cited.end
    assert reply.as_text().splitlines()[0] == reply.short.text
    # who someone is asks for a description, not the name asked about
    described = sample_root.answer("Who is Khalil Haqqani?").short
    assert described is not None and "Haqqani" not in described.text
    assert sample_root.answer("Why did the US designate the Haqqani Network?").short is None


@pytest.mark.parametrize(
    ("question", "reason", "says"),
    [
        ("When did the UK designate the Haqqani Network a terrorist group?", "other_entity", "mentions UK"),
        ("How much reward is offered for Sirajuddin Haqqani?", "other_entity", "Sirajuddin Haqqani"),
        ("Who leads the Islamic State Khorasan?", "other_role", "named in that role"),
    ],
)
def test_the_near_misses_users_met_are_declined(
    sample_root: Assistant, question: str, reason: str, says: str
) -> None:
    reply = sample_root.answer(question)
    assert reply.abstained and reply.citations == () and reply.reason == reason
    assert says in reply.text and reply.related is not None  # the sentence it misses, shown as such
    related = reply.related
    assert sample_root.store.article_text(related.article_id)[related.start : related.end] == related.text


def test_near_misses_of_every_kind_held_out_of_training_are_mostly_declined(sample_root: Assistant) -> None:
    rows = [json.loads(line) for line in NEAR_MISSES.read_text().splitlines()]
    held_out = [r for r in rows if r["split"] == "test"]
    misses = [r for r in held_out if not r["answerable"]]
    declined = [r["question"] for r in misses if sample_root.answer(r["question"]).abstained]
    assert len(declined) >= 0.75 * len(misses), set(r["question"] for r in misses) - set(declined)
    kinds = {r["kind"] for r in misses if r["question"] in declined}
    assert kinds >= {"country", "person", "number", "date", "role"}
    answerable = [r for r in held_out if r["answerable"]]
    right = [
        r["question"]
        for r in answerable
        if (reply := sample_root.answer(r["question"])).citations
        and any(s in reply.citations[0].text for s in r["supports"])
    ]
    assert len(right) >= len(answerable) - 1, set(r["question"] for r in answerable) - set(right)


def test_metadata_questions_are_answered_from_the_page(tmp_path: Path) -> None:
    page = tmp_path / "dam.html"
    page.write_text(
        "<html lang='en'><head><title>Veltra dam turns 35 | Valley Times</title>"
        "<meta property='og:site_name' content='Valley Times'>"
        "<meta property='article:published_time' content='2022-05-14T08:00:00Z'>"
        "<meta name='author' content='Mara Lind'></head><body><article><h1>Veltra dam turns 35</h1>"
        + "".join(f"<p>{p}</p>" for p in DAM[1].split("\n\n"))
        + "</article></body></html>"
    )
    settings = Settings(store=tmp_path / "store", chroma_host=None)
    library(settings).add_sources([page])
    root = make_root(settings)
    published = root.answer("When was this published?")
    assert published.citations[0].field == "published" and "2022-05-14" in published.text
    assert "Mara Lind" in root.answer("Who wrote the article?").text
    assert "Valley Times" in root.answer("Which site published this?").text
    citation = root.answer("When was the dam completed?").citations[0]
    assert (citation.site, citation.published) == ("Valley Times", "2022-05-14")


def test_eval_scores_a_question_file_against_an_existing_store(sample_settings: Settings) -> None:
    done = run_main("assistant.eval", str(NEAR_MISSES), "--store", str(sample_settings.store), "--json")
    assert done.returncode == 0, done.stderr
    metrics = json.loads(done.stdout)
    assert metrics["questions"] == 44 and metrics["answerable"] == 14
    assert metrics["abstentions on unanswerable"] >= 20
