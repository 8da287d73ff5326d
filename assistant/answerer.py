"""Answering: a LangChain chain that turns a question into cited article sentences.

    {question, history, article_ids}
      -> standalone question (follow-ups resolved from the history)
      -> SentenceRetriever (Chroma + BM25 candidates)
      -> ranking (features + learned model)
      -> policy: abstain when the evidence is weak, else cite the best sentences

The extractive answerer is the default and needs nothing but the local store; another
answerer (an LLM one, say) would sit behind the same :class:`Answerer` protocol and share
the same abstention policy.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import numpy as np
import yaml
from langchain_core.documents import Document
from langchain_core.runnables import Runnable, RunnableLambda

from assistant.corpus import Corpus, CorpusCache
from assistant.data import Answer, Citation
from assistant.embedder import get_embedder
from assistant.errors import EmptyStoreError, InvalidQuestionError
from assistant.followup import resolve
from assistant.ranker import FEATURES, Question, ScoreModel, features, load_models, softmax
from assistant.retriever import SentenceRetriever
from assistant.settings import PROMPTS_DIR, Settings
from assistant.store import Store

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
MAX_CITATIONS = 3
# A further sentence is cited when p >= ratio * p(best). The ranker's softmax is peaked: the
# seed questions' second supports score 0.19 of the best, other runners-up below 0.02.
EXTRA_CITATION_RATIO = 0.15
NEAR_DUPLICATE = 0.9  # cosine between two sentences above which only the first is cited

ABSTAIN_FEATURES = (
    "top_score", "margin", "top_probability", "dense", "coverage", "coverage_window",
    "unknown_terms", "missing_terms", "negation_mismatch", "missing_names",
)  # fmt: skip
_NEGATION = re.compile(r"\b(?:not|no|never|none|nor|without|neither|cannot)\b|n['’]t\b", re.I)
_NAME_OR_NUMBER = re.compile(r"\b[A-Z][\w'’-]+|\b\d[\d,.]*\b")


@lru_cache(maxsize=1)
def messages() -> dict[str, Any]:
    """The fixed wording in ``prompts/extractive.yaml``."""
    return yaml.safe_load((PROMPTS_DIR / "extractive.yaml").read_text())


def clean_question(question: object) -> str:
    """The question stripped of control characters and outer space, or a clear error."""
    if not isinstance(question, str):
        raise InvalidQuestionError("the question must be text")
    text = "".join(ch if ch.isprintable() else " " for ch in question).strip()
    if not text:
        raise InvalidQuestionError("the question is empty: type a question about the articles")
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidQuestionError(
            f"the question is {len(text):,} characters long; ask it in at most {MAX_QUESTION_CHARS:,}"
        )
    return text


def user_turns(history: Sequence[object] | None) -> list[str]:
    """Earlier user turns as strings, oldest first, from strings or Gradio message dicts."""
    turns = []
    for item in history or ():
        if isinstance(item, dict):
            if item.get("role") != "user":
                continue
            item = item.get("content")
            if isinstance(item, list):  # Gradio 6 content parts
                item = " ".join(p.get("text", "") for p in item if isinstance(p, dict))
        if isinstance(item, str) and item.strip():
            turns.append(item.strip())
    return turns


@dataclass(frozen=True)
class Ranked:
    """Candidates in order of the ranker's score, best first."""

    question: Question
    documents: tuple[Document, ...]
    features: np.ndarray  # (candidates, len(FEATURES))
    scores: np.ndarray
    probabilities: np.ndarray


def rank(
    corpus: Corpus, question: Question, documents: list[Document], model: ScoreModel | None = None
) -> Ranked:
    """Score the candidates with ``model`` (the shipped ranker) and sort them, best first."""
    x = features(corpus, question, documents)
    model = model or load_models()["ranker"]
    scores = model.score(x) if len(documents) else np.zeros(0)
    order = np.argsort(-scores, kind="stable")
    return Ranked(
        question=question,
        documents=tuple(documents[i] for i in order),
        features=x[order],
        scores=scores[order],
        probabilities=softmax(scores[order]) if len(order) else scores,
    )


