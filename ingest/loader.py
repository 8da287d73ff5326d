"""Finding article files and reading them into a title and raw paragraphs.

Folders are walked recursively (symlinks followed, each real folder once, so a link loop
ends); ``.txt``, ``.md`` and ``.html`` files are read as UTF-8 (or UTF-16 with a byte order
mark), with a cp1252 fallback for files that are not. Binary files, files that are not
regular files and files over the size limit are refused with a reason.

Character references ("&amp;", "&#163;") in plain text (a file, a pasted text, a text/plain
page) are decoded here, as a web page's parser and a Markdown parser decode theirs, so every
format stores "£1.8m" where its source wrote "&#163;1.8m", and the sentence offsets point into
the decoded text.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.core.errors import IngestError
from assistant.core.records import Metadata, Outcome, RawArticle
from ingest.clean import unescape_references
from ingest.html import read_html

if TYPE_CHECKING:
    from ingest.fetch import Fetched
from ingest.markdown import read_markdown

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
MAX_BYTES = 20 * 1024 * 1024
_KIND_OF_SUFFIX = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
}
_KIND_OF_TYPE = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/plain": "text",
    "application/pdf": "pdf",
}


@dataclass(frozen=True, slots=True)
class Found:
    """A path met while walking the inputs: a file to read, or one passed over and why."""

    path: Path
    skip_reason: str = ""


def find_files(paths: list[Path], seen_dirs: set[tuple[int, int]] | None = None) -> Iterator[Found]:
    """Article files under ``paths`` in a stable order; unusable entries come with a reason.

    ``seen_dirs`` (device, inode) holds the folders already walked, shared between calls."""
    seen_dirs = set() if seen_dirs is None else seen_dirs
    for path in paths:
        if path.is_dir():
            yield from _walk(path, seen_dirs)
        elif path.exists():
            yield Found(path)
        else:
            yield Found(path, "no such file or folder")


def _walk(folder: Path, seen_dirs: set[tuple[int, int]]) -> Iterator[Found]:
    for root, dirs, files in os.walk(folder, followlinks=True):
        stat = os.stat(root)
        if (stat.st_dev, stat.st_ino) in seen_dirs:  # a symlink loop or a second link
            dirs[:] = []
            yield Found(
                Path(root), "folder already read through another path (a symlink loop or a second link)"
            )
            continue
        seen_dirs.add((stat.st_dev, stat.st_ino))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(root) / name
            if path.suffix.lower() in SUFFIXES:
                yield Found(path)
            else:
                yield Found(path, f"not an article file ({path.suffix or 'no extension'})")


def read_article(path: Path, source: str | None = None) -> RawArticle:
    """Read one file into a title and paragraphs, or raise :class:`IngestError` saying why.

    ``source`` names the article (and starts every message); by default the file's full
    path. The chat reads its uploads here too, so both say the same for the same file.
    """
    name = source or str(path)
    suffix = Path(name).suffix.lower() if source else path.suffix.lower()
    if suffix not in SUFFIXES:
        raise IngestError(f"{name}: unsupported file type {suffix or '(none)'}; use {', '.join(SUFFIXES)}")
    try:
        if path.exists() and not path.is_file():  # a pipe or a device would block or never end
            raise IngestError(f"{name}: not a regular file")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise IngestError(
                f"{name}: {size / 2**20:.1f} MB is over the {MAX_BYTES / 2**20:.0f} MB limit "
                "for one article; split it into smaller files"
            )
        data = path.read_bytes()
    except OSError as e:
        raise IngestError(f"{name}: cannot read: {e.strerror or e}") from e
    return read_bytes(data, _KIND_OF_SUFFIX.get(suffix, "pdf"), source or str(path.resolve()), name)


def read_bytes(
    data: bytes, kind: str, source: str, name: str, url: str | None = None, charset: str | None = None
) -> RawArticle:
    """Read an article of a kind (``text``, ``markdown``, ``html``, ``pdf``) from its bytes.

    ``name`` starts the messages; ``url`` is where a web page was fetched from (its
    canonical address, when the page gives one, wins) and ``charset`` what its server said
    the text is encoded in."""
    if kind == "pdf":
        from ingest.pdf import read_pdf

        raw = read_pdf(data, source)
        return replace(raw, meta=replace(raw.meta, url=url)) if url else raw
    text, note = decode(data, name, charset)
    return replace(parse_text(text, source, kind, url), note=note)


def is_link(source: str) -> bool:
    """Whether an input names a web address rather than a file."""
    return "://" in source[:12]


def read_link(
    url: str, *, timeout: float, allow_private: bool, feed_limit: int | None
) -> Iterator[RawArticle | Outcome]:
    """The article a web address holds, or, for an RSS or Atom feed, each article it links to
    (newest first, at most ``feed_limit``). The address given is each article's source, so
    fetching it again updates that article. Failures come as failed outcomes."""
    from ingest.fetch import feed_items

    options = {"timeout": timeout, "allow_private": allow_private}
    try:
        page, feed = _fetch_page(url, **options)
        if feed is None:
            yield page
            return
        items = feed_items(feed.data, feed.url, feed_limit)
    except IngestError as e:
        yield Outcome(url, "failed", str(e).removeprefix(f"{url}: "))
        return
    if not items:
        yield Outcome(url, "failed", "the feed links to no article")
    for item in items:  # a feed's articles, never the feeds it may list (one could list itself)
        try:
            article, inner = _fetch_page(item.url, **options)
        except IngestError as e:
            yield Outcome(item.url, "failed", str(e).removeprefix(f"{item.url}: "))
            continue
        if inner is not None:
            yield Outcome(item.url, "failed", "a feed inside a feed is not followed: give its address itself")
        elif article.meta.published is None and item.published:  # the page has no date; its feed does
            yield replace(article, meta=replace(article.meta, published=item.published))
        else:
            yield article


def _fetch_page(url: str, *, timeout: float, allow_private: bool) -> tuple[RawArticle | None, Fetched | None]:
    """The article at ``url``, or (None, the download) when it is a feed."""
    from ingest.fetch import fetch, looks_like_feed

    page = fetch(url, timeout=timeout, max_bytes=MAX_BYTES, allow_private=allow_private)
    if looks_like_feed(page.content_type, page.data):
        return None, page
    return read_bytes(page.data, _KIND_OF_TYPE[page.content_type], url, url, page.url, page.charset), None


def pasted_article(title: str, text: str) -> RawArticle:
    """Pasted text under its title as a raw article (source ``pasted:<title>``)."""
    title = " ".join((title or "").split())
    if not title:
        raise IngestError("give the pasted article a title")
    if not (text or "").strip():
        raise IngestError("paste the article's text")
    if len(text.encode()) > MAX_BYTES:
        raise IngestError(
            f"the pasted text is over the {MAX_BYTES / 2**20:.0f} MB limit for one article; "
            "split it into smaller parts"
        )
    return parse_text(f"{title}\n\n{text}", f"pasted:{title}", "text")


def decode(data: bytes, name: str, charset: str | None = None) -> tuple[str, str]:
    """Text of the bytes (in ``charset`` when one is declared) and a note when a fallback
    encoding was used; binary data is refused."""
    if not data.strip():
        raise IngestError(f"{name}: the file is empty")
    if charset and codecs.lookup(charset).name not in ("utf-8", "utf-16"):
        try:
            return data.decode(charset), ""
        except (UnicodeDecodeError, LookupError):
            pass
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        try:  # what Windows tools call "Unicode"
            return data.decode("utf-16"), ""
        except UnicodeDecodeError as e:
            raise IngestError(f"{name}: marked as UTF-16 but cannot be read as such: {e.reason}") from e
    sample = data[:8192]
    if b"\x00" in sample or _binary_share(sample) > 0.1:
        raise IngestError(f"{name}: looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig"), ""
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "not valid UTF-8: read as cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "not valid UTF-8: read as latin-1"


def _binary_share(sample: bytes) -> float:
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return control / max(len(sample), 1)


def parse_text(text: str, source: str, kind: str, url: str | None = None) -> RawArticle:
    """Split ``text`` of a kind (``text``, ``markdown``, ``html``) into a title and raw paragraphs,
    its character references decoded (once: "&amp;amp;" is "&amp;")."""
    if kind == "html":
        return read_html(text, source, url)
    if kind == "markdown":
        raw = read_markdown(text, source)
    else:
        lines = _paragraph_lines(unescape_references(text))
        if not lines:
            raise IngestError(f"{source}: no text found")
        raw = RawArticle(source, " ".join(lines[0].split()), tuple(lines[1:]))
    return replace(raw, meta=Metadata(url=url)) if url else raw


def _paragraph_lines(text: str) -> list[str]:
    """Paragraphs of plain text: a line each, hard-wrapped continuation lines joined back."""
    paragraphs: list[list[str]] = []  # each paragraph as its lines
    joinable = False
    for line in text.splitlines():
        line = line.strip()
        if not line:
            joinable = False
            continue
        if joinable and line[:1].islower() and paragraphs[-1][-1][-1:] not in ".!?:":
            paragraphs[-1].append(line)
        else:
            paragraphs.append([line])
        joinable = True
    return [" ".join(lines) for lines in paragraphs]
