"""Load test: N concurrent ``gradio_client`` clients x M questions against the served chat.

    python bench/load.py                           # 32 clients x 20 questions
    python bench/load.py --clients 8 --questions 5 --json
    python bench/load.py --url http://127.0.0.1:7860/   # a chat already served on this machine

Without ``--url`` it ingests the sample article into a temporary store (or uses ``--store``)
and serves it with ``python -m assistant serve`` on a free port of 127.0.0.1, then stops it.
Each client asks its questions one after another, all clients at once; every reply is
checked against the sample article (its first cited sentence holds the expected words).
Prints throughput and p50/p95 latency; exits 1 when any question failed, timed out or was
answered wrong. Bounded: at most 64 clients, 100 questions each and ``--timeout`` seconds
in all, and loopback addresses only.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from assistant.interfaces.web import is_loopback

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "articles"
MAX_CLIENTS, MAX_QUESTIONS = 64, 100
# (question, words the first cited sentence must hold), all answered by the sample article
QUESTIONS = (
    ("Who is Khalil Haqqani?", "A Pakistani protege, Khalil Haqqani"),
    ("How many US service members were killed outside Kabul airport?", "killed 13 US service members"),
    ("What did the Taliban ask the US to keep in Afghanistan?", "diplomatic footprint"),
    ("When did the US first designate the Haqqani Network as a terrorist group?", "in 2012"),
    ("Who maintains security checkpoints around Kabul's airport?", "maintain security checkpoints"),
    ("What does the National Counterterrorism Center say about the Haqqanis?", "most lethal"),
    ("What does ISIS-K claim about Taliban rule?", "Taliban rule is illegitimate"),
    ("Which country's military aircraft were people queuing to board at Kabul airport?", "of Germany"),
)


@dataclass
class LoadReport:
    """What the clients saw: one latency per answered question, and what went wrong."""

    clients: int
    questions: int
    latencies: list[float] = field(default_factory=list)  # seconds, answered questions only
    errors: list[str] = field(default_factory=list)  # failed or timed-out questions
    wrong: list[str] = field(default_factory=list)  # answered without the expected sentence
    seconds: float = 0.0  # from the first question asked to the last reply

    def as_dict(self) -> dict:
        """The figures, JSON-ready."""
        answered = len(self.latencies)

        def ms(percent: float) -> int | None:
            return round(float(np.percentile(self.latencies, percent)) * 1000) if answered else None

        return {
            "clients": self.clients,
            "questions_per_client": self.questions,
            "asked": self.clients * self.questions,
            "answered": answered,
            "errors": len(self.errors),
            "wrong": len(self.wrong),
            "seconds": round(self.seconds, 2),
            "questions_per_second": round(answered / self.seconds, 2) if self.seconds else 0.0,
            "p50_ms": ms(50),
            "p95_ms": ms(95),
            "max_ms": ms(100),
            "first_errors": self.errors[:5],
            "first_wrong": self.wrong[:5],
        }

    def summary(self) -> str:
        """Two lines: throughput and latency, then errors and wrong answers."""
        d = self.as_dict()
        return (
            f"answered {d['answered']}/{d['asked']} in {d['seconds']} s: {d['questions_per_second']} "
            f"questions/s; latency p50 {d['p50_ms']} ms, p95 {d['p95_ms']} ms, max {d['max_ms']} ms\n"
            f"errors: {d['errors']}, wrong answers: {d['wrong']}"
        )


Asker = Callable[[str, float], str]  # (question, seconds left) -> the reply's text


def gradio_asker(url: str) -> Asker:
    """A client of the chat's Gradio queue (``/chat``), as ``gradio_client`` users call it."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    return lambda question, left: client.submit(question, api_name="/chat").result(timeout=left)


def api_asker(url: str) -> Asker:
    """A client of the JSON API (``POST /api/answer``), as a script calls it with httpx."""
    import httpx

    client = httpx.Client(base_url=url)

    def ask(question: str, left: float) -> str:
        reply = client.post("api/answer", json={"question": question}, timeout=left)
        reply.raise_for_status()
        return reply.json()["text"]

    return ask


