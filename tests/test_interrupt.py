"""``kill -9`` in the middle of ``python -m ingest``, then the same command again.

The store must end exactly as an uninterrupted ingest leaves it (same ids, documents,
metadata and embeddings), and while a changed article is being replaced, every reader sees
it whole in one version: never both, never none. The test process watches the store while
the ingest writes it, as the chat server would. Each kill lands at a moment the test knows,
when the ingest reports (``--verbose``) that it committed its first batch.
"""

from __future__ import annotations

import signal
import subprocess
import threading
from pathlib import Path

import psutil
import pytest

from assistant.core.settings import Settings
from assistant.storage.store import Store
from ingest.pipeline import FLUSH_SENTENCES
from tests.conftest import run_cli
from tests.store_checks import (
    assert_consistent,
    assert_same_records,
    assert_whole,
    spawn_ingest,
    versions_of,
    versions_seen,
    wait_for_first_commit,
    write_articles,
)

pytestmark = pytest.mark.subprocess

ARTICLES, SENTENCES = 300, 10  # 3,000 sentences: twelve write batches


def _settings(store: Path) -> Settings:
    return Settings(store=store, chroma_host=None)


def _kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL


@pytest.fixture(scope="module")
def articles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("interrupt") / "articles"
    write_articles(folder, ARTICLES, SENTENCES)
    assert ARTICLES * SENTENCES > 2 * FLUSH_SENTENCES
    return folder


@pytest.fixture(scope="module")
def uninterrupted(articles: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The records an ingest of the folder leaves when nothing stops it."""
    store = tmp_path_factory.mktemp("uninterrupted") / "store"
    done = run_cli("ingest", "--quiet", str(articles), store=store)
    assert done.returncode == 0, done.stderr
    return assert_consistent(_settings(store))


def test_kill_9_then_the_same_command_gives_the_uninterrupted_records(
    articles: Path, uninterrupted: dict, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    process = spawn_ingest(articles, store)
    wait_for_first_commit(process)
    _kill(process)

    halfway = assert_consistent(_settings(store), finished=False)
    committed = len(halfway["articles"])
    assert 0 < committed < ARTICLES, "the kill landed in the middle of the ingest"

    again = run_cli("ingest", "--quiet", str(articles), store=store)
    assert again.returncode == 0, again.stdout + again.stderr
    summary = f"{ARTICLES - committed} added, 0 updated, {committed} unchanged, 0 skipped, 0 failed"
    assert again.stdout.strip().endswith(summary)
    assert_same_records(assert_consistent(_settings(store)), uninterrupted)


def _embedding_worker(process: subprocess.Popen) -> psutil.Process:
    """The worker process that ``process`` embeds in (started before its first commit)."""
    [worker] = [c for c in psutil.Process(process.pid).children() if "spawn_main" in " ".join(c.cmdline())]
    return worker


def test_a_killed_embedding_worker_stops_the_ingest_with_a_message(
    articles: Path, uninterrupted: dict, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    process = spawn_ingest(articles, store)
    wait_for_first_commit(process)
    _embedding_worker(process).kill()
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1, err
    assert "error: the embedding worker process stopped" in err and "Traceback" not in err
    assert_consistent(_settings(store), finished=False)

    again = run_cli("ingest", "--quiet", str(articles), store=store)
    assert again.returncode == 0, again.stdout + again.stderr
    assert_same_records(assert_consistent(_settings(store)), uninterrupted)


def test_a_replaced_article_is_always_one_whole_version(tmp_path: Path) -> None:
    folder, store = tmp_path / "articles", tmp_path / "store"
    count = 200  # 2,400 sentences: ten write batches, so the kill lands between two
    paths = write_articles(folder, count, SENTENCES, version=1)
    assert run_cli("ingest", "--quiet", str(folder), store=store).returncode == 0
    old = versions_of(paths)
    write_articles(folder, count, SENTENCES + 2, version=2)
    new = versions_of(paths)
    assert old.keys() == new.keys() and all(old[i] != new[i] for i in old)

    def check_versions(watcher: Store) -> int:
        """Every article is visible once, whole, in its old or its new version; how many new."""
        snapshot = watcher.snapshot()
        assert snapshot.consistent  # the embedded store's lock keeps writes out of the read
        return assert_whole(versions_seen(snapshot), old, new)

    # A reader watches the store the whole time the ingest replaces the articles, as the chat would.
    stop, checks, failures = threading.Event(), [], []

    def watch() -> None:
        watcher = Store(_settings(store))
        while not stop.is_set():
            try:
                checks.append(check_versions(watcher))
            except AssertionError as e:
                failures.append(e)
                return

    reader = threading.Thread(target=watch)
    process = spawn_ingest(folder, store)
    reader.start()
    try:
        wait_for_first_commit(process)
        _kill(process)
    finally:
        stop.set()
        reader.join(timeout=120)
    assert not failures, failures[0]
    assert checks, "the reader never saw the store"
    replaced = check_versions(Store(_settings(store)))
    assert 0 < replaced < count, "the kill landed in the middle of the replacement"
    assert_consistent(_settings(store), finished=False)

    again = run_cli("ingest", "--quiet", str(folder), store=store)
    assert again.returncode == 0, again.stdout + again.stderr
    summary = f"0 added, {count - replaced} updated, {replaced} unchanged, 0 skipped, 0 failed"
    assert again.stdout.strip().endswith(summary)
    final = assert_consistent(_settings(store))  # no old sentence left, no duplicate
    assert versions_seen(Store(_settings(store)).snapshot()) == new
    assert len(final["sentences"]) == count * (SENTENCES + 2)
