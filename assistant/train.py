"""``python -m assistant.train``: fit the models shipped in ``assistant/ranker.json``.

- Ranker: a score over :data:`~assistant.features.FEATURES` (a linear part plus a few tanh
  units), fitted with a listwise softmax loss (the probability the model gives to the
  gold sentences among each question's candidates) on the questions of
  ``squad-v1.1-dev-a.json``.
- Abstention: logistic regression over :data:`~assistant.abstention.ABSTAIN_FEATURES`
  (answerable or not) on ``squad-v2.0-dev-a.json``, the seed questions, and questions
  the store cannot answer because their article is not in it (v1.1 questions about
  articles missing from the v2 file, asked against the v2 store). Its threshold
  is the one with the best answer-or-abstain accuracy on the v2 file among those that cost
  the answerable questions of both SQuAD files at most ``--max-hit-loss`` of hit@1 and
  answer every seed question right (answered when answerable, abstained on otherwise).

Everything runs through the product's own ingest and retrieval, so the features seen in
training are the features seen when answering.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from assistant.abstention import ABSTAIN_FEATURE_NAMES, abstain_features
from assistant.corpus import Corpus
from assistant.eval import Case, Dataset, hits, load_dataset, prepare_store, sample_articles
from assistant.features import FEATURE_NAMES, Question, feature_matrix
from assistant.library import LibraryFactory
from assistant.model import MODEL_FILE, ScoreModel
from assistant.ranking import Ranker
from assistant.retrieval import Candidate
from assistant.settings import Settings, checkout_root, stay_offline


@dataclass
class Example:
    """One question's candidates: their features, which are gold, and what ranking needs."""

    x: np.ndarray
    gold: np.ndarray
    answerable: bool
    corpus: Corpus
    question: Question
    candidates: tuple[Candidate, ...]


def collect(
    dataset: Dataset, settings: Settings, make_library: LibraryFactory, extra: tuple[Case, ...] = ()
) -> list[Example]:
    """Ingest the dataset into the fresh store of ``settings`` and gather each question's
    candidates. ``extra`` cases are asked against the same store after the dataset's own."""
    root, dataset = prepare_store(dataset, settings, make_library, sample_articles())
    answerer = root.extractive
    corpus = answerer.corpus()
    examples = []
    for case in (*dataset.cases, *extra):
        query = answerer.standalone(case.question, case.history)
        question = Question.parse(query)
        candidates = answerer.candidates(corpus, query)
        examples.append(
            Example(
                x=feature_matrix(corpus, question, candidates),
                gold=np.array(hits(case, candidates), dtype=bool),
                answerable=case.answerable,
                corpus=corpus,
                question=question,
                candidates=candidates,
            )
        )
    return examples


def _standardise(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return rows.mean(axis=0), rows.std(axis=0) + 1e-6


def fit_ranker(examples: list[Example], hidden: int = 4, l2: float = 1e-3, seed: int = 0) -> ScoreModel:
    """Weights maximising the softmax probability of each question's gold candidates.

    The score is linear plus ``hidden`` tanh units; all questions' candidates are stacked
    in one matrix and the softmax is taken per question (segment by segment).
    """
    usable = [e for e in examples if e.gold.any()]
    stacked = np.concatenate([e.x for e in usable])
    mean, scale = _standardise(stacked)
    z = (stacked - mean) / scale
    gold = np.concatenate([e.gold for e in usable])
    starts = np.cumsum([0] + [len(e.x) for e in usable])[:-1]
    segment = np.repeat(np.arange(len(usable)), [len(e.x) for e in usable])
    d = z.shape[1]
    cuts = np.cumsum([d, d * hidden, hidden, hidden])

    def unpack(w: np.ndarray) -> tuple[np.ndarray, ...]:
        linear, w1, b1, w2 = np.split(w, cuts[:-1])
        return linear, w1.reshape(d, hidden), b1, w2

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        linear, w1, b1, w2 = unpack(w)
        units = np.tanh(z @ w1 + b1)
        s = z @ linear + units @ w2
        e = np.exp(s - np.maximum.reduceat(s, starts)[segment])
        p = e / np.add.reduceat(e, starts)[segment]
        p_gold = np.add.reduceat(p * gold, starts)
        target = np.where(gold, p / p_gold[segment], 0.0)
        ds = (p - target) / len(usable)
        d_units = np.outer(ds, w2) * (1 - units**2)
        grad = np.concatenate([z.T @ ds, (z.T @ d_units).ravel(), d_units.sum(0), units.T @ ds])
        return -np.log(p_gold + 1e-12).mean() + l2 * w @ w, grad + 2 * l2 * w

    start = np.random.default_rng(seed).normal(0, 0.1, cuts[-1])
    w = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 1000}).x
    linear, w1, b1, w2 = (a.astype(np.float32) for a in unpack(w))
    f32 = np.float32
    return ScoreModel(mean.astype(f32), scale.astype(f32), linear, 0.0, w1, b1, w2)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> ScoreModel:
    """Logistic regression (log-odds of ``y == 1``) fitted by L-BFGS."""
    mean, scale = _standardise(x)
    z = np.c_[(x - mean) / scale, np.ones(len(x))]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        p = 1 / (1 + np.exp(-(z @ w)))
        eps = 1e-12
        value = -np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))
        return value + l2 * w[:-1] @ w[:-1], z.T @ (p - y) / len(y) + 2 * l2 * np.r_[w[:-1], 0]

    w = minimize(loss, np.zeros(z.shape[1]), jac=True, method="L-BFGS-B").x
    return ScoreModel(
        mean.astype(np.float32), scale.astype(np.float32), w[:-1].astype(np.float32), float(w[-1])
    )


