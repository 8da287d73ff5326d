"""The one server ``article-assistant serve`` runs: a FastAPI app with the JSON API (``/api``),
the OpenAI-compatible endpoint (``/v1``), the MCP server (``/mcp``) and the browser chat (``/``),
served by uvicorn, in one process or ``workers`` processes behind one port.

    serve(settings, insecure, workers)
      -> refuse an exposed address without logins for the chat and tokens for the API
      -> bind the port here (a port in use is a clear error, not uvicorn's log)
      -> one process: build the root, load what a first question needs, then answer
         several: each worker builds its own root from the same settings; they share the
         memory-mapped search index
      -> "The chat is at http://..." once the socket listens (with workers: once each one has
         loaded what a first question needs, so that no question waits on a cold worker)

Every API route (``/api``, ``/v1``, ``/mcp``) takes a bearer token when tokens are set
(``ASSISTANT_API_TOKENS``, ``ASSISTANT_API_TOKEN_FILE``), and must have them on an address other
than loopback (unless ``--insecure``). Request bodies are size-limited before they are read.
``--read-only`` (``ASSISTANT_READ_ONLY``) turns off every route and tool that writes.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import gradio as gr
import uvicorn
from fastapi import FastAPI

from assistant.app import Assistant
from assistant.core.errors import ConfigError
from assistant.core.settings import Settings
from assistant.interfaces import api, openai_api
from assistant.interfaces.mcp_server import build_mcp
from assistant.interfaces.web import CSS, THEME, ChatPage, build_app, is_loopback

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

READY_DIR = "ASSISTANT_WORKERS_READY"  # where each worker leaves a file once it can answer (set by serve)
BACKLOG = 2048  # connections waiting to be accepted
API_PREFIXES = ("/api/", "/v1/", "/mcp")  # the routes for programs: bearer tokens, size limits
MAX_JSON_BYTES = 1 << 20  # a request body of the API, but for an uploaded article


def create_app(root: Assistant, chat: bool = True) -> Guard:
    """The server's ASGI app over ``root``: the API routes first, the chat at ``/`` last (unless
    ``chat`` is false: Gradio keeps each page's session in the process that served it, so a
    server of several processes serves the API only)."""
    settings = root.settings
    mcp = build_mcp(root)
    app = FastAPI(
        title="article-assistant",
        summary="Answers about news articles made of the articles' own sentences, each cited.",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lambda _: mcp.session_manager.run(),  # the MCP server's requests run in its task group
    )
    api.install_errors(app)
    app.include_router(api.router(root))
    app.include_router(openai_api.router(root))
    # Stateless: any worker answers any MCP request. A Mount would redirect /mcp to /mcp/.
    mcp_app = mcp.streamable_http_app(
        streamable_http_path="/mcp", host=settings.host, stateless_http=True, json_response=True
    )
    app.router.routes.extend(mcp_app.routes)  # the route /mcp, before the chat takes every other path
    tokens, page = settings.api_token_set(), ChatPage.of(root)
    if not chat:

        @app.get("/", include_in_schema=False)
        def no_chat() -> dict[str, str]:
            return {"message": "this server runs several workers, so it serves the API only (see /docs); "
                    "serve with one worker for the chat"}  # fmt: skip

        return Guard(app, tokens, upload_bytes=page.library.max_bytes, on_stop=lambda: None)
    gr.mount_gradio_app(
        app, build_app(page), path="/", auth=settings.auth_pairs() or None, show_error=False,
        max_file_size=page.library.max_bytes, css=CSS, theme=THEME,
    )  # fmt: skip
    mounted = app.router.routes[-1].app  # the Gradio app just mounted at /
    return Guard(app, tokens, upload_bytes=page.library.max_bytes, on_stop=mounted.stop_event.set)


class Guard:
    """The server's outermost ASGI layer. For the API routes: a bearer token from ``tokens`` when
    there are some, and a body no larger than the route takes (an upload: ``upload_bytes`` and a
    margin for the form around it; anything else :data:`MAX_JSON_BYTES`), refusals answered as
    JSON. ``on_stop`` ends the chat's open event streams when the server stops (else it would
    wait for every open page)."""

    def __init__(
        self, app: ASGIApp, tokens: frozenset[str], upload_bytes: int, on_stop: Callable[[], None]
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.upload_bytes = upload_bytes
        self.on_stop = on_stop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(API_PREFIXES):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        if self.tokens and not self._authorised(headers.get("authorization", "")):
            return await _refuse(send, 401, "a bearer token is needed: Authorization: Bearer TOKEN")
        limit = self.upload_bytes + (1 << 16) if path == "/api/articles" else MAX_JSON_BYTES
        declared = headers.get("content-length", "")
        if declared.isdigit():  # the server reads no more than the length said
            if int(declared) > limit:
                return await _refuse(send, 413, f"the request body is over {limit:,} bytes")
            return await self.app(scope, receive, send)
        body = await _read_body(receive, limit)  # sent in chunks, of no length said: counted first
        if body is None:
            return await _refuse(send, 413, f"the request body is over {limit:,} bytes")
        await self.app(scope, _replay(body, receive), send)

    def _authorised(self, header: str) -> bool:
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and any(hmac.compare_digest(token.strip(), t) for t in self.tokens)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None once it grows past ``limit`` bytes."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` that gives ``body`` first, then what the connection says (a disconnect)."""
    given = False

    async def receiving() -> MutableMapping[str, Any]:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receiving


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": {"status": status, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def check_exposure(settings: Settings, insecure: bool) -> None:
    """Refuse to serve an address other than loopback without logins for the chat and tokens for
    the API, unless ``insecure`` (the network is trusted)."""
    if is_loopback(settings.host) or insecure:
        return
    if not settings.auth_pairs():
        raise ConfigError(
            f"refusing to serve on {settings.host} without authentication: set ASSISTANT_AUTH=user:password "
            "(or ASSISTANT_AUTH_FILE), or pass --insecure if the network is trusted"
        )
    if not settings.api_token_set():
        raise ConfigError(
            f"refusing to serve the API on {settings.host} without tokens: set ASSISTANT_API_TOKENS=TOKEN "
            "(or ASSISTANT_API_TOKEN_FILE), or pass --insecure if the network is trusted"
        )


