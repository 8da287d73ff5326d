"""Generated answers with the local model: how many stay generated, how many of the
sentences it writes are kept, how long an answer takes, and whether forcing a marker after
every sentence helps.

    python bench/generated.py                              # seed questions + 200 SQuAD questions
    python bench/generated.py --squad 50 --compare 20      # smaller; markers on/off on 20 of each

Two sets, each against a fresh store made here with the product's own ingest:

- the answerable seed questions (``seed_qa.jsonl``, history included) over the sample article;
- a fixed sample of SQuAD v1.1 questions (``--seed``) over every paragraph of
  ``squad-v1.1-dev-a.json``, each paragraph an article (as ``bench/squad.py`` makes them).

For each question: the extractive answerer's trace decides whether the model is asked at all
(an abstention is not), then ``local`` writes and every sentence is checked. Reported per
set: questions, abstained, asked, answers that stayed generated, sentences kept of those
written (the model's own [n] markers when ``--compare`` turns the constrained markers off),
gold answer found in the shown text (SQuAD), and latency (question to checked answer, and to
the first piece of text). Also the model's load time and decoding speed. One process, one
answer at a time; the machine may be shared, so the load average is printed at both ends.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from assistant.core.records import Answer  # noqa: E402
from assistant.core.settings import Settings, configure_process  # noqa: E402

SEED_QA = ROOT.parent / "shared" / "eval" / "seed_qa.jsonl"
SAMPLE = ROOT / "data" / "articles" / "us-taliban-evacuation.txt"
# why a generated answer fell back, by the words of its note (prompts/answer.yaml)
FALLBACKS = {"None of the": "nothing supported", "could not answer": "model failed",
             "did not answer within": "timed out", "returned nothing": "empty reply"}  # fmt: skip


@dataclass
class Tally:
    """What one set of questions came to with one model."""

    questions: int = 0
    abstained: int = 0  # the extractive answerer abstained: the model was not asked
    generated: int = 0
    fell_back: dict[str, int] = field(default_factory=dict)  # why (see FALLBACKS) -> answers
    written: int = 0  # sentences the model wrote
    kept: int = 0
    gold: int = 0  # SQuAD: a gold answer appears in the shown text
    seconds: list[float] = field(default_factory=list)
    first_piece: list[float] = field(default_factory=list)

    @property
    def asked(self) -> int:
        return self.questions - self.abstained


def ask(root, question: str, history: list[str], golds: tuple[str, ...], tally: Tally) -> Answer:
    """Answer one question, streamed as the chat would, and count what happened."""
    started = time.monotonic()
    first = None
    for item in root.generated().stream(question, history):
        if isinstance(item, Answer):
            reply = item
        elif first is None:
            first = time.monotonic() - started
    took = time.monotonic() - started
    tally.questions += 1
    if reply.abstained or (reply.mode == "extractive" and not reply.note):
        tally.abstained += 1
        return reply
    tally.seconds.append(took)
    if first is not None:
        tally.first_piece.append(first)
    tally.written += len(reply.claims)
    tally.kept += sum(c.supported for c in reply.claims)
    if reply.mode == "generated":
        tally.generated += 1
    else:
        why = next((why for words, why in FALLBACKS.items() if words in reply.note), reply.note)
        tally.fell_back[why] = tally.fell_back.get(why, 0) + 1
    tally.gold += any(g.lower() in reply.text.lower() for g in golds)
    return reply


def build_store(folder: Path, sources: list[Path]) -> Settings:
    """A fresh store in ``folder`` holding ``sources``, ingested as ``python -m ingest`` does."""
    from assistant.app import Assistant

    settings = Settings(store=folder / "store", chroma_host=None)
    report = Assistant.from_settings(settings).library.add_sources(sources)
    if report.failures:
        raise SystemExit(f"ingest failed: {report.failures[0]}")
    return settings


def squad_questions(
    folder: Path, count: int, seed: int
) -> tuple[list[Path], list[tuple[str, tuple[str, ...]]]]:
    """Every SQuAD paragraph as an article file in ``folder``, and ``count`` of its questions."""
    from squad import read_squad, real_articles

    paragraphs = read_squad()
    paths = [article.write(folder) for article in real_articles(paragraphs)]
    questions = [q for p in paragraphs for q in p.questions]
    return paths, random.Random(seed).sample(questions, min(count, len(questions)))


def speed(model) -> tuple[float, float]:
    """The local model's load time (s, a fresh instance) and decoding speed (tokens/s)."""
    from assistant.generation.local import LocalChatModel

    fresh = LocalChatModel(model_dir=model.model_dir)
    started = time.monotonic()
    fresh.load()
    loaded = time.monotonic() - started
    tokenizer, _ = fresh._parts()
    prompt = [("human", "Write a long story about a fox who lives in a forest near a river.")]
    fresh.invoke(prompt, max_new_tokens=8)  # warm up
    started = time.monotonic()
    text = fresh.invoke(prompt, max_new_tokens=96).text
    tokens = len(tokenizer.encode(text, add_special_tokens=False))
    return loaded, tokens / (time.monotonic() - started)


