"""Reading a saved web page: its article's title, paragraphs and what the page says about itself.

A saved news page is mostly not the article: menus, share buttons, related headlines, cookie
notices and reader comments. trafilatura finds the article body; on 61 real news pages
(``bench/extraction.py``) this reading keeps 0.97 of the body's word 4-grams right (F1), where
reading every block of the page kept 0.83. How it reads:

- two extractions, reader comments left out: the precise one (``favor_precision``) unless it
  came back under half as long as the balanced one, which happens when precision mode cuts
  the body itself;
- the headline, stored as the title, is not repeated as the body's first paragraph;
- a page where trafilatura finds only a few words (a tiny page, or text it could only pick
  up with its whole-page baseline) is read block by block instead (``p``, ``h1``-``h6``,
  ``li``, ...), leaving out menus, header, footer, cookie notices, forms, scripts and blocks
  that are only links; a page with nothing left is refused ("no text found");
- metadata: trafilatura's (with htmldate's publication date), where a date in the address
  (``/2019/nov/18/``) wins and a bare ``YYYY-01-01`` (a copyright year) is dropped unless a
  strict search agrees; the language is the page's own ``<html lang>``.

Boilerplate lines inside the body (credits, "Read more:" links) are left to ``ingest/clean.py``,
which :func:`ingest.split.build_article` applies to every article whatever its format.
"""

from __future__ import annotations

import re
from configparser import ConfigParser
from functools import cache
from typing import TYPE_CHECKING

from assistant.core.errors import IngestError
from assistant.core.records import Metadata, RawArticle

if TYPE_CHECKING:
    from lxml.html import HtmlElement

PRECISE_SHARE = 0.5  # the precise body is used when at least this share of the balanced one
THIN_WORDS = 25  # fewer words than this from trafilatura: read the page block by block
TITLE_LOOK = 3  # how many of the first paragraphs may repeat the headline
# Below this many characters (default 250) trafilatura swaps its result for a "baseline"
# that joins all the page's text into one line; 50 keeps a short page's paragraphs.
MIN_EXTRACTED_SIZE = "50"

_CHROME_TAGS = frozenset(
    "head script style noscript template nav header footer aside form button select svg iframe".split()
)
_BLOCK_TAGS = frozenset(
    "p div section article main h1 h2 h3 h4 h5 h6 li ul ol dl dd dt blockquote figure figcaption "
    "pre table tr td th br hr".split()
)
_CHROME_NAMES = re.compile(
    r"(?<![a-z])(?:nav|navbar|navigation|menu|breadcrumbs?|cookies?|consent|share|social)(?![a-z])", re.I
)
_LIST_ITEM = re.compile(r"^- ")  # trafilatura's text marks each list item so
_TABLE_ROW = re.compile(r"^\|(.*)\|$")  # and each table row "| a | b |"
_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
_URL_DATE = re.compile(
    r"/((?:19|20)\d\d)[/-](0?[1-9]|1[0-2]|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*)"
    r"[/-](0?[1-9]|[12]\d|3[01])(?=[/-]|$)",
    re.IGNORECASE,
)
_LANGUAGE = re.compile(r"([a-z]{2})(?:[-_]|$)", re.IGNORECASE)
_TITLE_PARTS = re.compile(r"\s+(?:[|–—-]|::)\s+")  # "Headline | Site", "Headline - Section - Site"
_WORD = re.compile(r"\w+")


def read_html(text: str, source: str, url: str | None = None) -> RawArticle:
    """The article of a saved web page, or :class:`IngestError` when it holds no article text.

    ``url`` is where the page was fetched, when known: it helps to find the publication date.
    """
    import trafilatura

    tree = _load(text)
    if tree is None:
        raise IngestError(f"{source}: no text found")
    page = trafilatura.extract_metadata(tree, default_url=url)
    lines = _body_lines(tree, url)
    if len(_WORD.findall(" ".join(lines))) < THIN_WORDS:
        lines = _block_texts(tree)
    headline = " ".join((page.title or "").split())
    paragraphs = _without_headline(lines, headline)
    if not paragraphs:
        raise IngestError(f"{source}: no text found")
    title = _without_site(headline, page.sitename) or " ".join(paragraphs[0].split())  # stays text too
    meta = Metadata(
        url=page.url or url,
        published=_published(page.date, page.url or url, tree),
        author=page.author,
        site=page.sitename,
        language=_language(tree),
    )
    return RawArticle(source, title, tuple(paragraphs), meta=meta)


