"""article-assistant chat: the conversation in the terminal, run as a child process through the
real CLI, its answers compared with the root's for the same turns."""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from assistant.answering.conversation import clean_question
from assistant.app import Assistant
from assistant.core.errors import InvalidQuestionError
from assistant.core.records import Answer, Turn, source_line
from assistant.core.settings import Settings
from tests.conftest import ROOT, SAMPLE, child_env, library, make_root, run_cli
from tests.ui_support import DAM_TEXT, DAM_TITLE

pytestmark = pytest.mark.subprocess

CONVERSATION = ("Who is Khalil Haqqani?", "What reward is on his head?", "Tell me more")
ANSI = "\x1b["


def chat(
    *lines: str, store: Path, args: Sequence[str] = (), env: dict | None = None
) -> subprocess.CompletedProcess:
    """``python -m assistant chat`` with ``lines`` piped to its stdin."""
    return subprocess.run(
        [sys.executable, "-m", "assistant", "chat", *args], input="".join(f"{line}\n" for line in lines),
        cwd=ROOT, env=child_env(store, **(env or {})), capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def chat_in_terminal(
    *lines: str | None, store: Path, env: dict | None = None, timeout: float = 300
) -> tuple[int, str, str]:
    """The chat with stdin and stdout on a pseudo-terminal, each line typed at its prompt (None:
    Ctrl-D at that prompt); (exit code, what the terminal showed, stderr)."""
    controller, terminal = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant", "chat"], stdin=terminal, stdout=terminal,
        stderr=subprocess.PIPE, cwd=ROOT, env=child_env(store, TERM="dumb", **(env or {})),
    )  # fmt: skip
    os.close(terminal)
    shown, typing, deadline = b"", list(lines), time.monotonic() + timeout
    # epoll, not select(): a test process holding many stores open has descriptors past 1024
    waiting = selectors.DefaultSelector()
    waiting.register(controller, selectors.EVENT_READ)
    try:
        while time.monotonic() < deadline:
            if not waiting.select(0.5):
                continue
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the child has closed the terminal
                break
            if not chunk:
                break
            shown += chunk
            if typing and shown.endswith(b"> "):
                line = typing.pop(0)
                os.write(controller, b"\x04" if line is None else f"{line}\n".encode())
        else:
            raise AssertionError(f"the chat did not end within {timeout} s:\n{shown.decode()}")
        code = process.wait(timeout=60)
    finally:
        process.kill()
        waiting.close()
        os.close(controller)
    return code, shown.decode().replace("\r\n", "\n"), process.stderr.read().decode()


def answers(
    root: Assistant, questions: Sequence[str], article_ids: Sequence[str] | None = None
) -> list[Answer]:
    """The root's answers to ``questions`` asked one after the other, each after the earlier
    turns with their answers, as the browser chat keeps them."""
    turns: list[Turn] = []
    for question in questions:
        turns.append(Turn(question, root.answer(question, turns, article_ids)))
    return [t.answer for t in turns]


def printed(answer: Answer, root: Assistant) -> str:
    """An answer as ``ask`` prints it."""
    return answer.as_text(root.messages.sources_heading)


def in_order(text: str, parts: Sequence[str]) -> bool:
    """Whether ``parts`` all stand in ``text``, one after the other."""
    position = 0
    for part in parts:
        found = text.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True


