"""Bad input, one test per row of the README's "Bad input and failures" table.

Questions go through ``answer()`` and ``python -m assistant ask``; files through
``python -m ingest``'s ``main()``, checking its exit code, the reason it prints and that the
store it was pointed at is left whole (and unchanged when nothing was added).
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from assistant import InvalidQuestionError
from assistant.answering.wording import Messages
from assistant.core.settings import Settings
from assistant.storage.store import Store
from ingest.loader import MAX_BYTES, parse_text
from ingest.split import MAX_SENTENCE_CHARS
from tests.conftest import SAMPLE, library, make_root, run_main
from tests.store_checks import assert_consistent, assert_same_records, records

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489") + bytes(64)
GOOD = "Harbour news\n\nThe ferry left at noon on Monday. It carried forty cars to the island.\n"


# -- questions ---------------------------------------------------------------------------------


def _ask_cli(question: str, settings: Settings):
    return run_main("assistant", "ask", question, "--json", store=settings.store)


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "the question is empty"),
        ("  \n\t  ", "the question is empty"),
        ("\x00\x01\x1b", "the question is empty"),  # control characters only
        ("x" * 100_000, "the question is 100,000 characters long; ask it in at most 2,000"),
    ],
    ids=["empty", "blank", "control-only", "100k-chars"],
)
def test_unusable_question_is_refused_with_a_message(
    question: str, message: str, sample_settings: Settings
) -> None:
    with pytest.raises(InvalidQuestionError, match=message):
        make_root(sample_settings).answer(question)
    if "\x00" in question:  # a NUL cannot travel in a command line
        question = question.replace("\x00", "")
    done = _ask_cli(question, sample_settings)
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr


def _assert_answers_khalil(reply: dict) -> None:
    assert not reply["abstained"]
    assert "Khalil Haqqani" in reply["citations"][0]["text"]


def test_control_characters_and_nul_are_dropped_from_a_question(sample_settings: Settings) -> None:
    reply = make_root(sample_settings).answer("Who is\x00 Khalil\x07 Haqqani?\x1b[31m\u200b")
    _assert_answers_khalil(reply.to_dict())
    done = _ask_cli("Who is\x07 Khalil\x1b Haqqani?", sample_settings)
    assert done.returncode == 0, done.stderr
    _assert_answers_khalil(json.loads(done.stdout))


def test_a_question_of_only_emoji_gets_the_nothing_to_search_message(sample_settings: Settings) -> None:
    reply = make_root(sample_settings).answer("🙂🚀🔥")
    assert reply.abstained and reply.text == Messages.load().no_terms and not reply.citations
    done = _ask_cli("🙂🚀🔥", sample_settings)
    assert done.returncode == 0 and json.loads(done.stdout) == reply.to_dict()


def test_another_language_is_answered_through_shared_names_or_abstains(sample_settings: Settings) -> None:
    _assert_answers_khalil(make_root(sample_settings).answer("Wer ist Khalil Haqqani?").to_dict())
    for question in ("哈卡尼是谁？", "Кто такой Халиль Хаккани?"):
        reply = make_root(sample_settings).answer(question)
        assert reply.abstained and not reply.citations, question
    done = _ask_cli("哈卡尼是谁？", sample_settings)
    assert done.returncode == 0 and json.loads(done.stdout)["abstained"] is True


def test_html_and_script_in_a_question_are_plain_words(sample_settings: Settings) -> None:
    reply = make_root(sample_settings).answer("<script>alert('x')</script>")
    assert reply.abstained and reply.text == Messages.load().abstain
    _assert_answers_khalil(make_root(sample_settings).answer("<b>Who is Khalil Haqqani?</b>").to_dict())
    done = _ask_cli("<img src=x onerror=alert(1)>", sample_settings)
    assert done.returncode == 0 and json.loads(done.stdout)["abstained"] is True


# -- files -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A store holding the sample article, written by ``python -m ingest``; its folder and records."""
    folder = tmp_path_factory.mktemp("bad-input") / "store"
    done = run_main("ingest", "--quiet", str(SAMPLE), store=folder)
    assert done.returncode == 0, done.stderr
    return folder, records(Settings(store=folder, chroma_host=None))


@pytest.fixture
def store(sample_store: tuple[Path, dict], tmp_path: Path) -> Settings:
    """This test's own copy of the sample store."""
    copy = tmp_path / "store"
    shutil.copytree(sample_store[0], copy)
    return Settings(store=copy, chroma_host=None)


def _ingest(settings: Settings, *paths: Path):
    return run_main("ingest", "--quiet", *map(str, paths), store=settings.store)


