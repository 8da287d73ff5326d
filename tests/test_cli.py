"""python -m assistant ask: printed answers, JSON, exit codes."""

import json
from pathlib import Path

import pytest

from assistant.core.records import RELATED
from assistant.core.settings import Settings
from assistant.storage.store import Store
from tests.conftest import run_cli

pytestmark = pytest.mark.subprocess


def test_ask_prints_the_answer_and_numbered_citations(sample_settings: Settings) -> None:
    done = run_cli("assistant", "ask", "Who is Khalil Haqqani?", store=sample_settings.store)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no library's progress bar, log line or warning
    assert "[1]" in done.stdout
    answer, sources = done.stdout.split("\nSources:\n")
    assert "Khalil Haqqani" in answer.split("[1]")[0]
    # each cited sentence is printed once, in the answer; the sources name where it stands
    for line in sources.strip().splitlines():
        assert line.startswith("[") and ", sentence " in line
        sentence = answer.split(line[: line.index("]") + 1])[0].strip()
        assert done.stdout.count(sentence[-60:]) == 1


def test_ask_json_has_the_documented_shape(sample_settings: Settings) -> None:
    done = run_cli(
        "assistant", "ask", "What reward is on his head?", "--history", "Who is Khalil Haqqani?",
        "--json", store=sample_settings.store,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    reply = json.loads(done.stdout)
    assert set(reply) == {
        "text", "short", "abstained", "reason", "citations", "mode", "claims", "note", "related",
    }  # fmt: skip
    assert reply["reason"] is None
    assert reply["mode"] == "extractive" and reply["claims"] == [] and reply["note"] == ""
    assert reply["abstained"] is False
    first = reply["citations"][0]
    assert set(first) == {
        "text", "article_id", "title", "sentence_index", "start", "end", "score", "site", "published", "url",
        "file", "field",
    }  # fmt: skip
    assert first["file"] == "us-taliban-evacuation.txt" and first["url"] is None  # never the server's path
    assert "USD 5 million" in first["text"]
    text = Store(sample_settings).article_text(first["article_id"])
    assert text[first["start"] : first["end"]] == first["text"]


def test_ask_json_abstention(sample_settings: Settings) -> None:
    done = run_cli(
        "assistant", "ask", "What is the capital of France?", "--json", store=sample_settings.store
    )
    reply = json.loads(done.stdout)
    assert done.returncode == 0
    assert reply["abstained"] is True and reply["citations"] == []
    assert reply["reason"] == "other_entity"  # nothing in the article mentions France
    assert reply["related"] is None  # no sentence on the subject to show
    near = "When did the UK designate the Haqqani Network a terrorist group?"
    reply = json.loads(run_cli("assistant", "ask", near, "--json", store=sample_settings.store).stdout)
    assert reply["reason"] == "other_entity" and reply["citations"] == []
    related = reply["related"]  # the closest sentence, shown as such and never as a citation
    text = Store(sample_settings).article_text(related["article_id"])
    assert text[related["start"] : related["end"]] == related["text"]
    assert (
        f"{RELATED}:\n“{related['text']}”"
        in run_cli("assistant", "ask", near, store=sample_settings.store).stdout
    )


def test_blank_question_exits_1_with_a_message(sample_settings: Settings) -> None:
    done = run_cli("assistant", "ask", "   ", store=sample_settings.store)
    assert done.returncode == 1
    assert "question is empty" in done.stderr
    assert "Traceback" not in done.stderr


def test_empty_store_exits_1_naming_ingest(tmp_path: Path) -> None:
    done = run_cli("assistant", "ask", "Who is Khalil Haqqani?", store=tmp_path / "empty")
    assert done.returncode == 1
    assert "python -m ingest" in done.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run_cli("assistant", "ask", store=tmp_path / "s").returncode == 2
    assert run_cli("assistant", "frobnicate", store=tmp_path / "s").returncode == 2


def test_help_is_fast_and_lists_the_commands() -> None:
    done = run_cli("assistant", "--help")
    assert done.returncode == 0 and "ask" in done.stdout and "serve" in done.stdout
