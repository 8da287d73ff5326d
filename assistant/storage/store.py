"""The Chroma store: the one module that knows collection names, metadata keys, id format
and distance space, so that the writer (ingest) and the reader (retrieval) cannot drift.

Two collections live in it:

- ``sentences``: one record per sentence, its embedding, its text as the document and its
  place in the article as metadata (cosine space; similarity = 1 - distance).
- ``articles``: one record per article, the cleaned text as the document, its title, source,
  sentence count, content hash and what the page said about itself (url, published date,
  author, site, language) as metadata. This registry is the source of truth for
  what is visible: a sentence counts only when its content hash is its article's current
  one, so a replacement becomes visible all at once and an interrupted ingest never shows
  half an article.

The ``articles`` collection's metadata carries a ``generation`` token, renewed on every
write, so readers can tell cheaply whether their in-memory copy is stale.

Embedded Chroma keeps each collection's vector index in the memory of the process that
opened it and never reloads it, so a process that kept the store open does not see what
another process wrote since (reading a new sentence's embedding fails with "Error finding
id"), and two processes must not load or save those index files at the same moment. So with
the embedded store every operation runs under a lock file in the store folder and first
compares the generation token with the one its client last saw: when another process wrote
in between, the client is reopened (see :class:`_Connection`). A Chroma server serves every
process itself and needs neither.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from filelock import FileLock

from assistant.core.errors import StoreError
from assistant.core.records import Article, ArticleInfo, Metadata, Sentence, file_name
from assistant.core.settings import Settings
from assistant.storage.embedder import DIMENSION

log = logging.getLogger(__name__)

SENTENCES = "sentences"
ARTICLES = "articles"
PAGE = 5000  # records per get() page, below every server's batch limit
LOCK_FILE = ".assistant.lock"  # in the embedded store's folder

# metadata keys of a sentence record
ARTICLE_ID = "article_id"
TITLE = "title"
SOURCE = "source"
SENTENCE_INDEX = "sentence_index"
PARAGRAPH_INDEX = "paragraph_index"
START = "start"
END = "end"
CONTENT_HASH = "content_hash"
# metadata keys of an article record, besides title, source and content hash
SENTENCE_COUNT = "sentence_count"
ADDED = "added"  # when this version was stored: "2026-12-06T04:40:00+00:00"
PENDING = "pending_cleanup"  # old sentences may still need deleting
META = ("url", "published", "author", "site", "language")  # the stored fields of Metadata, None left out
GENERATION = "generation"
_ARTICLE_VECTOR = [1.0]  # the registry is never searched, but Chroma wants a vector


def sentence_id(article_id: str, content_hash: str, index: int) -> str:
    """The id of a sentence record: derived from the article and its content, never a counter."""
    return f"{article_id}:{content_hash[:16]}:{index}"


@dataclass(frozen=True, slots=True)
class StoredSentence:
    """A sentence record as read back from the store."""

    id: str
    text: str
    article_id: str
    title: str
    sentence_index: int
    paragraph_index: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a reader sees of the store at one moment: the registry and every visible sentence
    (its article's current version) with its embedding, as of ``generation``."""

    generation: str
    articles: list[ArticleInfo]
    sentences: list[StoredSentence]
    embeddings: np.ndarray  # one row per sentence
    # False when writes kept landing between the reads (a busy server) or left an article partly read
    consistent: bool


@dataclass(frozen=True, slots=True)
class Known:
    """What the registry holds for some article ids and contents (see :meth:`Store.known`)."""

    by_id: dict[str, ArticleInfo]  # the registered article with each id
    by_content: dict[str, ArticleInfo]  # a registered article holding each content
    unfinished: frozenset[str]  # ids whose old sentences an interrupted run left behind


def _client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.remote:
            headers = {}
            if settings.chroma_auth_token:
                headers["Authorization"] = f"Bearer {settings.chroma_auth_token}"
            return chromadb.HttpClient(
                host=settings.chroma_host,
                port=settings.chroma_port,
                ssl=settings.chroma_ssl,
                headers=headers,
                settings=chroma_settings,
            )
        return chromadb.PersistentClient(path=str(settings.store), settings=chroma_settings)
    except Exception as e:  # chromadb raises plain ValueError/ConnectionError and others
        raise StoreError(f"cannot open the store at {settings.store_label}: {e}") from e


