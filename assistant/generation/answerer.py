"""Answers written by a chat model from the best-ranked sentences, every sentence checked.

    question + earlier turns
      -> the extractive answerer's trace: the parsed question, its ranking, the policy's
         decision and the extractive answer
      -> sources: the rows the decision cites, then the next best-ranked ones, numbered [1], [2], ...
         each shown with the sentences around it (``prompts/answer.yaml``)
      -> the chat model writes, streamed; the whole call is held to ``llm_timeout``
      -> every sentence checked against the sources it cites (:mod:`assistant.generation.verify`)
      -> the supported ones, markers renumbered to the shown citations; or, when none holds,
         when the model fails, is slow or says nothing, the extractive answer with a note

A question the extractive answerer does not search for (a summary, the article's date) or
on which the policy abstains is answered as the extractive answerer answers it: when to
answer is decided in one place (:mod:`assistant.answering.policy`).
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from assistant.answering.answerer import ExtractiveAnswerer, History, Trace
from assistant.answering.citing import citation
from assistant.answering.policy import NEAR_DUPLICATE, Cite
from assistant.answering.wording import read_prompt
from assistant.core.records import Answer, Citation, Claim, Short
from assistant.core.text import plural
from assistant.generation.providers import Writer
from assistant.generation.verify import MARKER, Verifier
from assistant.storage.corpus import Corpus

log = logging.getLogger(__name__)
T = TypeVar("T")

SOURCES = 4  # numbered sources the model is given at most
SENTENCES = 3  # the most sentences the prompt asks for (a model that can be held to it is)


@dataclass(frozen=True, slots=True)
class AnswerPrompt:
    """The wording of ``prompts/answer.yaml``: what the model is told, and the notes of a fallback."""

    system: str
    user: str  # {sources}, {question}
    source: str  # {sentence}, {number}: a numbered source
    notes: dict[str, str]  # failed, timeout, empty, unsupported

    @classmethod
    def load(cls, name: str = "answer.yaml") -> AnswerPrompt:
        """The prompt in ``prompts/<name>``."""
        data = read_prompt(name)
        return cls(data["system"], data["user"], data["source"], dict(data["notes"]))

    def messages(
        self, question: str, corpus: Corpus, runs: Sequence[Sequence[int]], number: dict[int, int]
    ) -> list[tuple[str, str]]:
        """The chat messages for ``question`` over the passages ``runs`` (:func:`passages`),
        where the sentence in row ``r`` is source ``number[r]`` and the others are context."""
        texts = (
            " ".join(
                self.source.format(sentence=corpus.sentences[r].text, number=number[r])
                if r in number
                else corpus.sentences[r].text
                for r in run
            )
            for run in runs
        )
        user = self.user.format(sources="\n\n".join(texts), question=question)
        return [("system", self.system), ("human", user)]


def pick_sources(trace: Trace, limit: int = SOURCES) -> list[int]:
    """The rows to number as sources: the ones the decision cites, then the next best-ranked
    ones below the last of them that do not repeat one already taken; none when the decision
    cites nothing (an abstention, or a question about a whole article)."""
    decision, ranking = trace.decision, trace.ranking
    if not isinstance(decision, Cite):
        return []
    corpus = ranking.corpus
    rows = list(decision.rows(ranking))
    for candidate in ranking.candidates[max(decision.positions) + 1 :]:  # those before were passed over
        if len(rows) >= limit:
            break
        vector = corpus.embeddings[candidate.row]
        if all(float(vector @ corpus.embeddings[r]) <= NEAR_DUPLICATE for r in rows):
            rows.append(int(candidate.row))
    return rows


def passages(corpus: Corpus, rows: Sequence[int]) -> list[list[int]]:
    """The sources in context, as runs of rows to show: each source with its neighbours in its
    paragraph, runs that touch merged, in article order within a run; runs in the order of
    their best-ranked source."""
    shown: set[int] = set()
    for row in rows:
        paragraph = corpus.paragraph_of[row]
        around = (int(corpus.previous[row]), row, int(corpus.following[row]))
        shown |= {r for r in around if corpus.paragraph_of[r] == paragraph}
    runs: list[list[int]] = []
    for row in sorted(shown):
        if runs and row == runs[-1][-1] + 1 and corpus.paragraph_of[row] == corpus.paragraph_of[runs[-1][-1]]:
            runs[-1].append(row)
        else:
            runs.append([row])
    return sorted(runs, key=lambda run: min(rows.index(r) for r in run if r in rows))


class GeneratedAnswerer:
    """Answers with a chat model's own sentences, each checked against the sources it cites.

    ``writer`` is the chat model (:class:`~assistant.generation.providers.Writer`); a call to
    it may take ``timeout`` seconds in all, streaming included.
    """

    def __init__(
        self,
        extractive: ExtractiveAnswerer,
        writer: Writer,
        verifier: Verifier,
        timeout: float,
        prompt: AnswerPrompt | None = None,
    ) -> None:
        self.extractive = extractive
        self.writer = writer
        self.verifier = verifier
        self.timeout = timeout
        self.prompt = prompt or AnswerPrompt.load()

    @property
    def label(self) -> str:
        """The chat model's name in notes."""
        return self.writer.label

    def answer(
        self, question: str, history: History = None, article_ids: Sequence[str] | None = None
    ) -> Answer:
        """Answer ``question`` (see :meth:`assistant.answering.answerer.Answerer.answer`)."""
        for item in self.stream(question, history, article_ids):
            if isinstance(item, Answer):
                return item
        raise AssertionError("stream() ends with an Answer")  # pragma: no cover

    def stream(
        self, question: str, history: History = None, article_ids: Sequence[str] | None = None
    ) -> Iterator[str | Answer]:
        """The model's text as it writes it, in pieces, then the checked :class:`Answer`.

        Raises what :meth:`answer` raises, before anything is yielded."""
        trace = self.extractive.trace(question, history, article_ids)
        rows = pick_sources(trace)
        if not rows:  # nothing searched for, or nothing found: the extractive answer as it is
            yield trace.answer
            return
        runs = passages(trace.corpus, rows)
        order = [r for run in runs for r in run if r in rows]  # source [n] is order[n - 1], in reading order
        number = {row: n for n, row in enumerate(order, 1)}
        messages = self.prompt.messages(trace.question.text, trace.corpus, runs, number)
        model = self.writer.for_prompt(len(order), SENTENCES)
        written: list[str] = []
        try:
            for chunk in within(self.timeout, lambda: model.stream(messages)):
                if chunk.text:
                    written.append(chunk.text)
                    yield chunk.text
        except TimeoutError:
            yield self.fallback(trace, "timeout", seconds=self.timeout)
            return
        except Exception as e:  # the provider's own errors: connection, HTTP status, bad reply
            log.warning("the chat model %s failed: %r", self.label, e)
            yield self.fallback(trace, "failed", error=_brief(e))
            return
        text = "".join(written).strip()
        if not text:
            yield self.fallback(trace, "empty")
            return
        yield self.verified(trace, order, text)

    def verified(self, trace: Trace, order: Sequence[int], text: str) -> Answer:
        """The answer made of the supported sentences of ``text``, whose [n] is ``order[n - 1]``."""
        corpus = trace.corpus
        claims = self.verifier.check_answer(text, [corpus.sentences[r].text for r in order])
        kept: dict[str, Claim] = {}
        for claim in claims:
            if claim.supported:
                kept.setdefault(_plain(claim.text), claim)  # a sentence the model repeats is shown once
        if not kept:
            return self.fallback(
                trace, "unsupported", claims=claims, sentences=plural(len(claims), "sentence")
            )
        shown: dict[int, int] = {}  # source number -> number of the shown citation
        for claim in kept.values():
            for n in claim.citations:
                shown.setdefault(n, len(shown) + 1)
        ranked = zip(trace.ranking.candidates, trace.ranking.probabilities, strict=True)
        probability = {c.row: float(p) for c, p in ranked}
        citations = tuple(citation(corpus, order[n - 1], probability.get(order[n - 1], 0.0)) for n in shown)
        return Answer(
            text=" ".join(_renumber(claim.text, shown) for claim in kept.values()),
            citations=citations,
            short=_short(trace.answer, citations),
            mode="generated",
            claims=claims,
        )

    def fallback(self, trace: Trace, why: str, claims: tuple[Claim, ...] = (), **details: object) -> Answer:
        """The extractive answer, with a note saying why it stands in for a generated one."""
        note = " ".join(self.prompt.notes[why].format(model=self.label, **details).split())
        return replace(trace.answer, note=note, claims=claims)


