"""The plain LangChain RAG the benchmark compares with, run as its own process.

    python bench/baseline.py ingest STORE FOLDER     # add FOLDER's .txt articles to STORE
    python bench/baseline.py ask STORE CASES.json    # top-4 chunks per question

Ingest: each article (title, blank line, text) through ``RecursiveCharacterTextSplitter``
(1000 characters, 200 overlap), then ``Chroma.from_documents`` with the same embeddings as
the assistant (its default backend, as a LangChain ``Embeddings``); later folders are
added to the same collection. Ask: ``similarity_search(question, k=4)``. Both print one
line of JSON; ``ask`` also counts how often the first chunk comes from the gold article
and holds a gold answer (a chunk, not a sentence: a looser test than the assistant's).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

COLLECTION = "baseline"


def _vectorstore(store: Path):
    from langchain_chroma import Chroma

    from assistant.core.settings import Settings
    from assistant.interfaces.langchain import Embeddings
    from assistant.storage.embedder import Embedder

    settings = Settings.from_env()
    embeddings = Embeddings(Embedder(settings.embedding_backend, settings.model_cache))
    return Chroma(collection_name=COLLECTION, embedding_function=embeddings, persist_directory=str(store))


def ingest(store: Path, folder: Path) -> dict:
    """Split and add every article of ``folder``; chunk count and seconds."""
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    started = time.perf_counter()
    vectorstore = _vectorstore(store)
    documents = [
        Document(page_content=path.read_text(encoding="utf-8"), metadata={"source": path.stem})
        for path in sorted(folder.glob("*.txt"))
    ]
    chunks = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(documents)
    batch = 4000  # below Chroma's largest batch
    for first in range(0, len(chunks), batch):
        vectorstore.add_documents(chunks[first : first + batch])
    return {"chunks": len(chunks), "seconds": time.perf_counter() - started}


def ask(store: Path, cases: list[dict]) -> dict:
    """Latency of ``similarity_search(k=4)`` per question (after one warm-up) and chunk hit@1."""
    vectorstore = _vectorstore(store)
    vectorstore.similarity_search(cases[0]["question"], k=4)
    latencies, hits = [], 0
    for case in cases:
        started = time.perf_counter()
        found = vectorstore.similarity_search(case["question"], k=4)
        latencies.append(time.perf_counter() - started)
        first = found[0] if found else None
        hits += bool(
            first
            and first.metadata["source"] == case["source"]
            and any(a in first.page_content for a in case["answers"])
        )
    ms = np.array(latencies) * 1000
    return {
        "p50 ms": float(np.percentile(ms, 50)),
        "p95 ms": float(np.percentile(ms, 95)),
        "chunk hit@1": hits / len(cases),
    }


def main(argv: list[str]) -> int:
    """Entry point: ``ingest STORE FOLDER`` or ``ask STORE CASES.json``."""
    command, store, target = argv[0], Path(argv[1]), Path(argv[2])
    result = ingest(store, target) if command == "ingest" else ask(store, json.loads(target.read_text()))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