def abstain_features(corpus: Corpus, ranked: Ranked) -> np.ndarray:
    """The evidence for "the articles answer this": one row of :data:`ABSTAIN_FEATURES`.

    Besides how strong and how clear the best candidate is, it counts what the question
    asks about that the best sentence lacks: terms no article knows, terms missing from the
    sentence, names or numbers it does not mention, and a negation it does not share.
    """
    top = ranked.features[0]
    column = {name: i for i, name in enumerate(FEATURES)}
    question = ranked.question
    sentence = ranked.documents[0].page_content
    sentence_terms = corpus.term_sets[ranked.documents[0].metadata["row"]]
    terms = question.terms
    lowered = sentence.lower()
    return np.array(
        [
            ranked.scores[0],
            ranked.scores[0] - ranked.scores[1] if len(ranked.scores) > 1 else 10.0,
            ranked.probabilities[0],
            top[column["dense"]],
            top[column["coverage"]],
            top[column["coverage_window"]],
            sum(t not in corpus.idf for t in terms) / len(terms) if terms else 1.0,
            sum(t not in sentence_terms for t in terms),
            float(bool(_NEGATION.search(question.text)) and not _NEGATION.search(sentence)),
            sum(
                m.start() > 0 and m.group(0).lower() not in lowered
                for m in _NAME_OR_NUMBER.finditer(question.text)
            ),
        ],
        dtype=np.float32,
    )


def answerable(corpus: Corpus, ranked: Ranked) -> float:
    """The calibrated probability that the top candidate answers the question."""
    if not ranked.documents or not ranked.question.terms:
        return 0.0
    models = load_models()
    logit = float(models["abstain"].score(abstain_features(corpus, ranked)[None, :])[0])
    return 1.0 / (1.0 + np.exp(-logit))


def should_abstain(corpus: Corpus, ranked: Ranked) -> bool:
    """The one abstention policy: abstain below the threshold chosen on the evaluation data."""
    return answerable(corpus, ranked) < load_models()["threshold"]


def cite(corpus: Corpus, ranked: Ranked) -> tuple[Citation, ...]:
    """The best sentence, then up to two more strong ones that are not near-duplicates."""
    chosen: list[int] = []
    best = ranked.probabilities[0]
    for i, doc in enumerate(ranked.documents[: MAX_CITATIONS * 4]):
        if len(chosen) == MAX_CITATIONS or ranked.probabilities[i] < EXTRA_CITATION_RATIO * best:
            break
        vector = corpus.embeddings[doc.metadata["row"]]
        if any(
            float(vector @ corpus.embeddings[ranked.documents[c].metadata["row"]]) > NEAR_DUPLICATE
            for c in chosen
        ):
            continue
        chosen.append(i)
    return tuple(
        Citation(
            text=ranked.documents[i].page_content,
            article_id=ranked.documents[i].metadata["article_id"],
            title=ranked.documents[i].metadata["title"],
            sentence_index=ranked.documents[i].metadata["sentence_index"],
            start=ranked.documents[i].metadata["start"],
            end=ranked.documents[i].metadata["end"],
            score=round(float(ranked.probabilities[i]), 4),
        )
        for i in chosen
    )


def compose(citations: tuple[Citation, ...]) -> Answer:
    """The answer text: each cited sentence followed by its marker."""
    return Answer(text=" ".join(f"{c.text} [{n}]" for n, c in enumerate(citations, 1)), citations=citations)


def abstention(reason: str = "abstain") -> Answer:
    """An answer that says plainly the articles do not answer."""
    return Answer(text=messages()[reason], citations=(), abstained=True)


