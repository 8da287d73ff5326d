"""Ingesting by web address through ``python -m ingest``, end to end, against real HTTP servers.

Each test starts its own :class:`Site` on 127.0.0.1 (a port of its own) in a thread and runs the
real CLI in a child process against it: a news page in its chrome, redirects and failures, RSS
and Atom feeds, a PDF, ``--urls FILE`` and ``--show``. The fetcher's own rules, one by one, are
in ``test_fetch.py``; these tests check what a user of the command sees and what the store keeps.
"""

from __future__ import annotations

import gzip
import html
import json
import re
import threading
from collections.abc import Iterator
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.core.records import Article
from assistant.core.settings import Settings
from assistant.storage.store import Store
from ingest.loader import MAX_BYTES
from tests.conftest import SAMPLE, free_port, run_main
from tests.store_checks import article_text, assert_same_records, place, records

SHARED_PAGES = Path(__file__).resolve().parents[2] / "shared" / "eval" / "html-extraction" / "html"
HTML = "text/html; charset=utf-8"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
SLOW_SECONDS = 10  # how long /slow.html keeps the client waiting (till the test ends), far past --timeout 1
CHUNK = b"<p>" + b"filler " * 9361 + b"</p>\n"  # 65,532 bytes, written again and again by /huge.html
# the page's chrome, none of which may reach the stored text or an answer
CHROME = (
    "Home",
    "Sports",
    "Subscribe",
    "cookie",
    "Trusted news since 1921",
    "Related stories",
    "Cricket final washed out",
    "Volcano erupts",
    "Stock markets rally",
    "Share on",
    "Email this story",
    "All rights reserved",
    "Privacy policy",
    "Contact the newsroom",
)


def _sample() -> tuple[str, list[str]]:
    """The sample article's title (its first line) and paragraphs."""
    title, *paragraphs = (line.strip() for line in SAMPLE.read_text(encoding="utf-8").splitlines())
    return title, [p for p in paragraphs if p]


def news_page(title: str, paragraphs: list[str], url: str, published: str = "2021-08-28T10:00:00Z") -> bytes:
    """A Daily Courier article page as news sites serve them: the article in its chrome (cookie
    banner, header, menu, share buttons, related stories, footer), with its metadata in the head."""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    headline = html.escape(title)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{headline} | Daily Courier</title>
<meta property="og:site_name" content="Daily Courier">
<meta property="og:title" content="{headline}">
<meta property="og:type" content="article">
<meta property="article:published_time" content="{published}">
<meta name="author" content="Maria Gonzales">
<link rel="canonical" href="{url}">
</head><body>
<div id="cookie-banner" class="cookie-consent"><p>We use cookies to improve your experience. By
 continuing to browse you accept our cookie policy.</p><button>Accept all cookies</button></div>
<header class="site-header"><a href="/">Daily Courier</a><p>Trusted news since 1921</p></header>
<nav class="main-menu"><ul><li><a href="/">Home</a></li><li><a href="/world/">World</a></li>
<li><a href="/sports/">Sports</a></li><li><a href="/subscribe">Subscribe</a></li></ul></nav>
<main><article>
<h1>{headline}</h1>
<p class="byline">By <span class="author">Maria Gonzales</span>,
 <time datetime="{published}">{published[:10]}</time></p>
<div class="share-buttons"><a href="#">Share on Facebook</a> <a href="#">Share on X</a>
 <a href="#">Email this story</a></div>
