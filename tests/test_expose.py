"""``python -m assistant serve`` is safe to expose: loopback by default, and another address
only with Gradio's own login for the chat (``ASSISTANT_AUTH``/``ASSISTANT_AUTH_FILE``) and bearer
tokens for the API (``ASSISTANT_API_TOKENS``/``ASSISTANT_API_TOKEN_FILE``), or ``--insecure``.

Every server here is a real child process over the sample store; the addresses it listens
on are read from the operating system (psutil), and the login is tried with gradio_client.
A refusal happens before anything listens, so those run ``main()`` in this process.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest
from gradio_client import Client
from gradio_client.exceptions import AuthenticationError

from assistant.core.settings import Settings
from tests.conftest import CHROMA_VARS, ROOT, free_port, run_main, wait_for_port
from tests.ui_support import QUESTION

SERVER_VARS = (
    *CHROMA_VARS,
    "GRADIO_SERVER_NAME",
    "GRADIO_SERVER_PORT",
    "ASSISTANT_AUTH",
    "ASSISTANT_AUTH_FILE",
    "ASSISTANT_API_TOKENS",
    "ASSISTANT_API_TOKEN_FILE",
    "ASSISTANT_READ_ONLY",
)
API_ROUTES = ("api/health", "v1/models", "mcp")  # every route for programs needs the token


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SERVER_VARS}
    return {**env, "ASSISTANT_STORE": str(settings.store), **extra}


@contextmanager
def _serving(settings: Settings, *args: str, **env: str) -> Iterator[tuple[str, set[str]]]:
    """``python -m assistant serve ARGS`` on a free port: its URL and the addresses it listens on."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve", "--port", str(port), *args], cwd=ROOT,
        env=_env(settings, **env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_for_port(port, process)
        listening = {
            c.laddr.ip
            for c in psutil.Process(process.pid).net_connections()
            if c.status == psutil.CONN_LISTEN and c.laddr.port == port
        }
        yield f"http://127.0.0.1:{port}/", listening
    finally:
        process.terminate()
        process.communicate(timeout=30)


@pytest.mark.subprocess
def test_binds_loopback_by_default(sample_settings: Settings) -> None:
    with _serving(sample_settings) as (url, listening):
        assert listening == {"127.0.0.1"}
        assert "Khalil Haqqani" in Client(url, verbose=False).predict(QUESTION, api_name="/chat")


def _serve(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess:
    """``python -m assistant serve ARGS`` run in this process, for a run that must end in a refusal."""
    return run_main(
        "assistant", "serve", *args, store=settings.store, env=env, drop=tuple(set(SERVER_VARS) - set(env))
    )


def test_a_port_in_use_is_refused_with_a_message(sample_settings: Settings) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = _serve(sample_settings, "--port", port)
    assert done.returncode == 1
    assert f"error: cannot serve on 127.0.0.1:{port}" in done.stderr and "--port" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
@pytest.mark.parametrize(
    "auth", ["", "no-colon", "user:", ":password"], ids=["none", "no-colon", "no-pw", "no-user"]
)
def test_another_address_without_a_usable_login_is_refused(
    sample_settings: Settings, host: str, auth: str
) -> None:
    done = _serve(sample_settings, "--host", host, "--port", str(free_port()), ASSISTANT_AUTH=auth)
    assert done.returncode == 1
    assert f"refusing to serve on {host} without authentication" in done.stderr
    assert "ASSISTANT_AUTH=user:password" in done.stderr and "--insecure" in done.stderr
    assert "Traceback" not in done.stderr


def _assert_login_required(url: str, user: str, password: str) -> None:
    with pytest.raises(AuthenticationError):
        Client(url, verbose=False)
    with pytest.raises(ValueError, match="Could not login"):
        Client(url, verbose=False, auth=(user, password + "-wrong"))
    reply = Client(url, verbose=False, auth=(user, password)).predict(QUESTION, api_name="/chat")
    assert "Khalil Haqqani" in reply


def _assert_token_required(url: str, token: str) -> None:
    for route in API_ROUTES:
        for header in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {token}"}):
            refused = httpx.get(f"{url}{route}", headers=header)
            assert refused.status_code == 401, (route, header)
            assert refused.json()["error"]["message"].startswith("a bearer token is needed")
    health = httpx.get(f"{url}api/health", headers={"Authorization": f"Bearer {token}"})
    assert health.status_code == 200 and health.json()["articles"] == 1


@pytest.mark.subprocess
def test_another_address_with_logins_and_tokens_serves_behind_them(sample_settings: Settings) -> None:
    env = {"ASSISTANT_AUTH": "editor:s3cret,guest:pw2", "ASSISTANT_API_TOKENS": "t0ken-1, t0ken-2"}
    with _serving(sample_settings, "--host", "0.0.0.0", **env) as (url, listening):
        assert listening == {"0.0.0.0"}
        _assert_login_required(url, "guest", "pw2")
        _assert_token_required(url, "t0ken-2")


@pytest.mark.subprocess
def test_another_address_with_a_login_file_and_a_token_file_serves_behind_them(
    sample_settings: Settings, tmp_path: Path
) -> None:
    users, tokens = tmp_path / "users", tmp_path / "tokens"
    users.write_text("alice:wonder-land\n\nbob:builder\n")
    tokens.write_text("first-token\n\nsecond-token\n")
    env = {"ASSISTANT_AUTH_FILE": str(users), "ASSISTANT_API_TOKEN_FILE": str(tokens)}
    with _serving(sample_settings, "--host", "0.0.0.0", **env) as (url, _):
        _assert_login_required(url, "bob", "builder")
        _assert_token_required(url, "second-token")


def test_another_address_with_logins_but_no_api_token_is_refused(sample_settings: Settings) -> None:
    done = _serve(sample_settings, "--host", "0.0.0.0", "--port", str(free_port()), ASSISTANT_AUTH="a:b")
    assert done.returncode == 1
    assert "refusing to serve the API on 0.0.0.0 without tokens" in done.stderr
    assert "ASSISTANT_API_TOKENS" in done.stderr and "Traceback" not in done.stderr


def test_an_unreadable_auth_file_is_a_clear_error(sample_settings: Settings, tmp_path: Path) -> None:
    done = _serve(
        sample_settings,
        "--host",
        "0.0.0.0",
        "--port",
        str(free_port()),
        ASSISTANT_AUTH_FILE=str(tmp_path / "x"),
    )
    assert done.returncode == 1
    assert "cannot read ASSISTANT_AUTH_FILE" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.subprocess
def test_insecure_serves_another_address_without_a_login(sample_settings: Settings) -> None:
    with _serving(sample_settings, "--host", "0.0.0.0", "--insecure") as (url, listening):
        assert listening == {"0.0.0.0"}
        assert "Khalil Haqqani" in Client(url, verbose=False).predict(QUESTION, api_name="/chat")
        assert httpx.get(f"{url}api/health").status_code == 200  # a trusted network: no token asked
