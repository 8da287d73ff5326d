"""For the API tests: the server's real app served over HTTP on 127.0.0.1, in a thread of the test."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from assistant.app import Assistant
from assistant.interfaces.server import address, create_app


@contextmanager
def served_api(root: Assistant) -> Iterator[str]:
    """``create_app(root)`` served by uvicorn on a free loopback port until the block ends; its URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(create_app(root), log_level="warning", lifespan="on", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("the API server did not start")
        time.sleep(0.05)
    try:
        yield address(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
