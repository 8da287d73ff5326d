"""Web pages: the text ingest stores is the article, without the page around it.

``tests/data/pages`` holds four saved news pages from four sites and their hand-checked
bodies (from the shared html-extraction benchmark, Scrapinghub's article-extraction set,
MIT licence), in the benchmark's format: ``python bench/extraction.py --pages tests/data/pages
--truth tests/data/pages/ground-truth.json`` scores them.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from assistant.core.errors import IngestError
from ingest.loader import parse_text, read_bytes
from ingest.split import PARAGRAPH_BREAK, build_article

PAGES = Path(__file__).parent / "data" / "pages"
TRUTH = json.loads((PAGES / "ground-truth.json").read_text(encoding="utf-8"))


def _body_f1(truth: str, stored: str) -> float:
    """One page's word 4-gram F1, as the benchmark's score.py counts it."""

    def shingles(text: str) -> Counter:
        words = re.findall(r"\w+", text)
        return Counter(zip(*(words[i:] for i in range(4)), strict=False))

    expected, found = shingles(truth), shingles(stored)
    return 2 * sum((expected & found).values()) / (expected.total() + found.total())


@pytest.mark.parametrize(
    ("page", "published", "site", "chrome"),
    [
        # the date is the address's (/2019/nov/18/), not the fact-checked claim's 2019-10-13
        ("politifact", "2019-11-18", "Politifact",
         ("Your privacy is important to us", "Stay Connected", "Who Pays for Politifact", "Pants on Fire!")),
        ("venturebeat", "2019-11-18", "VentureBeat",
         ("Follow VentureBeat on Twitter", "Got a news tip?", "Support independent journalism",
          "Image Credit", "Reporting by Greg Roumeliotis")),
        ("sciencealert", "2019-11-19", "ScienceAlert",
         ("Daily Email", "Privacy Policy", "ScienceAlert Pty Ltd", "Our Team")),
        ("nbcnews", "2019-11-20", "NBC News",
         ("Breaking News Emails", "Get breaking news alerts", "Share this", "NBC UNIVERSAL", "Site Map")),
    ],
)  # fmt: skip
def test_a_saved_news_page_is_stored_as_its_article(
    page: str, published: str, site: str, chrome: tuple[str, ...]
) -> None:
    html = gzip.decompress((PAGES / f"{page}.html.gz").read_bytes()).decode("utf-8")
    raw = parse_text(html, f"/saved/{page}.html", "html")
    article = build_article(raw)
    assert _body_f1(TRUTH[page]["articleBody"], article.text) >= 0.9
    for text in chrome:
        assert text in html, "the page has it"
        assert text not in article.text
    assert not article.text.startswith(raw.title), "the headline is the title, not the first paragraph"
    assert (raw.meta.published, raw.meta.site, raw.meta.language) == (published, site, "en")
    assert raw.meta.url == TRUTH[page]["url"]


def test_a_tiny_page_keeps_both_short_paragraphs() -> None:
    html = (
        "<html><head><title>Pool notice | Town hall</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav><h1>Pool notice</h1>"
        "<p>The pool opens at nine.</p><p>Bring a towel.</p></body></html>"
    )
    raw = parse_text(html, "/saved/pool.html", "html")
    assert (raw.title, raw.paragraphs) == ("Pool notice", ("The pool opens at nine.", "Bring a towel."))
    assert build_article(raw).text == PARAGRAPH_BREAK.join(raw.paragraphs)


def test_a_fragment_without_a_title_is_titled_by_its_first_paragraph() -> None:
    raw = parse_text("<p>The ferry left at noon.</p><p>It carried forty cars.</p>", "/x.html", "html")
    assert raw.title == "The ferry left at noon."
    assert raw.paragraphs == ("The ferry left at noon.", "It carried forty cars.")


def test_a_page_of_scripts_and_menus_has_no_text() -> None:
    html = (
        "<html><head><title>Example News</title><script>var ads = [];</script></head><body>"
        "<header><a href='/'>Example News</a></header>"
        "<div id='cookie-banner'>We use cookies to improve your experience. <button>Accept</button></div>"
        "<div class='main-menu'><ul><li><a href='/world'>World</a></li>"
        "<li><a href='/sport'>Sport</a></li></ul></div>"
        "<nav>Home | News | Contact</nav><ul><li><a href='/a'>Latest headlines</a></li></ul>"
        "<footer>© 2024 Example News. All rights reserved.</footer><script>track();</script></body></html>"
    )
    with pytest.raises(IngestError, match=r"^/saved/menus\.html: no text found$"):
        parse_text(html, "/saved/menus.html", "html")


def test_news_boilerplate_inside_the_body_is_not_stored() -> None:
    body = (
        "The harbour reopened on Monday after a week of repairs to the sea wall.",
        "DON'T MISS",
        "Storm batters the coast as ferries stay in port [VIDEO]",
        "Related post: Ten walks along the harbour",
        "Ferries will run on the winter timetable until March, the port authority said.",
        "I love this harbour.Click To Tweet",
        "(Reporting by Jane Doe; Editing by John Roe)",
        "Keith Bradsher contributed reporting from Hong Kong.",
    )
    html = "<html><body><article><h1>Harbour reopens</h1>" + "".join(f"<p>{p}</p>" for p in body)
    article = build_article(parse_text(html + "</article></body></html>", "/saved/harbour.html", "html"))
    assert article.text == PARAGRAPH_BREAK.join((body[0], body[4], "I love this harbour."))


def test_a_copyright_year_is_not_a_publication_date() -> None:
    html = (
        "<html><body><article><h1>Bridge vote</h1><p>The city council voted on Tuesday to fund the new "
        "bridge over the river, ending a decade of debate about its cost.</p><p>Work starts in March "
        "and should take two years.</p></article><footer>© 2023 Example News</footer></body></html>"
    )
    assert parse_text(html, "/saved/bridge.html", "html").meta.published is None


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("text", "Title\n\nBody text in a café."),
        ("markdown", "# Title\n\nBody text in a café."),
        ("html", "<h1>Title</h1><p>Body text in a café.</p>"),
    ],
)
def test_every_kind_keeps_the_decoding_note(kind: str, text: str) -> None:
    raw = read_bytes(text.encode("cp1252"), kind, "/notes/file", "/notes/file")
    assert (raw.title, raw.paragraphs) == ("Title", ("Body text in a café.",))
    assert raw.note == "not valid UTF-8: read as cp1252"