def within(seconds: float, items: Callable[[], Iterator[T]]) -> Iterator[T]:
    """The items of ``items()`` as they come, made in a thread of their own; raises
    :class:`TimeoutError` once ``seconds`` have passed in all, so that no model, however
    slow or silent, holds the caller longer. Stopping early closes the iterator (a local
    model stops generating) as soon as it gives its next item.

    The thread is not a daemon: the interpreter waits for it at exit, since it may hold the
    last reference to a local model, and torch objects freed by a daemon thread while the
    interpreter shuts down abort the process. The wait is short: a local model gives its next
    token within a fraction of a second, and the clients of the openai and ollama providers are
    held to the same time limit (:mod:`assistant.generation.providers`); another provider's client
    keeps its own."""
    channel: queue.Queue = queue.Queue()
    stop = threading.Event()

    def produce() -> None:
        stream = items()
        try:
            for item in stream:
                if stop.is_set():
                    break
                channel.put(("item", item))
        except BaseException as e:  # handed to the consumer
            channel.put(("error", e))
        finally:
            getattr(stream, "close", lambda: None)()
            channel.put(("end", None))

    threading.Thread(target=produce, daemon=False, name="chat-model").start()
    deadline = time.monotonic() + seconds
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            try:
                kind, value = channel.get(timeout=left)
            except queue.Empty:
                raise TimeoutError from None
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()


def _renumber(sentence: str, shown: dict[int, int]) -> str:
    """``sentence`` with each [n] marker turned into the number of its shown citation."""

    def marker(match: re.Match) -> str:
        return " [" + ", ".join(str(shown[int(n)]) for n in match.group(1).split(",")) + "]"

    return MARKER.sub(marker, sentence)


def _plain(sentence: str) -> str:
    return " ".join(re.findall(r"\w+", MARKER.sub("", sentence).lower()))


def _short(extractive: Answer, citations: Sequence[Citation]) -> Short | None:
    """The extractive answer's short answer, when its sentence is among ``citations``, renumbered."""
    short = extractive.short
    if short is None:
        return None
    for n, c in enumerate(citations, 1):
        if c.article_id == short.article_id and c.start <= short.start < c.end:
            return replace(short, citation=n)
    return None


def _brief(error: BaseException) -> str:
    """An exception in a few words: its type and the first line of its message."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {message[:160]}" if message else type(error).__name__