def _assert_refused(settings: Settings, sample_store: tuple[Path, dict], path: Path, reason: str) -> None:
    """``python -m ingest path`` exits 1 naming the file and why, and leaves the store as it was."""
    done = _ingest(settings, path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"failed  {path}: {reason}" in done.stdout
    assert "0 added" in done.stdout and "Traceback" not in done.stderr
    assert_same_records(assert_consistent(settings), sample_store[1])


def test_missing_path(store: Settings, sample_store, tmp_path: Path) -> None:
    _assert_refused(store, sample_store, tmp_path / "nowhere.txt", "no such file or folder")


def test_empty_file(store: Settings, sample_store, tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.md").write_text("  \n\n \t\n")
    _assert_refused(store, sample_store, tmp_path / "empty.txt", "the file is empty")
    _assert_refused(store, sample_store, tmp_path / "blank.md", "the file is empty")


def test_png_and_zip_named_as_text_are_binary(store: Settings, sample_store, tmp_path: Path) -> None:
    (tmp_path / "photo.txt").write_bytes(PNG)
    with zipfile.ZipFile(tmp_path / "archive.html", "w") as z:
        z.writestr("article.txt", GOOD * 50)
    for name in ("photo.txt", "archive.html"):
        _assert_refused(store, sample_store, tmp_path / name, "looks like a binary file, not text")


def test_unsupported_extension(store: Settings, sample_store, tmp_path: Path) -> None:
    (tmp_path / "photo.png").write_bytes(PNG)
    (tmp_path / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    for name, suffix in (("photo.png", ".png"), ("sheet.xlsx", ".xlsx")):
        _assert_refused(
            store, sample_store, tmp_path / name, f"unsupported file type {suffix}; use .txt, .md"
        )


def test_a_pdf_that_is_not_one_or_has_no_text(store: Settings, sample_store, tmp_path: Path) -> None:
    from fpdf import FPDF

    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.7\n" + PNG)
    _assert_refused(store, sample_store, tmp_path / "report.pdf", "not a readable PDF")
    scan = FPDF()
    scan.add_page()
    scan.rect(20, 20, 120, 160, style="F")  # a page with a picture and no text, as a scan has
    scan.output(str(tmp_path / "scan.pdf"))
    _assert_refused(store, sample_store, tmp_path / "scan.pdf", "no text layer: scanned pages need OCR")


def test_a_50_mb_text_file_is_over_the_limit(store: Settings, sample_store, tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    line = b"The council met again on Monday and talked about the harbour for a long time.\n"
    with big.open("wb") as f:
        for _ in range(50 * 1024 * 1024 // len(line) + 1):
            f.write(line)
    assert big.stat().st_size > 50 * 1024 * 1024 > MAX_BYTES
    _assert_refused(store, sample_store, big, "50.0 MB is over the 20 MB limit for one article")


def test_no_sentences_after_cleaning(store: Settings, sample_store, tmp_path: Path) -> None:
    (tmp_path / "credits.txt").write_text(
        'Photo gallery\n\n(Image Source ANI)\n\nALSO READ: more news\n\n[mc4wp_form id="1"]\n'
    )
    (tmp_path / "title.txt").write_text("Only a headline here\n")
    (tmp_path / "scripts.html").write_text(
        "<html><head><script>var a = 1;</script></head><body><nav>Home | News</nav></body></html>"
    )
    _assert_refused(
        store, sample_store, tmp_path / "credits.txt",
        "no article text: only page boilerplate (credits, links, shortcodes)",
    )  # fmt: skip
    _assert_refused(store, sample_store, tmp_path / "title.txt", "no article text: only a title")
    _assert_refused(store, sample_store, tmp_path / "scripts.html", "no text found")


def test_a_pipe_is_not_read(store: Settings, sample_store, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    _assert_refused(store, sample_store, tmp_path / "pipe.txt", "not a regular file")


def test_invalid_utf8_is_read_as_cp1252_and_said_so(store: Settings, tmp_path: Path) -> None:
    path = tmp_path / "cafe.txt"
    path.write_bytes("Café news\n\nThe café opened on Monday. It served “good” coffee.\n".encode("cp1252"))
    done = _ingest(store, path)
    assert done.returncode == 0, done.stderr
    assert f"added  {path} (2 sentences): not valid UTF-8: read as cp1252" in done.stdout
    found = assert_consistent(store)
    texts = [doc for doc, meta in found["articles"].values() if meta["title"] == "Café news"]
    assert texts == ["The café opened on Monday. It served “good” coffee."]


def test_utf16_with_a_byte_order_mark_is_read(store: Settings, tmp_path: Path) -> None:
    path = tmp_path / "notepad.txt"
    path.write_bytes("Zürich news\n\nThe tram stopped at Zürich Hauptbahnhof.\n".encode("utf-16"))
    done = _ingest(store, path)
    assert done.returncode == 0, done.stderr
    assert f"added  {path} (1 sentence)" in done.stdout
    assert "Zürich news" in [a.title for a in Store(store).articles()]
    assert_consistent(store)


def test_one_huge_paragraph_is_cut_into_bounded_sentences(store: Settings, tmp_path: Path) -> None:
    words = ("harbour", "council", "ferry", "bridge", "market", "station", "river", "school")
    text = " ".join(words[i * 7 % len(words)] for i in range(8_000))  # ~50 KB, no full stop
    path = tmp_path / "one-line.txt"
    path.write_text("A page saved without line breaks\n\n" + text)
    done = _ingest(store, path)
    assert done.returncode == 0, done.stderr
    found = assert_consistent(store)
    mine = [doc for doc, meta in found["sentences"].values() if meta["title"].startswith("A page saved")]
    assert len(mine) > len(text) // MAX_SENTENCE_CHARS
    assert max(map(len, mine)) <= MAX_SENTENCE_CHARS
    assert sum(map(len, mine)) + len(mine) - 1 == len(text)  # every word kept, split at spaces


def test_folder_with_a_symlink_loop(store: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "news.txt").write_text(GOOD)
    (folder / "sub" / "loop").symlink_to(folder, target_is_directory=True)
    done = _ingest(store, folder)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"skipped  {folder / 'sub' / 'loop'}: folder already read through another path" in done.stdout
    assert "1 added" in done.stdout
    assert len(assert_consistent(store)["articles"]) == 2


def test_duplicate_files_under_two_names(store: Settings, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(GOOD)
    (tmp_path / "b.txt").write_text(GOOD)
    (tmp_path / "link.txt").symlink_to(tmp_path / "a.txt")
    paths = [tmp_path / "a.txt", tmp_path / "b.txt", tmp_path / "link.txt", tmp_path / "a.txt"]
    done = _ingest(store, *paths)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"skipped  {tmp_path / 'b.txt'} (2 sentences): same content as {tmp_path / 'a.txt'}" in done.stdout
    assert f"skipped  {tmp_path / 'link.txt'}: same file as {tmp_path / 'a.txt'}" in done.stdout
    assert "1 added, 0 updated, 0 unchanged, 3 skipped, 0 failed" in done.stdout
    assert len(assert_consistent(store)["articles"]) == 2
    again = _ingest(store, tmp_path / "b.txt")  # a later run: still the same content
    assert "skipped" in again.stdout and "same content as" in again.stdout


def test_the_same_article_twice_in_one_call_is_written_once(settings: Settings) -> None:
    raw = parse_text(GOOD, "/api/news.txt", "text")
    report = library(settings).add([raw, raw])
    assert [(o.status, o.detail) for o in report.outcomes] == [
        ("added", ""),
        ("skipped", "given more than once"),
    ]
    assert len(assert_consistent(settings)["sentences"]) == 2


def test_mixed_folder_ingests_the_good_files_and_lists_each_failure(store: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD)
    (folder / "also-good.md").write_text("# Market day\n\nThe market opened early. Prices were **low**.\n")
    (folder / "latin.txt").write_bytes("Caf\xe9 talk\n\nThe caf\xe9 closed late.\n".encode("latin-1"))
    (folder / "empty.txt").write_bytes(b"")
    (folder / "photo.txt").write_bytes(PNG)
    (folder / "credits.html").write_text("<p>(Image Source ANI)</p><p>ALSO READ: x</p>")
    (folder / "photo.png").write_bytes(PNG)
    done = _ingest(store, folder, tmp_path / "missing.md")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    for line in (
        f"added  {folder / 'also-good.md'} (2 sentences)",
        f"added  {folder / 'good.txt'} (2 sentences)",
        f"added  {folder / 'latin.txt'} (1 sentence): not valid UTF-8: read as cp1252",
        f"failed  {folder / 'empty.txt'}: the file is empty",
        f"failed  {folder / 'photo.txt'}: looks like a binary file, not text",
        f"failed  {folder / 'credits.html'}: no article text",
        f"skipped  {folder / 'photo.png'}: not an article file (.png)",
        f"failed  {tmp_path / 'missing.md'}: no such file or folder",
    ):
        assert line in done.stdout, f"{line!r} not in:\n{done.stdout}"
    assert done.stdout.rstrip().endswith("3 added, 0 updated, 0 unchanged, 1 skipped, 4 failed")
    titles = {a.title for a in Store(store).articles()}
    assert {"Harbour news", "Market day", "Café talk"} <= titles and len(titles) == 4
    assert_consistent(store)
