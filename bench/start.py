"""Start-up and conversation costs on the sample store: cold ``answer()``, the chat's first answer
after ``serve`` prints its address, and a ten-turn "Tell me more".

    python bench/start.py                # 5 runs of each cold start, 10 turns
    python bench/start.py --runs 9 --json

It ingests the sample article into a temporary store, then, all in one run on this machine:

- cold start: a fresh ``python -c "from assistant import answer; answer(Q)"`` against a fresh
  ``python -c "import chromadb, onnxruntime"``, alternated ``--runs`` times; the medians, their
  ratio, and each one's peak RSS (the kernel's figure for the child). Twice: for "Who is Khalil
  Haqqani?", whose short answer is a description, and for "What reward is on Khalil Haqqani's
  head?", whose short answer is an amount (both parsed by spaCy's model);
- serve: ``python -m assistant serve`` on a free loopback port; from the line that prints the
  address to the reply of the first question asked over Gradio's HTTP API (the client is
  ready before the server starts);
- conversation: "Summarize the article" then nine "Tell me more", each turn's milliseconds,
  once with the earlier turns' answers carried (as the chat does) and once with only the
  earlier questions (as ``ask --history`` does), in one warm process.

Every figure is printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "articles"
QUESTION = "Who is Khalil Haqqani?"
NEEDS_ENTITIES = "What reward is on Khalil Haqqani's head?"
BASE = "import chromadb, onnxruntime"
TURNS = ["Summarize the article", *["Tell me more"] * 9]
ADDRESS = re.compile(r"The chat is at (http://\S+)")


def environment(store: Path) -> dict[str, str]:
    """This process's environment, on ``store`` and no Chroma server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHROMA_")}
    env["ASSISTANT_STORE"] = str(store)
    return env


def timed(code: str, env: dict[str, str]) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of ``python -c code`` in a fresh process."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"python -c {code!r} failed")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def cold_start(env: dict[str, str], question: str, runs: int) -> dict:
    """Cold ``answer(question)`` against the import of chromadb and onnxruntime, alternated."""
    code = f"from assistant import answer; answer({question!r})"
    timed(code, env)  # the first run after an ingest may still build what the next ones load
    cold, base = [], []
    for _ in range(runs):
        cold.append(timed(code, env))
        base.append(timed(BASE, env))
    median = {
        name: statistics.median(s for s, _ in runs_) for name, runs_ in (("cold", cold), ("base", base))
    }
    return {
        "question": question,
        "cold answer() s": median["cold"],
        "import chromadb, onnxruntime s": median["base"],
        "ratio": median["cold"] / median["base"],
        "cold answer() peak RSS MB": max(mb for _, mb in cold),
        "import peak RSS MB": max(mb for _, mb in base),
        "runs": runs,
    }


def first_answer_after_serve(env: dict[str, str]) -> dict:
    """Seconds from ``serve`` printing its address to the first answer over Gradio's HTTP API."""
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        line = ""
        while not ADDRESS.search(line):
            line = server.stdout.readline()
            if not line:
                raise SystemExit("serve stopped before printing its address")
        printed = time.perf_counter()
        url = ADDRESS.search(line).group(1).rstrip("/")
        with httpx.Client(timeout=60) as client:
            event = client.post(f"{url}/gradio_api/call/chat", json={"data": [QUESTION, []]}).json()[
                "event_id"
            ]
            reply = client.get(f"{url}/gradio_api/call/chat/{event}").text
        answered = time.perf_counter()
    finally:
        server.terminate()
        server.wait(timeout=30)
    if "Khalil Haqqani" not in reply:
        raise SystemExit(f"the first answer is not the expected one: {reply[:300]}")
    return {"serve to address s": printed - started, "address to first answer s": answered - printed}


def free_port() -> int:
    """A TCP port of 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def conversation(store: Path) -> dict:
    """Milliseconds of each turn of TURNS, answers carried, then questions only (one warm process)."""
    from assistant import Turn
    from assistant.app import Assistant
    from assistant.core.settings import Settings, configure_process

    configure_process()
    answerer = Assistant.from_settings(Settings(store=store, chroma_host=None)).extractive
    answerer.answer(QUESTION)  # warm: corpus, models, entity tagger
    figures = {}
    for name in ("answers carried", "questions only"):
        turns: list[Turn] = []
        milliseconds = []
        for question in TURNS:
            history = turns if name == "answers carried" else [t.question for t in turns]
            started = time.perf_counter()
            reply = answerer.answer(question, history)
            milliseconds.append((time.perf_counter() - started) * 1000)
            turns.append(Turn(question, reply))
        figures[name] = milliseconds
    return figures


def main() -> int:
    """Entry point of ``python bench/start.py``."""
    parser = argparse.ArgumentParser(prog="python bench/start.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="cold starts of each kind, alternated (5)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="assistant-start-") as folder:
        store = Path(folder) / "store"
        env = environment(store)
        ingest = [sys.executable, "-m", "ingest", "--quiet", str(SAMPLE)]
        subprocess.run(ingest, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        figures = {
            "cold start": [cold_start(env, question, args.runs) for question in (QUESTION, NEEDS_ENTITIES)],
            "serve": first_answer_after_serve(env),
            "tell me more ms per turn": conversation(store),
        }
    figures["load average"] = {"start": load, "end": os.getloadavg()[0], "cpus": os.cpu_count()}
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    s = figures["serve"]
    print(f"load average {load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end, {os.cpu_count()} CPUs")
    for c in figures["cold start"]:
        print(
            f"cold answer({c['question']!r}): {c['cold answer() s']:.2f} s "
            f"(peak RSS {c['cold answer() peak RSS MB']:.0f} MB); import chromadb, onnxruntime: "
            f"{c['import chromadb, onnxruntime s']:.2f} s ({c['import peak RSS MB']:.0f} MB); "
            f"ratio {c['ratio']:.2f} (medians of {c['runs']})"
        )
    print(
        f"serve: address printed {s['serve to address s']:.1f} s after start; "
        f"first answer {s['address to first answer s']:.2f} s after the address"
    )
    print("turn  " + "  ".join(f"{n:>6}" for n in range(1, len(TURNS) + 1)))
    for name, milliseconds in figures["tell me more ms per turn"].items():
        print(f"{name}: " + "  ".join(f"{ms:6.1f}" for ms in milliseconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
