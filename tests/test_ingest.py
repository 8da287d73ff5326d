"""Ingest into a real Chroma store with the real model: idempotent, replacing, listing, removing,
decoding character references; what the CLI prints, and shows on a terminal."""

import os
import pty
import re
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from assistant.core.settings import Settings
from assistant.storage import embedder
from assistant.storage.store import (
    ARTICLE_ID,
    CONTENT_HASH,
    END,
    PARAGRAPH_INDEX,
    SENTENCE_INDEX,
    SOURCE,
    START,
    TITLE,
    Store,
)
from tests.conftest import ROOT, SAMPLE, child_env, library, run_cli, run_main
from tests.store_checks import assert_consistent, write_articles


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_sample_is_stored_with_its_metadata(settings: Settings) -> None:
    report = library(settings).add_sources([SAMPLE])
    assert report.summary() == "1 added, 0 updated, 0 unchanged, 0 skipped, 0 failed"
    store = Store(settings)
    (info,) = store.articles()
    assert info.title.startswith("US to engage with Taliban")
    got = store._sentences.get(include=["metadatas", "documents"])
    assert len(got["ids"]) == info.sentence_count == store.sentence_count()
    text = store.article_text(info.article_id)
    for doc, meta in zip(got["documents"], got["metadatas"], strict=True):
        assert {
            ARTICLE_ID,
            TITLE,
            SOURCE,
            SENTENCE_INDEX,
            PARAGRAPH_INDEX,
            START,
            END,
            CONTENT_HASH,
        } <= set(meta)
        assert text[meta[START] : meta[END]] == doc


def test_ingesting_again_changes_nothing(settings: Settings) -> None:
    library(settings).add_sources([SAMPLE])
    store = Store(settings)
    before = sorted(store._sentences.get(include=[])["ids"])
    report = library(settings).add_sources([SAMPLE])
    assert report.count("unchanged") == 1 and report.count("added") == 0
    assert sorted(store._sentences.get(include=[])["ids"]) == before


def test_a_changed_article_replaces_its_old_sentences(settings: Settings, tmp_path: Path) -> None:
    path = _write(tmp_path / "news.txt", "Harbour news\n\nThe ferry left at noon. It carried forty cars.\n")
    library(settings).add_sources([path])
    _write(path, "Harbour news\n\nThe ferry left at dawn. It carried ninety cars. The sea was calm.\n")
    report = library(settings).add_sources([path])
    assert report.count("updated") == 1
    store = Store(settings)
    (info,) = store.articles()
    documents = store._sentences.get(include=["documents"])["documents"]
    assert sorted(documents) == sorted(
        ["The ferry left at dawn.", "It carried ninety cars.", "The sea was calm."]
    )
    assert info.sentence_count == 3


@pytest.mark.subprocess
def test_fresh_embedding_workers_take_over_without_losing_a_sentence(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedder, "WORKER_BATCHES", 1)  # a new worker process for every batch
    write_articles(tmp_path / "articles", 80)  # 800 sentences: four batches
    report = library(settings).add_sources([tmp_path / "articles"])
    assert report.count("added") == 80, report.summary()
    stored = assert_consistent(settings)  # every sentence, each its own nearest neighbour
    assert len(stored["articles"]) == 80


def test_two_articles_never_collide(settings: Settings, tmp_path: Path) -> None:
    a = _write(tmp_path / "a.txt", "Alpha\n\nThe same sentence appears here. Alpha only.\n")
    b = _write(tmp_path / "b.txt", "Beta\n\nThe same sentence appears here. Beta only.\n")
    report = library(settings).add_sources([a, b])
    assert report.count("added") == 2
    store = Store(settings)
    assert len(store.articles()) == 2
    assert store.sentence_count() == 4


