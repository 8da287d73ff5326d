"""LangChain at the edge: a retriever over the store and the answerer as a Runnable, for
users who compose the assistant into their own LangChain code.

    root = Assistant.from_settings(Settings.from_env())
    docs = root.retriever(k=5).invoke("Who is Khalil Haqqani?")   # list[Document], best first
    reply = root.chain().invoke("Who is Khalil Haqqani?")         # Answer

The typed core (:mod:`assistant.answerer`) stays free of LangChain's dicts; these adapters
turn its records into ``Document`` metadata and back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import ConfigDict

from assistant.answerer import Answerer, ExtractiveAnswerer
from assistant.data import Answer
from assistant.features import Question


class SentenceRetriever(BaseRetriever):
    """The best-ranked article sentences for a query, as LangChain ``Document``s.

    Each document's ``page_content`` is the sentence; its metadata holds where it is
    (``article_id``, ``title``, ``sentence_index``, ``paragraph_index``, ``start``, ``end``:
    offsets into the article's cleaned text), ``score`` (the ranker's probability, higher is
    better) and the retrieval evidence (``dense``, ``bm25``, ... as in
    :class:`assistant.retrieval.Evidence`).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    answerer: ExtractiveAnswerer
    k: int = 8
    article_ids: Sequence[str] | None = None  # search only these articles (None: all)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        corpus = self.answerer.corpus()
        candidates = self.answerer.candidates(corpus, query, self.article_ids)
        ranking = self.answerer.ranker.rank(corpus, Question.parse(query), candidates)
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
    optionally ``history`` (earlier user turns) and ``article_ids``, in; an ``Answer`` out."""

    def run(request: str | Mapping) -> Answer:
        if isinstance(request, str):
            return answerer.answer(request)
        return answerer.answer(request["question"], request.get("history"), request.get("article_ids"))

    return RunnableLambda(run, name="article_assistant")
