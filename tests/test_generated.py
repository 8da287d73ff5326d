"""Generated answers: a chat model writes, every sentence is checked, only supported ones
are shown; a model that is down, slow or silent leaves the extractive answer with a note.

The hosted model is the one thing that cannot run here, so an OpenAI-compatible server on
127.0.0.1 stands in for it (stdlib http.server in a thread, plain and streamed replies);
everything else is real: LangChain's OpenAI client over HTTP, the store, the embedder,
spaCy, and the local SmolLM2 model.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant.app import Assistant
from assistant.core.errors import ConfigError, EmptyStoreError, InvalidQuestionError
from assistant.core.records import Answer
from assistant.core.settings import Settings
from assistant.generation.answerer import within
from assistant.generation.verify import markers, without_markers
from assistant.interfaces.cli import main
from tests.conftest import free_port, make_root, run_cli

QUESTION = "Who is Khalil Haqqani?"
INVENTED = "He was born in Peshawar in 1972 and studied engineering in Karachi"


def reply_to(user: str) -> str:
    """What the stand-in model writes for a prompt: one faithful sentence citing the source
    that holds the reward, and one invented sentence citing the same source."""
    n = re.search(r"\[(\d+)\]", user[user.index("USD 5 million") :]).group(1)
    return f"Khalil Haqqani has a USD 5 million reward on his head [{n}]. {INVENTED} [{n}]."


class ChatServer:
    """An OpenAI-compatible /v1/chat/completions on 127.0.0.1: answers with ``write(prompt)``,
    streamed as server-sent events when asked to, after ``delay`` seconds."""

    def __init__(self, write: Callable[[str], str] = reply_to, delay: float = 0.0) -> None:
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(request)
                time.sleep(delay)
                text = write(request["messages"][-1]["content"])
                if request.get("stream"):
                    self._stream(request["model"], text)
                else:
                    self._send(
                        200, "application/json", json.dumps(_completion(request["model"], text)).encode()
                    )

            def _stream(self, model: str, text: str) -> None:
                pieces = [*re.findall(r"\S+\s*", text), None]
                events = b"".join(f"data: {json.dumps(_chunk(model, p))}\n\n".encode() for p in pieces)
                self._send(200, "text/event-stream", events + b"data: [DONE]\n\n")

            def _send(self, status: int, kind: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> ChatServer:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _completion(model: str, text: str) -> dict:
    message = {"role": "assistant", "content": text}
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}  # fmt: skip


def _chunk(model: str, piece: str | None) -> dict:
    delta, finish = ({"role": "assistant", "content": piece}, None) if piece is not None else ({}, "stop")
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip


@pytest.fixture
def openai_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Points LangChain's OpenAI provider at a base address, as a user would with the env."""
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    yield lambda url: monkeypatch.setenv("OPENAI_BASE_URL", url)


def openai_root(settings: Settings, **options: object) -> Assistant:
    """A root over ``settings``' store that writes answers with ``openai:gpt-4o-mini``."""
    return make_root(settings.model_copy(update={"llm": "openai:gpt-4o-mini", **options}))


def assert_only_supported_shown(reply: Answer) -> None:
    """The shown text is the supported claims, in order, renumbered to the shown citations."""
    kept = [c for c in reply.claims if c.supported]
    shown = [without_markers(s) for s in re.split(r"(?<=\])\s+(?=[A-Z])", reply.text)]
    assert shown == [without_markers(c.text) for c in kept]
    numbers = sorted({n for sentence in re.split(r"(?<=\])\s", reply.text) for n in markers(sentence)})
    assert numbers == list(range(1, len(reply.citations) + 1))


def test_a_streamed_reply_shows_only_its_supported_sentences(sample_settings, openai_env) -> None:
    with ChatServer() as server:
        openai_env(server.url)
        reply = openai_root(sample_settings).answer(QUESTION)
    assert reply.mode == "generated" and reply.note == ""
    assert [c.supported for c in reply.claims] == [True, False]
    assert INVENTED not in reply.text and "1972 is not in" in reply.claims[1].reason
    assert reply.text == "Khalil Haqqani has a USD 5 million reward on his head [1]."
    assert "USD 5 million" in reply.citations[0].text
    assert_only_supported_shown(reply)
    (request,) = server.requests
    assert request["stream"] is True and request["model"] == "gpt-4o-mini"
    system, user = request["messages"]
    assert system["role"] == "system" and "[1]" in system["content"]
    assert f"Question: {QUESTION}" in user["content"] and "[1]" in user["content"]


def test_the_chat_streams_the_text_then_the_checked_answer(sample_settings, openai_env) -> None:
    with ChatServer() as server:
        openai_env(server.url)
        items = list(openai_root(sample_settings).generated().stream(QUESTION))
    *pieces, reply = items
    assert len(pieces) > 5 and all(isinstance(p, str) for p in pieces)
    assert INVENTED in "".join(pieces) and isinstance(reply, Answer) and INVENTED not in reply.text


