"""The chat page: its handlers on real stores, and the app served for real, called with gradio_client."""

import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import gradio as gr
import httpx
import pytest
from gradio_client import Client

from assistant.answering.wording import Messages
from assistant.core.records import RELATED
from assistant.core.settings import Settings
from assistant.interfaces.transcript import transcript
from assistant.interfaces.web import ChatPage, safe_file_name
from ingest.loader import MAX_BYTES
from tests.conftest import CHROMA_VARS, ROOT, SAMPLE, free_port, library, make_root
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

# The only markup the page's own rendering produces; anything else came from an article.
OWN_TAGS = {
    "div",
    "p",
    "b",
    "s",
    "span",
    "mark",
    "sup",
    "h3",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "a",
}
OWN_ATTRIBUTES = {"class", "data-n", "data-focus", "href", "target", "rel"}


class Fragment(HTMLParser):
    """The tags, attribute names, text and highlighted sentences of an HTML fragment."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.marks: dict[str, str] = {}  # data-n -> highlighted text
        self._chunks: list[str] = []
        self._mark: str | None = None
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)
        self.attributes |= {name for name, _ in attrs}
        if tag == "mark":
            self._mark = dict(attrs)["data-n"]
            self.marks[self._mark] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark":
            self._mark = None

    def handle_data(self, data: str) -> None:
        self._chunks.append(data)
        if self._mark is not None:
            self.marks[self._mark] += data

    @property
    def text(self) -> str:
        return "".join(self._chunks)


def assert_only_own_markup(markup: str) -> Fragment:
    """The fragment, after checking that no tag or attribute in it came from article text."""
    fragment = Fragment(markup)
    assert fragment.tags <= OWN_TAGS, fragment.tags - OWN_TAGS
    assert fragment.attributes <= OWN_ATTRIBUTES, fragment.attributes - OWN_ATTRIBUTES
    return fragment


WORDING = Messages.load()


def ui_text(key: str) -> str:
    return WORDING.ui[key]


def chat_page(settings: Settings) -> ChatPage:
    """The page's handlers over ``settings``' store, adding articles with the CLI's library."""
    return ChatPage.of(make_root(settings))


def all_ids(page: ChatPage) -> list[str]:
    return [a.article_id for a in page.store.articles()]


# -- handlers, without a browser ------------------------------------------------------------------


def test_reply_cites_sentences_and_the_view_highlights_them(sample_settings: Settings) -> None:
    page = chat_page(sample_settings)
    box, history, switch, view, turns = page.respond(QUESTION, [], all_ids(page))
    citations = turns[-1].answer.citations
    assert turns[-1].question == QUESTION
    assert box == ""
    assert history[0] == {"role": "user", "content": QUESTION}
    reply = assert_only_own_markup(history[1]["content"])
    first = citations[0]
    assert "Khalil Haqqani" in first.text
    assert f"{first.text} [1]" in reply.text
    assert f"[1] {first.title}, sentence {first.sentence_index + 1}" in reply.text
    assert reply.text.count(first.text) == 1  # the sentence once, in the answer
    assert page.store.article_text(first.article_id)[first.start : first.end] == first.text
    shown = assert_only_own_markup(view)
    assert shown.marks["1"] == first.text
    assert first.title in shown.text
    assert switch["visible"] is False and switch["value"] == first.article_id


def test_sources_show_the_file_name_and_open_the_sentence_never_the_servers_path(
    sample_settings: Settings,
) -> None:
    page = chat_page(sample_settings)
    _, history, _, view, turns = page.respond(QUESTION, [], all_ids(page))
    _, history, _, view, turns = page.respond(
        "What reward is on his head?", history, all_ids(page), None, turns
    )
    shown = [history[-1]["content"], view, page.panel()[0], history[1]["content"]]
    assert all(str(SAMPLE.parent) not in markup for markup in shown)
    assert all(SAMPLE.name in markup for markup in shown)
    answer = turns[0].answer
    assert f'href="#cite-0-{len(answer.citations)}"' in history[1]["content"]  # turn 0, its last citation
    switch, opened = page.open_citation(turns, gr.EventData(None, {"turn": 0, "n": len(answer.citations)}))
    last = answer.citations[-1]
    assert Fragment(opened).marks == {str(n): c.text for n, c in answer.numbered()}  # that turn's marks
    assert f'data-focus="{len(answer.citations)}"' in opened and switch["value"] == last.article_id
    for stale in ({"turn": 5, "n": 1}, {"turn": 0, "n": 99}, {"turn": "0", "n": 1}, {}):
        assert page.open_citation(turns, gr.EventData(None, stale)) == (gr.skip(), gr.skip())