HEADER = (
    f"{'set, decoding':<34} {'qs':>4} {'abst':>4} {'stay generated':>15} {'sentences kept':>15} "
    f"{'gold in text':>15} {'p50':>6} {'p95':>6} {'first50':>7}"
)


def row(name: str, t: Tally, with_gold: bool) -> str:
    def share(part: int, whole: int) -> str:
        return f"{part / whole:5.0%} ({part}/{whole})" if whole else "-"

    def p(values: list[float], q: float) -> str:
        return f"{statistics.quantiles(values, n=20)[int(q * 20) - 1]:5.1f}" if len(values) > 1 else "  -"

    gold = share(t.gold, t.asked) if with_gold else "-"
    return (
        f"{name:<34} {t.questions:>4} {t.abstained:>4} {share(t.generated, t.asked):>15} "
        f"{share(t.kept, t.written):>15} {gold:>15} {p(t.seconds, 0.5):>6} {p(t.seconds, 0.95):>6} "
        f"{p(t.first_piece, 0.5):>7}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--squad", type=int, default=200, help="SQuAD questions to ask (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="which SQuAD questions (default 0)")
    parser.add_argument("--compare", type=int, default=0,
                        help="also ask the first N questions of each set without forced markers")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds an answer may take (default 60)")
    parser.add_argument("--json", type=Path, help="also write every answer to this file")
    args = parser.parse_args(argv)
    configure_process()
    from assistant.app import Assistant
    from assistant.generation.local import LocalProvider
    from assistant.generation.providers import Writer

    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)", flush=True)
    settings = Settings()
    started = time.monotonic()
    writer = LocalProvider(settings.model_cache).writer("local")
    model = writer.model
    print(f"local model ready in {time.monotonic() - started:.1f} s (conversion included on a first run)")
    load, rate = speed(model)
    print(f"local model: load {load:.1f} s, decoding {rate:.1f} tokens/s", flush=True)
    variants = {"markers forced": writer}
    if args.compare:
        variants["no forced markers"] = Writer(
            "local", model.model_copy(update={"cite": False}), writer.shape
        )
    seeds = [json.loads(line) for line in SEED_QA.read_text().splitlines() if line.strip()]
    seeds = [(q["question"], q["history"], tuple(q["supports"])) for q in seeds if q["answerable"]]
    results, answers = [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "sample").mkdir()
        (folder / "squad").mkdir()
        paths, sampled = squad_questions(folder / "squad", args.squad, args.seed)
        sets = [
            ("seed questions", build_store(folder / "sample", [SAMPLE]), seeds, False),
            ("SQuAD", build_store(folder / "squad", paths), [(q, [], g) for q, g in sampled], True),
        ]
        print(HEADER)
        for set_name, store, questions, with_gold in sets:
            for variant, chat in variants.items():
                root = Assistant.from_settings(
                    store.model_copy(update={"llm_timeout": args.timeout}), llm=chat
                )
                chosen = questions if variant == "markers forced" else questions[: args.compare]
                tally = Tally()
                for question, history, golds in chosen:
                    reply = ask(root, question, history, golds, tally)
                    answers.append(
                        {"set": set_name, "variant": variant, "question": question, **reply.to_dict()}
                    )
                results.append((f"{set_name}, {variant}", tally, with_gold))
                print(row(f"{set_name}, {variant}", tally, with_gold), flush=True)
    print(
        "\nlocal (SmolLM2-135M-Instruct), greedy, at most 3 sentences. qs: questions; abst: abstained "
        "(the model is not asked); stay generated and gold (a SQuAD answer in the shown text) are of "
        "the others; latency in seconds, question to checked answer (p50, p95) and to the first text"
    )
    print(HEADER)
    for name, tally, with_gold in results:
        print(row(name, tally, with_gold))
        if tally.fell_back:
            print(f"{'':<34} fell back: " + ", ".join(f"{why} {n}" for why, n in tally.fell_back.items()))
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(answers, indent=1, ensure_ascii=False))
    flags = f" --squad {args.squad} --seed {args.seed}" + (
        f" --compare {args.compare}" if args.compare else ""
    )
    print(f"reproduce: python bench/generated.py{flags}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