<div class="article-body">
{body}
</div>
</article>
<aside class="related"><h2>Related stories</h2><ul>
<li><a href="/sports/cricket.html">Cricket final washed out as monsoon rains sweep the stadium</a></li>
<li><a href="/world/volcano.html">Volcano erupts near fishing village, thousands evacuated</a></li>
<li><a href="/business/markets.html">Stock markets rally on hopes of lower interest rates</a></li>
</ul></aside></main>
<footer><p>© 2021 Daily Courier Media Group. All rights reserved.</p><ul>
<li><a href="/about">About us</a></li><li><a href="/privacy">Privacy policy</a></li>
<li><a href="/contact">Contact the newsroom</a></li></ul></footer>
</body></html>
""".encode()


class Handler(BaseHTTPRequestHandler):
    """The site's routes, plus a redirect chain, a slow reply and an endless one, made on the fly."""

    server: Site

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        with suppress(OSError):  # the client hung up, as ingest does past a limit or a deadline
            self._route()

    def _route(self) -> None:
        if self.path in self.server.routes:
            self._reply(*self.server.routes[self.path])
        elif self.path.startswith("/hop/"):  # /hop/N: N redirects, the last to /world/kaloren.html
            hops = int(self.path.removeprefix("/hop/"))
            self._reply(302, {"Location": f"/hop/{hops - 1}" if hops > 1 else "/world/kaloren.html"}, b"")
        elif self.path == "/feeds/loop.rss":  # a feed listing itself; gone after 3 requests, to end a loop
            if self.server.requests.count(self.path) > 3:
                self._reply(410, {"Content-Type": HTML}, b"<p>Gone.</p>")
            else:
                self._reply(200, {"Content-Type": "application/rss+xml"}, LOOP.encode())
        elif self.path == "/slow.html":  # not a byte until long after the client's deadline
            if not self.server.stop.wait(SLOW_SECONDS):
                self._reply(200, {"Content-Type": HTML}, b"<p>Too late.</p>")
        elif self.path == "/huge.html":  # a bit over the limit, streamed without a Content-Length
            self.send_response(200)
            self.send_header("Content-Type", HTML)
            self.end_headers()
            for _ in range(MAX_BYTES // len(CHUNK) + 2):
                self.wfile.write(CHUNK)
        else:
            self._reply(404, {"Content-Type": HTML}, b"<p>No such page on the Daily Courier.</p>")

    def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Site(ThreadingHTTPServer):
    """A news site on 127.0.0.1: its routes, the paths asked for, and a stop for waiting handlers."""

    routes: dict[str, tuple[int, dict[str, str], bytes]]  # path -> (status, headers, body)
    requests: list[str]  # the paths asked for, in order
    stop: threading.Event

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def page(self, path: str, body: bytes, content_type: str = HTML) -> str:
        """Serve ``body`` at ``path``; its address."""
        self.routes[path] = (200, {"Content-Type": content_type}, body)
        return self.url(path)

    def article(self, path: str, number: int, published: str) -> str:
        """Serve the news page of made-up article ``number`` (:func:`tests.store_checks.article_text`)
        at ``path``; its address."""
        title, *paragraphs = [p for p in article_text(number).split("\n") if p]
        return self.page(path, news_page(title, paragraphs, self.url(path), published))


@pytest.fixture
def site() -> Iterator[Site]:
    """This test's own :class:`Site`, serving in a thread until the test ends."""
    server = Site(("127.0.0.1", 0), Handler)
    server.routes, server.requests, server.stop = {}, [], threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.stop.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def store(tmp_path: Path) -> Settings:
    """Settings for this test's empty store, which the CLI is pointed at."""
    return Settings(store=tmp_path / "store", chroma_host=None)


def _ingest(settings: Settings, *args: str):
    return run_main("ingest", "--quiet", *args, store=settings.store)


def _articles(settings: Settings) -> dict[str, Article]:
    """The store's articles by source."""
    return {a.source: a for a in Store(settings).articles()}


def _serve_sample(site: Site, path: str = "/world/us-taliban.html") -> str:
    title, paragraphs = _sample()
    return site.page(path, news_page(title, paragraphs, site.url(path)))


def _assert_no_chrome(text: str) -> None:
    found = [words for words in CHROME if words in text]
    assert not found, f"page chrome {found} in {text!r}"


def test_a_news_page_is_ingested_listed_answered_from_and_updated_by_its_address(
    site: Site, store: Settings
) -> None:
    url = _serve_sample(site)
    done = _ingest(store, url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(rf"^\s+added  {re.escape(url)} \(\d+ sentences\)$", done.stdout, re.M), done.stdout

    listed = run_main("ingest", "--list", "--json", store=store.store)
    assert listed.returncode == 0, listed.stderr
    [article] = json.loads(listed.stdout)
    assert article["source"] == article["url"] == url
    assert article["title"] == "US to engage with Taliban for safe evacuation after Aug 31"
    assert (article["published"], article["site"], article["author"]) == (
        "2021-08-28",
        "Daily Courier",
        "Maria Gonzales",
    )

    asked = run_main("assistant", "ask", "Who is Khalil Haqqani?", "--json", store=store.store)
    assert asked.returncode == 0, asked.stderr
    reply = json.loads(asked.stdout)
    assert not reply["abstained"] and reply["citations"]
    assert "Khalil Haqqani" in reply["citations"][0]["text"]
    for citation in reply["citations"]:
        assert (citation["url"], citation["site"], citation["published"]) == (
            url,
            "Daily Courier",
            "2021-08-28",
        )
        _assert_no_chrome(citation["text"])
    _assert_no_chrome(reply["text"])

    again = _ingest(store, url)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "0 added, 0 updated, 1 unchanged, 0 skipped, 0 failed"

    title, paragraphs = _sample()
    correction = "Khalil Haqqani did not answer questions sent to him on Saturday."
    site.page("/world/us-taliban.html", news_page(title, [*paragraphs, correction], url))
    changed = _ingest(store, url)
    assert changed.returncode == 0, changed.stderr
    count = article["sentence_count"] + 1
    assert f"updated  {url} ({count} sentences)" in changed.stdout
    assert changed.stdout.rstrip().endswith("0 added, 1 updated, 0 unchanged, 0 skipped, 0 failed")
    [updated] = _articles(store).values()  # the address is the article's identity: still one
    assert (updated.article_id, updated.sentence_count) == (article["article_id"], count)
    assert site.requests == ["/world/us-taliban.html"] * 3


def test_each_failed_link_gets_a_line_and_the_good_ones_still_go_in(site: Site, store: Settings) -> None:
    page = _serve_sample(site)
    other = site.article("/world/kaloren.html", 1, "2021-08-20")
    site.routes["/go/us-taliban"] = (302, {"Location": "/world/us-taliban.html"}, b"")
    site.page("/images/kabul.png", PNG, "image/png")
    redirected, five_hops = site.url("/go/us-taliban"), site.url("/hop/5")
    failures = {
        site.url("/hop/6"): "more than 5 redirects",
        site.url("/world/no-such-story.html"): "HTTP 404 Not Found",
        site.url("/huge.html"): f"over the {MAX_BYTES // 2**20} MB limit",
        site.url("/images/kabul.png"): "not a web page: image/png",
        f"http://127.0.0.1:{free_port()}/world/": "cannot connect to 127.0.0.1: connection refused",
    }
    done = _ingest(store, redirected, *failures, five_hops)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    for url, reason in failures.items():
        assert f"   failed  {url}: {reason}\n" in done.stdout, done.stdout
    assert f"added  {redirected} (" in done.stdout and f"added  {five_hops} (" in done.stdout
    assert done.stdout.rstrip().endswith("2 added, 0 updated, 0 unchanged, 0 skipped, 5 failed")
    articles = _articles(store)
    assert set(articles) == {redirected, five_hops}  # each under the address given
    assert (articles[redirected].meta.url, articles[five_hops].meta.url) == (page, other)

    slow = site.url("/slow.html")
    third = site.article("/world/lomin.html", 2, "2021-08-21")
    timed = _ingest(store, "--timeout", "1", slow, third)
    assert timed.returncode == 1, timed.stdout + timed.stderr
    assert f"failed  {slow}: timed out after 1 s\n" in timed.stdout
    assert timed.stdout.rstrip().endswith("1 added, 0 updated, 0 unchanged, 0 skipped, 1 failed")
    assert set(_articles(store)) == {redirected, five_hops, third}


RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Daily Courier: World</title><link>{base}/world/</link>
<description>World news</description>
<item><title>{title[2]}</title><link>{base}/news/2.html</link>
  <pubDate>Fri, 20 Aug 2021 09:00:00 GMT</pubDate></item>
<item><title>{title[1]}</title><link>/news/1.html</link>
  <pubDate>Tue, 10 Aug 2021 09:00:00 GMT</pubDate></item>
<item><title>{title[3]}</title><link>/news/3.html</link>
  <pubDate>Fri, 27 Aug 2021 09:00:00 GMT</pubDate></item>
</channel></rss>
"""
ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Daily Courier: Sports</title><id>urn:courier:sports</id>
<updated>2021-08-26T00:00:00Z</updated>
<entry><title>{title[4]}</title><link href="../news/4.html"/><id>urn:4</id>
  <updated>2021-08-05T08:00:00Z</updated></entry>
<entry><title>{title[5]}</title><link rel="alternate" href="/news/5.html"/><id>urn:5</id>
  <published>2021-08-25T08:00:00Z</published><updated>2021-08-26T00:00:00Z</updated></entry>
<entry><title>{title[6]}</title><link href="{base}/news/6.html"/><id>urn:6</id>
  <updated>2021-08-15T08:00:00Z</updated></entry>
</feed>
"""
LOOP = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Daily Courier: Everything</title><link>/</link><description>d</description>
<item><title>Every story, again</title><link>/feeds/loop.rss</link></item>
<item><title>News from Kaloren</title><link>/world/kaloren.html</link></item>
</channel></rss>
"""
FEED_DATES = {
    1: "2021-08-10",
    2: "2021-08-20",
    3: "2021-08-27",
    4: "2021-08-05",
    5: "2021-08-25",
    6: "2021-08-15",
}


def test_rss_and_atom_feeds_bring_in_their_newest_articles(site: Site, store: Settings) -> None:
    for number, date in FEED_DATES.items():
        site.article(f"/news/{number}.html", number, date)
    titles = {n: f"News from {place(n)}, report {n}" for n in FEED_DATES}
    rss = site.page(
        "/feeds/world.rss", RSS.format(base=site.url(""), title=titles).encode(), "application/rss+xml"
    )
    atom = site.page(
        "/feeds/sports/atom.xml",
        ATOM.format(base=site.url(""), title=titles).encode(),
        "application/atom+xml",
    )
    done = _ingest(store, "--limit", "2", rss, atom)
    assert done.returncode == 0, done.stdout + done.stderr
    newest = [3, 2, 5, 6]  # the two newest of each feed, newest first
    assert re.findall(r"added  (\S+) \(", done.stdout) == [site.url(f"/news/{n}.html") for n in newest]
    assert done.stdout.rstrip().endswith("4 added, 0 updated, 0 unchanged, 0 skipped, 0 failed")
    assert "/news/1.html" not in site.requests and "/news/4.html" not in site.requests  # never fetched
    articles = _articles(store)
    for n in newest:
        article = articles[site.url(f"/news/{n}.html")]
        assert (article.title, article.meta.published) == (titles[n], FEED_DATES[n])


def test_a_feed_that_lists_itself_is_read_once(site: Site, store: Settings) -> None:
    kaloren = site.article("/world/kaloren.html", 1, "2021-08-20")
    done = _ingest(store, site.url("/feeds/loop.rss"))
    assert "Traceback" not in done.stderr
    assert site.requests.count("/feeds/loop.rss") <= 2, site.requests  # the feed, then its item at most
    assert set(_articles(store)) == {kaloren}
    assert done.stdout.count(kaloren) == 1, done.stdout
    assert "a feed inside a feed is not followed" in done.stdout


def test_a_pdf_served_as_application_pdf_is_ingested(site: Site, store: Settings) -> None:
    from fpdf import FPDF

    headline = "Harbour council approves the new ferry terminal"
    paragraphs = [
        "The harbour council voted on Tuesday to build a ferry terminal on the north quay. "
        "Work is to start in the spring and take two years.",
        "Councillor Anna Berg said the terminal would carry twice as many passengers as the old one. "
        "The ferry company will pay a third of the cost.",
    ]
    pdf = FPDF()
    pdf.set_title(headline)
    pdf.set_author("Tom Okafor")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 20)
    pdf.multi_cell(0, 10, headline)
    pdf.set_font("Helvetica", size=11)
    for paragraph in paragraphs:
        pdf.ln(4)
        pdf.multi_cell(0, 6, paragraph)
    url = site.page("/documents/ferry-terminal", bytes(pdf.output()), "application/pdf")  # no .pdf suffix

    done = _ingest(store, url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"added  {url} (4 sentences)" in done.stdout
    article = _articles(store)[url]
    assert (article.title, article.meta.url, article.meta.author) == (headline, url, "Tom Okafor")
    stored = records(store)["sentences"]
    assert [doc for doc, _ in sorted(stored.values(), key=lambda d: d[1]["sentence_index"])] == [
        sentence for p in paragraphs for sentence in re.split(r"(?<=\.) ", p)
    ]


def test_urls_file_skips_comments_and_blank_lines(site: Site, store: Settings, tmp_path: Path) -> None:
    first = _serve_sample(site)
    second = site.article("/world/kaloren.html", 1, "2021-08-20")
    site.article("/world/commented-out.html", 2, "2021-08-21")
    urls = tmp_path / "reading-list.txt"
    urls.write_text(
        f"# what to read this morning\n\n   {first}   \n\n"
        f"  # {site.url('/world/commented-out.html')}\n#{site.url('/world/commented-out.html')}\n"
        f"\n\t\n{second}\n",
        encoding="utf-8",
    )
    done = _ingest(store, "--urls", str(urls))
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.findall(r"added  (\S+) \(", done.stdout) == [first, second]
    assert site.requests == ["/world/us-taliban.html", "/world/kaloren.html"]
    assert set(_articles(store)) == {first, second}


@pytest.mark.parametrize("seconds", ["0", "-1", "nan"])
def test_a_timeout_of_no_time_is_a_usage_error(seconds: str, store: Settings) -> None:
    done = _ingest(store, "--timeout", seconds, "http://127.0.0.1:9/world/")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--timeout takes a number of seconds, more than 0" in done.stderr


def test_show_prints_a_link_and_a_file_and_stores_nothing(site: Site, sample_settings: Settings) -> None:
    url = _serve_sample(site)
    before = records(sample_settings)
    as_json = run_main("ingest", "--show", "--json", url, str(SAMPLE), store=sample_settings.store)
    assert as_json.returncode == 0, as_json.stdout + as_json.stderr
    page, file = (json.loads(line) for line in as_json.stdout.splitlines())
    keys = ["source", "url", "title", "published", "author", "site", "text", "sentences"]
    assert list(page) == keys and list(file) == keys
    title = "US to engage with Taliban for safe evacuation after Aug 31"
    assert {k: page[k] for k in keys if k != "text"} == {
        "source": url,
        "url": url,
        "title": title,
        "published": "2021-08-28",
        "author": "Maria Gonzales",
        "site": "Daily Courier",
        "sentences": page["sentences"],
    }
    assert "Khalil Haqqani showed up in Kabul last week" in page["text"]
    _assert_no_chrome(page["text"])
    assert (file["source"], file["title"], file["url"], file["published"]) == (str(SAMPLE), title, None, None)
    assert page["sentences"] >= file["sentences"] > 20

    as_text = run_main("ingest", "--show", url, str(SAMPLE), store=sample_settings.store)
    assert as_text.returncode == 0, as_text.stdout + as_text.stderr
    for line in (
        f"== {title}  [{url}]\nurl: {url}\npublished: 2021-08-28\nauthor: Maria Gonzales\n"
        f"site: Daily Courier\nsentences: {page['sentences']}\n\n{page['text']}\n",
        f"== {title}  [{SAMPLE}]\nsentences: {file['sentences']}\n\n{file['text']}\n",
    ):
        assert line in as_text.stdout, as_text.stdout
    assert_same_records(records(sample_settings), before)
    assert site.requests == ["/world/us-taliban.html"] * 2


# a handful of the shared saved news pages, and the date each was published
SHARED = {
    "042bb7b5fedab6eac7db576522b89b93904c237d344bcbe14a6a5ab7f7335856": "2019-11-19",  # WSJ, meta tags
    "702d1da63b8e064cb70617620e45c2d116b4912c9bc9d518dcf5ce54bb8057ed": "2019-11-18",  # NYT, meta tags
    "c7e39ac49fa1235f5d50f83bf2444248bd3aa4e6df044377916c812dd109ba23": "2019-11-19",  # BBC, JSON-LD
    "bdb56ac83513635db1d8b9eb46b2da4c0de8da2f1f28f5bf5163df3eb3d3ec06": "2019-11-15",  # Quanta
    "359fee228518d55b921194561e9ca88e428df81940246f8fac7a75398377daea": "2019-11-19",  # ScienceAlert
}


def test_show_json_finds_the_date_of_saved_news_pages(tmp_path: Path, store: Settings) -> None:
    paths = []
    for page in SHARED:
        path = tmp_path / f"{page}.html"
        path.write_bytes(gzip.decompress((SHARED_PAGES / f"{page}.html.gz").read_bytes()))
        paths.append(path)
    done = run_main("ingest", "--show", "--json", *map(str, paths), store=store.store)
    assert done.returncode == 0, done.stdout + done.stderr
    shown = {Path(view["source"]).stem: view for view in map(json.loads, done.stdout.splitlines())}
    assert {page: view["published"] for page, view in shown.items()} == SHARED
    assert all(view["title"] and view["sentences"] > 3 for view in shown.values())
    assert not Store(store).articles()


def test_show_needs_no_store(tmp_path: Path) -> None:
    """A preview opens no store: it works with a Chroma server that is not running, and with
    an embedded store folder it leaves no trace."""
    down = {"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(free_port())}
    done = run_main("ingest", "--show", str(SAMPLE), env=down)
    assert done.returncode == 0, done.stderr
    assert "sentences: 25" in done.stdout
    store = tmp_path / "never-made"
    assert run_main("ingest", "--show", "--json", str(SAMPLE), store=store).returncode == 0
    assert not store.exists()