def test_examples_are_questions_about_the_articles_the_store_holds(
    settings: Settings, sample_settings: Settings
) -> None:
    page = chat_page(settings)
    assert page.panel()[3].raw_samples == []  # an empty store: nothing to ask about
    page.add_text(DAM_TITLE, DAM_TEXT, [])
    *_, examples = page.add_text(VALLEY_TITLE, VALLEY_TEXT, [])
    asked = [q for [q] in examples.raw_samples]
    assert len(asked) == 2 and all(DAM_TITLE in q or VALLEY_TITLE in q for q in asked)
    for question in asked:  # each example is answered from the article it names
        answer = page.respond(question, [], all_ids(page))[4][-1].answer
        title = DAM_TITLE if DAM_TITLE in question else VALLEY_TITLE
        assert answer.citations and {c.title for c in answer.citations} == {title}
    sample = [q for [q] in chat_page(sample_settings).panel()[3].raw_samples]
    assert "Who is Khalil Haqqani?" in sample and all(DAM_TITLE not in q for q in sample)


def test_follow_up_questions_use_the_conversation(sample_settings: Settings) -> None:
    page = chat_page(sample_settings)
    _, history, _, _, turns = page.respond(QUESTION, [], all_ids(page))
    follow_up = "What reward is on his head?"
    _, history, _, _, turns = page.respond(follow_up, history, all_ids(page), None, turns)
    assert [t.question for t in turns] == [QUESTION, follow_up]
    assert [m["role"] for m in history] == ["user", "assistant"] * 2
    citations = turns[-1].answer.citations
    assert citations == page.answerer.answer(follow_up, [QUESTION]).citations
    assert "reward" in citations[0].text


def test_an_abstention_reads_as_a_sentence(sample_settings: Settings) -> None:
    page = chat_page(sample_settings)
    _, history, switch, view, turns = page.respond("What is the capital of France?", [], all_ids(page))
    citations = turns[-1].answer.citations
    assert turns[-1].answer.reason == "other_entity"  # nothing in the article mentions France
    reply = Fragment(history[-1]["content"]).text
    assert WORDING.abstain.rstrip(".") in reply
    assert turns[-1].answer.related is None and RELATED not in reply  # nothing on that subject
    assert ui_text("abstain_hint") in reply
    assert citations == ()
    assert ui_text("no_citations") in view
    assert switch["visible"] is False
    _, history, _, _, turns = page.respond(
        "When did the UK designate the Haqqani Network a terrorist group?",
        history,
        all_ids(page),
        None,
        turns,
    )
    reply = Fragment(history[-1]["content"]).text
    related = turns[-1].answer.related  # on the subject: shown under its heading, not as the answer
    assert reply.index(RELATED) < reply.index(related.text) and "[1]" not in reply
    assert f"{RELATED}:\n\n“{related.text}”" in transcript(turns)


def test_errors_are_notices_in_the_chat_and_change_nothing(
    settings: Settings, sample_settings: Settings
) -> None:
    sample = chat_page(sample_settings)
    for question, selected, expected in [
        ("   ", all_ids(sample), "question is empty"),
        (QUESTION, [], ui_text("no_selection")),
    ]:
        box, history, switch, view, turns = sample.respond(question, [], selected)
        assert [m["role"] for m in history] == ["assistant"]
        assert expected in Fragment(history[0]["content"]).text
        assert box == switch == view == turns == gr.skip()  # the question box keeps the question
    history = chat_page(settings).respond(QUESTION, [], [])[1]
    assert ui_text("empty_store") in Fragment(history[0]["content"]).text


