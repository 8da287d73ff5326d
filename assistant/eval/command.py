"""``article-assistant eval FILE`` (also ``python -m assistant.eval``): how well the
answerer does on a question set.

FILE is either JSONL in the format of ``seed_qa.jsonl`` (questions about the sample
article, asked against a fresh store holding ``--articles``, by default the checkout's
``data/articles``) or a SQuAD v1.1/v2.0 JSON file (every article of the file ingested into
a fresh temporary store, title then paragraphs, and every question asked against the whole
store).

A question counts as a hit when the first citation contains one of its ``supports``
(JSONL) or is a sentence of the gold paragraph containing a gold answer text (SQuAD).
Printed: hit@1 (the first citation, abstentions count as misses), hit@1 without abstention
(the best-ranked sentence, whether cited or not), hit@3 and MRR over the ranked sentences,
cited recall (JSONL), false abstentions, abstentions on unanswerable questions,
answer-or-abstain accuracy (answerable questions answered, unanswerable ones abstained on),
p50/p95 warm latency, and with ``--baselines`` the top-1 hit rate of dense-only, BM25-only
and reciprocal-rank fusion from the same run.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from assistant.answering.answerer import ExtractiveAnswerer, Trace
from assistant.answering.policy import Cite
from assistant.app import Assistant
from assistant.core.errors import AssistantError
from assistant.core.records import RawArticle
from assistant.core.settings import Settings, checkout_root, configure_process
from assistant.search.retrieval import Candidate


def sample_articles() -> Path | None:
    """The sample article folder of the checkout, when running from one."""
    root = checkout_root()
    return root / "data" / "articles" if root else None


@dataclass(frozen=True, slots=True)
class Case:
    """One evaluation question and what a correct first citation looks like."""

    question: str
    history: tuple[str, ...]
    answerable: bool
    supports: tuple[str, ...] = ()  # JSONL: text a correct citation contains
    source: str = ""  # SQuAD: the gold paragraph's article (its source) ...
    paragraph: int = -1  # ... and its number among the article's paragraphs
    answers: tuple[str, ...] = ()  # SQuAD: gold answer texts
    article_id: str = ""  # the gold article's id, once ingested (SQuAD; JSONL that names its article)
    split: str = ""  # JSONL: the part of the file it belongs to ("train", "test"), when it says
    kind: str = ""  # JSONL: what the question tests ("answerable", "missing_attribute", ...), when it says
    article: str = ""  # JSONL: the file name of the article it is about, when it says

    def is_hit(self, candidate: Candidate) -> bool:
        """Whether a cited sentence answers this question."""
        s = candidate.sentence
        if self.supports:
            in_article = not self.article_id or s.article_id == self.article_id
            return in_article and any(support in s.text for support in self.supports)
        return (
            s.article_id == self.article_id
            and s.paragraph_index == self.paragraph
            and any(a in s.text for a in self.answers)
        )


@dataclass(frozen=True)
class Dataset:
    """Questions and the articles to ask them against."""

    name: str
    cases: tuple[Case, ...]
    articles: tuple[RawArticle, ...]  # one per SQuAD article; empty for JSONL
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
                        split=row.get("split", ""),
                        kind=row.get("kind", ""),
                        article=row.get("article", ""),
                    )
                )
        return Dataset(path.name, tuple(cases), ())
    return _squad(path.name, json.loads(text))


def _squad(name: str, data: dict) -> Dataset:
    articles, cases = [], []
    for item in data["data"]:
        source = f"squad:{item['title']}"
        paragraphs = item["paragraphs"]
        title = item["title"].replace("_", " ")
        articles.append(RawArticle(source, title, tuple(p["context"] for p in paragraphs)))
        for number, paragraph in enumerate(paragraphs):
            for qa in paragraph["qas"]:
                answers = tuple(a["text"] for a in qa.get("answers", ()))
                cases.append(
                    Case(
                        question=qa["question"],
                        history=(),
                        answerable=not qa.get("is_impossible", False) and bool(answers),
                        source=source,
                        paragraph=number,
                        answers=answers,
                    )
                )
    return Dataset(name, tuple(cases), tuple(articles), str(data.get("version", "")))


def prepare_store(
    dataset: Dataset, settings: Settings, articles: Path | None = None
) -> tuple[Assistant, Dataset]:
    """A root over the fresh store of ``settings`` holding the dataset's articles (for JSONL,
    the files under ``articles``), and the dataset with its gold articles' ids filled in."""
    root = Assistant.from_settings(settings)
    library = root.library
    if not dataset.articles:
        if articles is None:
            raise AssistantError("give the articles the questions are about with --articles PATH")
        report = library.add_sources([articles])
    else:
        report = library.add(dataset.articles)
    if report.failures:
        raise AssistantError(f"could not ingest the evaluation articles: {report.failures}")
    if not dataset.articles:
        dataset = _with_gold_ids(dataset, {o.source: o.article_id for o in report.outcomes})
        unknown = sorted({c.article for c in dataset.cases if c.article and not c.article_id})
        if unknown:
            raise AssistantError(
                f"{len(unknown)} articles the questions name are not under {articles}: {unknown[0]}"
            )
        return root, dataset
    ids = {o.source: o.article_id for o in report.outcomes}
    paragraphs = _paragraph_counts(root)
    for raw in dataset.articles:  # the gold paragraph numbers assume cleaning dropped none
        if paragraphs.get(ids[raw.source]) != len(raw.paragraphs):
            raise AssistantError(
                f"{raw.source}: cleaning dropped a paragraph, so the gold paragraphs would not align"
            )
    cases = tuple(replace(c, article_id=ids[c.source]) for c in dataset.cases)
    return root, replace(dataset, cases=cases)


