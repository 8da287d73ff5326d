"""Roles a question asks who holds ("Who leads ISIS-K?", "Who is the ambassador to ...?"),
and the words by which a sentence names a person in that role.

The near-miss rule "no one in that role" (:mod:`assistant.answering.nearmiss`) reads both: a
question asking who leads something is not answered by a sentence that names nobody with a
word of leading.
"""

from __future__ import annotations

import re

# A role asked about, and the words that show a sentence names who holds it.
_ROLES = {
    "lead": "lead leads led leading leader leaders leadership head heads headed heading chief chairman chair "
    "director commander ceo ruler rules ruled runs ran boss",
    "found": "found founded founding founder founders cofounder cofounders established establishing created "
    "creator started",
    "spokesperson": "spokesperson spokesman spokeswoman spokespeople secretary",
    "ambassador": "ambassador ambassadors envoy envoys emissary",
    "minister": "minister ministers premier",
    "president": "president presidents",
    "governor": "governor governors",
    "mayor": "mayor mayors",
    "king": "king kings queen queens monarch",
    "coach": "coach coaches coached manager",
    "owner": "owner owners owned owns",
    "captain": "captain captains skipper",
    "judge": "judge judges justice justices magistrate",
    "commissioner": "commissioner commissioners",
}
# The verbs are the unambiguous ones: "runs", "owns" or "directed" are said of companies,
# services and films as often as of people.
_ROLE_OF = {
    **dict.fromkeys("leader head chief chairman director commander ceo ruler boss".split(), "lead"),
    **dict.fromkeys("leads led heads headed chairs chaired commands commanded governs".split(), "lead"),
    **dict.fromkeys("founder founded".split(), "found"),
    **dict.fromkeys("spokesperson spokesman spokeswoman".split(), "spokesperson"),
    "ambassador": "ambassador",
    "envoy": "ambassador",
    "minister": "minister",
    "president": "president",
    "governor": "governor",
    "mayor": "mayor",
    "king": "king",
    "queen": "king",
    "coach": "coach",
    "owner": "owner",
    "captain": "captain",
    "judge": "judge",
    "justice": "judge",
    "magistrate": "judge",
    "commissioner": "commissioner",
}
_VERBS = [w for w in _ROLE_OF if w.endswith(("s", "ed")) or w == "led"]
# role -> every word that names it: its family, and the words a question asks about it with
_ROLE_WORDS = {
    role: frozenset(family.split()) | {w for w, r in _ROLE_OF.items() if r == role}
    for role, family in _ROLES.items()
}
_NOUNS = [w for w in _ROLE_OF if w not in _VERBS]
_WHO_HOLDS = re.compile(
    r"^\W*who\s+(?:(?:is|was|are|were)\s+(?:the\s+)?(?:[\w'’-]+\s+){0,2}?"
    rf"(?P<noun>{'|'.join(_NOUNS)})\b|(?P<verb>{'|'.join(_VERBS)})\b)",
    re.I,
)


def role_asked(question: str) -> str | None:
    """The role a "who holds it" question asks about ("lead" for "Who leads ...?"), or None."""
    match = _WHO_HOLDS.search(question)
    return _ROLE_OF[(match.group("noun") or match.group("verb")).lower()] if match else None


def role_words(role: str) -> frozenset[str]:
    """Every word that names ``role``: its family ("leader", "headed", "chief" ...) and the
    words a question asks about it with."""
    return _ROLE_WORDS[role]
