"""The chat page in a real browser: Debian's headless Chromium driven by Playwright.

Chromium comes from ``apt-get install -y chromium`` (``.ci/run`` installs it); Playwright
never downloads a browser here. Each test leaves a screenshot in its temp folder.
"""

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from assistant.core.settings import Settings
from tests.conftest import SAMPLE, library
from tests.ui_support import (
    BRIDGE_TEXT,
    BRIDGE_TITLE,
    DAM_TEXT,
    DAM_TITLE,
    PAYLOAD,
    QUESTION,
    VALLEY_TEXT,
    VALLEY_TITLE,
    served_chat,
)

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip
REPLY_TIMEOUT = 120_000  # ms; the machine is shared, and the first answer loads the model
# Set before any page script runs; only an injected script would turn it true.
FLAG_SCRIPT = "window.__pwned = false;"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The chat served over a store of its own (the tests add articles) holding the sample."""
    folder = tmp_path_factory.mktemp("browser")
    settings = Settings(store=folder / "store", chroma_host=None)
    assert library(settings).add_sources([SAMPLE]).count("added") == 1
    with served_chat(settings.store, folder) as served:
        yield served


@pytest.fixture
def gated_feed() -> Iterator[tuple[str, threading.Event]]:
    """A feed of three articles on 127.0.0.1 whose third page is sent only once the event is
    set: (the feed's address, the event)."""
    release = threading.Event()
    towns = ("Arlen", "Brisk", "Corrow")
    pages = {
        f"/{n}.html": (
            f"{town} market report",
            f"The {town} market opened on Monday with {n * 12} stalls.\n\n"
            f"Traders in {town} sold apples, cheese and bread until the evening.\n\n"
            f"The {town} council plans a second market day in spring.",
        )
        for n, town in enumerate(towns, 1)
    }

    class Feed(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path == "/feed.rss":
                items = "".join(
                    f"<item><title>{t}</title><link>{base}{p}</link></item>" for p, (t, _) in pages.items()
                )
                body = f'<rss version="2.0"><channel><title>Gated</title>{items}</channel></rss>'
                kind = "application/rss+xml"
            elif self.path in pages:
                if self.path == "/3.html":
                    release.wait(timeout=90)
                title, text = pages[self.path]
                paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
                body = (
                    f"<html><head><title>{title}</title></head>"
                    f"<body><article><h1>{title}</h1>{paragraphs}</article></body></html>"
                )
                kind = "text/html; charset=utf-8"
            else:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/feed.rss", release
    release.set()
    server.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "Chromium is missing: apt-get install -y chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def dialogs() -> list[str]:
    """Messages of the dialogs (alert, confirm, prompt) the page opened."""
    return []


@pytest.fixture
def requested() -> list[str]:
    """Every URL the page requested."""
    return []


@pytest.fixture
def page(
    browser: Browser, url: str, tmp_path: Path, dialogs: list[str], requested: list[str]
) -> Iterator[Page]:
    """A fresh page on the chat; it records dialogs and requests, and saves a screenshot at the end."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(FLAG_SCRIPT)
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: requested.append(request.url))
    page.goto(url)
    expect(page.locator("#article-list table")).to_be_visible()  # the panel has loaded
    yield page
    page.screenshot(path=tmp_path / "page.png", full_page=True)
    context.close()


def ask(page: Page, question: str) -> None:
    """Type ``question`` and press Enter; wait until its reply is shown."""
    replies = page.locator("#chat .reply")
    count = replies.count()
    box = page.locator("#question textarea")
    box.click()
    box.press_sequentially(question)
    box.press("Enter")
    expect(replies).to_have_count(count + 1, timeout=REPLY_TIMEOUT)


def paste(page: Page, title: str, text: str) -> None:
    """Add an article by pasting its title and text; wait until it is added."""
    page.get_by_role("tab", name="Paste text").click()
    page.locator("#paste-title textarea").fill(title)
    page.locator("#paste-text textarea").fill(text)
    page.locator("#paste-add").click()
    expect(page.locator("#panel-status")).to_contain_text(f"Added “{title}”", timeout=60_000)


def test_asking_shows_the_cited_sentence_highlighted_in_the_article(
    page: Page, url: str, requested: list[str], tmp_path: Path
) -> None:
    ask(page, QUESTION)
    page.screenshot(path=tmp_path / "answered.png", full_page=True)  # docs/chat.png comes from here
    reply = page.locator("#chat .reply").last
    expect(reply).to_contain_text("[1]")
    citations = reply.locator(".citation")
    marks = page.locator("#article-view mark.cited")
    expect(marks).to_have_count(citations.count())  # every citation is from the one sample article
    numbers = sorted(int(m.get_attribute("data-n")) for m in marks.all())
    assert numbers == list(range(1, citations.count() + 1))
    mark = page.locator('#article-view mark.cited[data-n="1"]')
    sentence = mark.inner_text()
    assert "Khalil Haqqani" in sentence
    assert f"{sentence} [1]" in reply.locator(".answer").inner_text()  # in the answer, once
    assert citations.first.inner_text().startswith("[1] US to engage with Taliban")
    expect(page.locator("#article-view h3")).to_have_text(
        "US to engage with Taliban for safe evacuation after Aug 31"
    )
    scroller = page.locator("#article-view .article-scroll")
    view, shown = scroller.bounding_box(), mark.bounding_box()
    in_sight = view["y"] <= shown["y"] and shown["y"] + shown["height"] <= view["y"] + view["height"]
    assert in_sight, (view, shown)
    assert scroller.evaluate("e => e.scrollTop") > 0  # sentence 18 of 25: scrolled down to it
    ask(page, "What reward is on his head?")  # a follow-up: "his" is Khalil Haqqani
    expect(page.locator("#chat .reply").last).to_contain_text("reward")
    assert page.locator("#question textarea").input_value() == ""
    assert [r for r in requested if not r.startswith(url)] == []  # nothing from outside this server


def test_an_article_uploaded_in_the_page_can_be_asked_about_and_removed(page: Page, tmp_path: Path) -> None:
    rows = page.locator("#article-list tbody tr")
    before = rows.count()
    upload = page.locator("#upload input[type=file]")
    binary = tmp_path / "scan.txt"
    binary.write_bytes(bytes(range(256)) * 8)
    upload.set_input_files(binary)
    expect(page.locator("#panel-status")).to_contain_text("scan.txt: looks like a binary file")
    expect(rows).to_have_count(before)
    article = tmp_path / "veltra-dam.txt"
    article.write_text(f"{DAM_TITLE}\n\n{DAM_TEXT}\n")
    upload.set_input_files(article)
    expect(page.locator("#panel-status")).to_contain_text(
        f"Added “{DAM_TITLE}” (3 sentences)", timeout=60_000
    )
    expect(page.locator("#article-list")).to_contain_text("veltra-dam.txt")
    expect(page.locator("#article-list")).not_to_contain_text("upload:")
    expect(page.locator("#ask-about").get_by_label(DAM_TITLE)).to_be_checked()
    ask(page, "When was the Veltra dam completed?")
    expect(page.locator("#chat .reply .citation").last).to_contain_text(f"[1] {DAM_TITLE}")
    expect(page.locator("#article-view h3")).to_have_text(DAM_TITLE)
    expect(page.locator("#article-view mark.cited").first).to_contain_text("completed in 1987")
    page.locator("#remove-choice input").click()
    page.get_by_role("option", name=DAM_TITLE).click()
    page.locator("#remove").click()
    expect(page.locator("#panel-status")).to_contain_text(f"Removed “{DAM_TITLE}”")
    expect(rows).to_have_count(before)
    expect(page.locator("#ask-about").get_by_label(DAM_TITLE)).to_have_count(0)


def test_a_reply_citing_two_articles_can_show_each(page: Page) -> None:
    paste(page, DAM_TITLE, DAM_TEXT)
    paste(page, VALLEY_TITLE, VALLEY_TEXT)
    ask(page, "What is the Veltra dam?")
    switch = page.locator("#cited-articles")
    expect(switch).to_be_visible()
    titles = switch.locator("label").all_inner_texts()
    assert sorted(titles) == sorted([DAM_TITLE, VALLEY_TITLE])
    citations = page.locator("#chat .reply").last.locator(".citation").all_inner_texts()
    for title in titles:
        switch.get_by_label(title).check()
        expect(page.locator("#article-view h3")).to_have_text(title)
        numbers = [c.split("]")[0].lstrip("[") for c in citations if f"] {title}, sentence" in c]
        expect(page.locator("#article-view mark.cited")).to_have_count(len(numbers))
        assert (
            page.locator("#article-view mark.cited").evaluate_all("ms => ms.map(m => m.dataset.n)") == numbers
        )


def test_an_article_with_scripts_is_cited_as_text_and_runs_nothing(page: Page, dialogs: list[str]) -> None:
    paste(page, BRIDGE_TITLE, BRIDGE_TEXT)
    ask(page, "When was the Orvel bridge inspected?")
    reply = page.locator("#chat .reply").last
    expect(reply).to_contain_text(PAYLOAD)  # shown as text
    expect(page.locator("#article-view mark.cited")).to_contain_text(PAYLOAD)
    view = page.locator("#article-view")
    expect(view).to_contain_text("<script>window.__pwned=true;alert('x')</script>")
    expect(view).to_contain_text("${alert(1)}")
    expect(page.locator("#article-list")).to_contain_text(BRIDGE_TITLE)
    for part in ("#chat", "#article-view", "#article-list", "#ask-about", "#panel-status"):
        assert page.locator(f"{part} script, {part} img").count() == 0, part
        links = page.locator(f"{part} a[href]").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        assert all(link.startswith("#cite-") for link in links), links  # only the citations' own
    page.wait_for_timeout(500)  # give an injected handler the time to fire
    assert page.evaluate("window.__pwned") is False
    assert dialogs == []


def test_a_citation_opens_its_sentence_and_names_the_file_not_its_path(page: Page) -> None:
    ask(page, QUESTION)
    ask(page, "What reward is on his head?")
    first = page.locator("#chat .reply").first
    citations = first.locator(".citation")
    expect(citations.first).to_contain_text(SAMPLE.name)
    assert str(SAMPLE.parent) not in page.content()
    last = citations.count()
    first.locator(f'a[href="#cite-0-{last}"]').click()  # the first reply's last citation
    mark = page.locator(f'#article-view mark.cited[data-n="{last}"]')
    expect(mark).to_have_count(1)
    expect(page.locator("#article-view mark.cited")).to_have_count(last)  # that reply's marks
    scroller = page.locator("#article-view .article-scroll")
    expect(scroller).to_have_attribute("data-focus", str(last))
    page.wait_for_function(
        "n => { const b = document.querySelector('#article-view .article-scroll');"
        " const m = b.querySelector(`mark.cited[data-n='${n}']`);"
        " return m.offsetTop >= b.scrollTop"
        " && m.offsetTop + m.offsetHeight <= b.scrollTop + b.clientHeight; }",
        arg=last,
    )  # scrolled to it


def test_examples_come_from_the_articles_in_the_store(page: Page) -> None:
    examples = page.locator("#examples")
    expect(examples).to_contain_text("Who is Khalil Haqqani?")  # the sample is in the store
    title = "Skye ferry timetable"
    paste(page, title, "The ferry to Skye left at noon with forty cars.\n\nIt came back in the evening.")
    example = examples.get_by_text(title)
    expect(example).to_have_count(1)
    example.click()
    box = page.locator("#question textarea")
    expect(box).to_have_value(re.compile(re.escape(title)))  # the example, in the question box
    box.press("Enter")
    expect(page.locator("#chat .reply .citation").last).to_contain_text(title, timeout=REPLY_TIMEOUT)


def test_the_conversation_downloads_as_markdown(page: Page) -> None:
    download = page.locator("#download")
    expect(download).to_be_hidden()
    ask(page, QUESTION)
    expect(download).to_be_visible()
    with page.expect_download() as got:
        download.click()
    text = Path(got.value.path()).read_text(encoding="utf-8")
    assert f"**Q:** {QUESTION}" in text and f"({SAMPLE.name})" in text and "Sources:" in text


def test_adding_a_feed_shows_how_far_it_has_got(page: Page, gated_feed: tuple[str, threading.Event]) -> None:
    feed, release = gated_feed
    page.get_by_role("tab", name="Add from a link").click()
    page.locator("#link-url textarea, #link-url input").first.fill(feed)
    page.locator("#link-add").click()
    status = page.locator("#panel-status")
    expect(status).to_contain_text("Adding… 2 articles read", timeout=60_000)  # the third is held back
    release.set()
    expect(status).to_contain_text("From the feed: 3 added", timeout=60_000)


def test_tell_me_more_walks_the_article_and_says_once_it_has_nothing_more(page: Page) -> None:
    ask(page, "Summarize the article about the Taliban evacuation")
    seen: list[str] = []
    for _ in range(12):  # the sample has 25 sentences: a summary and "more" show them in a few turns
        reply = page.locator("#chat .reply").last
        if "That is all" in reply.inner_text():
            break
        marks = page.locator("#article-view mark.cited").all_inner_texts()
        assert marks and not set(marks) & set(seen)  # never a sentence shown before
        seen += marks
        ask(page, "Tell me more")
    else:
        raise AssertionError("the article never came to an end")
    end = page.locator("#chat .reply").last
    expect(end).not_to_have_class(re.compile("abstained"))  # the end of the article, not a decline
    ask(page, "Tell me more")  # asked again: still the end, not the top of the article again
    expect(page.locator("#chat .reply").last).to_contain_text("That is all")


def test_character_references_in_a_pasted_article_read_as_characters(page: Page) -> None:
    title = "Regulator fines broadcaster"
    paste(
        page, title, "The regulator imposed a &#163;1.8m indecency fine on AT&amp;T on Monday.\n\nR&D stays."
    )
    ask(page, "How much was the indecency fine?")
    expect(page.locator("#chat .reply").last).to_contain_text("£1.8m")
    expect(page.locator("#article-view")).to_contain_text("£1.8m indecency fine on AT&T")
    expect(page.locator("#article-view")).not_to_contain_text("&#163;")
