"""answer(): real retrieval over the real store, real citations, follow-ups and abstention."""

import re
from pathlib import Path

import pytest
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable

from assistant import Answer, Assistant, EmptyStoreError, InvalidQuestionError, Turn, answer
from assistant.core.settings import Settings
from assistant.interfaces.langchain import SentenceRetriever, answer_chain
from tests.conftest import library


def _check_citations(reply: Answer, root: Assistant) -> None:
    store = root.store
    for n, c in enumerate(reply.citations, 1):
        assert f"[{n}]" in reply.text
        assert store.article_text(c.article_id)[c.start : c.end] == c.text
        assert 0.0 <= c.score <= 1.0
    markers = [int(m) for m in re.findall(r"\[(\d+)\]", reply.text)]
    assert markers == list(range(1, len(reply.citations) + 1))


def test_who_is_khalil_haqqani(sample_root: Assistant) -> None:
    reply = answer("Who is Khalil Haqqani?", assistant=sample_root)
    assert not reply.abstained
    assert "Khalil Haqqani" in reply.citations[0].text
    _check_citations(reply, sample_root)


def test_follow_up_uses_the_history(sample_root: Assistant) -> None:
    reply = sample_root.answer("What reward is on his head?", ["Who is Khalil Haqqani?"])
    assert "USD 5 million" in reply.citations[0].text
    first = sample_root.answer("Who is Khalil Haqqani?")
    again = sample_root.answer("What reward is on his head?", [Turn("Who is Khalil Haqqani?", first)])
    assert again == reply


def test_history_items_other_than_questions_and_turns_are_refused(sample_root: Assistant) -> None:
    gradio_message = {"role": "user", "content": "Who is Khalil Haqqani?"}
    with pytest.raises(InvalidQuestionError, match=r"a question \(text\) or a Turn, not dict"):
        sample_root.answer("What reward is on his head?", [gradio_message])


@pytest.mark.parametrize("question", ["What is the capital of France?", "What is the population of Kabul?"])
def test_abstains_when_the_article_does_not_answer(sample_root: Assistant, question: str) -> None:
    reply = sample_root.answer(question)
    assert reply.abstained
    assert reply.citations == ()
    assert "could not find" in reply.text


def test_several_citations_have_no_near_duplicates(sample_root: Assistant) -> None:
    reply = sample_root.answer("What did Psaki say about the Taliban?")
    texts = [c.text for c in reply.citations]
    assert len(set(texts)) == len(texts)
    _check_citations(reply, sample_root)


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_is_a_value_error(sample_root: Assistant, question: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        sample_root.answer(question)
    with pytest.raises(InvalidQuestionError):
        sample_root.answer(question)


def test_empty_store_names_the_ingest_command(root: Assistant) -> None:
    with pytest.raises(EmptyStoreError, match="python -m ingest"):
        root.answer("Who is Khalil Haqqani?")


def test_answer_uses_a_default_root_built_from_the_environment(
    sample_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant import app

    monkeypatch.setenv("ASSISTANT_STORE", str(sample_settings.store))
    monkeypatch.setattr(app, "_default", None)
    reply = answer("Who is Khalil Haqqani?")
    assert app.default_assistant().settings.store == sample_settings.store
    assert "Khalil Haqqani" in reply.citations[0].text


def test_the_retriever_and_chain_are_langchain_parts(sample_root: Assistant) -> None:
    chain = answer_chain(sample_root.answerer)
    assert isinstance(chain, Runnable)
    direct = sample_root.answer("What reward is on his head?", ["Who is Khalil Haqqani?"])
    request = {"question": "What reward is on his head?", "history": ["Who is Khalil Haqqani?"]}
    assert chain.invoke(request) == direct
    assert chain.invoke("Who is Khalil Haqqani?") == sample_root.answer("Who is Khalil Haqqani?")
    retriever = SentenceRetriever(searcher=sample_root.searcher, k=5)
    assert isinstance(retriever, BaseRetriever)
    documents = retriever.invoke("Who is Khalil Haqqani?")
    assert len(documents) == 5
    assert "Khalil Haqqani" in documents[0].page_content
    assert {"dense", "bm25", "start", "end", "article_id", "score"} <= set(documents[0].metadata)
    scores = [d.metadata["score"] for d in documents]
    assert scores == sorted(scores, reverse=True)
    text = sample_root.store.article_text(documents[0].metadata["article_id"])
    assert text[documents[0].metadata["start"] : documents[0].metadata["end"]] == documents[0].page_content
    composed = retriever | (lambda docs: [d.metadata["sentence_index"] for d in docs])
    assert composed.invoke("Who is Khalil Haqqani?") == [d.metadata["sentence_index"] for d in documents]


def test_answer_sees_articles_ingested_after_it_started(
    root: Assistant, settings: Settings, tmp_path: Path
) -> None:
    first = tmp_path / "first.txt"
    first.write_text("Harbour report\n\nThe ferry to Skye left at noon carrying forty cars.\n")
    library(settings).add_sources([first])
    assert "ferry" in root.answer("When did the ferry to Skye leave?").citations[0].text
    second = tmp_path / "second.txt"
    second.write_text("Mountain report\n\nThe summit of Ben Nevis was closed by heavy snow on Tuesday.\n")
    library(settings).add_sources([second])
    reply = root.answer("Why was the summit of Ben Nevis closed?")
    assert "Ben Nevis" in reply.citations[0].text
