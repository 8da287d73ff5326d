"""The JSON API over real HTTP: answers as ``ask --json`` gives them, articles in and out through
the chat's own library, and every error as JSON with a status that fits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.app import Assistant
from assistant.core.records import Answer
from assistant.core.settings import Settings
from ingest.loader import MAX_BYTES
from tests.api_support import served_api
from tests.conftest import SAMPLE, library, make_root, run_main
from tests.ui_support import DAM_TEXT, DAM_TITLE, QUESTION

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489") + bytes(64)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A store of this module's own (its tests add and remove articles) holding the sample."""
    settings = Settings(store=tmp_path_factory.mktemp("api") / "store", chroma_host=None)
    library(settings).add_sources([SAMPLE])
    return settings


@pytest.fixture(scope="module")
def url(store: Settings) -> Iterator[str]:
    with served_api(make_root(store)) as served:
        yield served


def _error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and body["error"]["status"] == status
    assert "Traceback" not in response.text
    return body["error"]["message"]


def test_an_answer_is_the_json_of_ask(url: str, store: Settings) -> None:
    reply = httpx.post(f"{url}api/answer", json={"question": QUESTION}, timeout=60)
    assert reply.status_code == 200
    asked = run_main("assistant", "ask", QUESTION, "--json", store=store.store)
    assert reply.json() == json.loads(asked.stdout)
    first = reply.json()["citations"][0]
    assert "Khalil Haqqani" in first["text"] and first["end"] > first["start"]
    assert set(reply.json()) == {
        "text",
        "short",
        "abstained",
        "reason",
        "citations",
        "mode",
        "claims",
        "note",
        "related",
    }


def test_a_follow_up_takes_earlier_questions_or_earlier_turns_with_their_answers(url: str) -> None:
    first = httpx.post(f"{url}api/answer", json={"question": QUESTION}, timeout=60).json()
    follow_up = "What reward is on his head?"
    by_question = httpx.post(f"{url}api/answer", json={"question": follow_up, "history": [QUESTION]}).json()
    turn = {"question": QUESTION, "answer": first}
    by_turn = httpx.post(f"{url}api/answer", json={"question": follow_up, "history": [turn]}).json()
    assert by_turn == by_question and by_turn["short"]["text"] == "USD 5 million"


def test_an_answer_the_articles_do_not_give_says_why(url: str) -> None:
    reply = httpx.post(f"{url}api/answer", json={"question": "What is the capital of France?"}).json()
    assert reply["abstained"] is True and reply["reason"] == "other_entity" and reply["citations"] == []
    assert reply["related"] is None  # no sentence of the articles is on that subject


def test_articles_are_listed_added_by_text_file_or_link_and_removed(url: str, news_server: str) -> None:
    before = httpx.get(f"{url}api/articles").json()
    assert [a["title"] for a in before] == ["US to engage with Taliban for safe evacuation after Aug 31"]
    pasted = httpx.post(f"{url}api/articles", json={"title": DAM_TITLE, "text": DAM_TEXT}, timeout=60)
    assert pasted.status_code == 201
    [outcome] = pasted.json()["outcomes"]
    assert outcome["status"] == "added" and outcome["sentences"] == 3
    answered = httpx.post(f"{url}api/answer", json={"question": "When was the Veltra dam completed?"}).json()
    assert answered["citations"][0]["article_id"] == outcome["article_id"]
    assert httpx.delete(f"{url}api/articles/{outcome['article_id']}").json() == {
        "removed": outcome["article_id"]
    }
    upload = {"file": ("harbour.txt", b"Harbour news\n\nThe ferry to Skye left at noon with forty cars.\n")}
    uploaded = httpx.post(f"{url}api/articles", files=upload, timeout=60)
    assert uploaded.status_code == 201
    [outcome] = uploaded.json()["outcomes"]
    assert outcome["source"] == "upload:harbour.txt" and outcome["status"] == "added"
    assert httpx.delete(f"{url}api/articles/{outcome['article_id']}").status_code == 200
    linked = httpx.post(f"{url}api/articles", json={"url": news_server}, timeout=60)
    assert linked.status_code == 201
    [outcome] = linked.json()["outcomes"]
    assert outcome["status"] == "added" and outcome["title"] == DAM_TITLE
    assert httpx.delete(f"{url}api/articles/{outcome['article_id']}").status_code == 200
    assert httpx.get(f"{url}api/articles").json() == before
    health = httpx.get(f"{url}api/health").json()
    assert health == {"status": "ok", "articles": 1, "sentences": 25, "read_only": False}


