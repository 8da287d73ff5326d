"""Citing: the sentences an answer quotes, each as a :class:`Citation` with its exact place,
and the answer text that carries their [n] markers."""

from __future__ import annotations

from collections.abc import Sequence

from assistant.core.records import Answer, Citation
from assistant.storage.corpus import Corpus


def citation(corpus: Corpus, row: int, score: float) -> Citation:
    """The citation of the sentence in ``row``, with its article's site, date and address."""
    s = corpus.sentences[row]
    meta = corpus.article_meta[corpus.article_of[row]]
    return Citation(
        text=s.text,
        article_id=s.article_id,
        title=s.title,
        sentence_index=s.sentence_index,
        start=s.start,
        end=s.end,
        score=round(score, 4),
        site=meta.site,
        published=meta.published,
        url=meta.url,
        file=meta.file,
    )


def compose(citations: Sequence[Citation], lead: str = "") -> Answer:
    """The answer: ``lead`` (when given) on a line of its own, then each cited sentence
    followed by its marker."""
    text = " ".join(f"{c.text} [{n}]" for n, c in enumerate(citations, 1))
    return Answer(text=f"{lead}\n\n{text}" if lead else text, citations=tuple(citations))
