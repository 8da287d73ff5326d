"""Shared fixtures: every store lives under pytest's tmp_path, with the real model and Chroma.

Tests build their own composition root (:func:`make_root`) around a temporary store; all
roots share one loaded embedder, as the parts of one process would.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.app import Assistant
from assistant.core.settings import PROCESS_ENVIRONMENT, Settings, configure_process
from assistant.storage.embedder import Embedder
from ingest.pipeline import Library

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "articles" / "us-taliban-evacuation.txt"
CHROMA_VARS = ("CHROMA_HOST", "CHROMA_PORT", "CHROMA_SSL", "CHROMA_AUTH_TOKEN")

# What configure_process adds to this process's environment; a child process starts without it,
# so that it shows what the child's own entry point sets (or fails to).
ADDED_HERE = frozenset(PROCESS_ENVIRONMENT) - set(os.environ)
configure_process()
_embedders: dict[tuple, Embedder] = {}  # one loaded model per backend for the whole session


def make_root(settings: Settings) -> Assistant:
    """A composition root over ``settings``' store, with the session's shared embedder."""
    key = (settings.embedding_backend, settings.model_cache)
    if key not in _embedders:
        _embedders[key] = Embedder(settings.embedding_backend, settings.model_cache)
    return Assistant.from_settings(settings, embedder=_embedders[key])


def library(settings: Settings) -> Library:
    """The ingest library of ``settings``' store."""
    return make_root(settings).library


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


@pytest.fixture
def root(settings: Settings) -> Assistant:
    """A root over the empty store of :func:`settings`."""
    return make_root(settings)


@pytest.fixture(scope="session")
def sample_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A store holding the sample article, shared by the tests that only read it."""
    settings = Settings(store=tmp_path_factory.mktemp("sample") / "store", chroma_host=None)
    report = library(settings).add_sources([SAMPLE])
    assert report.count("added") == 1, report
    return settings


@pytest.fixture(scope="session")
def sample_root(sample_settings: Settings) -> Assistant:
    """A root over the sample store."""
    return make_root(sample_settings)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(store: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment for a child process: no Chroma server, the given store, and none of the
    settings this test process gave itself (:data:`ADDED_HERE`)."""
    env = {k: v for k, v in os.environ.items() if k not in CHROMA_VARS and k not in ADDED_HERE}
    if store is not None:
        env["ASSISTANT_STORE"] = str(store)
    env.update(extra)
    return env


def run_cli(*args: str, store: Path | None = None, env: dict | None = None, timeout: float = 300):
    """Run ``python -m ...`` in a child process; its CompletedProcess (text)."""
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, env=child_env(store, **(env or {})),
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def run_main(
    *args: str, store: Path | None = None, env: dict | None = None, drop: tuple[str, ...] = ()
) -> subprocess.CompletedProcess:
    """Run the command ``python -m ARGS`` would run, in this process: the same ``main()``, its exit
    code and what it printed, with the environment a child would get (no child start-up to pay
    for: for the commands whose behaviour needs no process of their own)."""
    import contextlib
    import io

    module, *argv = args
    main = {"assistant": _assistant_main, "ingest": _ingest_main, "assistant.eval": _eval_main}[module]
    out, err = io.StringIO(), io.StringIO()
    saved = dict(os.environ)
    wanted = {k: v for k, v in child_env(store, **(env or {})).items() if k not in drop}
    os.environ.clear()
    os.environ.update(wanted)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(argv))
            except SystemExit as e:  # argparse's usage errors
                code = e.code if isinstance(e.code, int) else 1
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return subprocess.CompletedProcess([module, *argv], code, out.getvalue(), err.getvalue())


def _assistant_main(argv: list[str]) -> int:
    from assistant.interfaces.cli import main

    return main(argv, prog="python -m assistant")


def _eval_main(argv: list[str]) -> int:
    from assistant.eval.command import main

    return main(argv)


def _ingest_main(argv: list[str]) -> int:
    from ingest.cli import main

    return main(argv)


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


@pytest.fixture
def news_server(tmp_path: Path) -> Iterator[str]:
    """A web server on 127.0.0.1 serving one news page (the Veltra dam's); its URL."""
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from tests.ui_support import DAM_TEXT, DAM_TITLE

    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "dam.html").write_text(
        f"<html><head><title>{DAM_TITLE}</title></head><body><nav><a href='/'>Home</a></nav><article>"
        f"<h1>{DAM_TITLE}</h1>"
        + "".join(f"<p>{p}</p>" for p in DAM_TEXT.split("\n\n"))
        + "</article></body></html>"
    )

    class Quiet(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(tmp_path / "site"), **kwargs)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/dam.html"
    server.shutdown()
