"""The tokenizer's stop words: bm25s's list, kept as a copy so that answering never imports bm25s; and
the count with its noun that messages write."""

from assistant.core import text


def test_the_stop_words_are_bm25s_own() -> None:
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    assert text.STOPWORDS_EN_PLUS == STOPWORDS_EN_PLUS and len(text.STOPWORDS_EN_PLUS) == 179
    assert frozenset(STOPWORDS_EN_PLUS) <= text.STOPWORDS


def test_content_terms_leave_out_stop_words_and_stem() -> None:
    terms = text.content_terms("Who is the Taliban's envoy? They weren't talking.")
    assert terms == ["taliban", "envoy", "talk"]


def test_a_count_takes_the_form_of_its_noun_that_agrees() -> None:
    assert [text.plural(n, "sentence") for n in (0, 1, 2, 12000)] == [
        "0 sentences", "1 sentence", "2 sentences", "12,000 sentences",
    ]  # fmt: skip
