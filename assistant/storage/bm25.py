"""BM25 indexes: built and saved by bm25s, scored from the saved matrices with numpy.

bm25s builds the score matrix fast, but importing it (with scipy) costs every process that
answers 0.15 s and 15 MB. So only the process that builds an index imports it; answering reads
the matrices bm25s saved (memory-mapped, see :mod:`assistant.storage.index`) and adds up
their columns itself, giving the same float32 numbers as bm25s's ``get_scores``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# The files bm25s.BM25.save writes (method "lucene" needs no non-occurrence array).
DATA = "data.csc.index.npy"
INDICES = "indices.csc.index.npy"
INDPTR = "indptr.csc.index.npy"
PARAMS = "params.index.json"
VOCABULARY = "vocab.index.json"
FILES = (DATA, INDICES, INDPTR, PARAMS, VOCABULARY)


@dataclass(frozen=True, slots=True)
class BM25:
    """A BM25 index as bm25s saves it: the (document, term) score matrix in CSC form, whose
    column ``t`` holds the scores of term id ``t`` in the documents that contain it."""

    data: np.ndarray  # (nonzeros,) float32 scores, column after column
    indices: np.ndarray  # (nonzeros,) int32: the document of each score, ascending within a column
    indptr: np.ndarray  # (terms + 1,) int64: column t is data[indptr[t] : indptr[t + 1]]
    documents: int

    def scores(self, term_ids: Sequence[int]) -> np.ndarray:
        """The score of every document for a query of these term ids (a repeated term counts
        again), summed in query order in float32 as bm25s's ``get_scores`` does.

        Cost: one float32 array per document, plus the documents that hold each term."""
        scores = np.zeros(self.documents, dtype=np.float32)
        for term in term_ids:
            start, end = self.indptr[term], self.indptr[term + 1]
            np.add.at(scores, self.indices[start:end], self.data[start:end])
        return scores


def save(folder: Path, documents: list[list[int]], vocabulary: Mapping[str, int]) -> None:
    """Build the BM25 index of ``documents`` (each a list of term ids of ``vocabulary``) with
    bm25s and save it in ``folder`` in bm25s's format (:data:`FILES`)."""
    import bm25s
    from bm25s.tokenization import Tokenized

    index = bm25s.BM25()
    with warnings.catch_warnings():  # with no documents bm25s averages their lengths over nothing
        warnings.simplefilter("ignore", RuntimeWarning)
        index.index(
            Tokenized(ids=documents, vocab=dict(vocabulary)),
            create_empty_token=False,
            show_progress=False,
        )
    index.save(folder, show_progress=False)
