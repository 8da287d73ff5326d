"""answer(): real retrieval over the real store, real citations, follow-ups and abstention."""

import re

import pytest
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable

from assistant import Answer, EmptyStoreError, InvalidQuestionError, answer
from assistant.answerer import get_answerer
from assistant.retriever import SentenceRetriever
from assistant.settings import Settings
from assistant.store import Store


def _check_citations(reply: Answer, settings: Settings) -> None:
    store = Store(settings)
    for n, c in enumerate(reply.citations, 1):
        assert f"[{n}]" in reply.text
        assert store.article_text(c.article_id)[c.start : c.end] == c.text
        assert 0.0 <= c.score <= 1.0
    markers = [int(m) for m in re.findall(r"\[(\d+)\]", reply.text)]
    assert markers == list(range(1, len(reply.citations) + 1))


def test_who_is_khalil_haqqani(sample_settings: Settings) -> None:
    reply = answer("Who is Khalil Haqqani?", settings=sample_settings)
    assert not reply.abstained
    assert "Khalil Haqqani" in reply.citations[0].text
    _check_citations(reply, sample_settings)


def test_follow_up_uses_the_history(sample_settings: Settings) -> None:
    reply = answer("What reward is on his head?", ["Who is Khalil Haqqani?"], settings=sample_settings)
    assert "USD 5 million" in reply.citations[0].text
    gradio_history = [
        {"role": "user", "content": "Who is Khalil Haqqani?"},
        {"role": "assistant", "content": "A Pakistani protege ... [1]"},
    ]
    again = answer("What reward is on his head?", gradio_history, settings=sample_settings)
    assert again.citations[0] == reply.citations[0]


@pytest.mark.parametrize("question", ["What is the capital of France?", "What is the population of Kabul?"])
def test_abstains_when_the_article_does_not_answer(sample_settings: Settings, question: str) -> None:
    reply = answer(question, settings=sample_settings)
    assert reply.abstained
    assert reply.citations == ()
    assert "could not find" in reply.text


def test_several_citations_have_no_near_duplicates(sample_settings: Settings) -> None:
    reply = answer("What did Psaki say about the Taliban?", settings=sample_settings)
    texts = [c.text for c in reply.citations]
    assert len(set(texts)) == len(texts)
    _check_citations(reply, sample_settings)


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_is_a_value_error(sample_settings: Settings, question: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        answer(question, settings=sample_settings)
    with pytest.raises(InvalidQuestionError):
        answer(question, settings=sample_settings)


def test_empty_store_names_the_ingest_command(settings: Settings) -> None:
    with pytest.raises(EmptyStoreError, match="python -m ingest"):
        answer("Who is Khalil Haqqani?", settings=settings)


def test_the_chain_is_made_of_langchain_parts(sample_settings: Settings) -> None:
    answerer = get_answerer(sample_settings)
    assert isinstance(answerer.chain, Runnable)
    corpus = answerer.corpus()
    retriever = SentenceRetriever(corpus=corpus, store=answerer.store, embedder=answerer.embedder)
    assert isinstance(retriever, BaseRetriever)
    documents = retriever.invoke("Who is Khalil Haqqani?")
    assert any("Khalil Haqqani" in d.page_content for d in documents[:5])
    assert {"dense", "bm25", "start", "end", "article_id"} <= set(documents[0].metadata)


def test_answer_sees_articles_ingested_after_it_started(settings: Settings, tmp_path) -> None:
    from ingest.pipeline import ingest_paths

    first = tmp_path / "first.txt"
    first.write_text("Harbour report\n\nThe ferry to Skye left at noon carrying forty cars.\n")
    ingest_paths([first], settings)
    assert "ferry" in answer("When did the ferry to Skye leave?", settings=settings).citations[0].text
    second = tmp_path / "second.txt"
    second.write_text("Mountain report\n\nThe summit of Ben Nevis was closed by heavy snow on Tuesday.\n")
    ingest_paths([second], settings)
    reply = answer("Why was the summit of Ben Nevis closed?", settings=settings)
    assert "Ben Nevis" in reply.citations[0].text
