"""``python -m assistant.eval FILE``: how well ``answer()`` does on a question set.

FILE is either JSONL in the format of ``seed_qa.jsonl`` (questions about the sample
article, asked against a fresh store holding ``data/articles``) or a SQuAD v1.1/v2.0 JSON
file (every article of the file ingested into a fresh temporary store, title then
paragraphs, and every question asked against the whole store).

A question counts as a hit when the first citation contains one of its ``supports``
(JSONL) or is a sentence of the gold paragraph containing a gold answer text (SQuAD).
Printed: hit@1 (first citation, abstentions count as misses), hit@1 without abstention,
hit@3 and MRR over the ranked sentences, cited recall (JSONL), false abstentions,
abstentions on unanswerable questions, answer-or-abstain accuracy (answerable questions
answered, unanswerable ones abstained on), p50/p95 warm latency, and with ``--baselines``
the top-1 hit rate of dense-only, BM25-only and reciprocal-rank fusion from the same run.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.settings import SAMPLE_ARTICLES, Settings


@dataclass(frozen=True, slots=True)
class Case:
    """One evaluation question and what a correct first citation looks like."""

    question: str
    history: tuple[str, ...]
    answerable: bool
    supports: tuple[str, ...] = ()  # JSONL: text a correct citation contains
    article_id: str = ""  # SQuAD: the gold paragraph's article ...
    paragraph: int = -1  # ... and its number among the cleaned paragraphs
    answers: tuple[str, ...] = ()  # SQuAD: gold answer texts

    def is_hit(self, text: str, article_id: str, paragraph: int) -> bool:
        """Whether a cited sentence answers this question."""
        if self.article_id:
            return (
                article_id == self.article_id
                and paragraph == self.paragraph
                and any(a in text for a in self.answers)
            )
        return any(s in text for s in self.supports)


@dataclass(frozen=True)
class Dataset:
    """Questions and the articles to ask them against."""

    name: str
    cases: tuple[Case, ...]
    articles: tuple  # RawArticle per SQuAD article; empty for JSONL (sample articles used)
    squad_version: str = ""


def load_dataset(path: Path) -> Dataset:
    """Read a JSONL question file or a SQuAD JSON file."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        cases = []
        for line in text.splitlines():
            if line.strip():
                row = json.loads(line)
                cases.append(
                    Case(
                        question=row["question"],
                        history=tuple(row.get("history", ())),
                        answerable=bool(row["answerable"]),
                        supports=tuple(row.get("supports", ())),
                    )
                )
        return Dataset(path.name, tuple(cases), ())
    return _squad(path.name, json.loads(text))


def _squad(name: str, data: dict) -> Dataset:
    from ingest.clean import clean_paragraph, normalise
    from ingest.loader import RawArticle
    from ingest.split import article_id_for

    articles, cases = [], []
    for item in data["data"]:
        title = item["title"].replace("_", " ")
        source = f"squad:{item['title']}"
        article_id = article_id_for(source, title)
        contexts = [p["context"] for p in item["paragraphs"]]
        articles.append(RawArticle(source, title, tuple(contexts)))
        kept = 0
        for paragraph in item["paragraphs"]:
            if not clean_paragraph(normalise(paragraph["context"])):
                continue
            for qa in paragraph["qas"]:
                answers = tuple(a["text"] for a in qa.get("answers", ()))
                cases.append(
                    Case(
                        question=qa["question"],
                        history=(),
                        answerable=not qa.get("is_impossible", False) and bool(answers),
                        article_id=article_id,
                        paragraph=kept,
                        answers=answers,
                    )
                )
            kept += 1
    return Dataset(name, tuple(cases), tuple(articles), str(data.get("version", "")))


def prepare_store(dataset: Dataset, folder: Path, settings: Settings) -> Settings:
    """A fresh store in ``folder`` holding the dataset's articles; its settings."""
    from ingest.pipeline import ingest_articles, ingest_paths

    settings = settings.with_overrides(store=folder, chroma_host="")
    report = (
        ingest_articles(dataset.articles, settings)
        if dataset.articles
        else ingest_paths([SAMPLE_ARTICLES], settings)
    )
    if report.failures:
        raise SystemExit(f"could not ingest the evaluation articles: {report.failures}")
    return settings


def runs(dataset: Dataset, settings: Settings) -> Iterator[tuple[Case, dict, float]]:
    """Each case with the answerer's chain state and its latency in seconds (after a warm-up)."""
    from assistant.answerer import ExtractiveAnswerer

    answerer = ExtractiveAnswerer(settings)
    answerer.answer(dataset.cases[0].question)  # warm-up: corpus built, model loaded
    for case in dataset.cases:
        started = time.perf_counter()
        state = answerer.run(case.question, case.history)
        yield case, state, time.perf_counter() - started


