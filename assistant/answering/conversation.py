"""The conversation: its earlier turns, and follow-up questions made to stand alone from them.

Earlier turns come as :class:`~assistant.core.records.Turn` records (a question and, when the
caller kept it, its answer) or as plain earlier questions (:func:`turns_of`).

Follow-ups are made standalone without an LLM.

"What reward is on his head?" after "Who is Khalil Haqqani?" becomes "What reward is on
Khalil Haqqani's head?"; "What about Ned Price?" after "Who is Douglas London?" becomes
"Who is Ned Price?". The topic of a turn is its first name-like phrase (capitalised words,
with a leading "the"), else its content words; each earlier turn is resolved in turn, so
a topic carries through a chain of follow-ups. A question that names its own subject and
uses no pronoun is left as it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.core.errors import InvalidQuestionError
from assistant.core.records import Turn
from assistant.core.text import STOPWORDS

MAX_QUESTION_CHARS = 2000

_PRONOUN = re.compile(
    r"\b(?P<possessive>his|her|its|their)\b|\b(?P<plain>he|she|it|they|him|them|this|that|these|those)\b",
    re.IGNORECASE,
)
_ELLIPSIS = re.compile(r"^\s*(?:and|what about|how about|and what about)\s+(?P<subject>.+?)\s*\??\s*$", re.I)
_NAME_PHRASE = re.compile(r"(?:\b[Tt]he\s+)?(?:[A-Z][\w’'.-]*)(?:\s+(?:of\s+|de\s+|al-\s*)?[A-Z][\w’'.-]*)*")
_QUESTION_OPENERS = {"who", "what", "when", "where", "why", "how", "which", "whom", "whose", "is",
                     "are", "was", "were", "did", "does", "do", "can", "could", "will", "would",
                     "should", "has", "have", "had", "tell", "and", "in", "on", "at", "for", "i"}  # fmt: skip


def topic(question: str) -> str:
    """The subject a later question can point back to: a name-like phrase, else key words."""
    for match in _NAME_PHRASE.finditer(question):
        phrase = match.group(0)
        words = phrase.split()
        while words and words[0].lower() in _QUESTION_OPENERS:
            words = words[1:]
        if words and not (len(words) == 1 and words[0].lower() == "the"):
            return re.sub(r"['’]s?$", "", " ".join(words))
    kept = [w for w in re.findall(r"[\w’'-]+", question) if w.lower() not in STOPWORDS]
    return " ".join(kept)


def resolve(question: str, history: Sequence[str]) -> str:
    """``question`` rewritten to stand alone, using ``history`` (earlier user turns, oldest first)."""
    previous = ""
    for turn in history:
        previous = _resolve_one(turn, previous) if previous else turn
    return _resolve_one(question, previous) if previous else question


def _resolve_one(question: str, previous: str) -> str:
    ellipsis = _ELLIPSIS.match(question)
    if ellipsis:
        old = topic(previous)
        subject = ellipsis.group("subject")
        return previous.replace(old, subject, 1) if old and old in previous else f"{previous} {subject}"
    pronoun = _PRONOUN.search(question)
    subject = topic(previous)
    if not subject:
        return question
    if pronoun is None:
        # Too short to stand alone ("When?", "Why not?"): ask it about the previous turn.
        if len([w for w in re.findall(r"\w+", question) if w.lower() not in STOPWORDS]) == 0:
            return f"{previous} {question}"
        return question
    replacement = f"{subject}’s" if pronoun.group("possessive") else subject
    return question[: pronoun.start()] + replacement + question[pronoun.end() :]


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


def turns_of(history: Sequence[str | Turn] | None) -> tuple[Turn, ...]:
    """The earlier turns, oldest first: a :class:`Turn` as it is, an earlier question as a turn
    whose answer is not known; blank questions are left out."""
    turns = []
    for item in history or ():
        turn = item if isinstance(item, Turn) else Turn(item) if isinstance(item, str) else None
        if turn is None:
            raise InvalidQuestionError(
                f"an earlier turn must be a question (text) or a Turn, not {type(item).__name__}"
            )
        if turn.question.strip():
            turns.append(Turn(turn.question.strip(), turn.answer))
    return tuple(turns)
