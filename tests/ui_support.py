"""For the UI tests: the chat served for real in a child process, and the articles they add."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import CHROMA_VARS, ROOT, free_port, wait_for_port

QUESTION = "Who is Khalil Haqqani?"  # answered by the sample article
# Articles the tests add, with facts no other article has. The bridge report carries HTML,
# script, onerror, Markdown and template payloads in its title and text.
PAYLOAD = '<img src=x onerror="window.__pwned=true;alert(1)">'
BRIDGE_TITLE = f"Bridge report {PAYLOAD}"
BRIDGE_TEXT = f"""The Orvel bridge was inspected in March 2021 by engineers {PAYLOAD} from the city council.

Inspectors wrote <script>window.__pwned=true;alert('x')</script> in their notes, with **bold** text, \
[a link](javascript:alert(1)), ${{alert(1)}} and {{{{constructor.constructor('alert(1)')()}}}}.

The bridge carries <div style="position:fixed;inset:0;background:red">eleven thousand</div> cars a day.
"""
DAM_TITLE = "Veltra dam history"
DAM_TEXT = """The Veltra dam was completed in 1987 after eleven years of construction.

It holds back the waters of Lake Veltra, which supplies drinking water to three towns.

The dam is 142 metres tall and was built by a consortium of Swiss engineering firms."""
VALLEY_TITLE = "Veltra valley guide"
VALLEY_TEXT = """Visitors come to the valley for its lakes and trails.

The Veltra dam, which was completed in 1987, is the tallest structure in the valley.

Boats can be hired on Lake Veltra in summer."""


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