def test_folder_ingest_is_recursive_and_reads_md_and_html(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "deep").mkdir(parents=True)
    _write(
        folder / "one.md",
        "# Markdown title\n\nSome **bold** claim was made by [Reuters](http://x).\n",
    )
    _write(
        folder / "deep" / "two.html",
        "<html><head><title>Page</title><script>alert(1)</script></head><body><h1>Html title</h1>"
        "<nav>Home | News</nav><p>The council met on Monday.</p><p>It voted twice.</p></body></html>",
    )
    report = library(settings).add_sources([folder])
    assert report.count("added") == 2, report
    titles = sorted(a.title for a in Store(settings).articles())
    assert titles == ["Html title", "Markdown title"]
    texts = Store(settings)._sentences.get(include=["documents"])["documents"]
    assert "Some bold claim was made by Reuters." in texts
    assert not any("alert" in t or "Home" in t for t in texts)


def test_character_references_are_decoded_once_with_exact_offsets(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    _write(
        folder / "fine.txt",
        "Ofcom fines AT&amp;T &#163;1.8m\n\nThe regulator imposed a &#163;1.8m indecency fine on AT&amp;T. "
        "&quot;It was wrong,&quot; its chief said.\n\nR&D spending & staff were not cut. The filing "
        "wrote &amp;amp; for an ampersand.\n",
    )
    _write(
        folder / "fine.md",
        '---\ntitle: "Ofcom &amp; the &#163;1.8m fine"\n---\n\nThe regulator fined AT&amp;T &#x26; its '
        "partner &pound;1.8m. Code such as `&amp;` stays as written.\n",
    )
    _write(
        folder / "fine.html",  # decoded by the page's parser, not a second time
        "<html><body><h1>AT&amp;T fined &#163;1.8m</h1><p>The regulator fined AT&amp;T &#163;1.8m on "
        "Monday. Its filing wrote &amp;amp; for an ampersand.</p></body></html>",
    )
    shelf = library(settings)
    assert shelf.add_sources([folder]).count("added") == 3
    assert shelf.add_text("Pasted &amp; fined", "A &#163;1.8m fine hit AT&amp;T on Monday.").status == "added"
    store = Store(settings)
    assert {a.title: store.article_text(a.article_id) for a in store.articles()} == {
        "Ofcom fines AT&T £1.8m": 'The regulator imposed a £1.8m indecency fine on AT&T. "It was wrong," '
        "its chief said.\n\nR&D spending & staff were not cut. The filing wrote &amp; for an ampersand.",
        "Ofcom & the £1.8m fine": "The regulator fined AT&T & its partner £1.8m. Code such as &amp; stays "
        "as written.",
        "AT&T fined £1.8m": "The regulator fined AT&T £1.8m on Monday. Its filing wrote &amp; for an "
        "ampersand.",
        "Pasted & fined": "A £1.8m fine hit AT&T on Monday.",
    }
    stored = assert_consistent(settings)  # every sentence is its article's text[start:end]
    sentences = {document for document, _ in stored["sentences"].values()}
    assert "The regulator imposed a £1.8m indecency fine on AT&T." in sentences


def _search_index_is_ready(folder: Path) -> bool:
    """The store's search index is saved for its current generation (no rebuild at the next question)."""
    store = Store(Settings.from_env(store=folder))
    return any(
        store.generation() in p.name and (p / "manifest.json").is_file()
        for p in store.cache_folder().glob("corpus-*")
    )


def test_cli_ingest_list_and_remove(tmp_path: Path) -> None:
    store = tmp_path / "cli-store"
    added = run_main("ingest", str(SAMPLE), store=store)
    assert added.returncode == 0, added.stderr
    assert "1 added" in added.stdout
    assert (store / "chroma.sqlite3").exists(), "ASSISTANT_STORE moves the store"
    assert "search index: 25 sentences" in added.stderr
    assert _search_index_is_ready(store)

    listed = run_main("ingest", "--list", store=store)
    assert listed.returncode == 0
    article_id = listed.stdout.split()[0]
    assert "US to engage with Taliban" in listed.stdout and "25 sentences" in listed.stdout

    missing = run_main("ingest", "--remove", "no-such-article", store=store)
    assert missing.returncode == 1 and "no article with id" in missing.stderr

    removed = run_main("ingest", "--remove", article_id, store=store)
    assert removed.returncode == 0 and article_id in removed.stdout
    assert "search index: 0 sentences" in removed.stderr and _search_index_is_ready(store)
    assert "no articles" in run_main("ingest", "--list", store=store).stdout


@pytest.mark.subprocess
def test_cli_messages_say_1_sentence_and_1_article(tmp_path: Path) -> None:
    one = _write(tmp_path / "one.txt", "Harbour news\n\nThe ferry left at noon.\n")
    store = tmp_path / "store"
    added = run_cli("ingest", "--verbose", str(one), store=store)
    assert added.returncode == 0, added.stderr
    assert f"added  {one} (1 sentence)\n" in added.stdout
    assert "committed 1 article (1 in this run so far)\n" in added.stderr
    assert "search index: 1 sentence in " in added.stderr
    assert run_main("ingest", "--quiet", str(SAMPLE), store=store).returncode == 0
    listed = run_main("ingest", "--list", store=store).stdout.splitlines()
    (harbour,) = [line for line in listed if "Harbour news" in line]
    (taliban,) = [line for line in listed if "US to engage" in line]
    assert " 1 sentence  Harbour news" in harbour and " 25 sentences  US to engage" in taliban
    assert harbour.index("Harbour news") == taliban.index("US to engage")  # the titles line up
    assert "1 sentences" not in added.stdout + added.stderr + "\n".join(listed)


def _ingest_on_a_terminal(*args: str, store: Path, **env: str) -> tuple[int, str]:
    """``python -m ingest ARGS`` with its stderr on a terminal (a pty), as a user runs it: its
    exit code and what it wrote on stderr."""
    ours, theirs = pty.openpty()
    termios.tcsetwinsize(theirs, (24, 100))  # a new pty is 0 columns wide: a bar would be empty
    process = subprocess.Popen(
        [sys.executable, "-m", "ingest", *args], cwd=ROOT, env=child_env(store, **env),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=theirs,
    )  # fmt: skip
    os.close(theirs)
    written = b""
    while True:
        try:
            chunk = os.read(ours, 65536)
        except OSError:  # EIO: the child has closed the terminal
            break
        if not chunk:
            break
        written += chunk
    os.close(ours)
    return process.wait(timeout=300), written.decode("utf-8", "replace")


@pytest.mark.subprocess
def test_cli_ingest_on_a_terminal_shows_its_own_progress_bar_and_no_other(tmp_path: Path) -> None:
    # A model cache of its own: the embedder is exported and loaded with transformers, whose
    # "Loading weights" bar would show here.
    cache = str(tmp_path / "cache")
    code, stderr = _ingest_on_a_terminal(str(SAMPLE), store=tmp_path / "store", ASSISTANT_MODEL_CACHE=cache)
    assert code == 0, stderr
    assert re.search(r"ingest: 25 sentences \[\d\d:\d\d", stderr), stderr
    bars = [part for part in re.split(r"[\r\n]+", stderr) if re.search(r"\d%\||it/s|s/it|\[\d\d:\d\d", part)]
    assert bars and all(bar.startswith("ingest: ") for bar in bars), stderr


def test_store_flag_overrides_the_environment(tmp_path: Path) -> None:
    flag_store = tmp_path / "flag-store"
    done = run_main(
        "ingest", "--quiet", "--store", str(flag_store), str(SAMPLE), store=tmp_path / "env-store"
    )
    assert done.returncode == 0, done.stderr
    assert (flag_store / "chroma.sqlite3").exists()
    assert not (tmp_path / "env-store").exists()


@pytest.mark.parametrize(
    ("args", "code"),
    [(("ingest",), 2), (("ingest", "--list", "x.txt"), 2), (("ingest", "/no/such/file.txt"), 1)],
)
def test_cli_exit_codes(args: tuple[str, ...], code: int, tmp_path: Path) -> None:
    done = run_main(*args, store=tmp_path / "s")
    assert done.returncode == code, done.stdout + done.stderr
