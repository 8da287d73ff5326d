"""The built wheel, installed away from the checkout, answers from any folder: its prompts and
model file ship inside it, and its console script runs every command."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from assistant.core.settings import PROCESS_ENVIRONMENT, Settings
from tests.conftest import ROOT, SAMPLE, child_env
from tests.test_layers import MODULES

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
    assert "prompts/extractive.yaml" in names and "assistant/search/ranker.json" in names
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


HEAVY = ("torch", "transformers", "sentence_transformers", "bm25s", "scipy", "gradio", "ingest")


def _child(code: str, cwd: Path, store: Path) -> subprocess.CompletedProcess:
    """``python -c code`` from the checkout, with none of the settings an entry point makes."""
    env = {k: v for k, v in child_env(store, PYTHONPATH=str(ROOT)).items() if k not in PROCESS_ENVIRONMENT}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_importing_any_module_changes_no_setting(sample_settings: Settings, tmp_path: Path) -> None:
    modules = ", ".join(sorted(n for n in MODULES if not n.endswith("__main__")))
    code = (
        f"import os; before = dict(os.environ); import {modules}; "
        "changed = sorted(set(os.environ.items()) ^ set(before.items())); "
        "assert not changed, f'an import changed the environment: {changed}'; print('unchanged')"
    )
    done = _child(code, tmp_path, sample_settings.store)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "unchanged"


def test_a_library_warning_no_user_can_act_on_stays_off_stderr(tmp_path: Path) -> None:
    # requests silences urllib3's SOCKS warning, but a catch_warnings() in another thread can put
    # back the filters from before requests loaded; then the next library that tries urllib3's
    # SOCKS module (trafilatura does) warned, as it once did in the middle of a terminal chat.
    code = (
        "import warnings\n"
        "from assistant.core.settings import configure_process\n"
        "configure_process()\n"
        "with warnings.catch_warnings():\n"
        "    import requests\n"
        "try:\n"
        "    import urllib3.contrib.socks\n"
        "except ImportError:\n"
        "    print('no SOCKS support')\n"
        "else:\n"
        "    print('SOCKS support')\n"
    )
    done = _child(code, tmp_path, tmp_path / "store")
    assert done.returncode == 0 and done.stdout.strip() in ("no SOCKS support", "SOCKS support")
    assert done.stderr == ""


def test_answering_loads_nothing_it_does_not_use(sample_settings: Settings, tmp_path: Path) -> None:
    code = (
        "import sys; from assistant import answer; "
        f"reply = answer({QUESTION!r}); "
        f"loaded = sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}); "
        "assert not loaded, f'answering loaded {loaded}'; print(reply.citations[0].text)"
    )
    done = _child(code, tmp_path, sample_settings.store)
    assert done.returncode == 0, done.stderr
    assert "Khalil Haqqani" in done.stdout


def test_an_ingest_loads_no_torch(tmp_path: Path) -> None:
    code = (
        "import sys; from ingest.cli import main; "
        f"code = main(['--quiet', {str(SAMPLE)!r}]); "
        "heavy = {'torch', 'transformers', 'sentence_transformers'}; "
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & heavy); "
        "assert code == 0 and not loaded, (code, loaded); print('ingested')"
    )
    done = _child(code, tmp_path, tmp_path / "store")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "ingested"