def test_a_plain_reply_and_a_follow_up(sample_settings, openai_env) -> None:
    from langchain_openai import ChatOpenAI

    with ChatServer() as server:
        openai_env(server.url)
        model = ChatOpenAI(model="any-model", disable_streaming=True)
        root = Assistant.from_settings(
            sample_settings, embedder=make_root(sample_settings).embedder, llm=model
        )
        reply = root.answer("What reward is on his head?", ["Who is Khalil Haqqani?"])
    assert reply.mode == "generated" and reply.text.startswith("Khalil Haqqani has a USD 5 million reward")
    (request,) = server.requests
    assert "stream" not in request or not request["stream"]
    assert "Question: What reward is on Khalil Haqqani" in request["messages"][-1]["content"]


def test_a_server_that_is_down_leaves_the_extractive_answer(sample_settings, openai_env) -> None:
    openai_env(f"http://127.0.0.1:{free_port()}/v1")
    reply = openai_root(sample_settings).answer(QUESTION)
    extractive = make_root(sample_settings).answer(QUESTION)
    assert reply.mode == "extractive" and reply.text == extractive.text and reply.citations
    assert "openai:gpt-4o-mini could not answer" in reply.note and "Connection" in reply.note


def test_a_slow_server_is_given_up_on_in_time(sample_settings, openai_env) -> None:
    with ChatServer(delay=8) as server:
        openai_env(server.url)
        root = openai_root(sample_settings, llm_timeout=1.0)
        root.answer("Who is Douglas London?")  # the first answer loads what answering needs
        started = time.monotonic()
        reply = root.answer(QUESTION)
        took = time.monotonic() - started
    assert reply.mode == "extractive" and "did not answer within 1 s" in reply.note
    assert took < 5, took


def test_an_empty_reply_leaves_the_extractive_answer(sample_settings, openai_env) -> None:
    with ChatServer(write=lambda prompt: "") as server:
        openai_env(server.url)
        reply = openai_root(sample_settings).answer(QUESTION)
    assert reply.mode == "extractive" and "returned nothing" in reply.note


@pytest.mark.parametrize(
    ("written", "count"),
    [(f"{INVENTED} [1]. It was raining [2].", "2 sentences"), (f"{INVENTED} [1].", "1 sentence")],
)
def test_a_reply_with_no_supported_sentence_keeps_its_claims(
    written: str, count: str, sample_settings, openai_env
) -> None:
    with ChatServer(write=lambda prompt: written) as server:
        openai_env(server.url)
        reply = openai_root(sample_settings).answer(QUESTION)
    assert reply.mode == "extractive" and INVENTED not in reply.text
    assert reply.note == (
        f"None of what the language model openai:gpt-4o-mini wrote ({count}) is supported by the "
        "sources it cites, so this answer is the articles' own sentences."
    )
    assert not any(c.supported for c in reply.claims) and len(reply.claims) == int(count[0])