def test_an_article_with_markup_is_shown_as_text(settings: Settings) -> None:
    page = chat_page(settings)
    title_box, text_box, status, table, selected, *_ = page.add_text(BRIDGE_TITLE, BRIDGE_TEXT, [])
    assert (title_box, text_box) == ("", "")
    assert f"Added “{BRIDGE_TITLE}”" in assert_only_own_markup(status).text
    assert BRIDGE_TITLE in assert_only_own_markup(table).text
    assert [label for label, _ in selected["choices"]] == [BRIDGE_TITLE]  # Gradio shows labels as text
    _, history, _, view, turns = page.respond("When was the Orvel bridge inspected?", [], selected["value"])
    citations = turns[-1].answer.citations
    assert PAYLOAD in citations[0].text
    assert PAYLOAD in assert_only_own_markup(history[-1]["content"]).text
    shown = assert_only_own_markup(view)
    assert shown.marks["1"] == citations[0].text
    assert "<script>window.__pwned=true;alert('x')</script>" in shown.text
    assert "${alert(1)}" in shown.text


def test_a_reply_citing_several_articles_can_show_each(settings: Settings) -> None:
    page = chat_page(settings)
    page.add_text(DAM_TITLE, DAM_TEXT, [])
    page.add_text(VALLEY_TITLE, VALLEY_TEXT, [])
    _, _, switch, view, turns = page.respond("What is the Veltra dam?", [], all_ids(page))
    citations = turns[-1].answer.citations
    cited = list(dict.fromkeys(c.article_id for c in citations))
    assert len(cited) == 2, f"the question should cite both articles: {citations}"
    assert switch["visible"] is True
    assert [i for _, i in switch["choices"]] == cited and switch["value"] == cited[0]
    numbers = {str(n): c for n, c in enumerate(citations, 1)}
    for article_id, markup in [(cited[0], view), (cited[1], page.article_view(cited[1], turns))]:
        shown = Fragment(markup)
        assert shown.marks == {n: c.text for n, c in numbers.items() if c.article_id == article_id}


@pytest.mark.subprocess
def test_uploads_are_ingested_under_their_sanitised_name(settings: Settings, tmp_path: Path) -> None:
    page = chat_page(settings)
    upload = tmp_path / "..\\..\\veltra-dam.txt"  # a Windows-style path in the name
    upload.write_text(f"{DAM_TITLE}\n\n{DAM_TEXT}\n")
    box, status, table, selected, doomed, _ = page.add_file(str(upload), [])
    assert box is None
    assert f"Added “{DAM_TITLE}” (3 sentences)" in Fragment(status).text
    [article] = page.store.articles()
    assert article.source == "upload:veltra-dam.txt"
    assert "veltra-dam.txt" in Fragment(table).text and "upload:" not in table
    assert selected["value"] == [article.article_id]
    assert doomed["choices"] == [(DAM_TITLE, article.article_id)]
    upload.write_text(f"{DAM_TITLE}\n\n{DAM_TEXT}\n\nIt was renovated in 2015.\n")
    status = page.add_file(str(upload), [article.article_id])[1]
    assert f"Updated “{DAM_TITLE}” (4 sentences)" in Fragment(status).text
    assert [a.sentence_count for a in page.store.articles()] == [4]


def test_unreadable_files_are_refused_and_leave_the_store_as_it_was(
    settings: Settings, tmp_path: Path
) -> None:
    page = chat_page(settings)
    page.add_text(DAM_TITLE, DAM_TEXT, [])
    before = page.store.articles()
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "empty.md").write_text("  \n")
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4 text")
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    with (tmp_path / "huge.txt").open("wb") as huge:
        huge.truncate(MAX_BYTES + 1)
    for name, reason in [
        ("binary.txt", "binary"),
        ("empty.md", "empty"),
        ("report.pdf", "not a readable PDF"),
        ("photo.png", "unsupported file type .png"),
        ("huge.txt", "MB limit"),
    ]:
        box, status, *_ = page.add_file(str(tmp_path / name), [])
        message = Fragment(status).text
        assert name in message and reason in message, message
        assert box is None
        assert page.store.articles() == before
        # the CLI reads files with the same function: the same reason, word for word
        (outcome,) = library(settings).add_sources([tmp_path / name]).outcomes
        assert message == f"⚠ {name}: {outcome.detail}"