class Answerer(Protocol):
    """Anything that answers a question about the stored articles."""

    def answer(
        self,
        question: str,
        history: Sequence[object] | None = None,
        article_ids: Sequence[str] | None = None,
    ) -> Answer:
        """Answer ``question`` given the earlier user turns, from the chosen articles (all)."""
        ...


class ExtractiveAnswerer:
    """Answers with the articles' own sentences, each cited; abstains on weak evidence."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings)
        self.corpus_cache = CorpusCache(self.store)
        self.embedder = get_embedder(settings.embedding_backend, settings.model_cache)
        self.retrieval_chain, self.chain = self._build_chains()

    def _build_chains(self) -> tuple[Runnable, Runnable]:
        """The retrieval part (question -> candidates) and the whole chain (-> answer)."""

        def standalone(x: dict) -> dict:
            return {**x, "query": resolve(x["question"], x["history"])}

        def retrieve(x: dict) -> dict:
            retriever = SentenceRetriever(
                corpus=x["corpus"], store=self.store, embedder=self.embedder,
                article_ids=x["article_ids"],
            )  # fmt: skip
            return {**x, "documents": retriever.invoke(x["query"])}

        def ranked(x: dict) -> dict:
            return {**x, "ranked": rank(x["corpus"], Question.parse(x["query"]), x["documents"])}

        def decide(x: dict) -> dict:
            corpus, result = x["corpus"], x["ranked"]
            if not result.question.terms:
                reply = abstention("no_terms")
            elif not result.documents or should_abstain(corpus, result):
                reply = abstention()
            else:
                reply = compose(cite(corpus, result))
            return {**x, "answer": reply}

        retrieval = RunnableLambda(standalone, name="standalone_question") | RunnableLambda(
            retrieve, name="retrieve"
        )
        return retrieval, retrieval | RunnableLambda(ranked, name="rank") | RunnableLambda(
            decide, name="cite_or_abstain"
        )

    def corpus(self) -> Corpus:
        """The in-memory corpus for the store as it is now; raises when it is empty."""
        corpus = self.corpus_cache.get()
        if not len(corpus):
            raise EmptyStoreError(self.store.label)
        return corpus

    def run(
        self,
        question: str,
        history: Sequence[object] | None = None,
        article_ids: Sequence[str] | None = None,
        retrieval_only: bool = False,
    ) -> dict:
        """The chain's state: ``query``, ``documents``, then ``ranked`` and ``answer``."""
        chain = self.retrieval_chain if retrieval_only else self.chain
        return chain.invoke(
            {
                "question": clean_question(question),
                "history": user_turns(history),
                "article_ids": tuple(article_ids) if article_ids else None,
                "corpus": self.corpus(),
            }
        )

    def answer(
        self,
        question: str,
        history: Sequence[object] | None = None,
        article_ids: Sequence[str] | None = None,
    ) -> Answer:
        """Answer ``question`` (see :func:`assistant.answer`)."""
        return self.run(question, history, article_ids)["answer"]


_answerers: dict[Settings, ExtractiveAnswerer] = {}
_answerers_lock = threading.Lock()


def get_answerer(settings: Settings) -> ExtractiveAnswerer:
    """The shared answerer for these settings, built on first use."""
    with _answerers_lock:
        if settings not in _answerers:
            _answerers[settings] = ExtractiveAnswerer(settings)
        return _answerers[settings]


def answer(
    question: str,
    history: Sequence[object] | None = None,
    *,
    article_ids: Sequence[str] | None = None,
    settings: Settings | None = None,
) -> Answer:
    """Answer ``question`` from the ingested articles with cited sentences.

    ``history`` is the earlier user turns, oldest first, as strings (Gradio message dicts
    are accepted too). ``article_ids`` limits the search to some articles. Raises
    :class:`~assistant.errors.InvalidQuestionError` (a ``ValueError``) for an empty
    question and :class:`~assistant.errors.EmptyStoreError` when nothing is ingested.
    """
    return get_answerer(settings or Settings()).answer(question, history, article_ids)
