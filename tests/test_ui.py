"""The Gradio chat, served for real on a free port and called with gradio_client."""

import os
import subprocess
import sys

import pytest
from gradio_client import Client

from assistant.settings import Settings
from tests.conftest import CHROMA_VARS, ROOT, free_port, wait_for_port


@pytest.fixture(scope="module")
def served(sample_settings: Settings):
    """``python -m assistant serve`` on a free port over the sample store; its URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in CHROMA_VARS}
    env.update(ASSISTANT_STORE=str(sample_settings.store), GRADIO_SERVER_PORT=str(port))
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_chat_endpoint_answers_with_citations(served: str) -> None:
    reply = Client(served, verbose=False).predict("Who is Khalil Haqqani?", api_name="/chat")
    assert isinstance(reply, str)
    assert "[1]" in reply
    assert "Khalil Haqqani" in reply.split("[1]")[0]
    assert "US to engage with Taliban" in reply  # the cited sentence's article title


def test_chat_endpoint_reports_an_empty_question_as_a_message(served: str) -> None:
    reply = Client(served, verbose=False).predict("   ", api_name="/chat")
    assert "question is empty" in reply
    assert "Traceback" not in reply


def test_chat_endpoint_abstains_plainly(served: str) -> None:
    reply = Client(served, verbose=False).predict("What is the capital of France?", api_name="/chat")
    assert "could not find" in reply


def test_refuses_a_public_address_without_auth(sample_settings: Settings) -> None:
    env = {k: v for k, v in os.environ.items() if k not in CHROMA_VARS}
    env.update(ASSISTANT_STORE=str(sample_settings.store))
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "serve", "--host", "0.0.0.0", "--port", str(free_port())],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert "ASSISTANT_AUTH" in done.stderr