def existing_store(dataset: Dataset, settings: Settings) -> tuple[Assistant, Dataset]:
    """A root over the store of ``settings`` as it is, and the dataset with its gold articles'
    ids found there by their sources (a SQuAD file's articles must have been ingested)."""
    root = Assistant.from_settings(settings)
    ids = {a.source: a.article_id for a in root.store.articles()}
    missing = sorted({c.source for c in dataset.cases if c.source and c.source not in ids})
    if missing:
        raise AssistantError(
            f"{settings.store_label} holds none of the articles of {len(missing)} sources, "
            f"such as {missing[0]}: evaluate without --store to ingest them into a fresh one"
        )
    return root, _with_gold_ids(dataset, ids)


def _with_gold_ids(dataset: Dataset, ids: dict[str, str]) -> Dataset:
    """The dataset with each case's gold article id, from ``ids`` (source -> id): a SQuAD case
    by its article's source, a JSONL case by the file name it names ("" when not found)."""
    named = {Path(source).name: article_id for source, article_id in ids.items()}

    def gold(c: Case) -> Case:
        if c.source:
            return replace(c, article_id=ids.get(c.source, ""))
        return replace(c, article_id=named.get(c.article, "")) if c.article else c

    return replace(dataset, cases=tuple(gold(c) for c in dataset.cases))


def _paragraph_counts(root: Assistant) -> dict[str, int]:
    """Article id -> how many paragraphs of it the store holds."""
    corpus = root.corpus_cache.get()
    counts: dict[str, set[int]] = {}
    for row in range(len(corpus)):
        s = corpus.sentences[row]
        counts.setdefault(s.article_id, set()).add(s.paragraph_index)
    return {article_id: len(found) for article_id, found in counts.items()}


def runs(cases: Sequence[Case], answerer: ExtractiveAnswerer) -> Iterator[tuple[Case, Trace, float]]:
    """Each case with what the answerer did and its latency in seconds (after a warm-up)."""
    answerer.answer(cases[0].question)  # warm-up: corpus built, models loaded
    answerer.tagger.entities([cases[0].question])  # the entity model too, whichever question needs it first
    for case in cases:
        started = time.perf_counter()
        trace = answerer.trace(case.question, case.history)
        yield case, trace, time.perf_counter() - started


def hits(case: Case, candidates: Sequence[Candidate]) -> list[bool]:
    """Whether each candidate answers the case."""
    return [case.is_hit(c) for c in candidates]


def first_cited_hit(case: Case, trace: Trace) -> bool:
    """Whether the answer's first citation answers the case: the candidate the decision cites
    first, which is not the best-ranked one when that one trips a hard near-miss rule."""
    decision = trace.decision
    return isinstance(decision, Cite) and case.is_hit(trace.ranking.candidates[decision.positions[0]])


