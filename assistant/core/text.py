"""Words of a text as search and ranking see them: lower-cased, stop words out, stemmed.

One tokenizer serves the BM25 index, the ranking features and follow-up resolution, so a
question and a sentence are always compared on the same terms.
"""

from __future__ import annotations

import re

import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

WORD = re.compile(r"\w+(?:['’]\w+)*")
STOPWORDS = frozenset(STOPWORDS_EN_PLUS) | {
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "many", "much",
    "also", "would", "could", "one", "s", "t",
}  # fmt: skip


_STEMMER = Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """The lower-cased words of ``text``, possessive ’s dropped."""
    return [re.sub(r"['’]s$", "", w) for w in WORD.findall(text.lower())]


def content_terms(text: str) -> list[str]:
    """Stemmed words of ``text`` without stop words, in order (repeats kept)."""
    kept = [w for w in words(text) if w not in STOPWORDS]
    return _STEMMER.stemWords(kept)
