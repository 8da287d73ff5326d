"""Shared fixtures: every store lives under pytest's tmp_path, with the real model and Chroma."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.settings import SAMPLE_ARTICLES, Settings
from ingest.pipeline import ingest_paths

SAMPLE = SAMPLE_ARTICLES / "us-taliban-evacuation.txt"
ROOT = Path(__file__).resolve().parent.parent
CHROMA_VARS = ("CHROMA_HOST", "CHROMA_PORT", "CHROMA_SSL", "CHROMA_AUTH_TOKEN")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's store or a Chroma server by accident."""
    for var in CHROMA_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ASSISTANT_STORE", str(tmp_path / "default-store"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for an empty store in this test's temp folder."""
    return Settings(store=tmp_path / "store", chroma_host=None)


@pytest.fixture(scope="session")
def sample_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A store holding the sample article, shared by the tests that only read it."""
    settings = Settings(store=tmp_path_factory.mktemp("sample") / "store", chroma_host=None)
    report = ingest_paths([SAMPLE], settings)
    assert report.count("added") == 1, report
    return settings


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(*args: str, store: Path | None = None, env: dict | None = None, timeout: float = 300):
    """Run ``python -m ...`` in a child process; its CompletedProcess (text)."""
    child_env = {k: v for k, v in os.environ.items() if k not in CHROMA_VARS}
    if store is not None:
        child_env["ASSISTANT_STORE"] = str(store)
    child_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, env=child_env, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 120) -> None:
    """Wait until something listens on ``port``; fail with the child's output if it died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"server exited with {process.returncode}:\n{out}\n{err}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise AssertionError(f"nothing listened on port {port} within {timeout} s")
