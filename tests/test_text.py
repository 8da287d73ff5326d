"""The tokenizer's stop words: bm25s's list, kept as a copy so that answering never imports bm25s."""

from assistant.core import text


def test_the_stop_words_are_bm25s_own() -> None:
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    assert text.STOPWORDS_EN_PLUS == STOPWORDS_EN_PLUS and len(text.STOPWORDS_EN_PLUS) == 179
    assert frozenset(STOPWORDS_EN_PLUS) <= text.STOPWORDS


def test_content_terms_leave_out_stop_words_and_stem() -> None:
    terms = text.content_terms("Who is the Taliban's envoy? They weren't talking.")
    assert terms == ["taliban", "envoy", "talk"]