def test_bad_questions_and_stores_fail_as_the_extractive_answerer_does(
    sample_settings, settings, openai_env
) -> None:
    openai_env(f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(InvalidQuestionError):
        openai_root(sample_settings).answer("   ")
    with pytest.raises(EmptyStoreError):
        openai_root(settings).answer(QUESTION)


def test_a_missing_provider_package_names_the_extra(sample_settings) -> None:
    pytest.importorskip("langchain")
    if __import__("importlib").util.find_spec("langchain_ollama"):
        pytest.skip("langchain-ollama is installed")
    with pytest.raises(ConfigError, match=r"article-assistant\[ollama\]"):
        make_root(sample_settings).answer(QUESTION, llm="ollama:llama3.2")


def test_the_cli_falls_back_with_a_note_and_exit_0(sample_settings, openai_env, capsys, monkeypatch) -> None:
    openai_env(f"http://127.0.0.1:{free_port()}/v1")
    store = str(sample_settings.store)
    code = main(["ask", QUESTION, "--json", "--llm", "openai:gpt-4o-mini", "--store", store])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["mode"] == "extractive" and "could not answer" in out["note"]
    monkeypatch.setenv("ASSISTANT_LLM", "nonsense-model")
    assert main(["ask", QUESTION, "--store", store]) == 1
    assert "cannot use the chat model 'nonsense-model'" in capsys.readouterr().err


@pytest.mark.subprocess
def test_the_cli_answers_with_a_chat_model_from_the_environment(sample_settings: Settings) -> None:
    with ChatServer() as server:
        env = {"ASSISTANT_LLM": "openai:gpt-4o-mini", "OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": "k",
               "NO_PROXY": "127.0.0.1,localhost"}  # fmt: skip
        done = run_cli("assistant", "ask", QUESTION, "--json", store=sample_settings.store, env=env)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["mode"] == "generated" and out["note"] == "" and INVENTED not in out["text"]
    assert [c["supported"] for c in out["claims"]] == [True, False] and out["claims"][1]["reason"]
    assert "USD 5 million" in out["citations"][0]["text"] and out["citations"][0]["end"] > 0


def test_a_model_is_held_to_its_time_in_all() -> None:
    release, closed = threading.Event(), threading.Event()

    def slow() -> Iterator[str]:
        try:
            yield "first"
            release.wait(30)
            yield "never"
        finally:
            closed.set()

    started, seen = time.monotonic(), []
    with pytest.raises(TimeoutError):
        seen.extend(within(0.5, slow))
    assert seen == ["first"] and time.monotonic() - started < 2
    release.set()  # the given-up stream is closed once it gives its next item
    assert closed.wait(5)


@pytest.mark.llm
def test_the_local_model_answers_with_supported_sentences_only(sample_settings: Settings) -> None:
    root = make_root(sample_settings.model_copy(update={"llm": "local", "llm_timeout": 180.0}))
    *pieces, reply = root.generated().stream(QUESTION)
    assert pieces and reply.claims, reply
    # The constrained decoding puts a marker after every sentence the model ends (the last
    # one may be cut short by the token limit).
    assert all(markers(c.text) for c in reply.claims[:-1])
    assert all(c.text.strip() in "".join(pieces) for c in reply.claims)
    sentences = {s.text for s in root.corpus_cache.get().sentences}
    if reply.mode == "generated":
        assert_only_supported_shown(reply) and all(c.text in sentences for c in reply.citations)
    else:
        assert "None of what" in reply.note and not any(c.supported for c in reply.claims)
    for claim in reply.claims:  # nothing the model made up is shown
        if not claim.supported:
            assert claim.reason and without_markers(claim.text) not in reply.text


@pytest.mark.llm
@pytest.mark.subprocess
def test_the_cli_gives_up_on_the_local_model_in_time_and_exits_0(sample_settings: Settings) -> None:
    # Half a second is not enough for the local model to write an answer, so it is given up on
    # while it generates; the process must still end cleanly (a thread freeing the model while
    # the interpreter shut down once aborted it with exit 134).
    env = {"ASSISTANT_LLM": "local", "ASSISTANT_LLM_TIMEOUT": "0.5"}
    done = run_cli("assistant", "ask", QUESTION, "--json", store=sample_settings.store, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout)
    assert out["mode"] == "extractive" and "local did not answer within 0.5 s" in out["note"]
    assert "USD 5 million" in out["text"] and "terminate" not in done.stderr


# What a progress bar leaves on stderr: a carriage return, "42%|", its blocks, its rate.
PROGRESS_BAR = re.compile(r"\r|\d%\||[▏▎▍▌▋▊▉█]|\d(?:it/s|s/it)\b")


@pytest.mark.llm
@pytest.mark.subprocess
def test_asking_the_local_model_shows_no_library_progress_bar(sample_settings: Settings, tmp_path) -> None:
    # A model cache of its own: the model is converted from its GGUF and the embedder exported,
    # as on a first run, and both are loaded, as on every run.
    env = {"ASSISTANT_MODEL_CACHE": str(tmp_path / "cache"), "ASSISTANT_LLM_TIMEOUT": "180"}
    done = run_cli("assistant", "ask", QUESTION, "--llm", "local", store=sample_settings.store, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert any((tmp_path / "cache").glob("smollm2-*/model.safetensors")), "converted in this run"
    assert "Khalil Haqqani" in done.stdout
    assert not PROGRESS_BAR.search(done.stderr), done.stderr[-2000:]


def test_the_chat_streams_a_written_answer_then_sets_its_unsupported_sentences_apart(
    sample_settings: Settings, openai_env: Callable[[str], None]
) -> None:
    from assistant.interfaces.web import ChatPage

    with ChatServer() as server:
        openai_env(server.url)
        root = openai_root(sample_settings)
        page = ChatPage.of(root)
        assert list(page.writers) == ["openai:gpt-4o-mini", "local"]
        ids = [a.article_id for a in page.store.articles()]
        steps = list(page.respond_as_written(QUESTION, [], ids, "openai:gpt-4o-mini"))
    drafts, (box, history, _, view, turns) = steps[:-1], steps[-1]
    answer = turns[-1].answer
    assert drafts and all('class="reply draft"' in d[1][-1]["content"] for d in drafts)
    assert "Peshawar" in drafts[-1][1][-1]["content"]  # the model's words, shown as it writes them
    final = history[-1]["content"]
    assert answer.mode == "generated" and "Peshawar" not in answer.text
    answer_part, rejected_part = final.split('class="rejected"')
    assert "USD 5 million" in answer_part and "Peshawar" not in answer_part
    assert "Peshawar" in rejected_part and "<s>" in rejected_part  # set apart, struck through
    assert box == "" and "mark" in view
    # The quoted answers stay one choice away, on the same page.
    quoted = page.respond(QUESTION, [], ids)[4][-1].answer
    assert quoted.mode == "extractive" and "Khalil Haqqani" in quoted.citations[0].text