def _load(text: str) -> HtmlElement | None:
    """The page's whole document; a fragment without ``<html>`` (which trafilatura refuses) is wrapped."""
    from trafilatura import load_html

    tree = load_html(text)
    if tree is None:
        tree = load_html(f"<html><body>{text}</body></html>")
    # lxml hands back a lone element, not its document, for a page of one element; htmldate
    # fails on such a tree (it cannot drop the root)
    return tree.getroottree().getroot() if tree is not None else None


def _body_lines(tree: HtmlElement, url: str | None) -> list[str]:
    """The article body as trafilatura reads it, a block a line, list and table marks taken off."""
    import trafilatura

    def extract(favor_precision: bool) -> str:
        # never deduplicate=True: its cache lives as long as the process and cuts text read twice
        found = trafilatura.bare_extraction(
            tree, url=url, favor_precision=favor_precision, include_comments=False, config=_config()
        )
        return (found.text if found is not None else None) or ""

    precise, balanced = extract(True), extract(False)
    body = precise if len(precise) >= PRECISE_SHARE * len(balanced) else balanced
    return [_unmarked(line.strip()) for line in body.splitlines() if _WORD.search(line)]


@cache
def _config() -> ConfigParser:
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", MIN_EXTRACTED_SIZE)
    return config


def _unmarked(line: str) -> str:
    """A line of trafilatura's text without its list-item or table-row marks."""
    row = _TABLE_ROW.match(line)
    if row:
        return " | ".join(cell.strip() for cell in row.group(1).split("|"))
    return _LIST_ITEM.sub("", line)


def _block_texts(tree: HtmlElement) -> list[str]:
    """The page's text block by block (``p``, ``h1``-``h6``, ``li``, ...), without its chrome.

    Chrome is what :data:`_CHROME_TAGS` or a class or id in :data:`_CHROME_NAMES` marks (menus,
    header, footer, cookie notices, forms, scripts) and a block whose words are all links.
    """
    blocks: list[list[tuple[str, bool]]] = [[]]  # each block's pieces: (text, inside a link)

    def walk(element: HtmlElement, in_link: bool) -> None:
        for child in element:
            if _is_content(child):
                block = child.tag in _BLOCK_TAGS
                if block:
                    blocks.append([])
                link = in_link or child.tag == "a"
                blocks[-1].append((child.text or "", link))
                walk(child, link)
                if block:
                    blocks.append([])
            blocks[-1].append((child.tail or "", in_link))

    walk(tree, False)
    return [
        " ".join("".join(text for text, _ in pieces).split())
        for pieces in blocks
        if any(_WORD.search(text) for text, link in pieces if not link)
    ]


def _is_content(element: HtmlElement) -> bool:
    """Whether an element may hold article text: not a comment and not page chrome."""
    if not isinstance(element.tag, str) or element.tag in _CHROME_TAGS:
        return False
    return not _CHROME_NAMES.search(f"{element.get('class', '')} {element.get('id', '')}")


def _without_headline(lines: list[str], title: str) -> list[str]:
    """``lines`` without the first of their first few that repeats the headline."""
    parts = _TITLE_PARTS.split(title)
    headlines = {_key(title), _key(parts[0]), _key(" ".join(parts[:-1]))} - {""}
    for i, line in enumerate(lines[:TITLE_LOOK]):
        if _key(line) in headlines:
            return lines[:i] + lines[i + 1 :]
    return lines


def _without_site(title: str, site: str | None) -> str:
    """``title`` without a last part that names the site: "Headline | Site" -> "Headline"."""
    parts = list(_TITLE_PARTS.finditer(title))
    if parts and site and _key(title[parts[-1].end() :]) == _key(site):
        return title[: parts[-1].start()]
    return title


def _key(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _published(date: str | None, url: str | None, tree: HtmlElement) -> str | None:
    """The publication date: one in the address wins; a bare copyright year is dropped."""
    in_url = _url_date(url)
    if in_url:
        return in_url
    if date and date.endswith("-01-01"):  # what htmldate's extensive search makes of "© 2019"
        from htmldate import find_date

        if find_date(tree, extensive_search=False, original_date=True, url=url) != date:
            return None
    return date


def _url_date(url: str | None) -> str | None:
    """``2019-11-18`` for an address with ``/2019/nov/18/`` or ``/2019/11/18/`` in its path."""
    found = _URL_DATE.search(url or "")
    if not found:
        return None
    year, month, day = found.groups()
    number = int(month) if month.isdigit() else _MONTHS.index(month[:3].lower()) + 1
    return f"{year}-{number:02d}-{int(day):02d}"


def _language(tree: HtmlElement) -> str | None:
    """The ISO 639-1 code of the page's ``<html lang>`` ("en" for "en-GB"), when it has one."""
    found = _LANGUAGE.match(tree.get("lang", "").strip())
    return found.group(1).lower() if found else None
