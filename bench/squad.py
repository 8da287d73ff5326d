"""The benchmark's articles and questions, made from one SQuAD v1.1 file.

Every SQuAD paragraph becomes an article of its own (its article's title, one paragraph),
and every question on it keeps its gold answers. A larger corpus adds synthetic
distractor articles: each takes a few paragraphs of one SQuAD article and swaps their
names and numbers for others drawn from the whole file, so it reads like more news on the
same topic and shares most words with the original, but does not hold its answers. A
sentence that no swap changed is left out, so no distractor repeats a real sentence word
for word. Deterministic for a given seed.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SQUAD = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "squad-v1.1-dev-a.json"
PARAGRAPHS_PER_SYNTHETIC_ARTICLE = 5
_NAME = re.compile(r"(?<=[a-z,;] )[A-Z][a-z][\w'-]*\b")  # not a sentence's first word
_NUMBER = re.compile(r"\b\d+(?:[,.]\d+)*\b")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


@dataclass(frozen=True)
class Paragraph:
    """One SQuAD paragraph with its article title and questions."""

    title: str
    text: str
    questions: tuple[tuple[str, tuple[str, ...]], ...]  # (question, gold answer texts)


@dataclass(frozen=True)
class Article:
    """An article to ingest: its file name, title and paragraphs."""

    name: str
    title: str
    paragraphs: tuple[str, ...]

    def sentences(self) -> int:
        """About how many sentences it has (ingest's splitter decides the exact count)."""
        return sum(len(_SENTENCE_BREAK.split(p)) for p in self.paragraphs)

    def write(self, folder: Path) -> Path:
        """Save it as ``folder/name.txt``: the title line, then paragraphs between blank lines."""
        path = folder / f"{self.name}.txt"
        path.write_text("\n\n".join([self.title, *self.paragraphs]) + "\n", encoding="utf-8")
        return path


def read_squad(path: Path = SQUAD) -> list[Paragraph]:
    """The paragraphs of a SQuAD v1.1 file, in file order."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        Paragraph(
            title=item["title"].replace("_", " "),
            text=p["context"],
            questions=tuple(
                (qa["question"], tuple(a["text"] for a in qa["answers"])) for qa in p["qas"] if qa["answers"]
            ),
        )
        for item in data["data"]
        for p in item["paragraphs"]
    ]


def real_articles(paragraphs: list[Paragraph]) -> list[Article]:
    """Each paragraph as an article, named ``squad-NNNN``."""
    return [Article(f"squad-{n:04d}", p.title, (p.text,)) for n, p in enumerate(paragraphs)]


def synthetic_articles(paragraphs: list[Paragraph], seed: int = 0) -> Iterator[Article]:
    """Endless distractor articles named ``synthetic-NNNNNN`` (see the module docstring)."""
    rng = random.Random(seed)
    names = sorted({w for p in paragraphs for w in _NAME.findall(p.text)})
    numbers = sorted({w for p in paragraphs for w in _NUMBER.findall(p.text)})
    by_title: dict[str, list[Paragraph]] = {}
    for p in paragraphs:
        by_title.setdefault(p.title, []).append(p)
    titles = sorted(by_title)
    n = 0
    while True:
        title = rng.choice(titles)
        picked = rng.sample(by_title[title], min(PARAGRAPHS_PER_SYNTHETIC_ARTICLE, len(by_title[title])))
        swapped = []
        for p in picked:
            kept = [
                s for s in map(lambda s: _swap(s, rng, names, numbers), _SENTENCE_BREAK.split(p.text)) if s
            ]
            if kept:
                swapped.append(" ".join(kept))
        if swapped:
            yield Article(f"synthetic-{n:06d}", title, tuple(swapped))
            n += 1


def _swap(sentence: str, rng: random.Random, names: list[str], numbers: list[str]) -> str:
    """The sentence with its names and numbers replaced at random, or "" when none was."""
    swapped = _NUMBER.sub(lambda _: rng.choice(numbers), _NAME.sub(lambda _: rng.choice(names), sentence))
    return swapped if swapped != sentence else ""
