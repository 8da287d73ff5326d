"""Client/server mode: a real ``chroma run`` server, used by ingest, the API, the CLI and the chat.

Nothing may be written to the embedded store's folder in this mode, and everything the
answerer keeps in memory (the BM25 indexes included) must come from the server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from gradio_client import Client

from assistant.core.settings import Settings
from assistant.storage.store import Store
from tests.conftest import CHROMA_VARS, ROOT, SAMPLE, free_port, make_root, run_cli, wait_for_port
from tests.store_checks import assert_whole, versions_of, versions_seen, write_articles

pytestmark = pytest.mark.subprocess

CHROMA = Path(sys.executable).with_name("chroma")
QUESTION = "Who is Khalil Haqqani?"


@contextmanager
def chroma_server(folder: Path) -> Iterator[int]:
    """A Chroma server on a free loopback port, with its data in ``folder``; its port. Stopped after."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(folder / "data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )  # fmt: skip
    try:
        wait_for_port(port, process, timeout=60)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def chroma_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The server the module's tests share."""
    with chroma_server(tmp_path_factory.mktemp("chroma-server")) as port:
        yield port


@pytest.fixture
def remote(chroma_port: int, tmp_path: Path) -> dict[str, str]:
    """Environment for a child process that uses the server; its embedded store must stay unused."""
    return {
        "CHROMA_HOST": "127.0.0.1",
        "CHROMA_PORT": str(chroma_port),
        "ASSISTANT_STORE": str(tmp_path / "unused"),
    }


@pytest.fixture(scope="module")
def ingested(chroma_port: int, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The sample article ingested through the server by the CLI; settings that reach the server."""
    env = {"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(chroma_port)}
    done = run_cli("ingest", "--quiet", str(SAMPLE), env=env)
    assert done.returncode == 0, done.stderr
    assert "1 added" in done.stdout
    unused = tmp_path_factory.mktemp("embedded") / "store"
    return Settings(store=unused, chroma_host="127.0.0.1", chroma_port=chroma_port)


def test_cli_lists_and_answers_through_the_server(ingested: Settings, remote: dict[str, str]) -> None:
    listed = run_cli("ingest", "--list", "--json", env=remote)
    assert listed.returncode == 0, listed.stderr
    [article] = json.loads(listed.stdout)
    assert article["source"].endswith(SAMPLE.name)
    done = run_cli("assistant", "ask", QUESTION, "--json", env=remote)
    assert done.returncode == 0, done.stderr
    reply = json.loads(done.stdout)
    first = reply["citations"][0]
    assert "Khalil Haqqani" in first["text"]
    assert Store(ingested).article_text(first["article_id"])[first["start"] : first["end"]] == first["text"]
    assert not Path(remote["ASSISTANT_STORE"]).exists()


def test_api_answers_and_sees_new_articles_from_the_server(ingested: Settings, tmp_path: Path) -> None:
    root = make_root(ingested)
    reply = root.answer(QUESTION)
    assert "Khalil Haqqani" in reply.citations[0].text
    store = Store(ingested)
    for c in reply.citations:
        assert store.article_text(c.article_id)[c.start : c.end] == c.text
    # An article added by another process is found by the lexical index as well as by Chroma.
    extra = tmp_path / "harbour.txt"
    extra.write_text("Harbour report\n\nThe Zephyrine ferry to Skye left at noon carrying forty cars.\n")
    env = {"CHROMA_HOST": ingested.chroma_host, "CHROMA_PORT": str(ingested.chroma_port)}
    assert run_cli("ingest", "--quiet", str(extra), env=env).returncode == 0
    [candidate] = [c for c in root.extractive.trace("Zephyrine").ranking.candidates if "Zephyrine" in c.text]
    assert candidate.evidence.bm25_rank == 0
    assert "Zephyrine" in root.answer("When did the Zephyrine ferry leave?").citations[0].text
    assert not ingested.store.exists()


def test_chat_served_over_the_server(ingested: Settings, remote: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in CHROMA_VARS}
    env.update(remote, GRADIO_SERVER_PORT=str(port), GRADIO_TEMP_DIR=str(tmp_path / "uploads"))
    with (tmp_path / "chat.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "assistant"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_for_port(port, process)
        reply = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(QUESTION, api_name="/chat")
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert "Khalil Haqqani" in reply.split("[1]")[0]
    assert not Path(remote["ASSISTANT_STORE"]).exists()


def test_a_reader_sees_every_article_whole_while_an_ingest_replaces_them(tmp_path: Path) -> None:
    # A server has no lock to keep writes out of a read, so a snapshot that writes landed in is
    # read again; one taken as consistent must show every article whole, old version or new.
    folder, count = tmp_path / "articles", 150  # 1,800 new sentences: several write batches
    paths = write_articles(folder, count, 10, version=1)
    with chroma_server(tmp_path / "server") as port:
        env = {"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(port)}
        assert run_cli("ingest", "--quiet", str(folder), env=env).returncode == 0
        old = versions_of(paths)
        write_articles(folder, count, 12, version=2)
        new = versions_of(paths)
        settings = Settings(store=tmp_path / "unused", chroma_host="127.0.0.1", chroma_port=port)
        stop, seen, failures = threading.Event(), [], []

        def watch() -> None:
            """Snapshots as the chat takes them: how many new articles each consistent one shows."""
            watcher = Store(settings)
            while not stop.is_set():
                try:
                    snapshot = watcher.snapshot()
                    whole = snapshot.consistent and assert_whole(versions_seen(snapshot), old, new)
                except Exception as e:  # handed to the test
                    failures.append(e)
                    return
                seen.append(whole if snapshot.consistent else None)

        reader = threading.Thread(target=watch)
        reader.start()
        try:
            done = run_cli("ingest", "--quiet", str(folder), env=env)
        finally:
            stop.set()
            reader.join(timeout=120)
        assert done.returncode == 0, done.stderr
        assert not failures, failures[0]
        assert seen and any(n is not None for n in seen), "the reader never read the store whole"
        final = Store(settings).snapshot()
        assert final.consistent and assert_whole(versions_seen(final), old, new) == count


def test_an_unreachable_server_is_a_clear_error() -> None:
    env = {"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(free_port())}
    for command in (("assistant", "ask", QUESTION), ("ingest", "--list")):
        done = run_cli(*command, env=env)
        assert done.returncode == 1
        assert "Chroma server at http://127.0.0.1" in done.stderr
        assert "Traceback" not in done.stderr
