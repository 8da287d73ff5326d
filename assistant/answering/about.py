"""Answers about an article as a whole: its summary, the rest of it, and what the page says
of itself (when it was published, who wrote it, which site ran it).

Which article is the answerer's to decide (:meth:`ExtractiveAnswerer.focus`); this module
makes the reply for it, every sentence cited like any other answer.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from assistant.answering.citing import citation, compose
from assistant.answering.summary import summary_order, summary_size
from assistant.answering.wording import Messages
from assistant.core.records import Answer, Citation
from assistant.storage.corpus import Corpus

MAX_LEADS = 8  # articles whose opening line is shown when several are chosen and none is named
METADATA = ("published", "author", "site")


def summary(corpus: Corpus, number: int, shown: Collection[int], messages: Messages) -> Answer:
    """The best sentences of article ``number`` not yet ``shown`` (rows), in article order:
    a summary when nothing was shown, "more" after it; once all are shown, a message that the
    article has nothing more (it cites nothing, and declines nothing)."""
    rows = corpus.rows_of_article(number)
    order = [row for row in summary_order(corpus, rows) if row not in shown]
    if not order:
        title = corpus.sentences[int(rows[0])].title
        return Answer(text=messages.about["summary_done"].format(title=title))  # the end, not a decline
    picked = sorted(order[: summary_size(len(rows))])
    return compose([citation(corpus, row, 1.0) for row in picked])


def leads(corpus: Corpus, numbers: Sequence[int], messages: Messages) -> Answer:
    """Each article's opening sentence, and an invitation to pick one of them."""
    firsts = [int(corpus.rows_of_article(n)[0]) for n in numbers[:MAX_LEADS]]
    citations = [citation(corpus, row, 1.0) for row in firsts]
    invitation = messages.about["pick_article"].format(title=citations[0].title)
    return compose(citations, invitation)


def metadata(kind: str, corpus: Corpus, number: int, messages: Messages) -> Answer:
    """What article ``number``'s page says of itself for ``kind`` (published, author, site),
    cited as the page's metadata; an abstention when it does not say."""
    first = int(corpus.rows_of_article(number)[0])
    meta = corpus.article_meta[number]
    value = getattr(meta, kind)
    if not value:
        return Answer(text=messages.about[f"unknown_{kind}"], reason="not_stated")
    s = corpus.sentences[first]
    cited = Citation(
        text=value, article_id=s.article_id, title=s.title, sentence_index=-1, start=0, end=0, score=1.0,
        site=meta.site, published=meta.published, url=meta.url, file=meta.file, field=kind,
    )  # fmt: skip
    return Answer(text=f"{messages.about[kind].format(title=s.title, value=value)} [1]", citations=(cited,))