def test_pasted_text_needs_a_title_and_text(settings: Settings) -> None:
    page = chat_page(settings)
    for title, text, reason in [(" ", DAM_TEXT, "title"), (DAM_TITLE, "\n", "text")]:
        title_box, text_box, status, *_ = page.add_text(title, text, [])
        assert reason in Fragment(status).text
        assert title_box == text_box == gr.skip()  # what was typed stays
    assert page.store.articles() == []


def test_removing_an_article_updates_the_panel(settings: Settings) -> None:
    page = chat_page(settings)
    page.add_text(DAM_TITLE, DAM_TEXT, [])
    page.add_text(VALLEY_TITLE, VALLEY_TEXT, [])
    dam, valley = all_ids(page)
    status, table, selected, doomed, examples = page.remove(dam, [dam, valley])
    assert f"Removed “{DAM_TITLE}”" in Fragment(status).text
    assert DAM_TITLE not in Fragment(table).text
    assert selected["value"] == [valley]
    assert doomed["choices"] == [(VALLEY_TITLE, valley)]
    assert [DAM_TITLE in q for [q] in examples.raw_samples] == [False]  # the removed one is offered no more
    assert all_ids(page) == [valley]
    citations = page.respond("When was the Veltra dam completed?", [], [valley])[4][-1].answer.citations
    assert {c.article_id for c in citations} <= {valley}
    assert "no longer" in Fragment(page.remove(dam, [valley])[0]).text


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\boot.ini.md", "boot.ini.md"),
        (".hidden.txt", "hidden.txt"),
        ("..", "upload"),
        ("", "upload"),
        ("a<b>|c;rm -rf.html", "a_b_c_rm -rf.html"),
        ("Report (1).html", "Report (1).html"),
        ("Überblick.txt", "Überblick.txt"),
    ],
)
def test_safe_file_name(name: str, safe: str) -> None:
    assert safe_file_name(name) == safe


# -- the app served for real ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(sample_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """``python -m assistant`` on a free port over the sample store; its URL and folder."""
    folder = tmp_path_factory.mktemp("served")
    with served_chat(sample_settings.store, folder) as url:
        yield url, folder


@pytest.mark.subprocess
def test_chat_endpoint_answers_with_citations(served: tuple[str, Path]) -> None:
    reply = Client(served[0], verbose=False).predict(QUESTION, api_name="/chat")
    assert isinstance(reply, str)
    assert "[1]" in reply
    cited = reply.split("[1]")[0].strip()  # the answer: the cited sentence, then its marker
    assert "Khalil Haqqani" in cited
    assert reply.count(cited) == 1  # shown once: the source line names its article instead
    assert "[1] US to engage with Taliban" in reply  # the cited sentence's article title


@pytest.mark.subprocess
def test_chat_endpoint_takes_the_history(served: tuple[str, Path]) -> None:
    client = Client(served[0], verbose=False)
    reply = client.predict("What reward is on his head?", [QUESTION], api_name="/chat")
    assert "[1]" in reply
    assert "reward" in reply.split("[1]")[0]


@pytest.mark.subprocess
def test_chat_endpoint_reports_an_empty_question_as_a_message(served: tuple[str, Path]) -> None:
    reply = Client(served[0], verbose=False).predict("   ", api_name="/chat")
    assert "question is empty" in reply
    assert "Traceback" not in reply


@pytest.mark.subprocess
def test_chat_endpoint_abstains_plainly(served: tuple[str, Path]) -> None:
    reply = Client(served[0], verbose=False).predict("What is the capital of France?", api_name="/chat")
    assert "could not find" in reply


@pytest.mark.subprocess
def test_uploaded_file_names_stay_in_the_upload_folder(served: tuple[str, Path]) -> None:
    url, folder = served
    response = httpx.post(
        f"{url}gradio_api/upload", files={"files": ("../../escape.txt", b"Title\n\nText.", "text/plain")}
    )
    response.raise_for_status()
    [stored] = response.json()
    assert Path(stored).resolve().is_relative_to((folder / "uploads").resolve())
    assert Path(stored).name == "escape.txt"
    assert not (folder / "escape.txt").exists()


@pytest.mark.subprocess
def test_uploads_over_the_size_limit_are_refused(served: tuple[str, Path]) -> None:
    response = httpx.post(
        f"{served[0]}gradio_api/upload", files={"files": ("big.txt", b"a" * (MAX_BYTES + 1), "text/plain")}
    )
    assert response.status_code == 413


