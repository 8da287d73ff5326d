"""Ingest: files -> cleaned articles -> embedded sentences in the store, in bounded batches.

:class:`Library` is the one way articles get into a store, for the CLI, the chat's upload
and paste, and the evaluation's fresh stores. Sentences of several articles share
embedding batches; an article becomes visible only when all its sentences are written
(:meth:`Store.commit_articles`), so an interrupted run shows nothing half-done and the same
command finishes the rest without duplicates.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, replace
from itertools import islice
from pathlib import Path

import numpy as np

from assistant.core.errors import IngestError
from assistant.core.library import DEFAULT_LINKS, Follow, LinkOptions
from assistant.core.records import (
    Article,
    IngestProgress,
    IngestReport,
    Outcome,
    RawArticle,
    Sentence,
    Status,
)
from assistant.core.settings import Settings
from assistant.core.text import plural
from assistant.storage.embedder import Embedder, EmbeddingProcess
from assistant.storage.store import Known, Store
from ingest.loader import MAX_BYTES, SUFFIXES, find_files, is_link, pasted_article, read_article, read_link
from ingest.split import build_article

log = logging.getLogger(__name__)

FLUSH_SENTENCES = 256  # sentences embedded and written together
LOOKUP_ARTICLES = 64  # articles looked up in the store together
BATCHES_IN_FLIGHT = 2  # batches embedded ahead of the one being written; bounds memory


class _Writer:
    """Embeds queued sentences in shared batches and commits each article once it is whole.

    A long ingest embeds in a worker process (:class:`EmbeddingProcess`) while this process
    reads, splits and writes the batches before, so the cores never wait for Chroma. A short
    one (under one batch) embeds here rather than start a process."""

    def __init__(
        self, store: Store, settings: Settings, embedder: Callable[[], Embedder], progress: _Progress
    ) -> None:
        self._store = store
        self._settings = settings
        self._embedder = embedder  # this process's embedder, for a short ingest
        self._progress = progress
        self._queue: list[tuple[Article, Sentence]] = []
        self._worker: EmbeddingProcess | None = None  # started at the first full batch
        self._embedding: deque[tuple[list[tuple[Article, Sentence]], Future]] = deque()
        self._unwritten: dict[str, int] = {}  # article_id -> sentences not yet written
        self._articles: dict[str, Article] = {}  # article_id -> article waiting for commit
        self.added: set[str] = set()  # ids of every article added in this run
        self.committed = 0  # articles made visible in this run

    def add(self, article: Article) -> None:
        self.added.add(article.article_id)
        self._articles[article.article_id] = article
        self._unwritten[article.article_id] = len(article.sentences)
        for sentence in article.sentences:
            self._queue.append((article, sentence))
            if len(self._queue) >= FLUSH_SENTENCES:
                self._send()

    def pending(self, content_hash: str) -> Article | None:
        """A queued, not yet committed article with this content."""
        return next((a for a in self._articles.values() if a.content_hash == content_hash), None)

    def _send(self) -> None:
        """Queue the batch for the worker; write the oldest ones while too many wait."""
        batch, self._queue = self._queue, []
        if self._worker is None:
            self._worker = EmbeddingProcess(self._settings.embedding_backend, self._settings.model_cache)
        self._embedding.append((batch, self._worker.submit([s.text for _, s in batch])))
        while len(self._embedding) > BATCHES_IN_FLIGHT:
            self._write_next()

    def _write_next(self) -> None:
        """Write the oldest batch sent to the worker, once it is embedded."""
        batch, embedded = self._embedding.popleft()
        self._write(batch, embedded.result())

    def _write(self, batch: list[tuple[Article, Sentence]], embeddings: np.ndarray) -> None:
        self._store.write_sentences(batch, embeddings)
        self._progress.embedded(len(batch))
        for article, _ in batch:
            self._unwritten[article.article_id] -= 1
        whole = [a for a, left in self._unwritten.items() if left == 0]
        self._store.commit_articles([self._articles.pop(a) for a in whole])
        for article_id in whole:
            del self._unwritten[article_id]
        self.committed += len(whole)
        log.info("committed %s (%d in this run so far)", plural(len(whole), "article"), self.committed)

    def finish(self) -> None:
        """Embed, write and commit everything queued."""
        if self._queue and self._worker is None:
            batch, self._queue = self._queue, []
            self._write(batch, self._embedder().embed([s.text for _, s in batch]))
        elif self._queue:
            self._send()
        while self._embedding:
            self._write_next()

    def close(self) -> None:
        """Stop the worker, dropping batches not yet embedded (an interrupted run)."""
        if self._worker is not None:
            self._worker.close()


class _Progress:
    """How far the ingest has got: drawn as a bar on stderr when shown, and told to ``follow``."""

    def __init__(self, show: bool, follow: Follow | None) -> None:
        from tqdm.auto import tqdm

        self._bar = tqdm(desc="ingest", unit=" sentences", disable=not show, smoothing=0.1)
        self._follow = follow
        self._now = IngestProgress(0, 0)

    def read(self, item: RawArticle | Outcome) -> None:
        """One more article read (or failed to read)."""
        name = item.title if isinstance(item, RawArticle) else item.source
        self._tell(IngestProgress(self._now.read + 1, self._now.sentences, name))

    def embedded(self, count: int) -> None:
        """``count`` more sentences embedded and stored."""
        self._bar.update(count)
        self._tell(replace(self._now, sentences=self._now.sentences + count))

    def articles(self, count: int) -> None:
        self._bar.set_postfix(articles=count, refresh=False)

    def _tell(self, now: IngestProgress) -> None:
        self._now = now
        if self._follow is not None:
            self._follow(now)

    def close(self) -> None:
        self._bar.close()


def _failed(source: str, error: IngestError, *names: str) -> Outcome:
    """A failure whose detail is the reason, without the file name the message starts with."""
    reason = str(error)
    for name in (source, *names):
        reason = reason.removeprefix(f"{name}: ")
    return Outcome(source, "failed", reason)


def _counted(raws: Iterable[RawArticle | Outcome], progress: _Progress) -> Iterator[RawArticle | Outcome]:
    """The raw articles, each counted as read when it is (reading is lazy: a feed's pages are
    fetched as they are taken)."""
    for raw in raws:
        progress.read(raw)
        yield raw


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _ingest_chunk(chunk: list[RawArticle | Outcome], store: Store, writer: _Writer) -> list[Outcome]:
    """Build a few articles, look them all up in the store at once, and decide each one."""
    built: list[Outcome | tuple[RawArticle, Article]] = []
    for raw in chunk:
        if isinstance(raw, Outcome):
            built.append(raw)
            continue
        try:
            built.append((raw, build_article(raw)))
        except IngestError as e:
            built.append(_failed(raw.source, e))
    articles = [item[1] for item in built if isinstance(item, tuple)]
    known = store.known([a.article_id for a in articles], [a.content_hash for a in articles])
    return [item if isinstance(item, Outcome) else _decide(*item, known, store, writer) for item in built]


def _decide(raw: RawArticle, article: Article, known: Known, store: Store, writer: _Writer) -> Outcome:
    found = dict(article_id=article.article_id, title=article.title, sentences=len(article.sentences))
    if article.article_id in writer.added:
        return Outcome(raw.source, "skipped", "given more than once", **found)
    existing = known.by_id.get(article.article_id)
    if existing and existing.content_hash == article.content_hash:
        if article.article_id in known.unfinished:
            store.finish_articles({article.article_id: article.content_hash})
        if existing.meta != article.meta:  # the same text, newly dated or attributed
            store.update_metadata(article)
            return Outcome(raw.source, "updated", raw.note or "new metadata", **found)
        return Outcome(raw.source, "unchanged", raw.note, **found)
    original = writer.pending(article.content_hash) or known.by_content.get(article.content_hash)
    if original is not None and original.article_id != article.article_id:
        return Outcome(raw.source, "skipped", f"same content as {original.source}", **found)
    writer.add(article)
    return Outcome(raw.source, "updated" if existing else "added", raw.note, **found)


def _read_inputs(sources: Sequence[str | Path], links: LinkOptions) -> Iterator[RawArticle | Outcome]:
    """Each input read, in order: web addresses fetched, folders walked, files read; every
    failure an outcome."""
    seen_dirs: set[tuple[int, int]] = set()
    read: dict[Path, Path] = {}  # real path -> the path it was first read as
    for source in sources:
        if is_link(str(source)):
            yield from _guarded(str(source), lambda url=str(source): read_link(url, **asdict(links)))
            continue
        for found in find_files([Path(source)], seen_dirs):
            if found.skip_reason:
                status: Status = "failed" if found.path == Path(source) else "skipped"
                yield Outcome(str(found.path), status, found.skip_reason)
            elif (real := found.path.resolve()) in read:  # given twice, or reached again through a link
                yield Outcome(str(found.path), "skipped", f"same file as {read[real]}")
            else:
                read[real] = found.path
                yield from _guarded(str(found.path), lambda path=found.path: [read_article(path)], str(real))


def _guarded(
    source: str, read: Callable[[], Iterable[RawArticle | Outcome]], *names: str
) -> Iterator[RawArticle | Outcome]:
    """What ``read`` yields, a failure becoming a failed outcome for ``source``: a reason the
    loader gives, or, from a library that choked on the input, what it said."""
    try:
        yield from read()
    except IngestError as e:
        yield _failed(source, e, *names)
    except Exception as e:  # a parser's own error on a damaged input: that input fails, not the run
        log.debug("reading %s failed", source, exc_info=True)
        yield Outcome(source, "failed", f"could not be read: {type(e).__name__}: {e}")


class Library:
    """Adds articles to one store: files and folders, one uploaded file, pasted text, or
    articles already read (:class:`RawArticle`). ``embedder`` gives this process's embedder
    (loaded on first use, for an ingest too small to start a worker process for)."""

    suffixes = SUFFIXES
    max_bytes = MAX_BYTES

    def __init__(self, store: Store, settings: Settings, embedder: Callable[[], Embedder]) -> None:
        self._store = store
        self._settings = settings
        self._embedder = embedder

    def add(
        self, raws: Iterable[RawArticle | Outcome], show_progress: bool = False, follow: Follow | None = None
    ) -> IngestReport:
        """Store raw articles (or pass through outcomes already decided) and report each one;
        ``show_progress`` draws a bar on stderr, ``follow`` is told how far it has got."""
        store = self._store
        outcomes: list[Outcome] = []
        progress = _Progress(show_progress, follow)
        try:
            writer = _Writer(store, self._settings, self._embedder, progress)
            try:
                for chunk in _chunks(_counted(raws, progress), LOOKUP_ARTICLES):
                    outcomes += _ingest_chunk(chunk, store, writer)
                    progress.articles(len(outcomes))
                writer.finish()
            except BrokenProcessPool as e:
                raise IngestError(
                    "the embedding worker process stopped (killed, out of memory, or its model failed "
                    "to load: see above); the articles written so far are kept: run the same command "
                    "again to finish the rest"
                ) from e
            finally:
                writer.close()
        finally:
            progress.close()
        return IngestReport(tuple(outcomes))

    def add_sources(
        self,
        sources: Iterable[Path | str],
        links: LinkOptions = DEFAULT_LINKS,
        show_progress: bool = False,
        follow: Follow | None = None,
    ) -> IngestReport:
        """Ingest files, folders (recursively), web pages and feeds: each added, updated,
        unchanged, skipped or failed."""
        return self.add(_read_inputs(list(sources), links), show_progress, follow)

    def add_file(
        self, path: Path, source: str, show_progress: bool = False, follow: Follow | None = None
    ) -> Outcome:
        """Ingest one file (an upload) under the name ``source``, read as the CLI reads files."""
        try:
            raw: RawArticle | Outcome = read_article(Path(path), source)
        except IngestError as e:
            raw = _failed(source, e)
        return self.add([raw], show_progress, follow).outcomes[0]

    def add_text(
        self, title: str, text: str, show_progress: bool = False, follow: Follow | None = None
    ) -> Outcome:
        """Ingest pasted text under its title (source ``pasted:<title>``)."""
        try:
            raw: RawArticle | Outcome = pasted_article(title, text)
        except IngestError as e:
            raw = Outcome(f"pasted:{title}", "failed", str(e))
        return self.add([raw], show_progress, follow).outcomes[0]


def preview(sources: Iterable[Path | str], links: LinkOptions = DEFAULT_LINKS) -> Iterator[Article | Outcome]:
    """What :meth:`Library.add_sources` would store for each input (or why it would fail);
    opens no store and writes nothing."""
    for raw in _read_inputs(list(sources), links):
        if isinstance(raw, Outcome):
            yield raw
            continue
        try:
            yield build_article(raw)
        except IngestError as e:
            yield _failed(raw.source, e)
