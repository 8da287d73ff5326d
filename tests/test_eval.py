"""The evaluation command: metrics computed right on a hand-checkable case, and for real."""

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.answering.answerer import Trace
from assistant.answering.policy import Abstain, Cite
from assistant.core.records import Answer, Citation
from assistant.eval.command import Case, by_kind, load_dataset, score
from assistant.question.parse import Question
from assistant.search.features import FEATURES
from assistant.search.ranking import Ranking
from assistant.search.retrieval import Candidate, Evidence
from assistant.storage.store import StoredSentence
from tests.conftest import run_main

SQUAD = {
    "version": "v2.0",
    "data": [
        {
            "title": "Eastport_Harbour",
            "paragraphs": [
                {
                    "context": "The Eastport ferry left the harbour at noon on Tuesday. "
                    "It carried ninety cars to the island.",
                    "qas": [
                        {
                            "id": "q1",
                            "question": "How many cars did the Eastport ferry carry to the island?",
                            "answers": [{"text": "ninety cars", "answer_start": 65}],
                            "is_impossible": False,
                        }
                    ],
                },
                {
                    "context": "In 1987 the harbour board bought a second ferry named Gull. "
                    "Captain Mary Holt commanded the Gull for ten years.",
                    "qas": [
                        {
                            "id": "q2",
                            "question": "Who commanded the Gull for ten years?",
                            "answers": [{"text": "Captain Mary Holt", "answer_start": 61}],
                            "is_impossible": False,
                        },
                        {
                            "id": "q5",
                            "question": "What is the capital of France?",
                            "answers": [],
                            "plausible_answers": [{"text": "Gull", "answer_start": 54}],
                            "is_impossible": True,
                        },
                    ],
                },
            ],
        },
        {
            "title": "Mount_Kell",
            "paragraphs": [
                {
                    "context": "Mount Kell is the highest peak of the Norden range at 2,410 metres. "
                    "Its first recorded ascent was in 1851.",
                    "qas": [
                        {
                            "id": "q3",
                            "question": "How high is Mount Kell?",
                            "answers": [{"text": "2,410 metres", "answer_start": 54}],
                            "is_impossible": False,
                        }
                    ],
                },
                {
                    "context": "A cable car to the summit of Mount Kell opened in 1964. "
                    "It carries forty people per cabin.",
                    "qas": [
                        {
                            "id": "q4",
                            "question": "When did the cable car to the summit of Mount Kell open?",
                            "answers": [{"text": "1964", "answer_start": 50}],
                            "is_impossible": False,
                        }
                    ],
                },
            ],
        },
    ],
}


def _doc(article: str, paragraph: int, text: str, dense_rank: int = 0, bm25_rank: int = 0) -> Candidate:
    sentence = StoredSentence(f"{article}:{paragraph}:{text}", text, article, "T", 0, paragraph, 0, len(text))
    return Candidate(0, sentence, Evidence(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, dense_rank, bm25_rank))


def _state(docs: list[Candidate], abstained: bool, cited: int = 0) -> Trace:
    n = len(docs)
    question = Question.parse("q")
    features, scores, probabilities = np.zeros((n, len(FEATURES))), np.zeros(n), np.full(n, 1 / n)
    ranking = Ranking(None, question, tuple(docs), features, scores, probabilities)
    first = docs[cited].sentence
    citation = Citation(first.text, first.article_id, "T", 0, 0, 1, 0.5)
    if abstained:
        return Trace(question, ranking, Abstain("weak_evidence"), Answer("no", reason="weak_evidence"))
    return Trace(question, ranking, Cite((cited,)), Answer(f"{first.text} [1]", (citation,)))


