"""LangChain at the edge: a retriever over the searcher, the answerer as a Runnable, and the
embedder as LangChain ``Embeddings``, for users who compose the assistant into their own
LangChain code.

    root = Assistant.from_settings(Settings.from_env())
    docs = SentenceRetriever(searcher=root.searcher, k=5).invoke("Who is Khalil Haqqani?")
    reply = answer_chain(root.answerer).invoke("Who is Khalil Haqqani?")   # Answer

The typed core stays free of LangChain's dicts; these adapters turn its records into
``Document`` metadata and back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings as LangChainEmbeddings
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import ConfigDict

from assistant.answering.answerer import Answerer
from assistant.core.records import Answer
from assistant.question.parse import Question
from assistant.search.searcher import Searcher
from assistant.storage.embedder import Embedder


class SentenceRetriever(BaseRetriever):
    """The best-ranked article sentences for a query, as LangChain ``Document``s.

    Each document's ``page_content`` is the sentence; its metadata holds where it is
    (``article_id``, ``title``, ``sentence_index``, ``paragraph_index``, ``start``, ``end``:
    offsets into the article's cleaned text), ``score`` (the ranker's probability, higher is
    better) and the retrieval evidence (``dense``, ``bm25``, ... as in
    :class:`assistant.search.retrieval.Evidence`).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: Searcher
    k: int = 8
    article_ids: Sequence[str] | None = None  # search only these articles (None: all)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        ranking = self.searcher.search(Question.parse(query), self.article_ids)
        documents = []
        for candidate, probability in zip(ranking.candidates[: self.k], ranking.probabilities, strict=False):
            s = candidate.sentence
            metadata = {
                "id": s.id,
                "article_id": s.article_id,
                "title": s.title,
                "sentence_index": s.sentence_index,
                "paragraph_index": s.paragraph_index,
                "start": s.start,
                "end": s.end,
                "score": float(probability),
                **asdict(candidate.evidence),
            }
            documents.append(Document(page_content=s.text, metadata=metadata))
        return documents


def answer_chain(answerer: Answerer) -> Runnable:
    """A Runnable over ``answerer``: a question string, or a mapping with ``question`` and
    optionally ``history`` (earlier questions or turns) and ``article_ids``, in; an ``Answer`` out."""

    def run(request: str | Mapping) -> Answer:
        if isinstance(request, str):
            return answerer.answer(request)
        return answerer.answer(request["question"], request.get("history"), request.get("article_ids"))

    return RunnableLambda(run, name="article_assistant")


class Embeddings(LangChainEmbeddings):
    """The bundled embedder as LangChain ``Embeddings``, for LangChain's vector stores."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One vector per text."""
        return self.embedder.embed(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        """The vector of one query."""
        return self.embedder.embed([text])[0].tolist()
