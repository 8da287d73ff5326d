"""Words of a text as search and ranking see them (lower-cased, stop words out, stemmed), the
names of months and weekdays, and a count with its noun as messages write it.

One tokenizer serves the BM25 index, the ranking features and follow-up resolution, so a
question and a sentence are always compared on the same terms. One :func:`plural` serves
every message that counts something, so none of them says "1 sentences".
"""

from __future__ import annotations

import re

import Stemmer

WORD = re.compile(r"\w+(?:['’]\w+)*")
# bm25s's STOPWORDS_EN_PLUS, copied: importing bm25s.stopwords imports all of bm25s and scipy
# (0.15 s and 15 MB in every process that answers); tests/test_text.py checks it is the same.
STOPWORDS_EN_PLUS = (
    "a", "about", "above", "after", "again", "against", "ain", "all", "am", "an", "and", "any",
    "are", "aren", "aren't", "as", "at", "be", "because", "been", "before", "being", "below",
    "between", "both", "but", "by", "can", "couldn", "couldn't", "d", "did", "didn", "didn't", "do",
    "does", "doesn", "doesn't", "doing", "don", "don't", "down", "during", "each", "few", "for",
    "from", "further", "had", "hadn", "hadn't", "has", "hasn", "hasn't", "have", "haven", "haven't",
    "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if",
    "in", "into", "is", "isn", "isn't", "it", "it's", "its", "itself", "just", "ll", "m", "ma",
    "me", "mightn", "mightn't", "more", "most", "mustn", "mustn't", "my", "myself", "needn",
    "needn't", "no", "nor", "not", "now", "o", "of", "off", "on", "once", "only", "or", "other",
    "our", "ours", "ourselves", "out", "over", "own", "re", "s", "same", "shan", "shan't", "she",
    "she's", "should", "should've", "shouldn", "shouldn't", "so", "some", "such", "t", "than",
    "that", "that'll", "the", "their", "theirs", "them", "themselves", "then", "there", "these",
    "they", "this", "those", "through", "to", "too", "under", "until", "up", "ve", "very", "was",
    "wasn", "wasn't", "we", "were", "weren", "weren't", "what", "when", "where", "which", "while",
    "who", "whom", "why", "will", "with", "won", "won't", "wouldn", "wouldn't", "y", "you", "you'd",
    "you'll", "you're", "you've", "your", "yours", "yourself", "yourselves",
)  # fmt: skip
STOPWORDS = frozenset(STOPWORDS_EN_PLUS) | {
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "many", "much",
    "also", "would", "could", "one", "s", "t",
}  # fmt: skip

MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December",
)  # fmt: skip
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# The abbreviations news writes for them ("Aug", "Sept", "Tues"), with the names they stand for.
ABBREVIATED: dict[str, str] = {name[:3]: name for name in (*MONTHS, *WEEKDAYS) if name != name[:3]} | {
    "Sept": "September",
    "Tues": "Tuesday",
}
MONTH_ABBREVIATIONS = tuple(short for short, name in ABBREVIATED.items() if name in MONTHS)


_STEMMER = Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """The lower-cased words of ``text``, possessive ’s dropped."""
    return [re.sub(r"['’]s$", "", w) for w in WORD.findall(text.lower())]


def content_terms(text: str) -> list[str]:
    """Stemmed words of ``text`` without stop words, in order (repeats kept)."""
    kept = [w for w in words(text) if w not in STOPWORDS]
    return _STEMMER.stemWords(kept)


def plural(count: int, noun: str) -> str:
    """``count`` and the form of ``noun`` (a regular one) that agrees with it: "1 sentence",
    "0 sentences", "12,000 sentences"."""
    return f"{count:,} {noun if count == 1 else noun + 's'}"
