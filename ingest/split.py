"""Cleaned paragraphs to sentences with exact character offsets, and to an :class:`Article`.

Sentences come from sentencex (Wikimedia's rule-based segmenter, in Rust: abbreviations,
initials, quotes and numbers, a few microseconds a sentence), paragraph by paragraph so
that a caption never merges with the next paragraph. The cleaned text is the paragraphs
joined by blank lines; every sentence keeps ``text == cleaned_text[start:end]``. A
"sentence" longer than :data:`MAX_SENTENCE_CHARS` (text without punctuation) is cut at
spaces.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

import sentencex

from assistant.core.errors import IngestError
from assistant.core.records import Article, RawArticle, Sentence, file_name
from ingest.clean import clean_paragraphs, normalise

PARAGRAPH_BREAK = "\n\n"
MAX_SENTENCE_CHARS = 1000  # longer runs without a sentence end are cut at spaces
_SPACE = re.compile(r"\s+")
# sentencex 1.0 panics on some multi-byte spaces next to a full stop (it steps one byte
# back from the stop); a plain space in their place keeps every offset as it is.
_WIDE_SPACE = re.compile(r"[^\S\x00-\x7f]")


def split_sentences(paragraph: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences of one paragraph, stripped, in order, covering it."""
    found = sentencex.get_sentence_boundaries("en", _WIDE_SPACE.sub(" ", paragraph))
    spans = [_trim(paragraph, b["start_index"], b["end_index"]) for b in found]
    return [cut for s, e in spans if s < e for cut in _cut_long(paragraph, s, e)]


def _space_before(text: str, start: int, limit: int) -> int:
    """The end of the last run of spaces in ``text[start:limit]``, or ``limit`` if none."""
    spaces = [m.end() for m in _SPACE.finditer(text, start + 1, limit)]
    return spaces[-1] if spaces else limit


def _cut_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``(start, end)``, or its pieces of at most MAX_SENTENCE_CHARS cut at spaces."""
    cuts = []
    while end - start > MAX_SENTENCE_CHARS:
        cut = _space_before(text, start, start + MAX_SENTENCE_CHARS)
        cuts.append(_trim(text, start, cut))
        start = cut
    cuts.append(_trim(text, start, end))
    return [(s, e) for s, e in cuts if s < e]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


_SLUG = re.compile(r"[^a-z0-9]+")


def article_id_for(source: str, title: str) -> str:
    """A readable id stable for a source: a slug of its name and a short hash of the source."""
    name = source.rsplit("/", 1)[-1].rsplit(".", 1)[0] if "/" in source else title
    slug = _SLUG.sub("-", name.lower()).strip("-")[:40] or "article"
    return f"{slug}-{hashlib.sha256(source.encode()).hexdigest()[:12]}"


def build_article(raw: RawArticle) -> Article:
    """Clean and split a raw article; raise :class:`IngestError` when no sentence is left."""
    paragraphs = clean_paragraphs(list(raw.paragraphs))
    sentences: list[Sentence] = []
    offset = 0
    for number, paragraph in enumerate(paragraphs):
        for start, end in split_sentences(paragraph):
            sentences.append(
                Sentence(
                    text=paragraph[start:end],
                    index=len(sentences),
                    paragraph=number,
                    start=offset + start,
                    end=offset + end,
                )
            )
        offset += len(paragraph) + len(PARAGRAPH_BREAK)
    if not sentences:
        what = "page boilerplate (credits, links, shortcodes)" if raw.paragraphs else "a title"
        raise IngestError(f"{raw.source}: no article text: only {what}")
    title = normalise(raw.title).strip() or sentences[0].text[:80]
    text = PARAGRAPH_BREAK.join(paragraphs)
    digest = hashlib.sha256(f"{title}\x00{text}".encode()).hexdigest()
    return Article(
        article_id=article_id_for(raw.source, title),
        title=title,
        source=raw.source,
        text=text,
        sentences=tuple(sentences),
        content_hash=digest,
        meta=replace(raw.meta, file=file_name(raw.source)),  # as the store gives it back
    )
