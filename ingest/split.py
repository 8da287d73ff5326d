"""Cleaned paragraphs to sentences with exact character offsets, and to an :class:`Article`.

Sentences come from pysbd (rule-based, handles abbreviations, initials and quotes),
paragraph by paragraph so that a caption never merges with the next paragraph. The
cleaned text is the paragraphs joined by blank lines; every sentence keeps
``text == cleaned_text[start:end]``.

pysbd's time grows with the square of the text it is given, so a long paragraph is first
cut into pieces of at most :data:`PIECE_CHARS` at sure sentence ends (a lower-case word
or a number, then ``.``, ``!`` or ``?``, then a capital), and a "sentence" longer than
:data:`MAX_SENTENCE_CHARS` (text without punctuation) is cut at spaces.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from assistant.data import Article, Sentence
from assistant.errors import IngestError
from ingest.clean import clean_paragraphs, normalise
from ingest.loader import RawArticle

PARAGRAPH_BREAK = "\n\n"


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=False)


PIECE_CHARS = 2000  # longest text given to pysbd at once
MAX_SENTENCE_CHARS = 1000  # longer runs without a sentence end are cut at spaces
# A sure sentence end: a lower-case word or a number, its closing punctuation and quotes,
# space, a capital or a digit.
_SURE_END = re.compile(r"(?<=[a-z0-9]{2}[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_SPACE = re.compile(r"\s+")


def split_sentences(paragraph: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences of one paragraph, stripped, in order, covering it."""
    spans: list[tuple[int, int]] = []
    for start, end in _pieces(paragraph):
        spans += [(start + s, start + e) for s, e in _segment(paragraph[start:end])]
    return [cut for s, e in spans for cut in _cut_long(paragraph, s, e)]


def _pieces(text: str) -> list[tuple[int, int]]:
    """Spans of at most PIECE_CHARS covering ``text``, cut at sure sentence ends if any."""
    pieces: list[tuple[int, int]] = []
    start = 0
    while len(text) - start > PIECE_CHARS:
        limit = start + PIECE_CHARS
        ends = [m.end() for m in _SURE_END.finditer(text, start + 1, limit)]
        cut = ends[-1] if ends else _space_before(text, start, limit)
        pieces.append((start, cut))
        start = cut
    pieces.append((start, len(text)))
    return pieces


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


def _segment(paragraph: str) -> list[tuple[int, int]]:
    """pysbd's sentence spans of a (short) paragraph, stripped, in order, covering it."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in _segmenter().segment(paragraph):
        piece = piece.strip()
        if not piece:
            continue
        found = paragraph.find(piece, cursor)
        if found < 0:  # pysbd altered the text: keep the rest of the paragraph whole
            break
        start = found
        if paragraph[cursor:found].strip():  # text pysbd skipped joins its neighbour
            if spans:
                spans[-1] = (spans[-1][0], found)
            else:
                start = cursor
        cursor = found + len(piece)
        spans.append((start, cursor))
    rest = paragraph[cursor:]
    if rest.strip():
        start = cursor + len(rest) - len(rest.lstrip())
        spans.append((start, cursor + len(rest.rstrip())))
    return [_trim(paragraph, s, e) for s, e in spans]


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
    )
