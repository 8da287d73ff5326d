"""Extractive summaries: the sentences that best cover an article, for "Summarize the article".

Each sentence of the article is scored by how central it is (cosine of its embedding with
the article's mean embedding), plus the weight news gives its lead (the first sentences say
who, what and when), less for a fragment of a few words. Sentences are then taken one by one
by maximal marginal relevance, each the best score less its likeness to those already
taken, so that no two say the same thing. The order they are taken in is the article's
summary order: a summary shows the first few of it, "Tell me more" the next ones; both are
shown in article order.
"""

from __future__ import annotations

import numpy as np

from assistant.storage.corpus import Corpus

LEAD_WEIGHT = 0.3  # added to the first sentence's score, decaying by half every ~1.4 sentences
LEAD_DECAY = 2.0
SHORT_WORDS = 8  # sentences with fewer words weigh proportionally less
REDUNDANCY = 0.7  # how much likeness to a taken sentence costs
SAME = 0.92  # cosine above which a sentence only repeats one already taken
SIZE = (3, 5)  # sentences in a summary: at least, at most


def summary_size(sentences: int) -> int:
    """How many sentences summarise an article of ``sentences``: one for about every six,
    within :data:`SIZE`, and never more than it has."""
    return min(sentences, max(SIZE[0], min(SIZE[1], round(sentences / 6))))


def summary_order(corpus: Corpus, rows: np.ndarray) -> list[int]:
    """The article's rows (in article order) in the order a summary takes them, best first."""
    if not len(rows):
        return []
    vectors = corpus.embeddings[rows]
    centre = vectors.sum(axis=0)
    centre /= max(float(np.linalg.norm(centre)), 1e-12)
    lengths = np.array([len(corpus.sentences[int(r)].text.split()) for r in rows])
    lead = LEAD_WEIGHT * np.exp(-np.arange(len(rows)) / LEAD_DECAY)
    score = (vectors @ centre) * np.minimum(1.0, lengths / SHORT_WORDS) + lead
    likeness = vectors @ vectors.T
    taken: list[int] = []
    left = list(range(len(rows)))
    while left:
        penalty = likeness[np.ix_(left, taken)].max(axis=1) if taken else np.zeros(len(left))
        best = int(np.argmax(score[left] - REDUNDANCY * np.clip(penalty, 0, None)))
        position = left.pop(best)
        if not taken or penalty[best] < SAME:
            taken.append(position)
    return [int(rows[i]) for i in taken]
