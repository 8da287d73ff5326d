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

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

from assistant import about
from assistant.abstention import Abstention
from assistant.citing import cite, compose
from assistant.corpus import Corpus, CorpusCache
from assistant.data import Answer, Citation, Short
from assistant.embedder import Embedder
from assistant.entities import EntityTagger
from assistant.errors import AssistantError, EmptyStoreError, InvalidQuestionError
from assistant.features import Question
from assistant.followup import resolve
from assistant.intent import Intent, intent_of
from assistant.messages import Messages
from assistant.nearmiss import Misses, Surroundings, misses, role_asked
from assistant.ranking import Ranker, Ranking
from assistant.retrieval import CANDIDATES, Candidate, retrieve
from assistant.short import asked_for, pick
from assistant.store import Store

SHORT_CONFIDENCE = 0.3  # the least probability of the cited sentence for a short answer

MAX_QUESTION_CHARS = 2000


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


@runtime_checkable
class Streaming(Protocol):
    """An answerer that can hand out its answer as it is written (a language model's)."""

    def stream(
        self,
        question: str,
        history: Sequence[object] | None = None,
        article_ids: Sequence[str] | None = None,
    ) -> Iterator[str | Answer]:
        """Pieces of text as they are written, then the final :class:`Answer`."""
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


class ExtractiveAnswerer:
    """Answers with the articles' own sentences, each cited; abstains on weak evidence.

    A question about a whole article (a summary, "tell me more", when it was published) is
    answered about the article it names, else the one the conversation is about, else the
    only one chosen (:meth:`focus`). Any other question is searched for: its best sentences
    are cited unless the evidence is weak or the best one answers another question (a near
    miss), with the short answer first when the question asks for a name, date or number.
    """

    def __init__(
        self,
        store: Store,
        corpus_cache: CorpusCache,
        embedder: Embedder,
        ranker: Ranker | None,
        abstention: Abstention | None,
        messages: Messages,
        tagger: EntityTagger,
    ) -> None:
        """The parts it answers with; without a ranker and an abstention model it can only
        retrieve and judge near misses (as ``python -m assistant.train`` does to fit them)."""
        self.store = store
        self.corpus_cache = corpus_cache
        self.embedder = embedder
        self.ranker = ranker
        self.abstention = abstention
        self.messages = messages
        self.tagger = tagger

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
        text, turns = clean_question(question), user_turns(history)
        chosen = tuple(article_ids) if article_ids else None
        corpus = self.corpus()
        intent = intent_of(text)
        if intent.kind != "question":
            reply = self._about(intent, turns, corpus, chosen)
            return Trace(text, corpus, (), Ranking.empty(Question.parse(text)), reply)
        query = resolve(text, turns)
        candidates = self.candidates(corpus, query, chosen)
        ranking = self.ranker.rank(corpus, Question.parse(query), candidates)
        return Trace(query, corpus, candidates, ranking, self._cited(corpus, ranking))

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

    # -- a question searched for ----------------------------------------------------------

    def _cited(self, corpus: Corpus, ranking: Ranking) -> Answer:
        """The cited answer to a searched question, or why there is none."""
        if not ranking.question.terms:
            return self.abstain(self.messages.no_terms)
        if not len(ranking):
            return self.abstain(self.messages.abstain)
        misses_of = self.near_misses(corpus, ranking)
        if self.abstention.reason(corpus, ranking, misses_of(0)):
            near = misses_of(0).decline()  # say why, when the best sentence is about something else
            return self.abstain(
                self.messages.near_miss.format(reason=near) if near else self.messages.abstain
            )
        cited: list[int] = []

        def on_target(i: int) -> bool:
            """Not a near miss, and, in place of a near-missing best, strong enough on its own."""
            if misses_of(i).decline() or (
                i > 0 and self.abstention.reason(corpus, ranking.promoted(i), misses_of(i))
            ):
                return False
            cited.append(i)
            return True

        citations = cite(corpus, ranking, on_target)
        if not citations:
            return self.abstain(self.messages.near_miss.format(reason=misses_of(0).decline()))
        reply = compose(citations)
        if ranking.probabilities[cited[0]] < SHORT_CONFIDENCE:
            return reply
        return replace(reply, short=self._short(ranking.question.text, citations))

    def near_misses(self, corpus: Corpus, ranking: Ranking) -> Callable[[int], Misses]:
        """The near-miss rules each candidate of ``ranking`` trips, worked out when first asked."""
        question = ranking.question.text
        asked = self.tagger.entities([question])[0]

        @functools.cache
        def of(i: int) -> Misses:
            return misses(question, asked, self._surroundings(corpus, ranking.candidates[i].row, question))

        return of

    def _surroundings(self, corpus: Corpus, row: int, question: str) -> Surroundings:
        """The sentence in ``row`` with its neighbours and paragraph, for the near-miss rules."""
        paragraph = corpus.paragraph_of[row]
        window_rows = [r for r in (int(corpus.previous[row]), row, int(corpus.following[row]))]
        window = " ".join(
            corpus.sentences[r].text
            for r in dict.fromkeys(window_rows)
            if corpus.paragraph_of[r] == paragraph
        )
        sentence = corpus.sentences[row]
        texts = [corpus.sentences[int(r)].text for r in corpus.rows_of_paragraph(paragraph)]
        people = ()
        if role_asked(question):  # only a "who holds this role" question needs the window's people
            people = tuple(e.text for e in self.tagger.entities([window])[0] if e.label == "PERSON")
        return Surroundings(sentence.text, window, " ".join([*texts, sentence.title]), people)

    def _short(self, question: str, citations: Sequence[Citation]) -> Short | None:
        """The phrase of the first cited sentence that answers the question, when there is one."""
        if not asked_for(question):
            return None
        for n, (c, entities) in enumerate(
            zip(citations, self.tagger.entities([c.text for c in citations]), strict=True), 1
        ):
            found = pick(question, c.text, entities)
            if found:
                e = found.entity
                return Short(e.text, c.article_id, c.start + e.start, c.start + e.end, n)
        return None

    # -- a question about a whole article -------------------------------------------------

    def _about(
        self, intent: Intent, turns: list[str], corpus: Corpus, chosen: tuple[str, ...] | None
    ) -> Answer:
        """A summary, more of it, or the article's metadata, for the article in focus."""
        shown: set[int] = set()
        if intent.kind == "more":
            number, shown = self._shown_before(turns, corpus, chosen)
        else:
            number = self.focus(intent.topic, turns, corpus, chosen)
        if number is None:
            numbers = [n for n, a in enumerate(corpus.article_ids) if chosen is None or a in chosen]
            return about.leads(corpus, numbers, self.messages)
        if intent.kind in about.METADATA:
            return about.metadata(intent.kind, corpus, number, self.messages)
        return about.summary(corpus, number, shown, self.messages)

    def focus(
        self, topic: str, turns: list[str], corpus: Corpus, chosen: tuple[str, ...] | None
    ) -> int | None:
        """The article a question about "the article" means: the one its words name, else the
        one the conversation is about, else the only one chosen; None when that leaves several."""
        if topic:
            ranking = self.ranker.rank(corpus, Question.parse(topic), self.candidates(corpus, topic, chosen))
            if len(ranking):
                return int(corpus.article_of[ranking.candidates[0].row])
        if turns:
            earlier = self._earlier_answer(turns, chosen)
            if earlier is not None and earlier.citations:
                return corpus.article_number(earlier.citations[0].article_id)
        numbers = [n for n, a in enumerate(corpus.article_ids) if chosen is None or a in chosen]
        return numbers[0] if len(numbers) == 1 else None

    def _shown_before(
        self, turns: list[str], corpus: Corpus, chosen: tuple[str, ...] | None
    ) -> tuple[int | None, set[int]]:
        """For "tell me more": the article the conversation is about and the rows already shown
        of it, by the summary and the "more" turns just before."""
        number, shown = None, set()
        for end in range(len(turns), 0, -1):  # walk back through the turns about this article
            earlier = self._earlier_answer(turns[:end], chosen)
            if earlier is None or not earlier.citations:
                break
            article = corpus.article_number(earlier.citations[0].article_id)
            if number is not None and article != number:
                break
            number = article
            shown |= {corpus.row_of_sentence(c.article_id, c.sentence_index) for c in earlier.citations}
            if intent_of(turns[end - 1]).kind not in ("overview", "more"):
                break
        return number, shown

    def _earlier_answer(self, turns: list[str], chosen: tuple[str, ...] | None) -> Answer | None:
        """The answer the last of ``turns`` got (asked again, with the turns before it)."""
        try:
            return self.trace(turns[-1], turns[:-1], chosen).answer
        except AssistantError:
            return None