@pytest.fixture(scope="module")
def two_articles(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A store with the sample article and a three-sentence one about a dam, read from a file."""
    folder = tmp_path_factory.mktemp("two")
    dam = folder / "veltra-dam.txt"
    dam.write_text(f"{DAM_TITLE}\n\n{DAM_TEXT}\n")
    settings = Settings(store=folder / "store", chroma_host=None)
    assert library(settings).add_sources([SAMPLE, dam]).count("added") == 2
    return settings


def test_a_piped_conversation_follows_its_turns_as_the_browser_does(
    sample_settings: Settings, sample_root: Assistant
) -> None:
    (article,) = sample_root.store.articles()
    done = chat(
        *CONVERSATION[:2], "", CONVERSATION[2], "/articles", f"/use {article.article_id}", "/frobnicate",
        "/quit", "Who is asked after the end?", store=sample_settings.store,
    )  # fmt: skip
    assert done.returncode == 0 and done.stderr == ""
    expected = answers(sample_root, CONVERSATION)
    # the follow-ups lean on the earlier turns: on its own, "What reward is on his head?" gets another answer
    assert expected[1].text != sample_root.answer(CONVERSATION[1]).text
    replies = "".join(f"{printed(a, sample_root)}\n\n" for a in expected)
    assert done.stdout.startswith(replies)  # the empty line was ignored
    listed, used, unknown = done.stdout.removeprefix(replies).removesuffix("\n\n").split("\n\n")
    assert article.title in listed and "1. " in listed and article.article_id in listed
    assert "us-taliban-evacuation.txt" in listed and str(SAMPLE.parent) not in done.stdout
    assert article.title in used
    assert unknown.startswith("unknown command /frobnicate") and "/quit" in unknown and "\n" not in unknown
    assert ANSI not in done.stdout


def test_answers_are_printed_as_ask_prints_them_sources_after_the_answer(
    sample_settings: Settings, sample_root: Assistant
) -> None:
    asked = run_cli("assistant", "ask", CONVERSATION[0], store=sample_settings.store)
    done = chat(CONVERSATION[0], store=sample_settings.store)  # no /quit: the input just ends
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout == f"{asked.stdout}\n"
    (answer,) = answers(sample_root, CONVERSATION[:1])
    body, sources = done.stdout.split(f"\n{sample_root.messages.sources_heading}:\n")
    (answer,) = answers(sample_root, CONVERSATION[:1])
    assert answer.citations and answer.text in body
    assert sources.strip().splitlines() == [source_line(n, c) for n, c in answer.numbered()]


def test_use_restricts_the_questions_to_the_chosen_articles(two_articles: Settings) -> None:
    root = make_root(two_articles)
    ids = [a.article_id for a in root.store.articles()]  # the numbers /articles shows, from 1
    dam = next(a for a in root.store.articles() if a.title == DAM_TITLE)
    questions = ("When was the dam completed?", CONVERSATION[0])
    done = chat(
        "/articles", f"/use {ids.index(dam.article_id) + 1}", *questions, "/use all", CONVERSATION[0],
        store=two_articles.store,
    )  # fmt: skip
    assert done.returncode == 0 and done.stderr == ""
    restricted = answers(root, questions, [dam.article_id])
    assert all(c.article_id == dam.article_id for a in restricted for c in a.citations)
    assert restricted[0].citations and restricted[1].abstained  # the dam article does not say
    turns = [Turn(q, a) for q, a in zip(questions, restricted, strict=True)]
    everywhere = root.answer(CONVERSATION[0], turns)
    assert {c.article_id for c in everywhere.citations} - {dam.article_id}
    assert in_order(done.stdout, [*(printed(a, root) for a in restricted), printed(everywhere, root)])
    listed = done.stdout.split("\n\n")[0]
    assert "veltra-dam.txt" in listed and str(two_articles.store.parent) not in done.stdout


def test_the_article_option_chooses_as_use_does(two_articles: Settings) -> None:
    root = make_root(two_articles)
    dam = next(a for a in root.store.articles() if a.title == DAM_TITLE)
    done = chat(CONVERSATION[0], store=two_articles.store, args=["--article", dam.article_id])
    assert done.returncode == 0 and done.stderr == ""
    (answer,) = answers(root, CONVERSATION[:1], [dam.article_id])
    assert done.stdout.startswith(printed(answer, root))


def test_bad_input_gets_its_message_and_the_chat_goes_on_clear_starts_anew(
    sample_settings: Settings, sample_root: Assistant
) -> None:
    too_long = "Who is Khalil Haqqani? " * 200
    with pytest.raises(InvalidQuestionError) as refused:
        clean_question(too_long)
    spec = "nonsense-provider:some-model"
    asked = run_cli("assistant", "ask", CONVERSATION[0], "--llm", spec, store=sample_settings.store)
    assert asked.returncode == 1 and asked.stderr.startswith("error: ")
    done = chat(
        too_long, "   ", f"/llm {spec}", "/use no-such-article", CONVERSATION[0], "/clear", CONVERSATION[2],
        "/quit", store=sample_settings.store,
    )  # fmt: skip
    assert done.returncode == 0 and done.stderr == "" and "Traceback" not in done.stdout
    (answer,) = answers(sample_root, CONVERSATION[:1])
    anew = sample_root.answer(CONVERSATION[2])  # after /clear: "Tell me more" with no earlier turn
    replies = [printed(answer, sample_root), printed(anew, sample_root)]
    assert in_order(done.stdout, [f"error: {refused.value}\n\n", asked.stderr, *replies])
    assert "error: no article 'no-such-article'" in done.stdout


def test_an_empty_store_ends_the_chat_at_its_start_as_ask_does(tmp_path: Path) -> None:
    asked = run_cli("assistant", "ask", CONVERSATION[0], store=tmp_path / "empty")
    done = chat(CONVERSATION[0], store=tmp_path / "empty")
    assert done.returncode == asked.returncode == 1
    assert done.stderr == asked.stderr and "python -m ingest" in done.stderr
    assert done.stdout == "" and "Traceback" not in done.stderr


def test_the_terminal_is_read_whatever_descriptors_the_test_process_holds(sample_settings: Settings) -> None:
    # a test process that opened many stores holds descriptors past 1024, which select() refuses
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        code, shown, stderr = chat_in_terminal("/quit", store=sample_settings.store)
    finally:
        for descriptor in held:
            os.close(descriptor)
    assert code == 0 and stderr == "" and shown.endswith("> /quit\n")


def test_on_a_terminal_the_short_answer_is_bold_after_a_prompt(
    sample_settings: Settings, sample_root: Assistant
) -> None:
    code, shown, stderr = chat_in_terminal(*CONVERSATION[:2], "/quit", store=sample_settings.store)
    assert code == 0 and stderr == ""
    first, second = answers(sample_root, CONVERSATION[:2])
    assert second.short is not None

    def bold(reply: Answer) -> str:
        text = printed(reply, sample_root)
        return text.replace(reply.short.text, f"\x1b[1m{reply.short.text}\x1b[0m", 1) if reply.short else text

    assert in_order(shown, ["> ", bold(first), "> ", bold(second), "> "])


def test_no_color_and_ctrl_d_at_the_prompt(sample_settings: Settings, sample_root: Assistant) -> None:
    code, shown, stderr = chat_in_terminal(
        *CONVERSATION[:2], None, store=sample_settings.store, env={"NO_COLOR": "1"}
    )
    assert code == 0 and stderr == "" and "Traceback" not in shown
    first, second = answers(sample_root, CONVERSATION[:2])
    assert in_order(shown, [printed(first, sample_root), printed(second, sample_root)])
    assert ANSI not in shown