def run_load(
    url: str, clients: int, questions: int, timeout: float, connect: Callable[[str], Asker]
) -> LoadReport:
    """Ask ``questions`` questions from each of ``clients`` concurrent clients made by ``connect``;
    their report."""
    if not is_loopback(urlparse(url).hostname or ""):
        raise ValueError(f"{url} is not a loopback address: the load test only runs on this machine")
    if not (1 <= clients <= MAX_CLIENTS and 1 <= questions <= MAX_QUESTIONS):
        raise ValueError(f"use 1-{MAX_CLIENTS} clients and 1-{MAX_QUESTIONS} questions each")
    report = LoadReport(clients, questions)
    lock = threading.Lock()
    deadline = time.monotonic() + timeout
    ready = threading.Barrier(clients + 1, timeout=timeout)  # every client connected: start

    def fail(message: str, times: int = 1) -> None:
        with lock:
            report.errors.extend([message] * times)

    def one_client(number: int) -> None:
        try:
            client = connect(url)
        except Exception as e:
            client, reason = None, f"client {number} could not connect: {type(e).__name__}: {e}"
        try:
            ready.wait()
        except threading.BrokenBarrierError:
            client, reason = None, f"client {number} was not started: the others took too long to connect"
        if client is None:
            fail(reason, questions)
            return
        for k in range(questions):
            question, expected = QUESTIONS[(number + k) % len(QUESTIONS)]
            started = time.perf_counter()
            try:
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"not asked: the {timeout:g} s limit was reached")
                reply = client(question, deadline - time.monotonic())
            except Exception as e:
                fail(f"client {number}, {question!r}: {type(e).__name__}: {e}")
                continue
            elapsed = time.perf_counter() - started
            with lock:
                report.latencies.append(elapsed)
                if expected not in reply.split("[1]")[0]:
                    report.wrong.append(f"{question!r} -> {reply[:200]!r}")

    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = [pool.submit(one_client, n) for n in range(clients)]
        with suppress(threading.BrokenBarrierError):
            ready.wait()
        started = time.monotonic()
        for future in futures:
            future.result()
        report.seconds = time.monotonic() - started
    return report


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(store: Path | None, log: Path, workers: int = 1, timeout: float = 300) -> Iterator[str]:
    """The chat over ``store`` (a new one holding the sample article if None), served by
    ``workers`` processes; its URL."""
    with tempfile.TemporaryDirectory(prefix="load-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHROMA_")}
        if store is None:
            store = Path(tmp) / "store"
            env["ASSISTANT_STORE"] = str(store)
            subprocess.run(
                [sys.executable, "-m", "ingest", "--quiet", str(SAMPLE)], cwd=ROOT, env=env, check=True,
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
        env["ASSISTANT_STORE"] = str(store)
        port = _free_port()
        with log.open("w") as out:
            server = subprocess.Popen(
                [sys.executable, "-m", "assistant", "serve", "--host", "127.0.0.1", "--port", str(port),
                 "--workers", str(workers)],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            _wait_for(log, server, timeout)
            yield f"http://127.0.0.1:{port}/"
        finally:
            server.terminate()
            server.wait(timeout=30)


def _wait_for(log: Path, server: subprocess.Popen, timeout: float) -> None:
    """Wait until the server says where it is: then every worker can answer at full speed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the chat server exited with {server.returncode}: see {log}")
        if " is at http" in log.read_text():
            return
        time.sleep(0.1)
    raise RuntimeError(f"the chat server did not say it was ready within {timeout} s: see {log}")


def main(argv: list[str] | None = None) -> int:
    """Run the load test; 0 when every question was answered right, 1 otherwise."""
    parser = argparse.ArgumentParser(prog="python bench/load.py", description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=32, help=f"concurrent clients (1-{MAX_CLIENTS})")
    parser.add_argument("--questions", type=int, default=20, help=f"questions per client (1-{MAX_QUESTIONS})")
    parser.add_argument("--timeout", type=float, default=900, help="seconds for all questions")
    parser.add_argument("--url", help="a chat already served on this machine (default: serve one)")
    parser.add_argument("--store", type=Path, help="store to serve (default: a new one with the sample)")
    parser.add_argument("--workers", type=int, default=1, help="processes serving (default: 1)")
    way = parser.add_mutually_exclusive_group()
    way.add_argument("--api", action="store_true", help="ask through the JSON API, not the Gradio queue")
    way.add_argument("--compare", action="store_true", help="ask through both, one after the other")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if not (1 <= args.clients <= MAX_CLIENTS and 1 <= args.questions <= MAX_QUESTIONS):
        parser.error(f"use 1-{MAX_CLIENTS} clients and 1-{MAX_QUESTIONS} questions each")
    if args.url and not is_loopback(urlparse(args.url).hostname or ""):
        parser.error(f"{args.url} is not a loopback address: the load test only runs on this machine")

    ways = {"gradio queue": gradio_asker, "json api": api_asker}
    chosen = list(ways) if args.compare else ["json api" if args.api else "gradio queue"]

    def load(url: str) -> dict[str, LoadReport]:
        reports = {}
        for way in chosen:
            print(f"load: {args.clients} clients x {args.questions} questions, {way}, {url}", file=sys.stderr)
            reports[way] = run_load(url, args.clients, args.questions, args.timeout, ways[way])
        return reports

    if args.url:
        reports = load(args.url)
    else:
        log = Path(tempfile.gettempdir()) / f"load-server-{os.getpid()}.log"
        try:
            with served(args.store, log, args.workers) as url:
                reports = load(url)
        except (RuntimeError, subprocess.CalledProcessError) as e:
            print(f"error: {e}; the server's output is in {log}", file=sys.stderr)
            return 1
        log.unlink()
    if args.json:
        print(json.dumps({way: r.as_dict() for way, r in reports.items()}, indent=2))
    else:
        for way, report in reports.items():
            print(f"{way} ({args.workers} worker{'s' if args.workers > 1 else ''}): {report.summary()}")
        if len(reports) == 2:
            rates = [r.as_dict()["questions_per_second"] for r in reports.values()]
            print(f"json api / gradio queue: {rates[1] / rates[0]:.2f}x the questions/s" if rates[0] else "")
    return 0 if all(not r.errors and not r.wrong for r in reports.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
