"""The parsed question: everything the parts read of a question, worked out once per question.

    Question.parse("What reward is on his head?",
                   standalone="What reward is on Khalil Haqqani’s head?")
    -> terms ("reward", "khalil", "haqqani", "head"), kind "other", labels (MONEY, ...),
       expects (a statement of an amount...), role None, intent "question"

The search features read the terms, the kind, whether it asks why and what a sentence must state
to answer it (``expects``); short answers read the entity labels; the near-miss rules read what
it expects and the role; the answerer reads the intent.
The intent is the asked text's (a follow-up "Tell me more" is about the conversation); the rest
is the standalone text's, the question made to stand alone with the conversation.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.core.text import content_terms
from assistant.question.expressions import Expected
from assistant.question.forms import Kind, asked_for, asks_cause, question_kind
from assistant.question.intent import Intent, intent_of
from assistant.question.roles import role_asked


@dataclass(frozen=True, slots=True)
class Question:
    """A question as search and answering read it."""

    text: str  # what is searched for: the question made to stand alone with the conversation
    terms: tuple[str, ...]  # content terms of ``text``, in order
    kind: Kind  # the kind of fact it asks for: number, date, name or other
    cause: bool  # whether it asks why
    labels: tuple[str, ...]  # entity labels that answer it (a short answer's), most likely first
    expects: Expected  # what a sentence must state to answer it (an amount, a date, a name ...)
    role: str | None  # the role it asks who holds ("lead" for "Who leads ISIS-K?")
    intent: Intent  # about a whole article (a summary, "more", its date...) or a question to search

    @classmethod
    def parse(cls, asked: str, standalone: str | None = None) -> Question:
        """The question ``asked``; ``standalone`` is it made to stand alone with the conversation
        (the same text when not given)."""
        text = asked if standalone is None else standalone
        labels = asked_for(text)
        return cls(
            text=text,
            terms=tuple(content_terms(text)),
            kind=question_kind(text),
            cause=asks_cause(text),
            labels=labels,
            expects=Expected.of(text, labels),
            role=role_asked(text),
            intent=intent_of(asked),
        )