def bind(settings: Settings) -> socket.socket:
    """A socket bound to the settings' address, or a clear error (a port a server listens on
    is refused here, before anything loads). It listens only once the server can answer, so a
    client that finds the port open is answered without waiting for the warm-up."""
    host, port = settings.host, settings.port
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise ConfigError(
            f"cannot serve on {host}:{port} (in use, or not an address of this machine): "
            "choose another with --port/--host or GRADIO_SERVER_PORT/GRADIO_SERVER_NAME"
        ) from e
    sock.set_inheritable(True)
    return sock


def address(sock: socket.socket) -> str:
    """The URL the chat answers at."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


class _Server(uvicorn.Server):
    """uvicorn's server, saying where the chat is once it listens (when given ``announce``), and
    ending the chat's event streams before it waits for open connections to close."""

    def __init__(self, config: uvicorn.Config, announce: Callable[[], None] = lambda: None) -> None:
        super().__init__(config)
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._announce()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        app = self.config.loaded_app
        while not isinstance(app, Guard) and hasattr(app, "app"):  # under uvicorn's own middleware
            app = app.app
        if isinstance(app, Guard):
            app.on_stop()
        await super().shutdown(sockets)


def _worker_app() -> ASGIApp:
    """The app of one worker process: a root built from the settings its parent set. (uvicorn
    runs its own server in a worker, which waits for the chat's open streams when it stops, then
    cancels them: that is not an error to log.)"""
    from assistant.core.settings import configure_process

    configure_process()
    logging.getLogger("uvicorn.error").addFilter(_not_cancelled)
    root = Assistant.from_settings(Settings.from_env())
    root.warm()
    app = create_app(root, chat=False)
    (Path(os.environ[READY_DIR]) / str(os.getpid())).touch()
    return app


def _not_cancelled(record: logging.LogRecord) -> bool:
    """Whether a log record is not about a request cancelled because the server stops."""
    return not (record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError))


def serve(root: Assistant, insecure: bool = False, workers: int = 1) -> None:
    """Serve the chat and the API on the root's address until Ctrl+C (see the module docstring)."""
    settings = root.settings
    check_exposure(settings, insecure)
    sock = bind(settings)
    url = address(sock)
    log = {"log_level": "warning", "access_log": False, "lifespan": "on", "timeout_graceful_shutdown": 5}
    if workers == 1:
        root.warm()
        sock.listen(BACKLOG)

        def announce() -> None:
            print(f"The chat is at {url} (its API: {url}docs; Ctrl+C stops it)", flush=True)

        _Server(uvicorn.Config(create_app(root), **log), announce).run(sockets=[sock])
        return
    from uvicorn.supervisors import Multiprocess

    with tempfile.TemporaryDirectory(prefix="assistant-workers-") as ready:
        os.environ.update(settings.as_environment(), **{READY_DIR: ready})  # what each worker reads
        served = f"served by {workers} workers (the chat needs one; Ctrl+C stops it)"
        waiting = (Path(ready), workers, f"The API is at {url}docs, {served}")
        threading.Thread(target=_announce_when_ready, args=waiting, daemon=True).start()
        app = "assistant.interfaces.server:_worker_app"
        sock.listen(BACKLOG)  # connections wait in the backlog until a worker has warmed up
        Multiprocess(uvicorn.Config(app, factory=True, workers=workers, **log), sockets=[sock]).run()


def _announce_when_ready(ready: Path, workers: int, message: str) -> None:
    """Print ``message`` once ``workers`` workers have said they can answer (or nothing, when
    the server stops first)."""
    try:
        while len(list(ready.iterdir())) < workers:
            time.sleep(0.05)
    except FileNotFoundError:
        return
    print(message, flush=True)
