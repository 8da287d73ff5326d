"""The built wheel, installed away from the checkout, answers from any folder: its prompts and
model file ship inside it, and its console script runs every command."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from assistant.settings import Settings
from tests.conftest import ROOT, child_env

pytestmark = pytest.mark.subprocess

QUESTION = "Who is Khalil Haqqani?"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of the checkout, built and installed (without its dependencies) into a folder."""
    folder = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip"]
    built = subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(folder), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    [wheel] = folder.glob("article_assistant-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "prompts/extractive.yaml" in names and "assistant/ranker.json" in names
    assert not any(name.startswith(("tests/", "bench/", "data/")) for name in names)
    target = folder / "site"
    done = subprocess.run(
        [*pip, "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return target


def _run(installed: Path, cwd: Path, *args: str, store: Path) -> subprocess.CompletedProcess:
    env = child_env(store, PYTHONPATH=str(installed))
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_installed_package_answers_from_another_folder(
    installed: Path, sample_settings: Settings, tmp_path: Path
) -> None:
    code = (
        "import assistant, json; "
        f"assert assistant.__file__.startswith({str(installed)!r}), assistant.__file__; "
        f"print(json.dumps(assistant.answer({QUESTION!r}).to_dict()))"
    )
    done = _run(installed, tmp_path, sys.executable, "-c", code, store=sample_settings.store)
    assert done.returncode == 0, done.stderr
    reply = json.loads(done.stdout)
    assert "Khalil Haqqani" in reply["citations"][0]["text"]


def test_the_console_script_runs_every_command(installed: Path, tmp_path: Path) -> None:
    script = installed / "bin" / "article-assistant"
    store = tmp_path / "store"
    article = tmp_path / "article.txt"
    article.write_text((ROOT / "data" / "articles" / "us-taliban-evacuation.txt").read_text())
    ingested = _run(installed, tmp_path, str(script), "ingest", "--quiet", str(article), store=store)
    assert ingested.returncode == 0, ingested.stderr
    assert "1 added" in ingested.stdout
    asked = _run(installed, tmp_path, str(script), "ask", QUESTION, "--json", store=store)
    assert asked.returncode == 0, asked.stderr
    assert "Khalil Haqqani" in json.loads(asked.stdout)["citations"][0]["text"]
    helped = _run(installed, tmp_path, str(script), "--help", store=store)
    assert all(command in helped.stdout for command in ("ingest", "ask", "serve", "eval"))
    questions = tmp_path / "questions.jsonl"
    case = {"question": QUESTION, "answerable": True, "supports": ["Khalil"]}
    questions.write_text(json.dumps(case) + "\n")
    scored = _run(
        installed, tmp_path, str(script), "eval", str(questions), "--articles", str(article), "--json",
        store=store,
    )  # fmt: skip
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["hit@1"] == 1.0


def test_answering_never_loads_ingest_and_importing_changes_no_setting(
    sample_settings: Settings, tmp_path: Path
) -> None:
    code = (
        "import os, sys; before = dict(os.environ); "
        "import assistant.app, assistant.ui, assistant.eval; "
        "assert dict(os.environ) == before, 'an import changed the environment'; "
        f"reply = assistant.app.answer({QUESTION!r}); "
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'ingest'); "
        "assert not loaded, loaded; print(reply.citations[0].text)"
    )
    done = _run(ROOT, tmp_path, sys.executable, "-c", code, store=sample_settings.store)
    assert done.returncode == 0, done.stderr
    assert "Khalil Haqqani" in done.stdout


def test_only_the_entry_point_of_assistant_imports_ingest() -> None:
    import ast

    importers = set()
    for path in (ROOT / "assistant").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name.split(".")[0] == "ingest" for name in names):
                importers.add(path.name)
    assert importers == {"cli.py"}