def test_every_error_is_json_with_a_status_that_fits(url: str) -> None:
    answer = f"{url}api/answer"
    assert "question is empty" in _error(httpx.post(answer, json={"question": "  "}), 400)
    bad_turn = {"question": "x", "answer": {"citations": [{"nonsense": 1}]}}
    assert "an earlier turn's answer" in _error(
        httpx.post(answer, json={"question": "y", "history": [bad_turn]}), 400
    )
    assert "question" in _error(httpx.post(answer, json={"query": QUESTION}), 422)
    assert "not JSON" in _error(httpx.post(f"{url}api/articles", content=b"{not json"), 400)
    assert "none of the articles asked about" in _error(
        httpx.post(answer, json={"question": QUESTION, "article_ids": ["no-such-article"]}), 400
    )
    assert "cannot use the chat model" in _error(
        httpx.post(answer, json={"question": QUESTION, "llm": "nope:x"}), 400
    )
    assert "no article with id" in _error(httpx.delete(f"{url}api/articles/no-such-article"), 404)
    assert "no such route" in _error(httpx.get(f"{url}api/nothing-here"), 404)
    # too large: declared, or sent without a length and longer than allowed
    assert "over" in _error(
        httpx.post(answer, content=b"x" * 2_000_000, headers={"content-type": "application/json"}), 413
    )
    chunks = (b"x" * 65536 for _ in range(40))  # 2.6 MB, no Content-Length
    assert "over" in _error(
        httpx.post(answer, content=chunks, headers={"content-type": "application/json"}), 413
    )
    too_big = {"file": ("big.txt", b"x" * (MAX_BYTES + 1))}
    _error(httpx.post(f"{url}api/articles", files=too_big, timeout=60), 413)
    # inputs that cannot be read
    assert "binary" in _error(httpx.post(f"{url}api/articles", files={"file": ("photo.txt", PNG)}), 422)
    assert "title" in _error(httpx.post(f"{url}api/articles", json={"title": " ", "text": "Some text."}), 422)
    assert "text" in _error(httpx.post(f"{url}api/articles", json={"title": "No text"}), 422)
    assert "form field 'file'" in _error(
        httpx.post(f"{url}api/articles", files={"other": ("a.txt", b"x")}), 400
    )


def test_an_empty_store_is_503_and_a_read_only_server_adds_and_removes_nothing(tmp_path: Path) -> None:
    empty = Settings(store=tmp_path / "empty", chroma_host=None, read_only=True)
    root: Assistant = make_root(empty)
    with served_api(root) as url:
        assert "no articles ingested yet" in _error(
            httpx.post(f"{url}api/answer", json={"question": QUESTION}), 503
        )
        assert "read-only" in _error(
            httpx.post(f"{url}api/articles", json={"title": "T", "text": "A text."}), 403
        )
        assert "read-only" in _error(httpx.delete(f"{url}api/articles/anything"), 403)
        assert httpx.get(f"{url}api/health").json()["read_only"] is True
        reading = {"question", "chat", "cited-articles", "article-view", "examples"}
        assert _chat_triggers(url) == reading  # nothing that adds or removes
    assert root.store.articles() == []


def test_a_writable_chat_adds_and_removes(url: str) -> None:
    assert {"upload", "paste-add", "link-add", "link-url", "remove"} <= _chat_triggers(url)


def _chat_triggers(url: str) -> set[str]:
    """The elements of the served chat page that start a handler."""
    config = httpx.get(f"{url}config").json()
    named = {c["id"]: c["props"].get("elem_id") for c in config["components"]}
    return {named[t[0]] for d in config["dependencies"] for t in d["targets"] if named.get(t[0])}


def test_the_api_is_described_at_docs(url: str) -> None:
    spec = httpx.get(f"{url}openapi.json").json()
    assert {"/api/answer", "/api/articles", "/api/articles/{article_id}", "/api/health"} <= set(spec["paths"])
    assert httpx.get(f"{url}docs").status_code == 200


def test_an_exposed_server_adds_no_link_into_its_own_network(tmp_path: Path, news_server: str) -> None:
    exposed = Settings(store=tmp_path / "store", chroma_host=None, host="0.0.0.0", api_tokens="t")
    with served_api(make_root(exposed)) as url:
        bearer = {"Authorization": "Bearer t"}
        refused = httpx.post(f"{url}api/articles", json={"url": news_server}, headers=bearer, timeout=60)
        assert "private or local address" in _error(refused, 422)
        assert httpx.get(f"{url}api/articles", headers=bearer).json() == []


def test_no_server_path_reaches_a_program_only_the_file_name(url: str) -> None:
    folder = str(SAMPLE.parent)
    listed = httpx.get(f"{url}api/articles")
    answered = httpx.post(f"{url}api/answer", json={"question": QUESTION}, timeout=60)
    assert folder not in listed.text and folder not in answered.text
    [article] = listed.json()
    assert "source" not in article and article["file"] == SAMPLE.name and article["url"] is None
    assert {c["file"] for c in answered.json()["citations"]} == {SAMPLE.name}
    assert f"· {SAMPLE.name}" in Answer.from_dict(answered.json()).as_text()
