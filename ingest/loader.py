"""Finding article files and reading them into a title and raw paragraphs.

Folders are walked recursively (symlinks followed, each real folder once, so a link loop
ends); ``.txt``, ``.md`` and ``.html`` files are read as UTF-8 (or UTF-16 with a byte order
mark), with a cp1252 fallback for files that are not. Binary files, files that are not
regular files and files over the size limit are refused with a reason.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from assistant.data import RawArticle
from assistant.errors import IngestError

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Found:
    """A path met while walking the inputs: a file to read, or one passed over and why."""

    path: Path
    skip_reason: str = ""


def find_files(paths: list[Path]) -> Iterator[Found]:
    """Article files under ``paths`` in a stable order; unusable entries come with a reason."""
    seen_dirs: set[tuple[int, int]] = set()
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
    text, note = decode(data, name)
    kind = "html" if suffix in (".html", ".htm") else suffix
    return parse_text(text, source or str(path.resolve()), kind, note)


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
    return parse_text(f"{title}\n\n{text}", f"pasted:{title}", ".txt")


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Text of the bytes and a note when a fallback encoding was used; binary data is refused."""
    if not data.strip():
        raise IngestError(f"{name}: the file is empty")
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


def parse_text(text: str, source: str, kind: str, note: str = "") -> RawArticle:
    """Split ``text`` of a kind (``.txt``, ``.md``, ``html``) into a title and raw paragraphs."""
    if kind == "html":
        title, paragraphs = _html_paragraphs(text)
    else:
        if kind in (".md", ".markdown"):
            text = _strip_markdown(text)
        lines = _paragraph_lines(text)
        title, paragraphs = (lines[0], lines[1:]) if lines else ("", [])
    if not title.strip():
        raise IngestError(f"{source}: no text found")
    return RawArticle(source, " ".join(title.split()), tuple(paragraphs), note)


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


_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+|\s+#+\s*$", re.MULTILINE)
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(?=\S)(.+?)(?<=\S)\1")
_MD_LIST = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+|^\s*>\s?", re.MULTILINE)
_MD_RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$|^\s*```.*$", re.MULTILINE)


def _strip_markdown(text: str) -> str:
    text = _MD_IMAGE.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_RULE.sub("", text)
    text = _MD_HEADING.sub("", text)
    text = _MD_LIST.sub("", text)
    return _MD_EMPHASIS.sub(r"\2", text)


_SKIPPED_TAGS = frozenset(
    "script style noscript template nav header footer aside form button select svg iframe".split()
)
_BLOCK_TAGS = frozenset(
    "p div section article main h1 h2 h3 h4 h5 h6 li blockquote figcaption pre td th tr br dd dt "
    "title body ul ol table figure".split()
)


class _HtmlText(HTMLParser):
    """Collects the text of block elements, leaving out scripts, styles and page chrome."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.title = ""
        self.h1 = ""
        self._skipping = 0
        self._current: list[str] = []
        self._in = ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self._flush()
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._current.append(data)

    def _flush(self) -> None:
        text = " ".join("".join(self._current).split())
        self._current = []
        if not text:
            return
        if self._in == "title" and not self.title:
            self.title = text
        else:
            if self._in == "h1" and not self.h1:
                self.h1 = text
            self.blocks.append(text)

    def close(self) -> None:
        super().close()
        self._flush()


def _html_paragraphs(html: str) -> tuple[str, list[str]]:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    blocks = parser.blocks
    title = parser.h1 or parser.title or (blocks[0] if blocks else "")
    if title in blocks:
        blocks.remove(title)
    return title, blocks
