"""One process ingests while another serves the chat over the same embedded store.

Chroma's embedded store keeps its vector index in the memory of each process and never
reloads it; before :mod:`assistant.store` reopened its client on another process's writes,
every answer failed with "Error finding id" from the first write on. Here the chat keeps
answering (through ``gradio_client``, as a user would) while ``python -m ingest`` writes, it
finds the new articles once they are in, and the store is whole afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from gradio_client import Client

from assistant.settings import Settings
from assistant.store import Store
from tests.conftest import CHROMA_VARS, ROOT, SAMPLE, run_cli
from tests.store_checks import assert_consistent, place, write_articles
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
    env = {k: v for k, v in os.environ.items() if k not in CHROMA_VARS}
    env["ASSISTANT_STORE"] = str(store)

    with served_chat(store, tmp_path) as url:
        client = Client(url, verbose=False)
        assert _answers_khalil(client.predict(QUESTION, api_name="/chat"))
        ingest = subprocess.Popen(
            [sys.executable, "-m", "ingest", "--quiet", str(folder)], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        replies: list[tuple[int, str]] = []  # (articles in the store when it came, reply)
        try:
            while ingest.poll() is None:
                reply = client.predict(QUESTION, api_name="/chat")
                replies.append((len(Store(settings).articles()), reply))
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