class _Connection:
    """The Chroma client and collections of one store, shared by this process's Stores on it.

    :meth:`session` wraps every store operation. With the embedded store it holds the lock
    file (and a thread lock, as one client serves every thread) and reopens the client when
    the generation token is not the one this client last saw, that is, when another process
    wrote since; a writing session renews the token.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._thread_lock = threading.RLock()
        self._file_lock = (
            None if settings.remote else FileLock(settings.store / LOCK_FILE, thread_local=False)
        )
        self._client = None
        self.sentences = self.articles = None
        self._seen = ""  # the generation token as of this client's opening or last write

    @contextmanager
    def session(self, writing: bool = False) -> Iterator[None]:
        """Run store operations: exclusive, on a client that has seen every write so far."""
        from chromadb.errors import ChromaError

        with self._thread_lock, self._locked():
            try:
                if self._client is None:
                    self._open()
                elif self._file_lock is not None and self.generation() != self._seen:
                    log.debug("%s was written by another process: reopening it", self.settings.store)
                    self._client.close()
                    self._client = None
                    self._open()
                yield
                if writing:
                    self._seen = uuid.uuid4().hex
                    self.articles.modify(metadata={GENERATION: self._seen})
            except ChromaError as e:
                raise StoreError(f"the store at {self.settings.store_label} failed: {e}") from e

    def generation(self) -> str:
        """The store's generation token as it is now (read afresh, not from a cache)."""
        metadata = self._client.get_collection(ARTICLES, embedding_function=None).metadata
        return str((metadata or {}).get(GENERATION, ""))

    def _locked(self):
        if self._file_lock is None:
            return nullcontext()
        try:
            self.settings.store.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot open the store at {self.settings.store_label}: {e}") from e
        return self._file_lock

    def _open(self) -> None:
        client = _client(self.settings)
        try:
            sentences = client.get_or_create_collection(
                SENTENCES, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
            )
            articles = client.get_or_create_collection(ARTICLES, embedding_function=None)
        except Exception as e:
            raise StoreError(f"cannot open the collections in {self.settings.store_label}: {e}") from e
        self._client, self.sentences, self.articles = client, sentences, articles
        self._seen = self.generation()


# Chroma itself keeps one System per embedded store folder per process (shared and
# refcounted by every client on that path), and a reopen reloads the index only when every
# client on it closes. So the connections here mirror Chroma's: one per folder and process,
# shared by every Store on it, or one Store's reopen would leave another's client stale.
_connections: dict[Path, _Connection] = {}  # embedded store folder -> its connection
_connections_lock = threading.Lock()


def _connection(settings: Settings) -> _Connection:
    """The connection for the store in ``settings``: one per embedded store folder (see above)."""
    if settings.remote:
        return _Connection(settings)
    with _connections_lock:
        folder = settings.store.resolve()
        if folder not in _connections:
            _connections[folder] = _Connection(settings)
        return _connections[folder]


