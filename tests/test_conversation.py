"""The conversation: follow-up questions made standalone without an LLM, and each earlier turn
answered at most once (never, when its answer is given)."""

import pytest

from assistant import Assistant, InvalidQuestionError, Turn
from assistant.answering.answerer import ExtractiveAnswerer
from assistant.answering.conversation import resolve, topic
from assistant.question.parse import Question
from tests.conftest import SAMPLE, library


@pytest.mark.parametrize(
    ("question", "history", "expected"),
    [
        (
            "What reward is on his head?",
            ["Who is Khalil Haqqani?"],
            "What reward is on Khalil Haqqani’s head?",
        ),
        (
            "When was it first designated?",
            ["What is the Haqqani Network?"],
            "When was the Haqqani Network first designated?",
        ),
        (
            "What did he say about the Pakistanis?",
            ["Who is Douglas London?"],
            "What did Douglas London say about the Pakistanis?",
        ),
        ("What about Ned Price?", ["Who is Douglas London?"], "Who is Ned Price?"),
        ("And Jen Psaki?", ["Who is Douglas London?"], "Who is Jen Psaki?"),
        # a chain: the topic carries through an earlier follow-up
        (
            "Where did he show up?",
            ["Who is Khalil Haqqani?", "What reward is on his head?"],
            "Where did Khalil Haqqani show up?",
        ),
        # a question that stands alone is left as it is
        ("What is the capital of France?", ["Who is Khalil Haqqani?"], "What is the capital of France?"),
        (
            "Who is the White House Press Secretary?",
            ["Who is Douglas London?"],
            "Who is the White House Press Secretary?",
        ),
        # no history: nothing to resolve
        ("What reward is on his head?", [], "What reward is on his head?"),
    ],
)
def test_resolve(question: str, history: list[str], expected: str) -> None:
    assert resolve(question, history) == expected


def test_a_bare_question_is_asked_about_the_previous_turn() -> None:
    assert resolve("Why?", ["Who maintains security checkpoints around Kabul airport?"]) == (
        "Who maintains security checkpoints around Kabul airport? Why?"
    )


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who is Khalil Haqqani?", "Khalil Haqqani"),
        ("What is the Haqqani Network?", "the Haqqani Network"),
        ("When did the US first designate the Haqqani Network?", "the US"),
        ("what reward is on his head?", "reward head"),
    ],
)
def test_topic(question: str, expected: str) -> None:
    assert topic(question) == expected


# -- the conversation's cost: each turn answered once -----------------------------------------