def _baseline_tops(candidates: Sequence[Candidate]) -> dict[str, Candidate]:
    """The top candidate by dense rank, by BM25 rank and by their reciprocal-rank fusion; a tie
    goes to the first in retrieval order (dense, then BM25), never to the ranker's order."""
    candidates = sorted(candidates, key=lambda c: (c.evidence.dense_rank, c.evidence.bm25_rank))
    return {
        "dense": min(candidates, key=lambda c: c.evidence.dense_rank),
        "bm25": min(candidates, key=lambda c: c.evidence.bm25_rank),
        "fusion": max(
            candidates, key=lambda c: 1 / (60 + c.evidence.dense_rank) + 1 / (60 + c.evidence.bm25_rank)
        ),
    }


def score(results: list[tuple[Case, Trace, float]]) -> dict[str, float]:
    """The metrics of the module docstring from the collected runs."""
    answerable = [(c, t) for c, t, _ in results if c.answerable]
    unanswerable = [(c, t) for c, t, _ in results if not c.answerable]
    m: dict[str, float] = {"questions": len(results), "answerable": len(answerable)}
    hit1 = hit1_raw = hit3 = rr = recall = 0.0
    baseline = {"dense": 0.0, "bm25": 0.0, "fusion": 0.0}
    for case, trace in answerable:
        ranked = hits(case, trace.ranking.candidates)
        abstained = trace.answer.abstained
        hit1 += first_cited_hit(case, trace)
        hit1_raw += bool(ranked) and ranked[0]
        if not abstained:
            hit3 += any(ranked[:3])
            rr += next((1.0 / (i + 1) for i, h in enumerate(ranked) if h), 0.0)
        if case.supports:
            cited = " ".join(c.text for c in trace.answer.citations)
            recall += sum(s in cited for s in case.supports) / len(case.supports)
        if trace.ranking.candidates:
            for name, top in _baseline_tops(trace.ranking.candidates).items():
                baseline[name] += case.is_hit(top)
    n = max(len(answerable), 1)
    false_abstentions = sum(t.answer.abstained for _, t in answerable)
    true_abstentions = sum(t.answer.abstained for _, t in unanswerable)
    latencies = np.array([s for _, _, s in results]) * 1000
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
            "baseline dense hit@1": baseline["dense"] / n,
            "baseline BM25 hit@1": baseline["bm25"] / n,
            "baseline fusion hit@1": baseline["fusion"] / n,
        }
    )
    if any(c.supports for c, _ in answerable):
        m["cited recall"] = recall / n
    if any(c.answers for c, _ in answerable):
        m.update(short_answer_scores(answerable))
    return m


def _kind(case: Case) -> str:
    return case.kind or ("answerable" if case.answerable else "unanswerable")


@dataclass(frozen=True, slots=True)
class KindScore:
    """How one kind of question went: for answerable ones a right first citation (not
    declined), for the others a decline; the reasons given, and how many declined replies
    carry a short answer (never, by design)."""

    kind: str
    questions: int
    measure: str  # "right first citation" or "declined"
    right: int
    reasons: dict[str, int]
    short_in_declined: int

    @property
    def share(self) -> float:
        return self.right / self.questions


def by_kind(results: Sequence[tuple[Case, Trace, float]]) -> list[KindScore]:
    """A :class:`KindScore` per kind of question, in kind order."""
    scores = []
    for kind in sorted({_kind(c) for c, _, _ in results}):
        runs = [(c, t) for c, t, _ in results if _kind(c) == kind]
        answerable = runs[0][0].answerable
        right = sum(first_cited_hit(c, t) if answerable else t.answer.abstained for c, t in runs)
        scores.append(
            KindScore(
                kind=kind,
                questions=len(runs),
                measure="right first citation" if answerable else "declined",
                right=right,
                reasons=dict(Counter(t.answer.reason for _, t in runs if t.answer.reason).most_common()),
                short_in_declined=sum(bool(t.answer.short) and t.answer.abstained for _, t in runs),
            )
        )
    return scores