def test_metrics_on_a_hand_checkable_case() -> None:
    gold = Case("q", (), True, article_id="a", paragraph=0, answers=("gold",))
    hit, miss, other = _doc("a", 0, "the gold text"), _doc("a", 1, "the gold text"), _doc("b", 0, "x")
    results = [
        # hit at rank 1; dense also ranks it first, BM25 ranks the other one first
        (
            gold,
            _state([_doc("a", 0, "the gold text", 0, 1), _doc("b", 0, "x", 1, 0)], abstained=False),
            0.010,
        ),
        # hit at rank 2 (MRR 1/2), none at rank 1
        (gold, _state([miss, hit, other], abstained=False), 0.020),
        # a hit at rank 1, but the answerer abstained: a false abstention, a miss for hit@1
        (gold, _state([hit, other], abstained=True), 0.030),
        # unanswerable and abstained on
        (Case("q", (), False), _state([other], abstained=True), 0.040),
    ]
    m = score(results)
    assert m["questions"] == 4 and m["answerable"] == 3 and m["unanswerable"] == 1
    assert m["hit@1"] == pytest.approx(1 / 3)
    assert m["hit@1 without abstention"] == pytest.approx(2 / 3)
    assert m["hit@3"] == pytest.approx(2 / 3)
    assert m["MRR"] == pytest.approx((1 + 0.5) / 3)
    assert m["false abstentions"] == 1
    assert m["abstentions on unanswerable"] == 1
    assert m["answer-or-abstain accuracy"] == pytest.approx((3 - 1 + 1) / 4)
    assert m["p50 latency ms"] == pytest.approx(25.0)
    assert m["baseline dense hit@1"] == pytest.approx(2 / 3)
    assert m["baseline BM25 hit@1"] == pytest.approx(1 / 3)


def test_hit_at_1_reads_the_first_citation_not_the_best_ranked_sentence() -> None:
    """The policy passes over a best-ranked sentence that trips a hard near-miss rule and cites
    the next one: hit@1 and the per-kind table judge what the user is shown."""
    gold = Case("q", (), True, article_id="a", paragraph=0, answers=("gold",), kind="answerable")
    hit, miss = _doc("a", 0, "the gold text"), _doc("a", 1, "the gold text")
    passed_over = (gold, _state([miss, hit], abstained=False, cited=1), 0.01)
    wrongly_passed_over = (gold, _state([hit, miss], abstained=False, cited=1), 0.01)
    m = score([passed_over, wrongly_passed_over])
    assert m["hit@1"] == pytest.approx(1 / 2) and m["hit@1 without abstention"] == pytest.approx(1 / 2)
    assert score([passed_over])["hit@1"] == 1.0 and score([wrongly_passed_over])["hit@1"] == 0.0
    [kind] = by_kind([passed_over, wrongly_passed_over])
    assert (kind.kind, kind.measure, kind.right) == ("answerable", "right first citation", 1)


def test_load_dataset_reads_squad_and_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(SQUAD))
    data = load_dataset(path)
    assert len(data.cases) == 5 and len(data.articles) == 2
    assert sum(not c.answerable for c in data.cases) == 1
    assert {c.paragraph for c in data.cases} == {0, 1}
    seed = load_dataset(Path(__file__).resolve().parents[2] / "shared" / "eval" / "seed_qa.jsonl")
    assert len(seed.cases) == 15 and seed.cases[11].history == ("Who is Khalil Haqqani?",)


def test_eval_command_on_a_small_squad_file(tmp_path: Path) -> None:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(SQUAD))
    done = run_main("assistant.eval", str(path), "--baselines", "--json")
    assert done.returncode == 0, done.stderr
    m = json.loads(done.stdout)
    assert m["questions"] == 5 and m["answerable"] == 4 and m["unanswerable"] == 1
    assert m["hit@1"] == 1.0 and m["MRR"] == 1.0 and m["hit@3"] == 1.0
    assert m["false abstentions"] == 0 and m["abstentions on unanswerable"] == 1
    assert m["answer-or-abstain accuracy"] == 1.0
    assert m["p95 latency ms"] >= m["p50 latency ms"] > 0
    printed = run_main("assistant.eval", str(path), "--baselines", "--sample", "3", "--seed", "1")
    assert printed.returncode == 0, printed.stderr
    assert "3 questions" in printed.stdout and "baseline BM25 hit@1" in printed.stdout


def test_eval_command_rejects_a_file_it_cannot_read(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "squad"}')
    done = run_main("assistant.eval", str(bad))
    assert done.returncode == 1 and "not a JSONL question file or a SQuAD file" in done.stderr
    assert run_main("assistant.eval", str(tmp_path / "missing.json")).returncode == 2
