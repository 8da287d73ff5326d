"""Checking a generated answer sentence by sentence against the sources each sentence cites.

A language model that writes an answer can add what its sources never said: another year, a
name from elsewhere, a detail of its own. So every sentence it writes is split off
(sentencex, as ingest splits articles), and is *supported* only when

- it carries [n] markers, each naming one of the numbered sources;
- every figure in it (digits or number words, with their scale: "USD 5 million" is
  5,000,000; ordinals; years), every month and weekday, and every name (spaCy's named
  entities and any capitalised word after the first) stands in the sentences it cites;
- it does not add a negation they lack, nor drop one from what they deny ("he had seen
  evidence" against "he hadn't seen evidence");
- its content is theirs: its content words (:func:`assistant.core.text.content_terms`) are
  mostly their words, and its meaning is close to theirs (cosine of the bundled embedding
  model's vectors).

Names are looked for in the cited sentences only, not in the sentences around them: a name
swapped in from a neighbouring sentence is the commonest way to go wrong. A claim that
fails gets a short reason ("2015 is not in [2]").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sentencex

from assistant.answering.entities import EntityTagger
from assistant.answering.names import mentions
from assistant.core.records import Claim
from assistant.core.text import ABBREVIATED, MONTHS, WEEKDAYS, content_terms, plural, words
from assistant.storage.embedder import Embedder

MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
# A claim is supported when at least this share of its content words are its sources' words
# (tuned on the labelled set's tune half: faithful claims 0.80 and up, invented ones 0.67 and
# below, but for one)...
MIN_OVERLAP = 0.75
# ... and its meaning is at least this close to a passage of theirs: cosine of unit vectors,
# the best over runs of one to three clauses of the sources (a claim often restates a clause
# of a long sentence).
MIN_COSINE = 0.65
_CLAUSE_BREAK = re.compile(r"[,;:()“”\"]\s*|\s+(?:and|but|while|which|who|whose|after|before|because)\s+")

# spaCy labels that name something, as opposed to figures and dates (checked apart)
NAME_LABELS = frozenset("PERSON NORP FAC ORG GPE LOC PRODUCT EVENT WORK_OF_ART LAW LANGUAGE".split())
# "one" is left out: far more often a pronoun ("one of the new rulers") than a count.
_UNITS = {
    word: value
    for value, word in enumerate(
        ("zero", "", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
    )
    if word
}  # fmt: skip
_TENS = {w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}
_ORDINALS = {
    w: i + 1
    for i, w in enumerate(
        "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
        "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth".split()
    )
}
_SCALES = {"hundred": 1e2, "thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6,
           "billion": 1e9, "bn": 1e9, "trillion": 1e12, "crore": 1e7, "lakh": 1e5}  # fmt: skip
_NUMBER_WORDS = "|".join(sorted({*_UNITS, *_TENS, *_ORDINALS}, key=len, reverse=True))
_COMPOUND = f"(?:{'|'.join(_TENS)})-(?:one|{'|'.join(w for w, v in _UNITS.items() if 0 < v < 10)})"
_FIGURE = re.compile(
    rf"(?<![\w.])(?:(?P<digits>\d+(?:,\d{{3}})*(?:\.\d+)?)(?P<suffix>st|nd|rd|th)?|(?P<word>{_COMPOUND}|{_NUMBER_WORDS})\b)"
    rf"(?:\s*(?P<scale>{'|'.join(_SCALES)})\b)?",
    re.I,
)
_CALENDAR = frozenset(name.lower() for name in (*MONTHS, *WEEKDAYS))
_ABBREVIATED = {short.lower(): name.lower() for short, name in ABBREVIATED.items()}
# Words that deny what follows them; a claim must not add one nor drop one from its source.
_NEGATIONS = frozenset(
    "not no never neither nor none nobody nothing nowhere without cannot refused refuses refuse "
    "declined declines decline".split()
)
NEGATED_SPAN = 2  # content words after a negation taken as what it denies
# Words that say the opposite of each other: a claim that has one where its sources have the
# other turned the fact round ("youngest son" against "eldest son").
_OPPOSITES = (
    ("north", "south"), ("east", "west"), ("before", "after"), ("eldest", "youngest"), ("oldest", "youngest"),
    ("largest", "smallest"), ("highest", "lowest"), ("first", "last"), ("earliest", "latest"),
    ("increase", "decrease"), ("rise", "fall"), ("more", "less"), ("more", "fewer"), ("won", "lost"),
    ("win", "lose"), ("above", "below"), ("majority", "minority"), ("maximum", "minimum"),
    ("large", "small"), ("high", "low"), ("strong", "weak"), ("success", "failure"), ("accept", "reject"),
)  # fmt: skip
_OPPOSITE_OF = {
    word: {b for a, b in _OPPOSITES if a == word} | {a for a, b in _OPPOSITES if b == word}
    for pair in _OPPOSITES
    for word in pair
}
_CAPITALISED = re.compile(r"\b[A-Z][\w’'-]*")


@dataclass(frozen=True, slots=True)
class Figure:
    """A number as written: its value, whether it counts or orders ("third", "14th"), and
    the stem of the word right after it, what it counts ("242 Marshall Scholars" -> "marshal")."""

    value: float
    ordinal: bool
    text: str
    counts: str


def figures(text: str) -> list[Figure]:
    """The numbers of ``text``, from digits or words, scaled: "USD 5 million" -> 5,000,000."""
    found = []
    for match in _FIGURE.finditer(text):
        digits, word, scale = match.group("digits"), match.group("word"), match.group("scale")
        if digits:
            value, ordinal = float(digits.replace(",", "")), bool(match.group("suffix"))
        else:
            word = word.lower()
            ordinal = word in _ORDINALS
            tens, _, unit = word.partition("-")
            units = _TENS[tens] + (_UNITS.get(unit) or 1) if unit else _UNITS.get(word, _TENS.get(word))
            value = _ORDINALS.get(word) or units
        if scale and not (scale.lower() in ("m", "k") and not digits):
            value *= _SCALES[scale.lower()]
        following = content_terms(" ".join(text[match.end() :].split()[:1]))
        found.append(Figure(float(value), ordinal, match.group(0).strip(), following[0] if following else ""))
    return found


def calendar_words(text: str) -> set[str]:
    """The months and weekdays ``text`` names, as full lower-case names ("Aug" -> "august")."""
    found = (word.lower() for word in re.findall(r"\b[A-Z][a-z]+\b", text))
    return {_ABBREVIATED.get(word, word) for word in found} & _CALENDAR


def markers(sentence: str) -> tuple[int, ...]:
    """The source numbers of the [n] markers in ``sentence``, in order, each once."""
    found = (int(n) for match in MARKER.finditer(sentence) for n in match.group(1).split(","))
    return tuple(dict.fromkeys(found))


def without_markers(sentence: str) -> str:
    """``sentence`` with its [n] markers taken out."""
    return re.sub(r"\s+([.,;:!?])", r"\1", MARKER.sub("", sentence)).strip()


def split_claims(text: str) -> list[str]:
    """The sentences of a generated answer, each with the markers that follow it.

    sentencex keeps "... here. [1]" together; markers it leaves at the start of the next
    sentence ("[2] Next ...") go back to the one before.
    """
    spans = sentencex.get_sentence_boundaries("en", text)
    claims: list[str] = []
    for span in spans:
        sentence = text[span["start_index"] : span["end_index"]].strip()
        leading = re.match(r"(?:\s*\[\d+(?:\s*,\s*\d+)*\])+", sentence)
        if leading and claims:
            claims[-1] += leading.group(0)
            sentence = sentence[leading.end() :].strip()
        if sentence and (re.search(r"\w", without_markers(sentence)) or not claims):
            claims.append(sentence)
        elif sentence:
            claims[-1] += " " + sentence
    return claims


class Verifier:
    """Judges each sentence of a generated answer against the sources it cites."""

    def __init__(self, embedder: Embedder, tagger: EntityTagger) -> None:
        self.embedder = embedder
        self.tagger = tagger

    def check_answer(self, text: str, sources: Sequence[str]) -> tuple[Claim, ...]:
        """Every sentence of ``text`` as a :class:`Claim`; ``sources[n - 1]`` is source [n]."""
        return tuple(self.check(sentence, sources) for sentence in split_claims(text))

    def check(self, sentence: str, sources: Sequence[str]) -> Claim:
        """One sentence as a :class:`Claim`, supported or not, with the reason when not."""
        cited = markers(sentence)
        return Claim(sentence, cited, *self._judge(sentence, cited, sources))

    def _judge(self, sentence: str, cited: tuple[int, ...], sources: Sequence[str]) -> tuple[bool, str]:
        if not cited:
            return False, "cites no source"
        unknown = [n for n in cited if not 1 <= n <= len(sources)]
        if unknown:
            return False, f"cites [{unknown[0]}], but the model was given {plural(len(sources), 'source')}"
        claim = without_markers(sentence)
        texts = [sources[n - 1] for n in cited]
        reason = (
            self._missing_figure(claim, texts)
            or self._missing_name(claim, texts)
            or self._negation(claim, texts)
            or self._opposite(claim, texts)
            or self._uncovered(claim, texts)
        )
        return not reason, reason.format(where="".join(f"[{n}]" for n in cited))

    @staticmethod
    def _missing_figure(claim: str, texts: list[str]) -> str:
        """ "2015 is not in {where}" for a figure, month or weekday of the claim its sources lack,
        or a figure they give for something else ("242 Rhodes Scholars" against "335 Rhodes
        Scholars, and 242 Marshall Scholars")."""
        given = [f for text in texts for f in figures(text)]
        for figure in figures(claim):
            same = [f for f in given if f.value == figure.value and f.ordinal == figure.ordinal]
            if not same:
                return f"{figure.text} is not in {{where}}"
            elsewhere = {f.counts for f in given if f not in same} - {f.counts for f in same}
            if figure.counts and figure.counts in elsewhere:
                return f"{figure.text} counts something else in {{where}}"
        missing = sorted(calendar_words(claim).difference(*(calendar_words(text) for text in texts)))
        return f"{missing[0].title()} is not in {{where}}" if missing else ""

    def _missing_name(self, claim: str, texts: list[str]) -> str:
        """ "Sirajuddin is not in {where}" for a name of the claim its sources lack."""
        joined = " ".join(texts)
        (entities,) = self.tagger.entities([claim])
        for entity in entities:
            if entity.label not in NAME_LABELS:
                continue
            # A person is named by every part of their name: "Sirajuddin Haqqani" is not "Khalil Haqqani".
            for part in entity.text.split() if entity.label == "PERSON" else [entity.text]:
                if not mentions(joined, part):
                    return f"{re.sub(r'^[Tt]he ', '', part)} is not in {{where}}"
        # Capitalised words after the first that spaCy did not take for names ("Titan rockets").
        for match in _CAPITALISED.finditer(claim):
            word = match.group(0).rstrip("’'-")
            first = not claim[: match.start()].strip(" \"“‘'(")
            if first or word == "I" or any(e.start <= match.start() < e.end for e in entities):
                continue
            if not mentions(joined, word):
                return f"{word} is not in {{where}}"
        return ""

    @staticmethod
    def _negation(claim: str, texts: list[str]) -> str:
        """Why the claim says yes where its sources say no, or the reverse, or ""."""
        negates = any(_negative(w) for w in words(claim))
        terms = set(content_terms(claim))
        denying = False
        for text in texts:
            source = words(text)
            for i, word in enumerate(source):
                if not _negative(word):
                    continue
                denying = True
                denied = content_terms(" ".join(source[i + 1 : i + 1 + 2 * NEGATED_SPAN]))[:NEGATED_SPAN]
                if not negates and terms & set(denied):
                    return "drops the negation of {where}"
        return "adds a negation not in {where}" if negates and not denying else ""

    @staticmethod
    def _opposite(claim: str, texts: list[str]) -> str:
        """ "says youngest where {where} says eldest" when the claim turned a fact round."""
        said, given = set(words(claim)), {w for text in texts for w in words(text)}
        for word in sorted(said - given):
            opposite = sorted(_OPPOSITE_OF.get(word, set()) & given - said)
            if opposite:
                return f"says {word} where {{where}} says {opposite[0]}"
        return ""

    def _uncovered(self, claim: str, texts: list[str]) -> str:
        """Why the claim says more than its sources, or something else, or ""."""
        terms = list(dict.fromkeys(content_terms(claim)))
        if not terms:
            return "says nothing to check against {where}"
        given = {t for text in texts for t in content_terms(text)}
        extra = [t for t in terms if t not in given]
        if 1 - len(extra) / len(terms) < MIN_OVERLAP:
            return f"says more than {{where}}: {', '.join(_spelled(claim, extra[:3]))}"
        vectors = self.embedder.embed([claim, *clause_runs(texts)])
        cosine = float(np.max(vectors[1:] @ vectors[0]))
        if cosine < MIN_COSINE:
            return f"differs in meaning from {{where}} (cosine {cosine:.2f})"
        return ""


def clause_runs(texts: list[str]) -> list[str]:
    """The sources whole, together, and every run of one to three clauses of each."""
    found = [*texts, " ".join(texts)] if len(texts) > 1 else list(texts)
    for text in texts:
        clauses = [c.strip() for c in _CLAUSE_BREAK.split(text) if c and c.strip()]
        for first in range(len(clauses)):
            found += [" ".join(clauses[first : first + size]) for size in (1, 2, 3)]
    return list(dict.fromkeys(found))


def _negative(word: str) -> bool:
    return word in _NEGATIONS or word.endswith(("n't", "n’t"))


def _spelled(claim: str, stems: list[str]) -> list[str]:
    """The claim's own words for some content-word stems."""
    spelled = {}
    for word in words(claim):
        for stem in content_terms(word):
            spelled.setdefault(stem, word)
    return [spelled.get(stem, stem) for stem in stems]