def kind_table(scores: Sequence[KindScore]) -> str:
    """The scores of :func:`by_kind` as a Markdown table."""
    lines = ["| kind | questions | measure | right | share | reasons |", "|---|---|---|---|---|---|"]
    for k in scores:
        reasons = ", ".join(f"{r} {n}" for r, n in k.reasons.items()) or "-"
        lines.append(f"| {k.kind} | {k.questions} | {k.measure} | {k.right} | {k.share:.1%} | {reasons} |")
    return "\n".join(lines)


def _normalise(text: str) -> str:
    """SQuAD's official answer normalisation: lower case, no punctuation, articles or extra spaces."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def answer_f1(prediction: str, gold: str) -> float:
    predicted, wanted = _normalise(prediction).split(), _normalise(gold).split()
    same = sum((Counter(predicted) & Counter(wanted)).values())
    if not same:
        return 0.0
    precision, recall = same / len(predicted), same / len(wanted)
    return 2 * precision * recall / (precision + recall)


def short_answer_scores(answerable: Sequence[tuple[Case, Trace]]) -> dict[str, float]:
    """How often a short answer is given, and its exact match and F1 against the gold answers
    (the best over them, SQuAD's way) where it is given."""
    given = [(c, t.answer.short.text) for c, t in answerable if t.answer.short]
    exact = sum(max(_normalise(s) == _normalise(a) for a in c.answers) for c, s in given)
    f1 = sum(max(answer_f1(s, a) for a in c.answers) for c, s in given)
    return {
        "short answer given": len(given) / max(len(answerable), 1),
        "short answer EM": exact / max(len(given), 1),
        "short answer F1": f1 / max(len(given), 1),
    }


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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The evaluation's command-line options."""
    parser.add_argument("file", type=Path, help="a JSONL question file or a SQuAD v1.1/v2.0 JSON file")
    parser.add_argument(
        "--articles", type=Path, default=sample_articles(),
        help="for a JSONL file: the articles its questions are about (default: data/articles)",
    )  # fmt: skip
    parser.add_argument(
        "--store", type=Path,
        help="ask against this existing store as it is (default: a fresh one holding the file's articles)",
    )  # fmt: skip
    parser.add_argument("--split", help="ask only the questions of this part of a JSONL file (train, test)")
    parser.add_argument("--sample", type=int, help="ask only N questions, drawn at random")
    parser.add_argument("--seed", type=int, default=0, help="random seed for --sample (0)")
    parser.add_argument("--baselines", action="store_true", help="also print dense, BM25 and fusion top-1")
    parser.add_argument("--by", choices=["kind"], help="also print a table per kind of question (JSONL)")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Evaluate as ``args`` say, in a fresh temporary store or ``--store``; print the metrics."""
    if not args.file.is_file():
        print(f"error: no such file: {args.file}", file=sys.stderr)
        return 2  # a usage error, as argparse's
    try:
        dataset = load_dataset(args.file)
    except (ValueError, KeyError) as e:
        print(f"error: {args.file} is not a JSONL question file or a SQuAD file: {e}", file=sys.stderr)
        return 1
    if args.split:
        dataset = replace(dataset, cases=tuple(c for c in dataset.cases if c.split == args.split))
    if not dataset.cases:
        print(
            f"error: {args.file} holds no questions{' in that split' if args.split else ''}", file=sys.stderr
        )
        return 1
    with tempfile.TemporaryDirectory(prefix="assistant-eval-") as folder:
        if args.store:
            root, dataset = existing_store(dataset, settings.with_overrides(store=args.store))
        else:
            fresh = settings.with_overrides(store=Path(folder), chroma_host="")
            root, dataset = prepare_store(dataset, fresh, args.articles)
        cases = dataset.cases
        if args.sample:
            cases = random.Random(args.seed).sample(cases, min(args.sample, len(cases)))
        results = list(runs(cases, root.extractive))
    metrics = score(results)
    kinds = by_kind(results) if args.by else None
    if args.json:
        listed = [{**asdict(k), "share": k.share} for k in kinds or ()]
        print(json.dumps({**metrics, "by kind": listed} if kinds else metrics, indent=2))
    else:
        print(report(dataset.name, metrics, args.baselines))
        if kinds:
            print(kind_table(kinds))
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m assistant.eval``: the same as ``article-assistant eval``."""
    parser = argparse.ArgumentParser(prog="python -m assistant.eval", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    configure_process()
    try:
        return run(args, Settings.from_env())
    except AssistantError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
