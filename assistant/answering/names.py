"""Telling whether a text names the same person, place or thing as another, the way people
write names: in any case, with or without "the" or a possessive, by a usual alias ("U.S." for
"US", "Britain" for "UK"), by its initials ("NSPCC" for "National Society for the Prevention of
Cruelty to Children"), in another form ("Afghan" for "Afghanistan", "Haqqanis" for
"Haqqani") or spelt with one letter off ("Moncalm" for "Montcalm").

The near-miss rules (:mod:`assistant.answering.nearmiss`) and the check of generated answers
(:mod:`assistant.generation.verify`) both judge names with it, so that they agree on what a mention is.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Names that stand for one another, each as :func:`normal` writes it.
_ALIASES = (
    ("us", "u s", "usa", "united states", "america", "american", "americans"),
    ("uk", "u k", "united kingdom", "britain", "british", "great britain"),
    ("eu", "european union"),
    ("un", "united nations"),
    ("ussr", "soviet union", "soviet"),
    ("uae", "united arab emirates"),
)
_ALIAS_OF = {form: group for group in _ALIASES for form in group}


def normal(text: str) -> str:
    """Lower case, without accents, punctuation, "the" or a possessive: "The U.S.'s" -> "u s"."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = re.sub(r"['’]s\b", "", "".join(ch for ch in text if not unicodedata.combining(ch)))
    return " ".join(w for w in re.findall(r"\w+", text) if w != "the")


# Capitalised words in a row, with the small words a name may hold between them.
_NAME_RUN = re.compile(r"[A-Z][\w'’-]*(?:\s+(?:(?:of|for|the|and|to|on|in|de|du|la)\s+)*[A-Z][\w'’-]*)+")


@functools.lru_cache(maxsize=1024)  # each rule and each name of a question asks of the same paragraph
def initials(text: str) -> frozenset[str]:
    """The initials of three or more capitalised words in a row of ``text``, lower-cased:
    "nspcc" for "(Britain's) National Society for the Prevention of Cruelty to Children"."""
    found = set()
    for run in _NAME_RUN.findall(text):
        letters = "".join(w[0] for w in run.split() if w[0].isupper()).lower()
        found.update(letters[i:j] for i in range(len(letters)) for j in range(i + 3, len(letters) + 1))
    return frozenset(found)


def alike(word: str, other: str) -> bool:
    """Whether two normalised words are forms of one name: "afghan"/"afghanistan",
    "panther"/"panthers", or one spelt with a letter off ("moncalm"/"montcalm")."""
    if word == other:
        return True
    shorter = min(len(word), len(other))
    common = next((i for i, (a, b) in enumerate(zip(word, other, strict=False)) if a != b), shorter)
    if common >= 4 and common >= 0.75 * shorter:
        return True
    if shorter < 5 or abs(len(word) - len(other)) > 1:
        return False
    a, b = sorted((word, other), key=len)
    i = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(a))
    return a[i + (len(a) == len(b)) :] == b[i + 1 :]


def looked_for(name: str) -> list[str]:
    """The words by which :func:`mentions` looks for a name: its normal words of three letters
    or more, or all of them when it has none ("u", "s" for "U.S.")."""
    words = normal(name).split()
    return [w for w in words if len(w) > 2] or words


def mentions(text: str, name: str) -> bool:
    """Whether ``text`` names ``name``: as written, by an alias, or word by word in any of
    their forms (its words of three letters or more, when it has some)."""
    wanted, haystack = normal(name), f" {normal(text)} "
    if not wanted or f" {wanted} " in haystack or (" " not in wanted and wanted in initials(text)):
        return True
    if any(f" {form} " in haystack for form in _ALIAS_OF.get(wanted, ())):
        return True
    found = haystack.split()
    return all(any(alike(part, word) for word in found) for part in looked_for(name))