def _abstain_rows(examples: list[Example], ranker: ScoreModel) -> tuple[np.ndarray, np.ndarray]:
    """Abstention features and whether the top candidate is a hit, per example."""
    rows, top_hits = [], []
    for e in examples:
        ranking = Ranker(ranker).rank(e.corpus, e.question, e.candidates)
        rows.append(abstain_features(e.corpus, ranking))
        order = np.argsort(-ranker.score(e.x), kind="stable")
        top_hits.append(bool(e.gold[order[0]]) if len(order) else False)
    return np.array(rows), np.array(top_hits)


def choose_threshold(
    p_v2: np.ndarray,
    y_v2: np.ndarray,
    hits_v2: np.ndarray,
    p_v1: np.ndarray,
    hits_v1: np.ndarray,
    p_seed: np.ndarray,
    y_seed: np.ndarray,
    max_hit_loss: float,
) -> tuple[float, dict]:
    """The threshold with the best v2 answer-or-abstain accuracy among those that get every
    seed question right and lose at most ``max_hit_loss`` of hit@1 on the answerable
    questions of both SQuAD files; failing that, the seed-right one losing least."""
    answerable = y_v2 == 1
    base_v2, base_v1 = float(hits_v2[answerable].mean()), float(hits_v1.mean())
    options = []
    for t in np.unique(np.r_[0.0, p_v2, p_seed]):
        if not np.all((p_seed >= t) == (y_seed == 1)):
            continue
        answered = p_v2 >= t
        hit_v2 = float((hits_v2 & answered)[answerable].mean())
        hit_v1 = float((hits_v1 & (p_v1 >= t)).mean())
        options.append(
            {
                "threshold": float(t),
                "v2 answer-or-abstain accuracy": float(np.mean(answered == answerable)),
                "v2 hit@1": hit_v2,
                "v2 hit@1 without abstention": base_v2,
                "v1.1 hit@1": hit_v1,
                "v1.1 hit@1 without abstention": base_v1,
                "loss": max(base_v2 - hit_v2, base_v1 - hit_v1),
            }
        )
    if not options:
        raise SystemExit("no threshold answers every seed question right: the features cannot separate them")
    within = [o for o in options if o["loss"] <= max_hit_loss]
    best = (
        max(within, key=lambda o: o["v2 answer-or-abstain accuracy"])
        if within
        else min(options, key=lambda o: o["loss"])
    )
    best.pop("loss")
    return best.pop("threshold"), best


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m assistant.train``."""
    from assistant.cli import open_library

    shared = (checkout_root() or Path.cwd()).parent / "shared" / "eval"
    parser = argparse.ArgumentParser(prog="python -m assistant.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--squad", type=Path, default=shared / "squad-v1.1-dev-a.json")
    parser.add_argument("--squad-v2", type=Path, default=shared / "squad-v2.0-dev-a.json")
    parser.add_argument("--seed-questions", type=Path, default=shared / "seed_qa.jsonl")
    parser.add_argument(
        "--max-hit-loss", type=float, default=0.02, help="hit@1 that abstaining may cost (0.02)"
    )
    parser.add_argument("--out-of-scope", type=int, default=600, help="unrelated questions to add")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name(MODEL_FILE))
    args = parser.parse_args(argv)
    stay_offline()
    settings = Settings.from_env(chroma_host="")
    with tempfile.TemporaryDirectory(prefix="assistant-train-") as folder:

        def store(name: str) -> Settings:
            return settings.with_overrides(store=Path(folder) / name)

        v1_data = load_dataset(args.squad)
        ranking = collect(v1_data, store("v1"), open_library)
        ranker = fit_ranker(ranking)
        hit = np.mean([e.gold[np.argmax(ranker.score(e.x))] for e in ranking if len(e.x)])
        print(f"ranker: hit@1 {hit:.3f} on {args.squad.name} (in sample)")
        v2_data = load_dataset(args.squad_v2)
        v2_articles = {c.article_id for c in v2_data.cases}
        elsewhere = [c for c in v1_data.cases if c.article_id not in v2_articles]
        rng = np.random.default_rng(0)
        picked = rng.choice(len(elsewhere), size=min(args.out_of_scope, len(elsewhere)), replace=False)
        out_of_scope = tuple(replace(elsewhere[i], answerable=False) for i in sorted(picked))
        both = collect(v2_data, store("v2"), open_library, out_of_scope)
        v2, unrelated = both[: len(v2_data.cases)], both[len(v2_data.cases) :]
        seed = collect(load_dataset(args.seed_questions), store("seed"), open_library)
    x_v1, hits_v1 = _abstain_rows(ranking, ranker)
    x_v2, hits_v2 = _abstain_rows(v2, ranker)
    x_seed, _ = _abstain_rows(seed, ranker)
    x_unrelated, _ = _abstain_rows(unrelated, ranker)
    y_v2 = np.array([e.answerable for e in v2], dtype=float)
    y_seed = np.array([e.answerable for e in seed], dtype=float)
    abstain = fit_logistic(np.r_[x_v2, x_seed, x_unrelated], np.r_[y_v2, y_seed, np.zeros(len(x_unrelated))])

    def probability(x: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-abstain.score(x)))

    threshold, stats = choose_threshold(
        probability(x_v2),
        y_v2,
        hits_v2,
        probability(x_v1),
        hits_v1,
        probability(x_seed),
        y_seed,
        args.max_hit_loss,
    )
    print(f"abstention: threshold {threshold:.3f} -> {stats}")
    model = {
        "features": list(FEATURE_NAMES),
        "abstain_features": list(ABSTAIN_FEATURE_NAMES),
        "ranker": ranker.to_json(),
        "abstain": {**abstain.to_json(), "threshold": round(threshold, 6), "chosen_on": stats},
    }
    args.out.write_text(json.dumps(model, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
