"""Follow-up questions made standalone from the history, without an LLM."""

import pytest

from assistant.followup import resolve, topic


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
