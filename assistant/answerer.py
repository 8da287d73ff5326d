"""Answering a question with the articles' own sentences, each cited.

    question + earlier user turns
      -> standalone question (follow-ups resolved from the history)
      -> candidates (Chroma + BM25, :mod:`assistant.retrieval`)
      -> ranking (features + learned model, :mod:`assistant.ranking`)
      -> abstain when the evidence is weak (:mod:`assistant.abstention`), else cite the best

Every answering strategy sits behind the :class:`Answerer` protocol, which the API, the CLI
and the chat take; :class:`ExtractiveAnswerer` is the default and needs nothing but the
local store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from assistant.abstention import Abstention
from assistant.corpus import Corpus, CorpusCache
from assistant.data import Answer, Citation
from assistant.embedder import Embedder
from assistant.errors import EmptyStoreError, InvalidQuestionError
from assistant.features import Question
from assistant.followup import resolve
from assistant.messages import Messages
from assistant.ranking import Ranker, Ranking
from assistant.retrieval import CANDIDATES, Candidate, retrieve
from assistant.store import Store

MAX_QUESTION_CHARS = 2000
MAX_CITATIONS = 3
# A further sentence is cited when p >= ratio * p(best). The ranker's softmax is peaked: the
# seed questions' second supports score 0.19 of the best, other runners-up below 0.02.
EXTRA_CITATION_RATIO = 0.15
NEAR_DUPLICATE = 0.9  # cosine between two sentences above which only the first is cited


class Answerer(Protocol):
    """Anything that answers a question about the stored articles."""

    def answer(
        self,
        question: str,
        history: Sequence[object] | None = None,
        article_ids: Sequence[str] | None = None,
    ) -> Answer:
        """Answer ``question`` given the earlier user turns, from the chosen articles (all when None).

        Raises :class:`InvalidQuestionError` for an unusable question and
        :class:`EmptyStoreError` when nothing is ingested.
        """
        ...


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
class Trace:
    """What one question went through: its standalone form, the candidates, their ranking
    and the answer. The evaluation and the training read it; users get only the answer."""

    query: str
    corpus: Corpus
    candidates: tuple[Candidate, ...]  # in retrieval order
    ranking: Ranking
    answer: Answer


def cite(corpus: Corpus, ranking: Ranking) -> tuple[Citation, ...]:
    """The best sentence, then up to two more strong ones that are not near-duplicates."""
    chosen: list[int] = []
    best = ranking.probabilities[0]
    for i, candidate in enumerate(ranking.candidates[: MAX_CITATIONS * 4]):
        if len(chosen) == MAX_CITATIONS or ranking.probabilities[i] < EXTRA_CITATION_RATIO * best:
            break
        vector = corpus.embeddings[candidate.row]
        if any(float(vector @ corpus.embeddings[ranking.candidates[c].row]) > NEAR_DUPLICATE for c in chosen):
            continue
        chosen.append(i)
    return tuple(citation(corpus, ranking.candidates[i].row, float(ranking.probabilities[i])) for i in chosen)


def citation(corpus: Corpus, row: int, score: float) -> Citation:
    """The citation of the sentence in ``row``, with its article's site, date and address."""
    s = corpus.sentences[row]
    meta = corpus.article_meta[corpus.article_of[row]]
    return Citation(
        text=s.text,
        article_id=s.article_id,
        title=s.title,
        sentence_index=s.sentence_index,
        start=s.start,
        end=s.end,
        score=round(score, 4),
        site=meta.site,
        published=meta.published,
        url=meta.url,
    )


def compose(citations: tuple[Citation, ...]) -> Answer:
    """The answer text: each cited sentence followed by its marker."""
    return Answer(text=" ".join(f"{c.text} [{n}]" for n, c in enumerate(citations, 1)), citations=citations)


class ExtractiveAnswerer:
    """Answers with the articles' own sentences, each cited; abstains on weak evidence."""

    def __init__(
        self,
        store: Store,
        corpus_cache: CorpusCache,
        embedder: Embedder,
        ranker: Ranker,
        abstention: Abstention,
        messages: Messages,
    ) -> None:
        self.store = store
        self.corpus_cache = corpus_cache
        self.embedder = embedder
        self.ranker = ranker
        self.abstention = abstention
        self.messages = messages

    def corpus(self) -> Corpus:
        """The in-memory corpus for the store as it is now; raises when it is empty."""
        corpus = self.corpus_cache.get()
        if not len(corpus):
            raise EmptyStoreError(self.store.label)
        return corpus

    @staticmethod
    def standalone(question: str, history: Sequence[object] | None = None) -> str:
        """The question cleaned and made to stand alone with the earlier user turns."""
        return resolve(clean_question(question), user_turns(history))

    def candidates(
        self, corpus: Corpus, query: str, article_ids: Sequence[str] | None = None, k: int = CANDIDATES
    ) -> tuple[Candidate, ...]:
        """The retrieved candidates for a standalone question, in retrieval order."""
        return retrieve(corpus, self.store, self.embedder, query, k, article_ids)

    def trace(
        self,
        question: str,
        history: Sequence[object] | None = None,
        article_ids: Sequence[str] | None = None,
    ) -> Trace:
        """Answer ``question`` and keep what it went through (see :class:`Trace`)."""
        query = self.standalone(question, history)
        corpus = self.corpus()
        candidates = self.candidates(corpus, query, tuple(article_ids) if article_ids else None)
        ranking = self.ranker.rank(corpus, Question.parse(query), candidates)
        reason = self.abstention.reason(corpus, ranking)
        if reason == "no_terms":
            reply = self.abstain(self.messages.no_terms)
        elif reason == "weak_evidence":
            reply = self.abstain(self.messages.abstain)
        else:
            reply = compose(cite(corpus, ranking))
        return Trace(query, corpus, candidates, ranking, reply)

    def answer(
        self,
        question: str,
        history: Sequence[object] | None = None,
        article_ids: Sequence[str] | None = None,
    ) -> Answer:
        """Answer ``question`` (see :meth:`Answerer.answer`)."""
        return self.trace(question, history, article_ids).answer

    @staticmethod
    def abstain(message: str) -> Answer:
        """An answer that says plainly the articles do not answer."""
        return Answer(text=message, citations=(), abstained=True)
