"""The claim verifier: its parts on their own, then the labelled sentences of
``tests/data/verifier.jsonl`` (``bench/verifier.py`` prints the same table).

The rules and thresholds were tuned on the rows marked ``tune``; the aims (95% of the
unsupported rejected, 80% of the supported kept) are asserted there. The ``held`` rows, on
other paragraphs, show how the rules carry over; they are held to a lower floor, so that a
change that only fits the tuned rows shows up.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.app import Assistant
from assistant.generation.verify import (
    Verifier,
    calendar_words,
    figures,
    markers,
    split_claims,
    without_markers,
)

DATA = Path(__file__).parent / "data" / "verifier.jsonl"
ROWS = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
AIMS = {"tune": (0.95, 0.80), "held": (0.90, 0.75)}  # (unsupported rejected, supported kept) at least
SOURCES = [
    "The US first designated the Haqqani Network as a terrorist group in 2012.",
    "Khalil Haqqani has a USD 5 million reward on his head.",
]


@pytest.fixture(scope="module")
def verifier(sample_root: Assistant) -> Verifier:
    return Verifier(sample_root.embedder, sample_root.tagger)


def test_figures_are_values_whatever_their_spelling() -> None:
    assert [f.value for f in figures("USD 5 million, $5m and 5,000,000")] == [5e6] * 3
    assert [(f.value, f.ordinal) for f in figures("the 14th century, the fourteenth")] == [(14, True)] * 2
    assert [f.value for f in figures("twenty-two men and thirteen boats, 49–15")] == [22, 13, 49, 15]
    assert figures("one of the rulers, an M4 rifle") == []  # a pronoun and a model name are no counts
    assert figures("242 Marshall Scholars")[0].counts == "marshal"


def test_calendar_words_are_full_names() -> None:
    assert calendar_words("On Friday, Aug 31, you may march in May") == {"friday", "august", "may"}


def test_claims_keep_the_markers_that_follow_them() -> None:
    text = "Haqqani is a leader. [1] He has a reward [2][1]. Nothing cited here. [3] Last one [1, 2]."
    assert split_claims(text) == [
        "Haqqani is a leader. [1]",
        "He has a reward [2][1].",
        "Nothing cited here. [3]",
        "Last one [1, 2].",
    ]
    assert markers("He has a reward [2][1] and [1, 3].") == (2, 1, 3)
    assert without_markers("He has a reward [2][1], then [1, 3].") == "He has a reward, then."


def test_a_sentence_must_cite_an_existing_source(verifier: Verifier) -> None:
    assert verifier.check("The US designated it in 2012.", SOURCES).reason == "cites no source"
    claim = verifier.check("The US designated it in 2012 [3].", SOURCES)
    assert not claim.supported and claim.citations == (3,)
    assert claim.reason == "cites [3], but the model was given 2 sources"
    alone = verifier.check("The US designated it in 2012 [2].", SOURCES[:1])
    assert alone.reason == "cites [2], but the model was given 1 source"


def test_a_faithful_sentence_is_kept_and_a_changed_one_says_why(verifier: Verifier) -> None:
    assert verifier.check(
        "The Haqqani Network was first designated a terrorist group in 2012 [1].", SOURCES
    ).supported
    assert verifier.check("The US first designated it in 2015 [1].", SOURCES).reason == "2015 is not in [1]"
    assert verifier.check("The UK first designated it in 2012 [1].", SOURCES).reason == "UK is not in [1]"
    assert (
        verifier.check("Haqqani has a USD 5 million reward [1].", SOURCES).reason == "5 million is not in [1]"
    )
    assert verifier.check("Haqqani has a USD 5 million reward [2].", SOURCES).supported
    assert verifier.check("Haqqani has a USD 5 million reward [1][2].", SOURCES).supported


def test_the_labelled_set_is_large_and_varied() -> None:
    kinds = {row["kind"] for row in ROWS}
    assert len(ROWS) >= 60 and {row["split"] for row in ROWS} == {"tune", "held"}
    assert {"paraphrase", "swapped_number", "swapped_name", "invented_fact", "no_marker"} <= kinds
    assert {row["origin"] for row in ROWS} == {"sample", "squad"}


@pytest.mark.slow
@pytest.mark.parametrize("split", ["tune", "held"])
def test_the_verifier_meets_its_aims_on_the_labelled_sentences(verifier: Verifier, split: str) -> None:
    rows = [row for row in ROWS if row["split"] == split]
    judged = [(row, verifier.check(row["sentence"], row["sources"])) for row in rows]
    unsupported = [claim for row, claim in judged if not row["supported"]]
    supported = [claim for row, claim in judged if row["supported"]]
    rejected = sum(not claim.supported for claim in unsupported) / len(unsupported)
    kept = sum(claim.supported for claim in supported) / len(supported)
    least_rejected, least_kept = AIMS[split]
    misjudged = [(row["id"], claim.reason) for row, claim in judged if claim.supported != row["supported"]]
    assert rejected >= least_rejected and kept >= least_kept, (rejected, kept, misjudged)
    assert all(claim.reason for claim in unsupported if not claim.supported)  # every rejection says why
    assert all(claim.reason == "cites no source" for row, claim in judged if row["kind"] == "no_marker")
