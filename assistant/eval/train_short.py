"""``python -m assistant.eval.train_short``: fit the short-answer reader shipped in
``assistant/answering/short.json``.

Every question of ``squad-v1.1-dev-a.json`` is asked through the product (ingest, search, the
answering policy); for each one it answers, every candidate phrase of the first cited sentence
(:func:`~assistant.answering.short.candidates`) is scored against the gold answers (SQuAD's
F1), and the phrases with an F1 of 0.5 or more are the gold ones. The reader is a linear
score over :data:`~assistant.answering.short.SHORT_FEATURE_NAMES` fitted with the ranker's
listwise softmax loss, one list per sentence.

Its threshold is chosen on articles the model did not see: the file's articles are split in
two halves, the model fitted on each half scores the other's questions, and the threshold is
the least confidence at which the short answers so given keep an F1 of ``--target``. The
coverage and F1 printed are those out-of-fold figures, and the same with each half's threshold
chosen on the other half alone. The shipped model is then fitted on all
the articles, with that threshold.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.answering import short as reader_module
from assistant.answering.policy import Cite
from assistant.answering.short import (
    SHORT_FEATURE_NAMES,
    ShortReader,
    likeliest,
    phrase_features,
    read,
)
from assistant.core.settings import Settings, checkout_root, configure_process
from assistant.eval.command import answer_f1, existing_store, load_dataset, prepare_store
from assistant.eval.train import fit_listwise
from assistant.search.model import ScoreModel

GOLD_F1 = 0.5  # a phrase this close to a gold answer is a right one
# Gives no short answer: the reader of the answerer that gathers the training sentences.
_SILENT = ShortReader(ScoreModel(np.zeros(1), np.ones(1), np.zeros(1)), math.inf)


@dataclass(frozen=True)
class Sentence:
    """One answered question's first cited sentence: its phrases' features and F1 against the
    gold answers, its probability of answering, and the question's article."""

    x: np.ndarray  # a row per phrase, then the row of no phrase
    f1: np.ndarray  # per phrase
    probability: float
    article: str


def gather(squad: Path, settings: Settings, store: Path | None) -> tuple[list[Sentence], int]:
    """The first cited sentence of each answered question of ``squad`` (into a fresh store, or
    the already ingested ``store``), and how many questions the file has."""
    dataset = load_dataset(squad)
    if store is not None:
        root, dataset = existing_store(dataset, settings.with_overrides(store=store))
    else:
        root, dataset = prepare_store(dataset, settings, None)
    answerer = root.extractive_with(_SILENT)
    sentences = []
    for case in dataset.cases:
        trace = answerer.trace(case.question, case.history)
        if not isinstance(trace.decision, Cite) or not case.answers:
            continue
        first = trace.decision.positions[0]
        reading = read(root.tagger, trace.question.text, trace.answer.citations[0].text)
        if not reading.spans:
            continue
        f1 = np.array([max(answer_f1(s.text, a) for a in case.answers) for s in reading.spans])
        x = phrase_features(trace.question, reading)
        sentences.append(Sentence(x, f1, float(trace.ranking.probabilities[first]), case.source))
    return sentences, len(dataset.cases)


def fit(sentences: list[Sentence]) -> ScoreModel:
    """The reader's scorer, fitted on ``sentences``: the gold phrases, or no phrase when none is."""
    lists = [(s.x, np.r_[s.f1 >= GOLD_F1, not (s.f1 >= GOLD_F1).any()]) for s in sentences]
    return fit_listwise(lists, hidden=0, l2=1e-3)


def picks(model: ScoreModel, sentences: list[Sentence]) -> tuple[np.ndarray, np.ndarray]:
    """(confidence, F1) of the phrase ``model`` picks in each sentence."""
    confidence, f1 = np.zeros(len(sentences)), np.zeros(len(sentences))
    for n, s in enumerate(sentences):
        i, share = likeliest(model, s.x)
        confidence[n], f1[n] = share * s.probability, s.f1[i]
    return confidence, f1


def choose_threshold(confidence: np.ndarray, f1: np.ndarray, target: float) -> float:
    """The least confidence at which the phrases at or above it have a mean F1 of ``target``."""
    order = np.argsort(-confidence)
    mean = np.cumsum(f1[order]) / np.arange(1, len(order) + 1)
    reaching = np.flatnonzero(mean >= target)
    if not len(reaching):
        raise SystemExit(f"no confidence keeps the short answers at an F1 of {target}")
    return float(confidence[order][reaching[-1]])


def out_of_fold(sentences: list[Sentence]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(confidence, F1, half) of each sentence's pick by the model fitted on the other half of
    the articles (articles alternate between the halves in name order)."""
    articles = sorted({s.article for s in sentences})
    half = {a: i % 2 for i, a in enumerate(articles)}
    halves = np.array([half[s.article] for s in sentences])
    confidence, f1 = np.zeros(len(sentences)), np.zeros(len(sentences))
    for k in (0, 1):
        model = fit([s for s in sentences if half[s.article] != k])
        confidence[halves == k], f1[halves == k] = picks(
            model, [s for s in sentences if half[s.article] == k]
        )
    return confidence, f1, halves


def given_by_the_other_half(
    confidence: np.ndarray, f1: np.ndarray, halves: np.ndarray, target: float
) -> np.ndarray:
    """Which picks are given when each half's threshold is chosen on the other half alone: the
    threshold, too, chosen on articles it is not applied to."""
    given = np.zeros(len(confidence), dtype=bool)
    for k in (0, 1):
        other = halves != k
        given[halves == k] = confidence[halves == k] >= choose_threshold(confidence[other], f1[other], target)
    return given


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m assistant.eval.train_short``."""
    shared = (checkout_root() or Path.cwd()).parent / "shared" / "eval"
    parser = argparse.ArgumentParser(
        prog="python -m assistant.eval.train_short", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--squad", type=Path, default=shared / "squad-v1.1-dev-a.json")
    parser.add_argument("--store", type=Path, help="a store that already holds the file's articles")
    parser.add_argument("--target", type=float, default=0.61, help="the F1 the short answers keep (0.61)")
    parser.add_argument("--out", type=Path, default=Path(reader_module.__file__).with_name("short.json"))
    args = parser.parse_args(argv)
    configure_process()
    settings = Settings.from_env(chroma_host="")
    with tempfile.TemporaryDirectory(prefix="assistant-train-short-") as folder:
        fresh = settings.with_overrides(store=Path(folder) / "store")
        sentences, questions = gather(args.squad, fresh, args.store)
    confidence, f1, halves = out_of_fold(sentences)
    threshold = choose_threshold(confidence, f1, args.target)
    given = confidence >= threshold
    apart = given_by_the_other_half(confidence, f1, halves, args.target)
    stats = {
        "questions": questions,
        "short answer given (out of fold)": round(float(given.sum() / questions), 4),
        "short answer F1 (out of fold)": round(float(f1[given].mean()), 4),
        "short answer given (threshold from the other half)": round(float(apart.sum() / questions), 4),
        "short answer F1 (threshold from the other half)": round(float(f1[apart].mean()), 4),
    }
    print(f"short answers: threshold {threshold:.4f} -> {stats}")
    model = {
        "features": list(SHORT_FEATURE_NAMES),
        "model": fit(sentences).to_json(),
        "threshold": round(threshold, 6),
        "chosen_on": stats,
    }
    args.out.write_text(json.dumps(model, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
