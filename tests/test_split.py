"""Sentence splitting: a segmentation library, per paragraph, with exact offsets."""

from pathlib import Path

from assistant.core.records import RawArticle
from ingest.loader import parse_text, read_article
from ingest.split import build_article, split_sentences
from tests.conftest import SAMPLE


def _texts(paragraph: str) -> list[str]:
    return [paragraph[s:e] for s, e in split_sentences(paragraph)]


def test_abbreviations_and_initials_do_not_end_sentences() -> None:
    text = "Dr. J. R. Smith met Mr. Jones in Washington, D.C. on Friday. They spoke for an hour."
    assert _texts(text) == [
        "Dr. J. R. Smith met Mr. Jones in Washington, D.C. on Friday.",
        "They spoke for an hour.",
    ]


def test_quotes_stay_with_their_sentence() -> None:
    text = "“We will leave,” she said. “Not today.” He agreed."
    assert _texts(text)[0] == "“We will leave,” she said."
    assert len(_texts(text)) == 3


def test_offsets_point_into_the_cleaned_text() -> None:
    article = build_article(read_article(SAMPLE))
    assert article.sentences, "the sample has sentences"
    for s in article.sentences:
        assert article.text[s.start : s.end] == s.text
    assert [s.index for s in article.sentences] == list(range(len(article.sentences)))


def test_sample_article_is_cleaned() -> None:
    article = build_article(read_article(SAMPLE))
    assert article.title == "US to engage with Taliban for safe evacuation after Aug 31"
    for junk in ("(Image Source ANI)", "ALSO READ", "mc4wp_form", "(Photo:", "(ANI)", "XinhuaIANS"):
        assert junk not in article.text
    assert "People queue up to board a military aircraft of Germany" in article.text
    assert any(s.text.startswith("A Pakistani protege, Khalil Haqqani") for s in article.sentences)


def test_a_caption_never_merges_with_the_next_paragraph() -> None:
    raw = parse_text("Title\n\nA caption without a full stop\nThe next paragraph starts here.\n", "x", "text")
    article = build_article(raw)
    assert [s.text for s in article.sentences] == [
        "A caption without a full stop",
        "The next paragraph starts here.",
    ]
    assert article.sentences[0].paragraph != article.sentences[1].paragraph


def test_article_id_depends_on_source_not_on_a_counter(tmp_path: Path) -> None:
    raw = RawArticle("/a/one.txt", "T", ("Some text here.",))
    again = RawArticle("/a/one.txt", "T", ("Other text now.",))
    other = RawArticle("/b/one.txt", "T", ("Some text here.",))
    assert build_article(raw).article_id == build_article(again).article_id
    assert build_article(raw).article_id != build_article(other).article_id
    assert build_article(raw).content_hash == build_article(other).content_hash


def test_a_wide_space_before_a_full_stop_is_split_with_exact_offsets() -> None:
    """sentencex panics on "A\\xa0." (it steps one byte back from the stop); not here."""
    text = "He said A\xa0. Then he left\u2028. The end."
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["He said A\xa0.", "Then he left\u2028.", "The end."]
