"""What kind of question a chat user asks: about an article as a whole, about what the page
says of itself, or a question its sentences answer.

- ``overview``: "Summarize the article", "What is this about?", "Give me the key points",
  "TL;DR", "What happened?": answered with a summary of the article;
- ``more``: "Tell me more", "Go on": the next sentences of the summary before;
- ``published``, ``author``, ``site``: "When was this published?", "Who wrote it?", "Which
  paper ran this?": answered from the article's metadata;
- ``question``: everything else, answered by retrieval.

Rules over a normalised question, not one pattern per example: a cue (a summary word, "key
points", "about" asked of the article itself, a publication verb asked of the article) and
nothing else but words that point at the article. "What is the article's main claim about
Pakistan?" names something to look for, so it stays a question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["overview", "more", "published", "author", "site", "question"]

# Words that only point at the article (or are politeness) and leave the question's kind as it is.
_POINTING = frozenset(
    "a an the this that these those it its article articles story stories piece pieces text report "
    "reports news item post page document here there please can could would you me us for i we just "
    "quickly briefly short shortly in of to about what whats is was are does do give tell show list "
    "provide write let know".split()
)
_OVERVIEW_CUES = (
    r"\bsummar(?:y|ies|i[sz]e[sd]?|i[sz]ing)\b",
    r"\bsum(?:s|med)? (?:(?:it|this|that|them|things) )?up\b",
    r"\brecap\b",
    r"\boverview\b",
    r"\btl\s*;?\s*dr\b",
    r"\bgist\b",
    r"\bin a nutshell\b",
    r"\b(?:key|main|important|major|central) "
    r"(?:points?|facts?|takeaways?|ideas?|highlights?|messages?|themes?)\b",
    r"\b(?:highlights|takeaways)\b",
    r"\bbrief me\b",
    r"^what(?:s| is| was| are)? (?:(?:this|the|that|it|these) )?"
    r"(?:(?:article|story|piece|text|report|news|page|document) )?(?:all )?about$",
    r"^what (?:does|did) (?:this|the|that|it) (?:article|story|piece|report|text)? ?"
    r"(?:say|tell|cover|report)$",
    r"^what happened(?: here| there)?$",
    r"^(?:tell|talk) (?:me|us) about (?:this|the|that|it) (?:article|story|piece|report|news)$",
)
_MORE = re.compile(
    r"^(?:(?:tell|give|show) (?:me|us) more|more|go on|continue|keep going|what else|anything else|"
    r"and then|and|more please|more details?|tell me more about (?:it|this|that))$"
)
_META = (  # in this order: "Where was this published?" asks for the site, not the date
    (
        "site",
        r"\b(?:which|what) (?:site|website|paper|newspaper|outlet|publication|publisher|news ?site)\b"
        r"|\b(?:the )?source\b|\bwhere (?:was|is) (?:it|this|that|the (?:article|story|piece|report))"
        r" (?:published|from|posted)\b|\bwho (?:published|ran|posted|carried)\b",
    ),
    (
        "author",
        r"\bwho (?:wrote|writes|authored|reported|penned)\b|\bauthors?\b|\bbyline\b"
        r"|\bwho is (?:it|this|the (?:article|story)) by\b|\bwritten by whom\b",
    ),
    (
        "published",
        r"\b(?:published|posted|written|dated|released|came out|come out)\b"
        r"|\bpublication date\b|\bwhat date\b|\bdate of\b|\bhow old is\b",
    ),
)
# Words a metadata question may hold besides those pointing at the article.
_META_WORDS = frozenset(
    "when who which where by on date from published posted ran run wrote written carried released came out "
    "source site paper newspaper publication publisher author".split()
)


@dataclass(frozen=True, slots=True)
class Intent:
    """A question's kind and, for an overview, the words it uses to name the article."""

    kind: Kind
    topic: str = ""  # "the article about the Taliban evacuation" -> "Taliban evacuation"


def _normal(question: str) -> str:
    text = re.sub(r"[’']", "", question.lower())
    return " ".join(re.findall(r"[a-z0-9;]+", text)).strip()


def intent_of(question: str) -> Intent:
    """The kind of ``question`` (see the module docstring)."""
    text = _normal(question)
    if _MORE.match(text):
        return Intent("more")
    for kind, pattern in _META:
        if re.search(pattern, text) and not _names_more(text, pattern):
            return Intent(kind)  # type: ignore[arg-type]
    for cue in _OVERVIEW_CUES:
        found = re.search(cue, text)
        if found:
            rest = (text[: found.start()] + " " + text[found.end() :]).split()
            topic = _topic(rest)
            if topic is not None:
                return Intent("overview", topic)
    return Intent("question")


def _topic(words: list[str]) -> str | None:
    """The words naming the article ("about the Taliban evacuation"), "" when none, or None
    when other words make it a question to search for ("main claim about Pakistan")."""
    if "about" in words or "on" in words:  # "... the article about X", "... the story on X"
        cut = max(i for i, w in enumerate(words) if w in ("about", "on"))
        before, after = words[:cut], words[cut + 1 :]
        if all(w in _POINTING for w in before):
            return " ".join(w for w in after if w not in ("the", "a", "an"))
    if all(w in _POINTING for w in words):
        return ""
    return None


def _names_more(text: str, pattern: str) -> bool:
    """A metadata word used about something else: "When was the treaty published?" names a treaty."""
    rest = re.sub(pattern, " ", text).split()
    return any(w not in _POINTING and w not in _META_WORDS for w in rest)
