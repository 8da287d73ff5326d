"""Reading a Markdown article into a title and paragraphs, with a real CommonMark parser.

Markdown's structure is what splits an article into paragraphs, so it is parsed
(markdown-it-py, CommonMark with tables and strikethrough) rather than stripped with
regular expressions, which lose the boundaries between list items and quoted paragraphs.

- Every heading, paragraph, list item, quoted paragraph and table row ("cell | cell") is a
  paragraph; soft and hard line breaks inside one are spaces.
- Emphasis, inline code, links and inline HTML tags keep their text; images (their alt text
  too) and blocks of raw HTML (an ad's ``<div>``) are dropped.
- Code blocks are kept, each as one paragraph with its spacing collapsed: in a technical
  article the command or the setting shown is part of what it says, and a web page's code
  is kept the same way.
- A front matter block (``---`` YAML or ``+++`` TOML, as Jekyll and Hugo write it) is not
  text; its ``title`` is the article's title. Otherwise the first block is the title, as a
  plain text file's first line is.
- Character references ("&amp;", "&#163;") are decoded once: by the parser in the text, as
  CommonMark says, and here in the front matter's title. In inline code and code blocks they
  stay as written, as a Markdown page shows them there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from assistant.core.errors import IngestError
from assistant.core.records import RawArticle
from ingest.clean import unescape_references

if TYPE_CHECKING:
    from markdown_it.token import Token

_FRONT_MATTER = re.compile(r"\A(---|\+\+\+)[ \t]*\r?\n(.*?)\r?\n\1[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_FRONT_TITLE = re.compile(r"^title[ \t]*[:=][ \t]*(.+?)\s*$", re.MULTILINE)


def read_markdown(text: str, source: str) -> RawArticle:
    """The title and paragraphs of a Markdown article, or :class:`IngestError` when it has no text."""
    from markdown_it import MarkdownIt

    front = _FRONT_MATTER.match(text)
    declared = _front_title(front.group(2)) if front else ""
    body = text[front.end() :] if front else text
    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(body)
    blocks = [block for block in _block_texts(tokens) if block]
    title = declared or (blocks[0] if blocks else "")
    if not title:
        raise IngestError(f"{source}: no text found")
    if blocks and blocks[0].casefold() == title.casefold():
        blocks = blocks[1:]
    return RawArticle(source, title, tuple(blocks))


def _front_title(front_matter: str) -> str:
    """The ``title`` of a front matter block, unquoted, or ""."""
    found = _FRONT_TITLE.search(front_matter)
    return " ".join(unescape_references(found.group(1).strip("\"'")).split()) if found else ""


def _block_texts(tokens: Sequence[Token]) -> Iterator[str]:
    """The text of each block in document order: inline runs, table rows and code blocks."""
    row: list[str] | None = None  # the cells of the table row being read
    for token in tokens:
        if token.type == "inline" and row is not None:
            row.append(_inline_text(token))
        elif token.type == "inline":
            yield _inline_text(token)
        elif token.type in ("fence", "code_block"):
            yield " ".join(token.content.split())
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close":
            yield " | ".join(cell for cell in row or () if cell)
            row = None


def _inline_text(token: Token) -> str:
    """The words of an inline run: its text and inline code, a line break as a space; nothing else."""
    text = "".join(
        " " if child.type in ("softbreak", "hardbreak") else child.content
        for child in token.children or ()
        if child.type in ("text", "code_inline", "softbreak", "hardbreak")
    )
    return " ".join(text.split())
