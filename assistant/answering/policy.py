"""The decision for a searched question: cite these candidates, or abstain for a reason.

    ranking -> no searchable word: Abstain("no_terms")
            -> the best candidate too weak (the abstention model): Abstain("weak_evidence"),
               or, when it trips a near-miss rule, Abstain with that rule's reason
               ("missing_attribute", "other_entity", "other_role": a hard rule's first, else
               the first other one's) and the best candidate as the related sentence
            -> else the best eligible candidate, then up to two more strong ones that are
               not near-duplicates: Cite(positions); none eligible: Abstain as for a near
               miss of the best candidate

A candidate is eligible when it trips no hard near-miss rule and, when it is not the best
one, is strong enough on its own (judged as if it were first). Every answerer reads the
decision (the extractive one cites it, the generated one gives its rows to the chat model),
so when to answer is decided here only.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.answering.abstention import Abstention
from assistant.answering.nearmiss import Miss, NearMissJudge
from assistant.core.records import Reason
from assistant.search.features import COLUMN
from assistant.search.ranking import Ranking

MAX_CITATIONS = 3
# A further sentence is cited when p >= ratio * p(best). The ranker's softmax is peaked: the
# seed questions' second supports score 0.19 of the best, other runners-up below 0.02.
EXTRA_CITATION_RATIO = 0.15
NEAR_DUPLICATE = 0.9  # cosine between two sentences above which only the first is cited


@dataclass(frozen=True, slots=True)
class Cite:
    """Cite these candidates of the ranking: their positions in it, the first the answer."""

    positions: tuple[int, ...]

    def rows(self, ranking: Ranking) -> tuple[int, ...]:
        """The corpus rows of the cited candidates, in citing order."""
        return tuple(ranking.candidates[i].row for i in self.positions)


@dataclass(frozen=True, slots=True)
class Abstain:
    """Say the articles do not answer, and why; ``detail`` says how a near miss misses
    ("nothing here mentions the UK"), ``related`` is the position in the ranking of the
    sentence it misses with (on the question's subject, shown as such, not as the answer)."""

    reason: Reason
    detail: str = ""
    related: int | None = None


Decision = Cite | Abstain


def _declined(miss: Miss | None, ranking: Ranking) -> Abstain:
    """The decline when the best candidate does not answer: how it misses, if a rule says, with
    it as the related sentence when it holds some of the question's words (else it is on
    another subject: "the capital of France" against a sentence about Biden); else weak evidence."""
    if miss is None:
        return Abstain("weak_evidence")
    on_subject = ranking.features[0, COLUMN["coverage"]] > 0
    return Abstain(miss.reason, miss.detail, related=0 if on_subject else None)


class Policy:
    """Decides, for a ranking, whether to answer and with which candidates."""

    def __init__(self, abstention: Abstention, judge: NearMissJudge) -> None:
        self.abstention = abstention
        self.judge = judge

    def decide(self, ranking: Ranking) -> Decision:
        """Cite or abstain (see the module docstring). Cost: the near-miss rules of the best
        candidate, and of each further one until the citations are chosen (at most 12)."""
        if not ranking.question.terms:
            return Abstain("no_terms")
        if not len(ranking):
            return Abstain("weak_evidence")
        misses = self.judge.of(ranking)
        if self.abstention.weak(ranking, misses(0)):
            return _declined(misses(0).explain(), ranking)
        corpus, probabilities = ranking.corpus, ranking.probabilities
        chosen: list[int] = []
        best = probabilities[0]  # then the first one chosen
        for i, candidate in enumerate(ranking.candidates[: MAX_CITATIONS * 4]):
            if len(chosen) == MAX_CITATIONS or probabilities[i] < EXTRA_CITATION_RATIO * best:
                break
            vector = corpus.embeddings[candidate.row]
            if any(
                float(vector @ corpus.embeddings[ranking.candidates[c].row]) > NEAR_DUPLICATE for c in chosen
            ):
                continue
            if misses(i).decline() or (i > 0 and self.abstention.weak(ranking.promoted(i), misses(i))):
                continue
            if not chosen:
                best = probabilities[i]
            chosen.append(i)
        if not chosen:  # each candidate strong enough trips a hard rule (or is weak next to it)
            return _declined(misses(0).explain(), ranking)
        return Cite(tuple(chosen))
