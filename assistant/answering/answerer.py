"""Answering a question with the articles' own sentences, each cited.

    question + earlier turns
      -> parsed once (Question): intent from the question asked, the rest from the question
         made to stand alone with the earlier questions
      -> about a whole article: a summary, more of it, or what the page says of itself
      -> else search (Searcher: sources, evidence, ranker) -> Ranking
      -> the policy's decision: cite these candidates, or abstain for a reason
      -> the answer: the cited sentences with [n] markers, the short answer first

Every answering strategy sits behind the :class:`Answerer` protocol, which the API, the CLI
and the chat take; :class:`ExtractiveAnswerer` is the default and needs nothing but the
local store.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

from assistant.answering import about
from assistant.answering.citing import citation, compose
from assistant.answering.conversation import clean_question, resolve, turns_of
from assistant.answering.entities import EntityTagger
from assistant.answering.policy import Abstain, Decision, Policy
from assistant.answering.short import ShortReader
from assistant.answering.wording import Messages
from assistant.core.errors import AssistantError, InvalidQuestionError
from assistant.core.records import Answer, Turn
from assistant.question.intent import intent_of
from assistant.question.parse import Question
from assistant.search.ranking import Ranking
from assistant.search.searcher import Searcher
from assistant.storage.corpus import Corpus

History = Sequence[str | Turn] | None  # earlier turns, oldest first: Turns, or plain earlier questions


class Answerer(Protocol):
    """Anything that answers a question about the stored articles."""

    def answer(
        self, question: str, history: History = None, article_ids: Sequence[str] | None = None
    ) -> Answer:
        """Answer ``question`` after the earlier turns ``history``, from the chosen articles
        (all when None).

        Raises :class:`InvalidQuestionError` for an unusable question and
        :class:`EmptyStoreError` when nothing is ingested.
        """
        ...


@runtime_checkable
class Streaming(Protocol):
    """An answerer that can hand out its answer as it is written (a language model's)."""

    def stream(
        self, question: str, history: History = None, article_ids: Sequence[str] | None = None
    ) -> Iterator[str | Answer]:
        """Pieces of text as they are written, then the final :class:`Answer`."""
        ...


@dataclass(frozen=True)
class Trace:
    """What one question went through: the parsed question, its ranking, the decision and the
    answer. The evaluation, the training and the generated answerer read it; users get only
    the answer. ``decision`` is None for a question about a whole article (nothing searched)."""

    question: Question
    ranking: Ranking
    decision: Decision | None
    answer: Answer

    @property
    def corpus(self) -> Corpus:
        """The corpus the question was answered from."""
        return self.ranking.corpus


class ExtractiveAnswerer:
    """Answers with the articles' own sentences, each cited; abstains on weak evidence.

    A question about a whole article (a summary, "tell me more", when it was published) is
    answered about the article it names, else the one the conversation is about, else the
    only one chosen (:meth:`focus`). Any other question is searched for and the policy
    decides what to cite, with the short answer first when the reader finds a phrase of the
    first cited sentence likely enough to answer.
    """

    def __init__(
        self,
        searcher: Searcher,
        policy: Policy,
        tagger: EntityTagger,
        reader: ShortReader,
        messages: Messages,
    ) -> None:
        self.searcher = searcher
        self.policy = policy
        self.tagger = tagger
        self.reader = reader
        self.messages = messages

    def answer(
        self, question: str, history: History = None, article_ids: Sequence[str] | None = None
    ) -> Answer:
        """Answer ``question`` (see :meth:`Answerer.answer`)."""
        return self.trace(question, history, article_ids).answer

    def trace(
        self, question: str, history: History = None, article_ids: Sequence[str] | None = None
    ) -> Trace:
        """Answer ``question`` and keep what it went through (see :class:`Trace`).

        Cost: one search; for a question about the conversation's article ("Tell me more"),
        also the answers of the turns it leans on that were not given, each worked out once.
        Raises :class:`InvalidQuestionError` when none of ``article_ids`` is in the store."""
        asked, turns = clean_question(question), turns_of(history)
        return self._trace(asked, turns, tuple(article_ids) if article_ids else None, fill=True)

    def _trace(
        self, asked: str, turns: tuple[Turn, ...], chosen: tuple[str, ...] | None, fill: bool
    ) -> Trace:
        parsed = Question.parse(asked, resolve(asked, [t.question for t in turns]))
        if parsed.intent.kind == "question":  # its short answer (and any entity rule) parses:
            self.tagger.preload()  # the entity model loads while the corpus and the search do
        corpus = self.searcher.corpus()
        if chosen is not None and not set(chosen) & set(corpus.article_ids):
            raise InvalidQuestionError(
                f"none of the articles asked about is in the store ({', '.join(chosen)}): "
                "see `article-assistant ingest --list` for their ids"
            )
        if parsed.intent.kind != "question":
            reply = self._about(parsed, self._answered(turns, chosen) if fill else turns, corpus, chosen)
            return Trace(parsed, Ranking.empty(corpus, parsed), None, reply)
        ranking = self.searcher.search(parsed, chosen, corpus=corpus)
        decision = self.policy.decide(ranking)
        return Trace(parsed, ranking, decision, self._reply(ranking, decision))

    def _reply(self, ranking: Ranking, decision: Decision) -> Answer:
        """The answer the decision makes: the declining words, or the cited sentences."""
        corpus, probabilities = ranking.corpus, ranking.probabilities
        if isinstance(decision, Abstain):
            at, related = decision.related, None
            if at is not None:
                related = citation(corpus, ranking.candidates[at].row, float(probabilities[at]))
            text = self.messages.declined(decision.reason, decision.detail)
            return Answer(text=text, reason=decision.reason, related=related)
        cited = zip(decision.positions, decision.rows(ranking), strict=True)
        reply = compose([citation(corpus, row, float(probabilities[i])) for i, row in cited])
        first = float(probabilities[decision.positions[0]])
        if first < self.reader.threshold:  # no phrase of it can be likely enough
            return reply
        short = self.reader.short_answer(self.tagger, ranking.question, reply.citations[0], first)
        return replace(reply, short=short)

    def _answered(self, turns: tuple[Turn, ...], chosen: tuple[str, ...] | None) -> tuple[Turn, ...]:
        """The turns with the answers a question about the conversation's article leans on:
        those of the last turns that were about an article as a whole too, back to the last
        one that was not (a searched question, a summary naming its article), whose answer does
        not lean on any before it. A given answer is kept; a missing one is worked out once,
        oldest first, after the turns before it; older turns are left as they are."""
        first = len(turns) - 1
        while first > 0 and _leans_on_earlier(turns[first].question):
            first -= 1
        done = list(turns[: max(first, 0)])
        for turn in turns[max(first, 0) :]:
            found = turn.answer
            if found is None:
                try:
                    found = self._trace(clean_question(turn.question), tuple(done), chosen, fill=False).answer
                except AssistantError:
                    found = None
            done.append(Turn(turn.question, found))
        return tuple(done)

    # -- a question about a whole article -------------------------------------------------

    def _about(
        self, question: Question, turns: tuple[Turn, ...], corpus: Corpus, chosen: tuple[str, ...] | None
    ) -> Answer:
        """A summary, more of it, or the article's metadata, for the article in focus."""
        intent = question.intent
        number: int | None = None
        shown: set[int] = set()
        if intent.kind == "more":
            number, shown = self._shown_before(turns, corpus, chosen)
        if number is None:  # "more" after no article's sentences: the only one chosen, if one
            number = self.focus(intent.topic, turns, corpus, chosen)
        if number is None:
            return about.leads(corpus, _numbers(corpus, chosen), self.messages)
        if intent.kind in about.METADATA:
            return about.metadata(intent.kind, corpus, number, self.messages)
        return about.summary(corpus, number, shown, self.messages)

    def focus(
        self, topic: str, turns: Sequence[Turn], corpus: Corpus, chosen: tuple[str, ...] | None
    ) -> int | None:
        """The article a question about "the article" means: the one its words name, else the
        one the last answer cites, else the only one chosen; None when that leaves several."""
        if topic:
            ranking = self.searcher.search(Question.parse(topic), chosen, corpus=corpus)
            if len(ranking):
                return int(corpus.article_of[ranking.candidates[0].row])
        last = _cited_article(turns[-1], corpus, chosen) if turns else None
        if last is not None:
            return last
        numbers = _numbers(corpus, chosen)
        return numbers[0] if len(numbers) == 1 else None

    @staticmethod
    def _shown_before(
        turns: Sequence[Turn], corpus: Corpus, chosen: tuple[str, ...] | None
    ) -> tuple[int | None, set[int]]:
        """For "tell me more": the article the conversation is about and the rows of it already
        shown, by every turn back to the last one about another article (a sentence no longer
        in the store, its article removed or changed since, counts as not shown). A "more"
        that found nothing left cites nothing and is passed over, so asking again does not
        start the article over."""
        number, shown = None, set()
        for turn in reversed(turns):  # walk back through the turns about this article
            if turn.answer is not None and not turn.answer.citations and _leans_on_earlier(turn.question):
                continue
            article = _cited_article(turn, corpus, chosen)
            if article is None or (number is not None and article != number):
                break
            number = article
            rows = (
                corpus.row_of_sentence(c.article_id, c.sentence_index, c.text)
                for c in turn.answer.citations
                if c.article_id == corpus.article_ids[article]
            )
            shown |= {row for row in rows if row is not None}
        return number, shown


def _leans_on_earlier(question: str) -> bool:
    """Whether the answer to ``question`` depends on the answers before it: a question about "the
    article" that does not name it (a summary, "tell me more", when it was published)."""
    intent = intent_of(question)
    return intent.kind != "question" and not intent.topic


def _cited_article(turn: Turn, corpus: Corpus, chosen: tuple[str, ...] | None) -> int | None:
    """The number of the article a turn's answer cites first, when it is still in the corpus and
    among the chosen ones (all when None)."""
    if turn.answer is None or not turn.answer.citations:
        return None
    article_id = turn.answer.citations[0].article_id
    return corpus.article_number(article_id) if chosen is None or article_id in chosen else None


def _numbers(corpus: Corpus, chosen: tuple[str, ...] | None) -> list[int]:
    """The numbers of the chosen articles in the corpus (every article when None)."""
    return [n for n, a in enumerate(corpus.article_ids) if chosen is None or a in chosen]
