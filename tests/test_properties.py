"""Property-based tests: for any text, cleaning and splitting never raise and keep exact offsets,
and ingesting it never leaves the store broken.

Texts are drawn both from all of Unicode (control characters, NUL, emoji, right-to-left
marks, combining accents) and from news-like pieces (abbreviations, initials, quotes,
credits, shortcodes, Markdown and HTML) that exercise the cleaning rules and the splitter.
Example counts stay small for the store test: every example embeds with the real model.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from assistant.core.errors import IngestError
from assistant.core.records import RawArticle
from assistant.core.settings import Settings
from assistant.storage.store import Store
from ingest.clean import clean_paragraph, clean_paragraphs, normalise
from ingest.loader import decode, parse_text
from ingest.split import MAX_SENTENCE_CHARS, PARAGRAPH_BREAK, build_article, split_sentences
from tests.conftest import library
from tests.store_checks import assert_consistent

PIECES = (
    "The council met on Monday.", "Dr. J. R. Smith", " said ", "Mr. Jones", "U.S.", "D.C.",
    "“We will leave,” she said.", "'Not today.'", "(ANI)", "(Image Source ANI)", "(Photo: x)",
    "ALSO READ – ", "Read more: ", '[mc4wp_form id=""]', "[caption]", "[/caption]", "**bold**",
    "# ", "- ", "> ", "<p>", "</p>", "<script>x()</script>", "&amp;", "...", "?!", "!", "?",
    ". ", ", ", "; ", " ", "  ", "\n", "\n\n", "\r\n", "\t", "\x00", "\x07", "\u200b", "\u202e",
    "e\u0301", "🙂", "中文。", "Привет.", "١٢٣", "5.3 million", "No. 7", "3 p.m.", "a", "Z",
)  # fmt: skip
news_like = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)
any_text = st.one_of(st.text(max_size=400), news_like)
FAST = settings(max_examples=300, deadline=None, database=None)


@FAST
@given(any_text)
def test_normalise_and_clean_never_raise_and_leave_no_control_characters(text: str) -> None:
    normal = normalise(text)
    assert all(ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf") for ch in normal)
    cleaned = clean_paragraph(normal)
    assert cleaned == cleaned.strip()
    assert not cleaned or any(ch.isalnum() for ch in cleaned)
    assert all(clean_paragraphs(text.split("\n")))


@FAST
@given(any_text)
def test_sentences_cover_the_paragraph_with_exact_stripped_spans(text: str) -> None:
    spans = split_sentences(text)
    position = 0
    for start, end in spans:
        assert position <= start < end <= len(text)
        assert not text[position:start].strip(), "text between sentences is only space"
        sentence = text[start:end]
        assert sentence == sentence.strip()
        assert len(sentence) <= MAX_SENTENCE_CHARS
        position = end
    assert not text[position:].strip()


@FAST
@given(st.text(max_size=80), st.lists(any_text, max_size=6))
def test_an_article_s_sentences_are_exact_slices_of_its_cleaned_text(title: str, paragraphs: list) -> None:
    try:
        article = build_article(RawArticle("/any/source.txt", title, tuple(paragraphs)))
    except IngestError as e:
        assert "no article text" in str(e)
        return
    assert article.text == PARAGRAPH_BREAK.join(clean_paragraphs(paragraphs))
    assert [s.index for s in article.sentences] == list(range(len(article.sentences)))
    for s in article.sentences:
        assert article.text[s.start : s.end] == s.text
    assert [s.paragraph for s in article.sentences] == sorted(s.paragraph for s in article.sentences)


@FAST
@given(st.binary(max_size=600), st.sampled_from(["text", "markdown", "html"]))
def test_any_bytes_are_read_or_refused_with_a_reason(data: bytes, kind: str) -> None:
    try:
        text, _ = decode(data, "file")
        raw = parse_text(text, "/any/file", kind)
    except IngestError as e:
        assert str(e).startswith(("file: ", "/any/file: "))
        return
    assert raw.title == " ".join(raw.title.split()) and raw.title


def test_a_huge_paragraph_is_split_into_its_sentences() -> None:
    """400 KB in one paragraph: every sentence found, none lost or merged."""
    expected = [f"The council met on Monday and voted on bridge number {i} today." for i in range(5000)]
    text = " ".join(expected)
    assert [text[s:e] for s, e in split_sentences(text)] == expected


@pytest.fixture(scope="module")
def property_store(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One store that every example of the ingest property adds to and replaces in."""
    return Settings(store=tmp_path_factory.mktemp("properties") / "store", chroma_host=None)


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=any_text, source=st.integers(0, 2), kind=st.sampled_from(["text", "markdown", "html"]))
@example(text="The ferry left at noon. It carried cars.", source=0, kind="text")
@example(text="The ferry left at dawn. It carried nothing.", source=0, kind="text")  # replaces it
def test_ingesting_any_text_never_corrupts_the_store(
    property_store: Settings, text: str, source: int, kind: str
) -> None:
    try:
        raw = parse_text("Title\n\n" + text, f"/property/{source}{kind}", kind)
    except IngestError:
        return
    (outcome,) = library(property_store).add([raw]).outcomes
    event(outcome.status)
    assert_consistent(property_store)
    if outcome.status in ("added", "updated", "unchanged"):
        article = build_article(raw)
        store = Store(property_store)
        assert store.article_text(article.article_id) == article.text
        assert store.article(article.article_id).content_hash == article.content_hash
