"""``make bench``: ingest and answer speed as the store grows, against a plain LangChain RAG.

    python bench/run.py                                   # about 1k, 10k and 100k sentences
    python bench/run.py --sizes 1000,10000 --questions 200 --keep /tmp/bench

The corpus is ``bench/squad.py``'s: the paragraphs of ``squad-v1.1-dev-a.json`` as
separate articles, then synthetic distractor articles up to each size. The articles are
written as .txt files and each size's new ones ingested into one store with
``python -m ingest``, as a user would. At each size it prints, all in one run:

- ingest: sentences/s, CPU seconds (with its embedding worker and the process that builds
  the search index at its end), the search index's part of its time, and peak RSS of the
  largest of its processes (the kernel reports no more); store size on disk;
- the first ``python -m assistant ask`` after the ingest (it loads the corpus cache the
  ingest saved) and the cold start after it (seconds from start to the printed answer);
- warm ``answer()`` latency p50/p95 and hit@1 over a fixed sample of the questions whose
  article is in the store, and the peak RSS and unique memory (USS) of that serving process,
  measured while a second serving process answers from the same store (the memory-mapped
  search index is shared between them);
- the same articles and questions through ``bench/baseline.py`` (RecursiveCharacterTextSplitter
  1000/200, ``Chroma.from_documents`` with the same embeddings, ``similarity_search(k=4)``):
  its ingest time, query latency and store size, and the ratios ours/baseline.

Before the sizes it measures embedding throughput on the same sentences: plain
``SentenceTransformer.encode`` (torch fp32) against the assistant's ONNX Runtime backends.
Every figure comes from a child process timed here (this process stays small, so that
the children's peak RSS is their own); nothing is asserted. The machine may
be shared: the load average is printed at the start and the end.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from squad import _SENTENCE_BREAK, Article, read_squad, real_articles, synthetic_articles

ROOT = Path(__file__).resolve().parent.parent
CHROMA_VARS = ("CHROMA_HOST", "CHROMA_PORT", "CHROMA_SSL", "CHROMA_AUTH_TOKEN")
TORCH = "torch fp32, SentenceTransformer.encode"
COLD_QUESTION = "Which NFL team represented the AFC at Super Bowl 50?"
INDEX_LINE = re.compile(r"search index: [\d,]+ sentences in ([\d.]+) s")  # printed by python -m ingest


@dataclass(frozen=True)
class Child:
    """A finished child process: wall and CPU seconds, peak RSS in MB, what it printed."""

    wall: float
    cpu: float
    peak_mb: float
    stdout: str
    stderr: str


def child(*args: str, store: Path) -> Child:
    """Run ``python ARGS`` from the project root on ``store``; fail loudly when it fails."""
    env = {k: v for k, v in os.environ.items() if k not in CHROMA_VARS}
    env["ASSISTANT_STORE"] = str(store)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode:
            raise SystemExit(f"python {' '.join(args)} failed ({process.returncode}):\n{err.read()[-4000:]}")
        return Child(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read(), err.read())


def disk_mb(folder: Path) -> float:
    """Space the files under ``folder`` take on disk, in MB."""
    blocks = sum(os.lstat(Path(root) / f).st_blocks for root, _, files in os.walk(folder) for f in files)
    return blocks * 512 / 1e6


def plan(sizes: list[int]) -> list[list[Article]]:
    """The new articles of each size: real paragraphs first, then synthetic ones."""
    articles = itertools.chain(real_articles(read_squad()), synthetic_articles(read_squad()))
    stages, total = [], 0
    for size in sizes:
        stage = []
        while total < size:
            article = next(articles)
            stage.append(article)
            total += article.sentences()
        stages.append(stage)
    return stages


def encode_rates(count: int) -> None:
    """Child: sentences per second of plain sentence-transformers and of each ONNX backend on
    the first ``count`` SQuAD sentences, as one line of JSON."""
    from sentence_transformers import SentenceTransformer

    from assistant.core.settings import Settings
    from assistant.storage.embedder import Embedder, model_dir

    sentences = [s for p in read_squad() for s in _SENTENCE_BREAK.split(p.text)][:count]
    model = SentenceTransformer(str(model_dir()), device="cpu")
    encoders = {TORCH: lambda t: model.encode(t, batch_size=32)}
    for backend in ("onnx", "onnx-int8"):
        encoders[f"{backend}, ONNX Runtime"] = Embedder(backend, Settings.from_env().model_cache).embed
    rates = {}
    for name, encode in encoders.items():
        encode(sentences[:64])  # warm-up
        started = time.perf_counter()
        encode(sentences)
        rates[name] = len(sentences) / (time.perf_counter() - started)
    print(json.dumps(rates))


def unique_mb() -> float:
    """This process's unique memory (USS: its private pages, clean and dirty), in MB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:])
    return sum(int(fields[key].split()[0]) for key in ("Private_Clean", "Private_Dirty")) / 1024


