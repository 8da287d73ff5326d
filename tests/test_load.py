"""The load script at a small size: 8 concurrent clients x 5 questions each, through the
Gradio queue and through the JSON API of one server, and through the API of two workers.

It runs as a user runs it (``python bench/load.py``): it ingests the sample article, serves
the chat on a free loopback port, asks, checks every reply and stops the server. Its
figures are for the benchmark; here only the outcome counts: every question answered, and
answered right.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CHROMA_VARS, ROOT

pytestmark = pytest.mark.subprocess


def _load(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in CHROMA_VARS}
    env["TMPDIR"] = str(tmp_path)  # the script's temporary store and server log
    return subprocess.run(
        [sys.executable, "bench/load.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=900,
    )  # fmt: skip


@pytest.mark.parametrize(("way", "workers"), [("--compare", "1"), ("--api", "2")])
def test_8_clients_x_5_questions_all_answered_right(way: str, workers: str, tmp_path: Path) -> None:
    args = ("--clients", "8", "--questions", "5", "--timeout", "300", way, "--workers", workers, "--json")
    done = _load(*args, tmp_path=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    reports = json.loads(done.stdout)
    assert set(reports) == ({"gradio queue", "json api"} if way == "--compare" else {"json api"})
    for name, figures in reports.items():
        assert figures["asked"] == figures["answered"] == 40, name
        assert figures["errors"] == 0 and figures["wrong"] == 0, (name, figures)
        assert figures["p50_ms"] <= figures["p95_ms"] <= figures["max_ms"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--url", "http://192.0.2.1:7860/"), "not a loopback address"),
        (("--clients", "1000"), "use 1-64 clients and 1-100 questions each"),
        (("--questions", "0"), "use 1-64 clients and 1-100 questions each"),
    ],
)
def test_the_load_is_bounded_and_stays_on_this_machine(args: tuple, message: str, tmp_path: Path) -> None:
    done = _load(*args, tmp_path=tmp_path)
    assert done.returncode == 2 and message in done.stderr