class Store:
    """Reads and writes articles and sentences in one Chroma database."""

    def __init__(self, settings: Settings) -> None:
        self.label = settings.store_label
        self._connection = _connection(settings)
        with self._connection.session():  # open now, so that a bad store fails here
            pass

    @property
    def _sentences(self):
        return self._connection.sentences

    @property
    def _articles(self):
        return self._connection.articles

    # -- reading ---------------------------------------------------------------------------

    def generation(self) -> str:
        """A token that changes whenever the store is written to."""
        with self._connection.session():
            if self._connection.settings.remote:
                return self._connection.generation()
            return self._connection._seen  # the session has just compared it with the store's

    def cache_folder(self) -> Path:
        """A folder for copies derived from this store (the corpus cache): inside the embedded
        store's folder, or for a server under the model cache, one folder per server."""
        settings = self._connection.settings
        if not settings.remote:
            return settings.store / ".assistant-cache"
        scheme = "https" if settings.chroma_ssl else "http"
        return settings.model_cache / "servers" / f"{scheme}-{settings.chroma_host}-{settings.chroma_port}"

    def articles(self) -> list[ArticleInfo]:
        """Every visible article, in title order."""
        found = []
        for ids, metadatas in self._article_pages():
            found += [_article_info(i, m) for i, m in zip(ids, metadatas, strict=True)]
        return sorted(found, key=lambda a: (a.title.lower(), a.article_id))

    def article(self, article_id: str) -> ArticleInfo | None:
        """The article with this id, or None."""
        with self._connection.session():
            got = self._articles.get(ids=[article_id], include=["metadatas"])
        if not got["ids"]:
            return None
        return _article_info(got["ids"][0], got["metadatas"][0])

    def known(self, article_ids: Sequence[str], content_hashes: Sequence[str]) -> Known:
        """What the registry holds for these ids and contents, in one lookup for them all."""
        if not article_ids and not content_hashes:
            return Known({}, {}, frozenset())
        with self._connection.session():
            same_id = self._articles.get(ids=list(dict.fromkeys(article_ids)), include=["metadatas"])
            same_content = self._articles.get(
                where={CONTENT_HASH: {"$in": list(dict.fromkeys(content_hashes))}}, include=["metadatas"]
            )
        by_id = dict(zip(same_id["ids"], same_id["metadatas"], strict=True))
        by_content: dict[str, ArticleInfo] = {}
        for i, meta in zip(same_content["ids"], same_content["metadatas"], strict=True):
            by_content.setdefault(meta[CONTENT_HASH], _article_info(i, meta))
        return Known(
            by_id={i: _article_info(i, meta) for i, meta in by_id.items()},
            by_content=by_content,
            unfinished=frozenset(i for i, meta in by_id.items() if meta.get(PENDING)),
        )

    def article_text(self, article_id: str) -> str | None:
        """The cleaned text of an article (what citation offsets point into), or None."""
        with self._connection.session():
            got = self._articles.get(ids=[article_id], include=["documents"])
        return got["documents"][0] if got["ids"] else None

    def snapshot(self, attempts: int = 3) -> Snapshot:
        """The registry and every visible sentence as of one generation.

        Reading takes several requests, and a write landing between them (an ingest deleting an
        article's old version) would leave an article out of what was read. With the embedded
        store the whole read holds the store's lock, so no write lands in between; a server has
        no such lock, so the read is repeated (at most ``attempts`` times) until the generation
        is the same after it as before it and every article read is whole (a write renews the
        generation only once it is done, so a read that ends in between sees the same one). A
        server may also fail a read that a delete lands in ("Error finding id"); that read is
        made again too."""
        remote = self._connection.settings.remote
        read: Snapshot | None = None
        with self._connection.session():
            for attempt in range(attempts):
                generation = self.generation()
                try:
                    articles = self.articles()
                    sentences, embeddings = self._visible(articles)
                except StoreError:
                    if remote and (read is not None or attempt < attempts - 1):
                        continue
                    raise
                consistent = _whole(articles, sentences) and self.generation() == generation
                read = Snapshot(generation, articles, sentences, embeddings, consistent)
                if consistent:
                    return read
            log.warning(
                "%s kept changing while it was read, or an article in it is incomplete; "
                "it is read again for the next question",
                self.label,
            )
            return read

    def _visible(self, articles: Sequence[ArticleInfo]) -> tuple[list[StoredSentence], np.ndarray]:
        """Every sentence of the current version of ``articles``, with its embedding."""
        current = {a.article_id: a.content_hash for a in articles}
        sentences: list[StoredSentence] = []
        vectors: list[np.ndarray] = []
        ids: set[str] = set()
        offset = 0
        while True:
            with self._connection.session():
                got = self._sentences.get(
                    include=["documents", "metadatas", "embeddings"], limit=PAGE, offset=offset
                )
            if not got["ids"]:
                return sentences, np.concatenate(vectors) if vectors else np.zeros((0, DIMENSION), np.float32)
            offset += len(got["ids"])
            keep = [
                k
                for k, meta in enumerate(got["metadatas"])
                if current.get(meta[ARTICLE_ID]) == meta[CONTENT_HASH] and got["ids"][k] not in ids
            ]
            ids.update(got["ids"][k] for k in keep)  # pages shift under a server's writes
            sentences += [
                StoredSentence(
                    id=got["ids"][k],
                    text=got["documents"][k],
                    article_id=(meta := got["metadatas"][k])[ARTICLE_ID],
                    title=meta[TITLE],
                    sentence_index=meta[SENTENCE_INDEX],
                    paragraph_index=meta[PARAGRAPH_INDEX],
                    start=meta[START],
                    end=meta[END],
                )
                for k in keep
            ]
            vectors.append(np.asarray(got["embeddings"], dtype=np.float32)[keep])

    def nearest(
        self, embedding: np.ndarray, k: int, article_ids: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` nearest sentence ids with their cosine similarity, higher is more similar."""
        where = {ARTICLE_ID: {"$in": list(article_ids)}} if article_ids else None
        with self._connection.session():  # Chroma returns fewer than k when it holds fewer
            got = self._sentences.query(
                query_embeddings=[embedding], n_results=k, where=where, include=["distances"]
            )
        # Chroma's cosine space gives distance = 1 - cosine similarity.
        return [(i, 1.0 - d) for i, d in zip(got["ids"][0], got["distances"][0], strict=True)]

    def sentence_count(self) -> int:
        """Sentence records in the store, including any not yet (or no longer) visible."""
        with self._connection.session():
            return self._sentences.count()

    def _article_pages(self) -> Iterator[tuple[list, list]]:
        offset = 0
        while True:
            with self._connection.session():
                got = self._articles.get(include=["metadatas"], limit=PAGE, offset=offset)
            if not got["ids"]:
                return
            yield got["ids"], got["metadatas"]
            offset += len(got["ids"])

    # -- writing ---------------------------------------------------------------------------

    def write_sentences(self, items: Sequence[tuple[Article, Sentence]], embeddings: np.ndarray) -> None:
        """Write sentences with their embeddings (invisible until :meth:`commit_articles`)."""
        with self._connection.session(writing=True):
            self._sentences.upsert(
                ids=[sentence_id(a.article_id, a.content_hash, s.index) for a, s in items],
                embeddings=embeddings,
                documents=[s.text for _, s in items],
                metadatas=[
                    {
                        ARTICLE_ID: a.article_id,
                        TITLE: a.title,
                        SOURCE: a.source,
                        SENTENCE_INDEX: s.index,
                        PARAGRAPH_INDEX: s.paragraph,
                        START: s.start,
                        END: s.end,
                        CONTENT_HASH: a.content_hash,
                    }
                    for a, s in items
                ],
            )

    def commit_articles(self, articles: Sequence[Article]) -> None:
        """Make the written sentences of each article visible, then drop their older versions.

        One registry update for them all: each article appears whole, old version or new."""
        if not articles:
            return
        with self._connection.session(writing=True):
            self._articles.upsert(
                ids=[a.article_id for a in articles],
                embeddings=[_ARTICLE_VECTOR] * len(articles),
                documents=[a.text for a in articles],
                metadatas=[
                    {
                        TITLE: a.title,
                        SOURCE: a.source,
                        SENTENCE_COUNT: len(a.sentences),
                        CONTENT_HASH: a.content_hash,
                        ADDED: datetime.now(UTC).isoformat(timespec="seconds"),
                        PENDING: True,
                        **_meta_fields(a.meta),
                    }
                    for a in articles
                ],
            )
            self.finish_articles({a.article_id: a.content_hash for a in articles})

    def update_metadata(self, article: Article) -> None:
        """Replace what the store knows about an unchanged article (its text stays as it is)."""
        with self._connection.session(writing=True):
            self._articles.update(
                ids=[article.article_id], metadatas=[{SOURCE: article.source, **_meta_fields(article.meta)}]
            )

    def finish_articles(self, versions: dict[str, str]) -> None:
        """Delete sentences of other versions than ``versions`` (article id -> content hash)
        and clear the articles' pending marks."""
        # One $in/$nin filter, not an $or of per-article ones: Chroma runs it about 25x
        # faster at 100k sentences. The only sentences it could spare, an old version of one
        # article holding the very content of another in the batch, stay invisible anyway:
        # readers see an article's registered version only.
        stale = {
            "$and": [{ARTICLE_ID: {"$in": list(versions)}}, {CONTENT_HASH: {"$nin": list(versions.values())}}]
        }
        with self._connection.session(writing=True):
            self._sentences.delete(where=stale)
            self._articles.update(ids=list(versions), metadatas=[{PENDING: False}] * len(versions))

    def remove_article(self, article_id: str) -> bool:
        """Remove an article and its sentences; False when there was nothing to remove."""
        with self._connection.session(writing=True):
            known = bool(self._articles.get(ids=[article_id], include=[])["ids"])
            self._articles.delete(ids=[article_id])  # invisible from here on
            leftovers = self._sentences.get(where={ARTICLE_ID: article_id}, include=[], limit=1)
            self._sentences.delete(where={ARTICLE_ID: article_id})
        return known or bool(leftovers["ids"])

    def touch(self) -> None:
        """Renew the generation token so that readers reload (every write does it too)."""
        with self._connection.session(writing=True):
            pass


def _whole(articles: Sequence[ArticleInfo], sentences: Sequence[StoredSentence]) -> bool:
    """Whether every article has all the sentences of its registered version among ``sentences``."""
    counts = Counter(s.article_id for s in sentences)
    return all(counts[a.article_id] == a.sentence_count for a in articles)


def _meta_fields(meta: Metadata) -> dict:
    """The article record's metadata keys for ``meta``; None removes a key Chroma holds."""
    return {key: getattr(meta, key) for key in META}


def _article_info(article_id: str, metadata: dict) -> ArticleInfo:
    return ArticleInfo(
        article_id=article_id,
        title=metadata[TITLE],
        source=metadata[SOURCE],
        sentence_count=metadata[SENTENCE_COUNT],
        content_hash=metadata[CONTENT_HASH],
        added=metadata.get(ADDED),
        meta=Metadata(**{key: metadata.get(key) for key in META}, file=file_name(metadata[SOURCE])),
    )