def probe(cases_file: Path) -> None:
    """Child: warm ``answer()`` latency and hit@1 over the cases, and this serving process's USS
    at the end, as one line of JSON."""
    from assistant.app import Assistant
    from assistant.core.settings import Settings, configure_process
    from assistant.eval.command import Case, runs, score

    configure_process()
    cases = tuple(
        Case(c["question"], (), True, article_id=c["article_id"], paragraph=0, answers=tuple(c["answers"]))
        for c in json.loads(cases_file.read_text())
    )
    m = score(list(runs(cases, Assistant.from_settings(Settings.from_env()).extractive)))
    figures = {"p50 ms": m["p50 latency ms"], "p95 ms": m["p95 latency ms"], "hit@1": m["hit@1"]}
    print(json.dumps({**figures, "USS MB": unique_mb()}))


def hold() -> None:
    """Child: a second serving process on the same store, answering once, then waiting to be
    stopped (the pages it maps of the search index are shared with the probe's)."""
    from assistant import answer

    answer(COLD_QUESTION)
    print("ready", flush=True)
    time.sleep(3600)


def probe_beside_another(cases_file: Path, store: Path) -> Child:
    """The probe, while a second serving process holds the same store open."""
    env = {k: v for k, v in os.environ.items() if k not in CHROMA_VARS}
    env["ASSISTANT_STORE"] = str(store)
    other = subprocess.Popen(
        [sys.executable, __file__, "hold"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        if other.stdout.readline().strip() != "ready":
            raise SystemExit("the second serving process failed")
        return child(__file__, "probe", str(cases_file), store=store)
    finally:
        other.terminate()
        other.wait(timeout=30)


def questions(articles: list[Article], ids: dict[str, str], count: int) -> list[dict]:
    """A fixed sample of the questions on the real articles ingested so far."""
    paragraphs = read_squad()
    pool = [
        {"question": q, "answers": list(answers), "source": a.name, "article_id": ids[a.name]}
        for a in articles
        if a.name.startswith("squad-")
        for q, answers in paragraphs[int(a.name.split("-")[1])].questions
    ]
    return random.Random(0).sample(pool, min(count, len(pool)))


def baseline(folder: Path, baseline_store: Path, cases_file: Path, store: Path) -> dict:
    """The LangChain baseline's figures after adding ``folder`` to its store."""
    script = str(ROOT / "bench" / "baseline.py")
    ingested = child(script, "ingest", str(baseline_store), str(folder), store=store)
    asked = json.loads(child(script, "ask", str(baseline_store), str(cases_file), store=store).stdout)
    return {
        "baseline ingest s": ingested.wall,
        "baseline chunks": json.loads(ingested.stdout)["chunks"],
        "baseline p50 ms": asked["p50 ms"],
        "baseline p95 ms": asked["p95 ms"],
        "baseline chunk hit@1": asked["chunk hit@1"],
        "baseline store MB": disk_mb(baseline_store),
    }


def measure(args: argparse.Namespace, work: Path) -> list[dict]:
    """Every figure, size after size."""
    store, baseline_store = work / "store", work / "baseline"
    rows, ingested, sentences_before = [], [], 0
    for size, stage in zip(args.sizes, plan(args.sizes), strict=True):
        folder = work / f"articles-{size}"
        folder.mkdir()
        for article in stage:
            article.write(folder)
        ingested += stage
        ours = child("-m", "ingest", str(folder), store=store)  # no progress bar: stderr is a file
        listed = json.loads(child("-m", "ingest", "--list", "--json", store=store).stdout)
        ids = {Path(a["source"]).stem: a["article_id"] for a in listed}
        sentences = sum(a["sentence_count"] for a in listed)
        first_ask = child("-m", "assistant", "ask", COLD_QUESTION, store=store)
        cold = child("-m", "assistant", "ask", COLD_QUESTION, store=store)
        cases_file = work / f"cases-{size}.json"
        cases_file.write_text(json.dumps(questions(ingested, ids, args.questions)))
        served = probe_beside_another(cases_file, store)
        warm = json.loads(served.stdout)
        row = {
            "sentences": sentences,
            "articles": len(listed),
            "questions": len(json.loads(cases_file.read_text())),
            "ingest sentences/s": (sentences - sentences_before) / ours.wall,
            "ingest s": ours.wall,
            "ingest cpu s": ours.cpu,
            "ingest peak RSS MB": ours.peak_mb,
            "search index s (in ingest s)": float(INDEX_LINE.search(ours.stderr).group(1)),
            "store MB": disk_mb(store) - disk_mb(store / ".assistant-cache"),
            "corpus cache MB": disk_mb(store / ".assistant-cache"),
            "first ask after ingest s": first_ask.wall,
            "cold start s": cold.wall,
            "warm p50 ms": warm["p50 ms"],
            "warm p95 ms": warm["p95 ms"],
            "hit@1": warm["hit@1"],
            "serving peak RSS MB": served.peak_mb,
            "serving USS MB": warm["USS MB"],
        }
        if size <= args.baseline_up_to:
            row.update(baseline(folder, baseline_store, cases_file, store))
            row["ingest ours/baseline"] = row["ingest s"] / row["baseline ingest s"]
            row["p50 ours/baseline"] = row["warm p50 ms"] / row["baseline p50 ms"]
        sentences_before = sentences
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
        rows.append(row)
    return rows


TABLE = [  # (heading, key, format)
    ("articles", "articles", "{:,}"),
    ("ingest sentences/s", "ingest sentences/s", "{:.0f}"),
    ("search index s (in the ingest)", "search index s (in ingest s)", "{:.1f}"),
    ("ingest peak RSS MB", "ingest peak RSS MB", "{:.0f}"),
    ("store MB (+ corpus cache)", None, None),
    ("first ask after ingest s", "first ask after ingest s", "{:.1f}"),
    ("cold start s", "cold start s", "{:.1f}"),
    ("warm p50 / p95 ms", None, None),
    ("hit@1", "hit@1", "{:.3f}"),
    ("serving peak RSS MB", "serving peak RSS MB", "{:.0f}"),
    ("serving USS MB (beside a second one)", "serving USS MB", "{:.0f}"),
    ("baseline ingest s (ours/baseline)", None, None),
    ("baseline p50 / p95 ms (ours/baseline p50)", None, None),
    ("baseline chunk hit@1", "baseline chunk hit@1", "{:.3f}"),
    ("baseline store MB", "baseline store MB", "{:.0f}"),
]


def table(rows: list[dict]) -> str:
    """The figures as a Markdown table, one column per size."""

    def cell(row: dict, heading: str, key: str | None, fmt: str | None) -> str:
        if heading.startswith("baseline") and "baseline p50 ms" not in row:
            return "not run"
        if key:
            return fmt.format(row[key])
        if heading.startswith("store"):
            return f"{row['store MB']:.0f} (+{row['corpus cache MB']:.0f})"
        if heading.startswith("warm"):
            return f"{row['warm p50 ms']:.1f} / {row['warm p95 ms']:.1f}"
        if heading.startswith("baseline ingest"):
            return f"{row['baseline ingest s']:.0f} ({row['ingest ours/baseline']:.2f})"
        return f"{row['baseline p50 ms']:.1f} / {row['baseline p95 ms']:.1f} ({row['p50 ours/baseline']:.2f})"

    lines = ["| | " + " | ".join(f"{r['sentences']:,} sentences" for r in rows) + " |"]
    lines.append("|---" * (len(rows) + 1) + "|")
    for heading, key, fmt in TABLE:
        lines.append(f"| {heading} | " + " | ".join(cell(r, heading, key, fmt) for r in rows) + " |")
    return "\n".join(lines)


def main() -> int:
    """Entry point of ``python bench/run.py`` (and of its ``probe`` child)."""
    if sys.argv[1:2] == ["probe"]:
        probe(Path(sys.argv[2]))
        return 0
    if sys.argv[1:2] == ["hold"]:
        hold()
        return 0
    if sys.argv[1:2] == ["encode"]:
        encode_rates(int(sys.argv[2]))
        return 0
    parser = argparse.ArgumentParser(prog="python bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="1000,10000,100000", help="sentence counts, rising (1000,10000,100000)"
    )
    parser.add_argument("--questions", type=int, default=500, help="questions asked at each size (500)")
    parser.add_argument(
        "--baseline-up-to", type=int, default=10**9, help="run the baseline only at sizes up to this (all)"
    )
    parser.add_argument(
        "--encode-sentences", type=int, default=1000, help="sentences for the encode test (1000)"
    )
    parser.add_argument(
        "--keep", type=Path, help="work in this new folder and keep it (default: a temp folder)"
    )
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", flush=True)
    print(f"embedding throughput on {args.encode_sentences} SQuAD sentences:", flush=True)
    with tempfile.TemporaryDirectory() as unused:
        rates = json.loads(child(__file__, "encode", str(args.encode_sentences), store=Path(unused)).stdout)
    for name, rate in rates.items():
        print(f"  {name:<40} {rate:7.1f} sentences/s", flush=True)
    if args.keep:
        args.keep.mkdir(parents=True)
        rows = measure(args, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="assistant-bench-") as folder:
            rows = measure(args, Path(folder))
    torch, last = rates[TORCH], rows[-1]
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}\n")
    print(table(rows))
    print(
        f"\ningest at {last['sentences']:,} sentences: {last['ingest sentences/s']:.0f} sentences/s, "
        f"{last['ingest sentences/s'] / torch:.2f}x plain torch fp32 encode ({torch:.0f}/s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