def _hits(case: Case, documents) -> list[bool]:
    return [
        case.is_hit(d.page_content, d.metadata["article_id"], d.metadata["paragraph_index"])
        for d in documents
    ]


def score(results: list[tuple[Case, dict, float]]) -> dict[str, float]:
    """The metrics of the module docstring from the collected runs."""
    answerable = [(c, s) for c, s, _ in results if c.answerable]
    unanswerable = [(c, s) for c, s, _ in results if not c.answerable]
    m: dict[str, float] = {"questions": len(results), "answerable": len(answerable)}
    hit1 = hit1_raw = hit3 = rr = recall = 0.0
    dense = lexical = fusion = 0.0
    for case, state in answerable:
        docs = state["ranked"].documents
        hits = _hits(case, docs)
        answer = state["answer"]
        abstained = answer.abstained
        hit1 += bool(hits) and hits[0] and not abstained
        hit1_raw += bool(hits) and hits[0]
        if not abstained:
            hit3 += any(hits[:3])
            rr += next((1.0 / (i + 1) for i, h in enumerate(hits) if h), 0.0)
        if case.supports:
            cited = " ".join(c.text for c in answer.citations)
            recall += sum(s in cited for s in case.supports) / len(case.supports)
        candidates = state["documents"]
        if candidates:
            by = {
                "dense": lambda d: -d.metadata["dense_rank"],
                "bm25": lambda d: -d.metadata["bm25_rank"],
                "fusion": lambda d: 1 / (60 + d.metadata["dense_rank"]) + 1 / (60 + d.metadata["bm25_rank"]),
            }
            top = {name: max(candidates, key=key) for name, key in by.items()}
            dense += _hits(case, [top["dense"]])[0]
            lexical += _hits(case, [top["bm25"]])[0]
            fusion += _hits(case, [top["fusion"]])[0]
    n = max(len(answerable), 1)
    false_abstentions = sum(s["answer"].abstained for _, s in answerable)
    true_abstentions = sum(s["answer"].abstained for _, s in unanswerable)
    latencies = np.array([t for _, _, t in results]) * 1000
    m.update(
        {
            "hit@1": hit1 / n,
            "hit@1 without abstention": hit1_raw / n,
            "hit@3": hit3 / n,
            "MRR": rr / n,
            "false abstentions": false_abstentions,
            "unanswerable": len(unanswerable),
            "abstentions on unanswerable": true_abstentions,
            "answer-or-abstain accuracy": (len(answerable) - false_abstentions + true_abstentions)
            / max(len(results), 1),
            "p50 latency ms": float(np.percentile(latencies, 50)),
            "p95 latency ms": float(np.percentile(latencies, 95)),
            "baseline dense hit@1": dense / n,
            "baseline BM25 hit@1": lexical / n,
            "baseline fusion hit@1": fusion / n,
        }
    )
    if any(c.supports for c, _ in answerable):
        m["cited recall"] = recall / n
    return m


def report(name: str, m: dict[str, float], baselines: bool) -> str:
    """The metrics as aligned lines of text."""
    lines = [f"{name}: {m['questions']} questions ({m['answerable']} answerable)"]
    for key, value in m.items():
        if key in ("questions", "answerable") or (key.startswith("baseline") and not baselines):
            continue
        if isinstance(value, float) and not key.endswith("ms"):
            shown = f"{value:.3f}"
            if key.startswith(("hit", "baseline")):
                shown += f"  ({round(value * m['answerable'])}/{m['answerable']})"
        elif key.endswith("ms"):
            shown = f"{value:.1f}"
        else:
            shown = str(value)
        lines.append(f"  {key:<30} {shown}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m assistant.eval``."""
    parser = argparse.ArgumentParser(prog="python -m assistant.eval", description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="a JSONL question file or a SQuAD v1.1/v2.0 JSON file")
    parser.add_argument("--sample", type=int, help="ask only N questions, drawn at random")
    parser.add_argument("--seed", type=int, default=0, help="random seed for --sample (0)")
    parser.add_argument("--baselines", action="store_true", help="also print dense, BM25 and fusion top-1")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    args = parser.parse_args(argv)
    if not args.file.is_file():
        parser.error(f"no such file: {args.file}")
    try:
        dataset = load_dataset(args.file)
    except (ValueError, KeyError) as e:
        print(f"error: {args.file} is not a JSONL question file or a SQuAD file: {e}", file=sys.stderr)
        return 1
    if args.sample:
        cases = random.Random(args.seed).sample(dataset.cases, min(args.sample, len(dataset.cases)))
        dataset = Dataset(dataset.name, tuple(cases), dataset.articles, dataset.squad_version)
    with tempfile.TemporaryDirectory(prefix="assistant-eval-") as folder:
        settings = prepare_store(dataset, Path(folder), Settings())
        metrics = score(list(runs(dataset, settings)))
    print(json.dumps(metrics, indent=2) if args.json else report(dataset.name, metrics, args.baselines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