@pytest.mark.subprocess
def test_refuses_a_public_address_without_auth(sample_settings: Settings) -> None:
    env = {k: v for k, v in os.environ.items() if k not in CHROMA_VARS}
    env.update(ASSISTANT_STORE=str(sample_settings.store))
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "serve", "--host", "0.0.0.0", "--port", str(free_port())],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert "ASSISTANT_AUTH" in done.stderr


def test_an_article_is_added_from_a_link(settings: Settings, news_server: str) -> None:
    page = chat_page(settings)
    box, status, _, selected, *_ = page.add_link(news_server, [])
    assert box == "" and f"Added “{DAM_TITLE}”" in Fragment(status).text
    [article] = page.store.articles()
    assert article.source == news_server and article.meta.url == news_server
    assert selected["value"] == [article.article_id]
    box, status, *_ = page.add_link("http://127.0.0.1:9/nothing-listens-here", [])
    assert box == gr.skip() and "cannot connect" in Fragment(status).text
    assert len(page.store.articles()) == 1


@pytest.mark.parametrize("how", ["setting", "flag"])
def test_an_exposed_chat_refuses_links_into_its_own_network(
    tmp_path: Path, news_server: str, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.interfaces.cli import _parser, settings_of

    store = tmp_path / "store"
    if how == "setting":
        exposed = Settings(store=store, chroma_host=None, host="0.0.0.0")
    else:  # `serve --host 0.0.0.0`: the flag reaches the page's link rules, not only the bind
        monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
        exposed = settings_of(
            _parser("article-assistant").parse_args(["serve", "--host", "0.0.0.0", "--store", str(store)])
        )
    page = ChatPage.of(make_root(exposed))
    _, status, *_ = page.add_link(news_server, [])
    assert "private or local address" in Fragment(status).text and page.store.articles() == []
    allowed = exposed.with_overrides(allow_private_links=True)
    page = ChatPage.of(make_root(allowed))
    assert f"Added “{DAM_TITLE}”" in Fragment(page.add_link(news_server, [])[1]).text


def test_adding_shows_how_far_it_has_got_then_its_outcome(settings: Settings) -> None:
    page = chat_page(settings)
    add_text = page.followed(page.add_text, 2, 7)
    shown = list(add_text(DAM_TITLE, DAM_TEXT, []))
    *going, done = shown
    progress = [Fragment(step[2]).text for step in going]
    assert progress and all(len(step) == 7 for step in going)
    assert progress[0] == f"Adding… 1 article read (the last: {DAM_TITLE}), 0 sentences stored"
    assert progress[-1] == f"Adding… 1 article read (the last: {DAM_TITLE}), 3 sentences stored"
    assert all(value == gr.skip() for step in going for k, value in enumerate(step) if k != 2)
    assert f"Added “{DAM_TITLE}” (3 sentences)" in Fragment(done[2]).text
    with pytest.raises(TypeError):  # a handler's own error reaches the page's request
        list(page.followed(page.add_text, 2, 7)(DAM_TITLE))


def test_the_conversation_downloads_as_markdown_with_its_sources(sample_settings: Settings) -> None:
    page = chat_page(sample_settings)
    assert page.export([]).visible is False  # nothing to download before the first question
    *_, turns = page.respond(QUESTION, [], all_ids(page))
    *_, turns = page.respond("How much is the reward on his head?", [], all_ids(page), None, turns)
    *_, turns = page.respond("What is the capital of Peru?", [], all_ids(page), None, turns)
    download = page.export(turns)
    assert download.visible and download.value["orig_name"] == "conversation.md"
    text = Path(download.value["path"]).read_text(encoding="utf-8")
    first = turns[0].answer.citations[0]
    assert text.startswith("# Article assistant\n") and f"**Q:** {QUESTION}" in text
    assert f"1. “{first.text}” — *{first.title}*, sentence {first.sentence_index + 1} ({SAMPLE.name})" in text
    assert "**USD 5 million**" in text and "\\[1\\]" in text  # the short answer; markers as written
    assert turns[2].answer.abstained and turns[2].answer.text in text
    assert str(SAMPLE.parent) not in text