def _counting_traces(answerer: ExtractiveAnswerer, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The questions the answerer works out, in order, from now on (each a search or a
    whole-article answer)."""
    asked: list[str] = []
    original = answerer._trace

    def counted(question: str, *args: object, **kwargs: object):
        asked.append(question)
        return original(question, *args, **kwargs)

    monkeypatch.setattr(answerer, "_trace", counted)
    return asked


WALK = ["Summarize the article", *["Tell me more"] * 9]


def test_a_turn_with_the_earlier_answers_given_works_out_only_itself(
    sample_root: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    answerer = sample_root.extractive
    asked = _counting_traces(answerer, monkeypatch)
    turns: list[Turn] = []
    for question in WALK:
        asked.clear()
        reply = answerer.answer(question, turns)
        assert asked == [question]
        turns.append(Turn(question, reply))
    ended = [not t.answer.citations for t in turns]
    walked = turns[: ended.index(True)]  # a walk through the article, then "that is all"
    shown = [c.sentence_index for t in walked for c in t.answer.citations]
    assert len(shown) > 10 and len(shown) == len(set(shown))
    assert all(ended[len(walked) :])  # asked again, it stays at the end: never starts over
    end = turns[-1].answer
    assert not end.abstained and "That is all" in end.text  # the end of the article, not a decline


def test_more_after_questions_shows_only_what_no_turn_showed(sample_root: Assistant) -> None:
    answerer = sample_root.extractive
    turns: list[Turn] = []
    for question in ["Who is Khalil Haqqani?", "What reward is on his head?", "Tell me more", "Tell me more"]:
        turns.append(Turn(question, answerer.answer(question, turns)))
    asked = {c.sentence_index for t in turns[:2] for c in t.answer.citations}
    more = [c.sentence_index for t in turns[2:] for c in t.answer.citations]
    assert turns[-1].answer.citations and len(more) == len(set(more)) and not asked & set(more)


def test_more_after_a_declined_question_continues_the_only_article(sample_root: Assistant) -> None:
    declined = Turn("What is the capital of France?", sample_root.answer("What is the capital of France?"))
    assert declined.answer.abstained
    more = sample_root.answer("Tell me more", [declined])  # the article from its start, not a list of leads
    assert more.citations and more.citations == sample_root.answer("Summarize the article").citations


def test_earlier_questions_given_as_text_are_each_answered_once(
    sample_root: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    answerer = sample_root.extractive
    turns: list[Turn] = []
    for question in WALK[:6]:
        turns.append(Turn(question, answerer.answer(question, turns)))
    asked = _counting_traces(answerer, monkeypatch)
    reply = answerer.answer("Tell me more", [t.question for t in turns])
    assert asked == ["Tell me more", *[t.question for t in turns]]  # the new turn, then each earlier once
    assert reply == answerer.answer("Tell me more", turns)


def test_a_follow_up_needs_no_earlier_answer(sample_root: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    answerer = sample_root.extractive
    asked = _counting_traces(answerer, monkeypatch)
    reply = answerer.answer("What reward is on his head?", ["Who is Khalil Haqqani?"])
    assert asked == ["What reward is on his head?"]
    assert "USD 5 million" in reply.citations[0].text


def test_the_question_is_parsed_once(sample_root: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    original = Question.parse.__func__

    def counted(cls: type[Question], asked: str, standalone: str | None = None) -> Question:
        parsed.append(asked)
        return original(cls, asked, standalone)

    monkeypatch.setattr(Question, "parse", classmethod(counted))
    reply = sample_root.extractive.answer("What reward is on his head?", ["Who is Khalil Haqqani?"])
    assert parsed == ["What reward is on his head?"] and reply.short.text == "USD 5 million"


def test_only_the_turns_a_question_leans_on_are_worked_out(
    sample_root: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    answerer = sample_root.extractive
    asked = _counting_traces(answerer, monkeypatch)
    history = ["Who is Khalil Haqqani?", "What reward is on his head?", "Summarize the article"]
    answerer.answer("Tell me more", history)
    # "Tell me more" leans on the summary, the summary on the question before it; no further back
    assert asked == ["Tell me more", "What reward is on his head?", "Summarize the article"]


HARBOUR = (
    "Harbour news\n\nThe ferry to Skye left at noon. It carried forty cars. The crossing took an hour.\n"
)


@pytest.fixture
def two_articles(root: Assistant, settings, tmp_path) -> tuple[Assistant, str, str]:
    (tmp_path / "harbour.txt").write_text(HARBOUR)
    report = library(settings).add_sources([SAMPLE, tmp_path / "harbour.txt"])
    sample, harbour = (o.article_id for o in report.outcomes)
    return root, sample, harbour


def test_the_conversation_s_article_must_be_one_of_the_chosen(two_articles) -> None:
    root, sample, harbour = two_articles
    earlier = Turn("Who is Khalil Haqqani?", root.answer("Who is Khalil Haqqani?"))
    assert earlier.answer.citations[0].article_id == sample
    summary = root.answer("Summarize the article", [earlier], article_ids=[harbour])
    assert {c.article_id for c in summary.citations} == {harbour}
    more = root.answer("Tell me more", [earlier], article_ids=[harbour])
    assert {c.article_id for c in more.citations} == {harbour}


def test_answers_kept_from_before_an_article_changed_or_went_do_not_break_the_conversation(
    two_articles, settings, tmp_path
) -> None:
    root, _, harbour = two_articles
    question = "Summarize the article about the ferry to Skye"
    turns = [Turn(question, root.answer(question))]
    assert [c.article_id for c in turns[0].answer.citations] == [harbour] * 3  # the whole article
    (tmp_path / "harbour.txt").write_text(HARBOUR.replace("forty cars", "twelve lorries"))
    library(settings).add_sources([tmp_path / "harbour.txt"])  # the same article, changed
    more = root.answer("Tell me more", turns)
    assert [c.text for c in more.citations] == ["It carried twelve lorries."]  # what the summary did not show
    assert root.store.remove_article(harbour)
    root.store.touch()
    after = root.answer("Tell me more", turns)  # the article it was about is gone
    assert harbour not in {c.article_id for c in after.citations}


def test_articles_asked_about_that_are_not_in_the_store_are_a_clear_error(two_articles) -> None:
    root, _, _ = two_articles
    for question in ("Who is Khalil Haqqani?", "Summarize the article"):
        with pytest.raises(InvalidQuestionError, match="none of the articles asked about is in the store"):
            root.answer(question, article_ids=["no-such-article"])
