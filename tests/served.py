"""The chat served for real by ``python -m assistant`` in a child process, for the UI tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import CHROMA_VARS, ROOT, free_port, wait_for_port


@contextmanager
def served_chat(store: Path, folder: Path) -> Iterator[str]:
    """Serve the chat over ``store`` on a free port; its URL. Log and uploads go to ``folder``."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in CHROMA_VARS}
    env.update(
        ASSISTANT_STORE=str(store), GRADIO_SERVER_PORT=str(port), GRADIO_TEMP_DIR=str(folder / "uploads")
    )
    log = folder / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "assistant"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        try:
            wait_for_port(port, process)
        except AssertionError as e:
            raise AssertionError(f"{e}\n{log.read_text()}") from None
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=30)
