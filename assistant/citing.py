"""Citing: the sentences an answer quotes, each as a :class:`Citation` with its exact place,
and the answer text that carries their [n] markers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from assistant.corpus import Corpus
from assistant.data import Answer, Citation
from assistant.ranking import Ranking

MAX_CITATIONS = 3
# A further sentence is cited when p >= ratio * p(best). The ranker's softmax is peaked: the
# seed questions' second supports score 0.19 of the best, other runners-up below 0.02.
EXTRA_CITATION_RATIO = 0.15
NEAR_DUPLICATE = 0.9  # cosine between two sentences above which only the first is cited


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
    )


def cite(
    corpus: Corpus, ranking: Ranking, eligible: Callable[[int], bool] = lambda i: True
) -> tuple[Citation, ...]:
    """The best eligible candidate, then up to two more strong ones that are not near-duplicates.

    ``eligible(i)`` says whether the candidate at position ``i`` may be cited (a near miss
    may not); it is asked in ranking order, for as few candidates as it takes."""
    chosen: list[int] = []
    best = ranking.probabilities[0] if len(ranking) else 0.0  # then the first one cited
    for i, candidate in enumerate(ranking.candidates[: MAX_CITATIONS * 4]):
        if len(chosen) == MAX_CITATIONS or ranking.probabilities[i] < EXTRA_CITATION_RATIO * best:
            break
        vector = corpus.embeddings[candidate.row]
        if any(float(vector @ corpus.embeddings[ranking.candidates[c].row]) > NEAR_DUPLICATE for c in chosen):
            continue
        if not eligible(i):
            continue
        if not chosen:
            best = ranking.probabilities[i]
        chosen.append(i)
    return tuple(citation(corpus, ranking.candidates[i].row, float(ranking.probabilities[i])) for i in chosen)


def compose(citations: Sequence[Citation], lead: str = "") -> Answer:
    """The answer: ``lead`` (when given) on a line of its own, then each cited sentence
    followed by its marker."""
    text = " ".join(f"{c.text} [{n}]" for n, c in enumerate(citations, 1))
    return Answer(text=f"{lead}\n\n{text}" if lead else text, citations=tuple(citations))
