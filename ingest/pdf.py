"""Reading a PDF article into a title and paragraphs.

A PDF holds positioned lines of text, not paragraphs: here the paragraphs are rebuilt from the
lines' positions and font sizes, words broken at a line end are mended, and what the pages
repeat at their top and bottom (the paper's name, a date line, page numbers) is dropped.
pdfplumber (on pdfminer.six) gives each line's box and font size, in the order the page draws
them, which keeps the columns of a multi-column page apart.
"""

from __future__ import annotations

import io
import itertools
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any

from assistant.core.errors import IngestError
from assistant.core.records import Metadata, RawArticle

EDGE_LINES = 3  # lines at the top and at the bottom of a page that may be running headers or footers
SIZE_STEP = 1.15  # font sizes further apart than this ratio are different kinds of text
PARAGRAPH_GAP = 0.4  # space over the usual line spacing, in ems, that ends a paragraph
INDENT = 0.5  # ems further in than the line before: a first-line indent

# "3", "- 3 -", "Page 3 of 7", "3/7"
_PAGE_NUMBER = re.compile(r"^(?:page\s*)?[-–—]?\s*\d{1,4}\s*[-–—]?(?:\s*(?:of|/)\s*\d{1,4})?$", re.I)
_SENTENCE_END = re.compile(r"[.!?:…][\"'”’)\]]*$")
_LIST_ITEM = re.compile(r"^(?:[•●▪◦‣∙·*–-]|\d{1,3}[.)])\s")
_HYPHEN_END = re.compile(r"([\w-]*\w)([-\u00ad])$")  # "govern-", "state-of-the-", "COVID-"
_WORD = re.compile(r"\w+")
_COMPOUND = re.compile(r"([^\W\d_]+)-(?=([^\W\d_]+))")  # "well-known" -> ("well", "known")
_PLACEHOLDER = re.compile(
    r"^(?:untitled\b.*|unknown|user|admin(?:istrator)?|owner|anonymous|document\s*\d*)$"
    r"|^microsoft \w+ - |\\|^/|\.(?:pdf|docx?|odt|rtf|txt|html?|indd|qxd|tex|dvi|e?ps|pptx?|xlsx?)$",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Line:
    """One line of text as drawn: its page, its box in points from the page's top left, its font size."""

    text: str
    page: int
    top: float
    bottom: float
    x0: float
    x1: float
    size: float  # the size of most of its characters


def read_pdf(data: bytes, source: str) -> RawArticle:
    """Read a PDF's bytes into a title and paragraphs, or raise :class:`IngestError` saying why.

    The title is the document's /Title when it is a real title (and not the headline with the
    site's name added), else its first text in the largest font (or its first line). The
    author comes from /Author. No date is taken: the creation date says when the file was
    made, not when the article was published.
    """
    lines, info = _read_lines(data, source)
    body = _without_page_furniture(lines)
    if not any(ch.isalnum() for line in body for ch in line.text):
        raise IngestError(f"{source}: no text layer: scanned pages need OCR")
    blocks = _paragraph_blocks(body)
    vocabulary = Vocabulary.of(lines)
    paragraphs = [_join_lines(block, vocabulary) for block in blocks]
    headline, named = _headline(blocks, paragraphs), _meaningful(info.get("Title"))
    # a page printed from a browser is named "Headline | Site": the headline alone is the title
    title = named if named and headline.casefold() not in named.casefold() else headline
    meta = Metadata(author=_meaningful(info.get("Author")))
    return RawArticle(source, title, tuple(_without_title(paragraphs, title)), meta=meta)


def _read_lines(data: bytes, source: str) -> tuple[list[Line], dict[str, Any]]:
    """The document's text lines, page by page in drawing order, and its info dictionary."""
    import pdfplumber  # heavy: imported only when a PDF is read
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfplumber.utils.exceptions import PdfminerException

    if b"%PDF-" not in data[:1024]:
        raise IngestError(f"{source}: not a readable PDF: no %PDF- header (is it really a PDF?)")
    lines: list[Line] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for number, page in enumerate(pdf.pages, 1):
                lines.extend(_page_lines(page, number))
                page.close()  # frees the page's parsed objects: a long document stays small
            return lines, pdf.metadata
    except Exception as e:  # pdfminer meets a damaged file with errors of many kinds
        cause = e.args[0] if isinstance(e, PdfminerException) and e.args else e
        if isinstance(cause, PDFPasswordIncorrect):
            raise IngestError(
                f"{source}: the PDF is encrypted with a password: save an unprotected copy and ingest that"
            ) from e
        reason = str(cause).strip() or type(cause).__name__
        raise IngestError(f"{source}: not a readable PDF: {reason[:120]}") from e


def _page_lines(page: Any, number: int) -> list[Line]:
    # Drawing order keeps columns apart (sorting by position would merge them); a gap of
    # 0.15 em between letters is a space, as pdfTeX draws no space characters.
    found = page.extract_text_lines(use_text_flow=True, x_tolerance_ratio=0.15)
    return [
        Line(f["text"].strip(), number, f["top"], f["bottom"], f["x0"], f["x1"], _font_size(f["chars"]))
        for f in found
        if f["text"].strip()
    ]


def _font_size(chars: list[dict[str, Any]]) -> float:
    sizes = Counter(round(c["size"], 1) for c in chars if not c["text"].isspace())
    return sizes.most_common(1)[0][0]


def _without_page_furniture(lines: list[Line]) -> list[Line]:
    """The lines without running headers and footers, and without page numbers.

    Only the few lines at the top and the bottom of a page are looked at: those that read as
    a page number go, and so do those that come back in the same place, size and words
    (digits aside) on half of the pages or more, and on two at least.
    """
    pages: dict[int, list[Line]] = {}
    for line in lines:
        pages.setdefault(line.page, []).append(line)
    edge: set[Line] = set()
    for on_page in pages.values():
        downwards = sorted(on_page, key=lambda line: line.bottom)
        edge.update(downwards[:EDGE_LINES] + downwards[-EDGE_LINES:])
    recurring = Counter(key for _, key in {(line.page, _furniture_key(line)) for line in edge})
    enough = max(2, len(pages) // 2)
    return [
        line
        for line in lines
        if line not in edge
        or not (_PAGE_NUMBER.match(line.text) or recurring[_furniture_key(line)] >= enough)
    ]


def _furniture_key(line: Line) -> tuple[str, int, int]:
    """What a running header keeps from page to page: its words (digits aside), size and height."""
    return re.sub(r"\d+", "#", " ".join(line.text.casefold().split())), round(line.size), round(line.top)


def _paragraph_blocks(lines: list[Line]) -> list[list[Line]]:
    """The lines grouped into paragraphs, in order."""
    leading = _usual_leading(lines)
    blocks: list[list[Line]] = []
    for line in lines:
        if blocks and not _starts_paragraph(blocks[-1][-1], line, leading):
            blocks[-1].append(line)
        else:
            blocks.append([line])
    return blocks


def _usual_leading(lines: list[Line]) -> float:
    """The median step from one line's baseline to the next in the same text, in ems."""
    steps = [
        (b.bottom - a.bottom) / a.size
        for a, b in itertools.pairwise(lines)
        if a.page == b.page and not _size_differs(a, b) and 0 < b.bottom - a.bottom < 3 * a.size
    ]
    return statistics.median(steps) if steps else 1.2


def _starts_paragraph(previous: Line, line: Line, leading: float) -> bool:
    """Whether ``line`` starts a paragraph rather than going on with ``previous``'s.

    A new paragraph comes with another font size, a list item's marker, more space than the
    usual line spacing, or a first-line indent. Across a page or a column (the line is higher
    than the one before), the paragraph goes on unless the line before ended a sentence.
    """
    if _size_differs(previous, line) or _LIST_ITEM.match(line.text):
        return True
    step = line.bottom - previous.bottom
    if line.page != previous.page or step < 0:
        return bool(_SENTENCE_END.search(previous.text))
    if step > (leading + PARAGRAPH_GAP) * line.size:
        return True
    indent = line.x0 - previous.x0
    centred = abs(indent - (previous.x1 - line.x1)) < INDENT * line.size  # as far in on both sides
    return indent > INDENT * line.size and not centred and not _LIST_ITEM.match(previous.text)


def _size_differs(a: Line, b: Line) -> bool:
    return max(a.size, b.size) > SIZE_STEP * min(a.size, b.size)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The words a document writes inside its lines, casefolded: evidence for mending line ends."""

    words: frozenset[str]  # "government"
    compounds: frozenset[str]  # hyphenated pairs, "well-known"

    @classmethod
    def of(cls, lines: list[Line]) -> Vocabulary:
        """The words and hyphenated pairs in ``lines``."""
        text = "\n".join(line.text for line in lines).casefold()
        return cls(frozenset(_WORD.findall(text)), frozenset(f"{a}-{b}" for a, b in _COMPOUND.findall(text)))

    def keeps_hyphen(self, head: str, tail: str) -> bool:
        """Whether ``head-`` at a line end and ``tail`` on the next line make a hyphenated word.

        The document's own usage decides: a pair it also writes with a hyphen inside a line
        ("well-known") keeps it, one it writes as a word ("government") loses it. Otherwise
        the hyphen goes between lower-case letters ("govern-" + "ment") and stays elsewhere
        ("Jean-" + "Pierre", "COVID-" + "19"); one in the head already means a compound
        ("state-of-the-" + "art"). The cost: a compound of lower-case words that breaks at a
        line end and appears nowhere else in the document loses its hyphen.
        """
        pair = f"{head}-{tail}".casefold()
        if "-" in head or pair in self.compounds:
            return True
        if pair.replace("-", "") in self.words:
            return False
        return not (head[-1].islower() and tail[0].islower())


def _join_lines(block: list[Line], vocabulary: Vocabulary) -> str:
    """The text of a paragraph's lines, joined by spaces or, where a word was broken, mended."""
    text = block[0].text
    for line in block[1:]:
        broken, first = _HYPHEN_END.search(text), _WORD.match(line.text)
        if not (broken and first):
            text = f"{text} {line.text}"
            continue
        head, hyphen = broken.groups()
        if hyphen == "\u00ad" or not vocabulary.keeps_hyphen(head, first.group()):  # soft ones always go
            text = text[:-1]
        text += line.text
    return text


def _headline(blocks: list[list[Line]], paragraphs: list[str]) -> str:
    """The first paragraph in the largest font if it is larger than the body text, else the first line."""
    sizes: Counter[float] = Counter()
    for block in blocks:
        for line in block:
            sizes[line.size] += len(line.text)
    body, largest = sizes.most_common(1)[0][0], max(sizes)
    if largest > SIZE_STEP * body:
        for block, paragraph in zip(blocks, paragraphs, strict=True):
            if any(line.size == largest for line in block):
                return paragraph
    return blocks[0][0].text


def _without_title(paragraphs: list[str], title: str) -> list[str]:
    """The paragraphs without the first one that only repeats the title."""
    words = title.casefold().split()
    for i, paragraph in enumerate(paragraphs):
        if paragraph.casefold().split() == words:
            return paragraphs[:i] + paragraphs[i + 1 :]
    return paragraphs


def _meaningful(value: object) -> str | None:
    """A /Title or /Author that says something, or None: not blank, a placeholder or a file name."""
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    if not any(ch.isalpha() for ch in text) or _PLACEHOLDER.search(text):
        return None
    return text
