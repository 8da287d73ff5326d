"""The fixed wording around the answers, read from the ``prompts`` package's YAML files.

The answers themselves are the articles' own sentences; only the messages around them (an
abstention, headings, the chat's labels) are written in ``prompts/extractive.yaml``. The
files ship inside the wheel and are read with :mod:`importlib.resources`, so an installed
package finds them from any working directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml

from assistant.core.records import ArticleInfo, Reason


def read_prompt(name: str) -> dict[str, Any]:
    """The YAML file ``name`` of the ``prompts`` package, parsed."""
    return yaml.safe_load(resources.files("prompts").joinpath(name).read_text(encoding="utf-8"))


_ABOUT = (
    "summary_done", "pick_article", "published", "author", "site",
    "unknown_published", "unknown_author", "unknown_site",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Messages:
    """The extractive assistant's wording."""

    abstain: str  # the articles do not answer
    no_terms: str  # the question has no word to search for
    near_miss: MappingProxyType  # reason -> the words when the closest sentence misses; {reason}: how
    sources_heading: str
    about: MappingProxyType  # key -> wording of answers about a whole article ({title}, {value})
    sample_title: str  # the sample article's title: its example questions are offered while it is there
    sample_questions: tuple[str, ...]
    about_article: tuple[str, ...]  # example questions about any article, from its title ({title})
    ui: MappingProxyType  # key -> the chat page's wording

    @classmethod
    def load(cls, name: str = "extractive.yaml") -> Messages:
        """The wording in ``prompts/<name>``."""
        data = read_prompt(name)
        return cls(
            abstain=data["abstain"],
            no_terms=data["no_terms"],
            near_miss=MappingProxyType(dict(data["near_miss"])),
            sources_heading=data["sources_heading"],
            about=MappingProxyType({key: data[key] for key in _ABOUT}),
            sample_title=data["examples"]["sample"],
            sample_questions=tuple(data["examples"]["questions"]),
            about_article=tuple(data["examples"]["about_article"]),
            ui=MappingProxyType(dict(data["ui"])),
        )

    def examples(self, articles: Sequence[ArticleInfo], limit: int = 6) -> tuple[str, ...]:
        """Example questions about the store's ``articles``: the sample article's questions
        while it is there, then one about each of the newest others (the last added first,
        then by publication date), each from its title. None for an empty store."""
        sample = any(a.title == self.sample_title for a in articles)
        others = [a for a in articles if a.title != self.sample_title]
        newest = sorted(others, key=lambda a: (a.added or "", a.meta.published or ""), reverse=True)
        forms = self.about_article
        about = [forms[k % len(forms)].format(title=a.title) for k, a in enumerate(newest)]
        picked = [*self.sample_questions[: limit // 2 if about else limit], *about] if sample else about
        return tuple(picked[:limit])

    def declined(self, reason: Reason, detail: str = "") -> str:
        """What the answer to a searched question says when it abstains for ``reason``
        (``detail``: how the closest sentence misses, for a near miss)."""
        if reason == "no_terms":
            return self.no_terms
        if reason in self.near_miss and detail:
            return self.near_miss[reason].format(reason=detail)
        return self.abstain
