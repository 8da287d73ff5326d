"""One process ingests while another serves the chat over the same embedded store.

Chroma's embedded store keeps its vector index in the memory of each process and never
reloads it; before :mod:`assistant.storage.store` reopened its client on another process's writes,
every answer failed with "Error finding id" from the first write on. Here the chat keeps
answering (through ``gradio_client``, as a user would) while ``python -m ingest`` writes, it
finds the new articles once they are in, and the store is whole afterwards. Some questions are
asked while the ingest is held halfway (its embedding worker paused after the first batch is
committed), so the test sees a half-written store however fast the machine is.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import Client

from assistant.core.settings import Settings
from assistant.storage.store import Store
from tests.conftest import SAMPLE, run_cli
from tests.store_checks import (
    assert_consistent,
    embedding_paused,
    place,
    spawn_ingest,
    wait_for_first_commit,
    write_articles,
)
from tests.ui_support import QUESTION, served_chat

pytestmark = pytest.mark.subprocess

ARTICLES = 300  # 3,000 sentences: twelve write batches, so the store changes while the chat answers


def _answers_khalil(reply: str) -> bool:
    return "Khalil Haqqani" in reply.split("[1]")[0] and "⚠" not in reply


def test_the_chat_answers_while_another_process_ingests(tmp_path: Path) -> None:
    store = tmp_path / "store"
    settings = Settings(store=store, chroma_host=None)
    assert run_cli("ingest", "--quiet", str(SAMPLE), store=store).returncode == 0
    folder = tmp_path / "articles"
    write_articles(folder, ARTICLES)

    def ask() -> None:
        reply = client.predict(QUESTION, api_name="/chat")
        replies.append((len(Store(settings).articles()), reply))

    with served_chat(store, tmp_path) as url:
        client = Client(url, verbose=False)
        assert _answers_khalil(client.predict(QUESTION, api_name="/chat"))
        ingest = spawn_ingest(folder, store)
        replies: list[tuple[int, str]] = []  # (articles in the store when it came, reply)
        try:
            wait_for_first_commit(ingest)
            with embedding_paused(ingest):
                for _ in range(3):
                    ask()
            while ingest.poll() is None:
                ask()
        finally:
            if ingest.poll() is None:
                ingest.kill()
            out, err = ingest.communicate(timeout=60)
        assert ingest.returncode == 0, out + err
        assert out.strip().endswith(f"{ARTICLES} added, 0 updated, 0 unchanged, 0 skipped, 0 failed")

        for number in (0, ARTICLES - 1):  # the first and the last article written
            reply = client.predict(
                f"Which bridge reopened after repairs in {place(number)}?", api_name="/chat"
            )
            assert f"The {place(number)} bridge reopened" in reply.split("[1]")[0], reply
        assert _answers_khalil(client.predict(QUESTION, api_name="/chat"))

    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log and "Error finding id" not in log, log
    wrong = [reply for _, reply in replies if not _answers_khalil(reply)]
    assert not wrong, wrong
    assert any(1 < count < ARTICLES + 1 for count, _ in replies), (
        "no answer came while the ingest was halfway",
        [count for count, _ in replies],
    )
    assert len(assert_consistent(settings)["articles"]) == ARTICLES + 1
