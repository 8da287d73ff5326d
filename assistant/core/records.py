"""The records that flow from ingest to answer: articles and sentences in, citations,
answers and conversation turns out, and what an ingest reports.

Every record is a frozen, slotted dataclass with tuples rather than lists, so that a value
handed to a caller can never be changed behind the store's back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class Metadata:
    """What an article says about itself, when it says it (None when unknown)."""

    url: str | None = None  # the canonical address of a web page (or where it was fetched)
    published: str | None = None  # ISO 8601 date, "2021-08-27"
    author: str | None = None
    site: str | None = None  # the site or publication's name, "The Hindu"
    language: str | None = None  # an ISO 639-1 code, "en"
    file: str | None = None  # the name of the file it was read from, never its folder: "harbour.txt"


def file_name(source: str) -> str | None:
    """The name, without its folder, of the file an article was read from (a path or an
    upload, ``upload:NAME``); None for a link, pasted text or any other ``scheme:`` source.
    What a reader is shown instead of the server's path."""
    if source.startswith("upload:"):
        return source.removeprefix("upload:")
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]+:", source):  # two letters at least: not a drive, C:\\
        return None
    return PureWindowsPath(source).name if "\\" in source else PurePosixPath(source).name


def byline(site: str | None, published: str | None) -> str:
    """Site and date, the ones known, for a source line: "The Hindu, 2021-08-27"."""
    return ", ".join(part for part in (site, published) if part)


@dataclass(frozen=True, slots=True)
class RawArticle:
    """An article as read, before cleaning: its title and paragraphs, and where it came from.

    ``note`` tells about a decoding fallback or anything else worth saying about the read.
    """

    source: str
    title: str
    paragraphs: tuple[str, ...]
    note: str = ""
    meta: Metadata = Metadata()


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of a cleaned article; ``text == cleaned_text[start:end]``."""

    text: str
    index: int  # position among the article's sentences, from 0
    paragraph: int  # position of its paragraph in the cleaned text, from 0
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Article:
    """A cleaned article ready to store: its text, its sentences and where it came from."""

    article_id: str
    title: str
    source: str
    text: str  # the cleaned text the sentence offsets point into
    sentences: tuple[Sentence, ...]
    content_hash: str  # of the title and text: what makes two articles the same
    meta: Metadata = Metadata()


@dataclass(frozen=True, slots=True)
class ArticleInfo:
    """What the store knows about an ingested article, without its sentences."""

    article_id: str
    title: str
    source: str
    sentence_count: int
    content_hash: str
    meta: Metadata = Metadata()
    added: str | None = None  # when this version was stored (ISO 8601, UTC); None in older stores

    def to_dict(self) -> dict:
        """The article as plain JSON-ready data, its metadata beside its other fields; its
        ``source`` left out (a path on the server: readers get ``file`` or ``url``)."""
        data = {k: v for k, v in asdict(self).items() if k not in ("meta", "source")}
        return {**data, **asdict(self.meta)}

    @property
    def origin(self) -> str:
        """Where a reader can find it: its web address, else its file name, else ""."""
        return self.meta.url or self.meta.file or ""

    @property
    def byline(self) -> str:
        """Site and date when known, for a source line: "The Hindu, 2021-08-27"."""
        return byline(self.meta.site, self.meta.published)


@dataclass(frozen=True, slots=True)
class Citation:
    """A sentence quoted in an answer; ``score`` is a similarity, higher is better.

    ``start``/``end`` are offsets into the article's cleaned text: ``text[start:end]`` is the
    sentence. ``site``, ``published`` and ``url`` are the article's, when known. A citation
    of the article's metadata ("published", "author", "site") names it in ``field``; its
    ``text`` is the value, its ``sentence_index`` -1 and its offsets 0.
    """

    text: str
    article_id: str
    title: str
    sentence_index: int
    start: int
    end: int
    score: float
    site: str | None = None
    published: str | None = None
    url: str | None = None
    file: str | None = None  # the article's file name (not its path), for an article read from a file
    field: str | None = None  # set when the citation quotes the article's metadata, not a sentence

    def to_dict(self) -> dict:
        """The citation as plain JSON-ready data."""
        return asdict(self)

    @property
    def byline(self) -> str:
        """Site and date when known: "The Hindu, 2021-08-27"."""
        return byline(self.site, self.published)

    @property
    def place(self) -> str:
        """Where in the article it is: "sentence 18", or the metadata field it quotes."""
        return (
            f"{self.field} (the page's own metadata)" if self.field else f"sentence {self.sentence_index + 1}"
        )

    @property
    def origin(self) -> str:
        """Where a reader can open the article: its web address, else its file name, else ""."""
        return self.url or self.file or ""


@dataclass(frozen=True, slots=True)
class Short:
    """The phrase that answers the question, inside the cited sentence ``[citation]``:
    ``text == cleaned_text[start:end]`` of its article, like every citation."""

    text: str
    article_id: str
    start: int
    end: int
    citation: int  # the marker number of the sentence it stands in

    def to_dict(self) -> dict:
        """The short answer as plain JSON-ready data."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Claim:
    """One sentence of a generated answer, as checked against the sources it cites."""

    text: str  # the sentence as the model wrote it, markers included
    citations: tuple[int, ...]  # the marker numbers it carries
    supported: bool  # whether everything it says stands in the sentences it cites
    reason: str = ""  # why not, when it is not: "cites no source", "2015 is not in [1]"

    def to_dict(self) -> dict:
        """The claim as plain JSON-ready data."""
        return {**asdict(self), "citations": list(self.citations)}


Mode = Literal["extractive", "generated"]
UNSUPPORTED = "Not supported by the articles, so left out"  # the heading of rejected claims
RELATED = "Closest sentence, not an answer"  # the heading of a declined answer's related sentence

# Why an answer declines, as a value a program can act on (the text says it to a person):
Reason = Literal[
    "no_terms",  # the question holds no word to search for
    "weak_evidence",  # no sentence answers it with enough confidence
    # The closest sentence is on the question's subject but answers another question:
    "missing_attribute",  # it does not state what is asked (an amount, a date, a name ...)
    "other_entity",  # it is about another person, place, name, figure or day than the question's
    "other_role",  # no one near it is named in the role the question asks about
    "not_stated",  # the page does not say when it was published, who wrote it or which site ran it
]


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer: ``text`` carries [n] markers for ``citations[n - 1]``.

    ``reason`` is set when the articles do not answer the question (:data:`Reason`): then
    ``abstained`` is true, ``text`` says so and ``citations`` is empty; ``related`` may hold the
    closest sentence, on the question's subject but not its answer (shown as such, never cited).
    ``short`` is the phrase that answers a question asking for a name, a date, a number or an
    amount, when one is found with confidence. ``mode`` says whether the text is the articles'
    own sentences or written by a language model; a generated answer keeps every sentence the
    model wrote in ``claims``, and ``text`` only the supported ones. ``note`` says why a
    generated answer fell back to the extractive one.
    """

    text: str
    citations: tuple[Citation, ...] = ()
    reason: Reason | None = None
    short: Short | None = None
    mode: Mode = "extractive"
    claims: tuple[Claim, ...] = ()
    note: str = ""
    related: Citation | None = None

    @property
    def abstained(self) -> bool:
        """Whether the articles do not answer the question (``reason`` says why)."""
        return self.reason is not None

    def as_text(self, heading: str = "Sources", bold: Callable[[str], str] = str) -> str:
        """The short answer (through ``bold``), the answer, then one source line per citation
        (a cited sentence's text is in the answer already, so it is not repeated); a generated
        answer's unsupported sentences apart, and why it fell back, if it did."""
        listed = [source_line(n, c) for n, c in self.numbered()]
        sources = ["", f"{heading}:", *listed] if listed else []
        lines = [self.text, *self._related_lines()] if self.abstained else [
            *([bold(self.short.text), ""] if self.short else []), self.text, *sources,
        ]  # fmt: skip
        rejected = self.rejected()
        if rejected:
            lines += ["", f"{UNSUPPORTED}:", *(f"- {c.text} ({c.reason})" for c in rejected)]
        if self.note:
            lines += ["", f"Note: {self.note}"]
        return "\n".join(lines)

    def _related_lines(self) -> list[str]:
        """The closest sentence of a declined answer, quoted, with where it stands."""
        c = self.related
        return ["", f"{RELATED}:", f"“{c.text}”", source_line(None, c)] if c else []

    def rejected(self) -> tuple[Claim, ...]:
        """The sentences a language model wrote that its sources do not support (left out)."""
        return tuple(c for c in self.claims if not c.supported)

    def numbered(self) -> list[tuple[int, Citation]]:
        """The citations with their marker numbers."""
        return list(enumerate(self.citations, 1))

    def to_dict(self) -> dict:
        """The answer as plain JSON-ready data."""
        return {
            "text": self.text,
            "short": self.short.to_dict() if self.short else None,
            "abstained": self.abstained,
            "reason": self.reason,
            "citations": [c.to_dict() for c in self.citations],
            "mode": self.mode,
            "claims": [c.to_dict() for c in self.claims],
            "note": self.note,
            "related": self.related.to_dict() if self.related else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Answer:
        """The answer :meth:`to_dict` gave (a program hands an earlier answer back with its
        conversation); raises ``ValueError`` naming what is not an answer's."""
        try:
            return cls(
                text=data["text"],
                citations=tuple(Citation(**c) for c in data.get("citations") or ()),
                reason=data.get("reason"),
                short=Short(**data["short"]) if data.get("short") else None,
                mode=data.get("mode", "extractive"),
                claims=tuple(
                    Claim(**{**c, "citations": tuple(c["citations"])}) for c in data.get("claims") or ()
                ),
                note=data.get("note", ""),
                related=Citation(**data["related"]) if data.get("related") else None,
            )
        except (KeyError, TypeError) as e:
            raise ValueError(f"not an answer of this assistant: {e}") from e


@dataclass(frozen=True, slots=True)
class Turn:
    """One earlier exchange of a conversation: the question as it was asked, and the answer
    it got when the caller kept it (the chat does; a plain list of earlier questions does not,
    and then the answerer works out the answers it needs, each at most once)."""

    question: str
    answer: Answer | None = None


def source_line(n: int | None, citation: Citation, origin: bool = True) -> str:
    """The compact source of citation ``[n]`` (of a sentence shown unnumbered when ``n`` is
    None): article title, site and date, sentence number (or the metadata field it quotes), and
    where to open it (address or file name) unless ``origin`` is false (a page links it itself)."""
    where = f" ({citation.byline})" if citation.byline else ""
    opened = f" · {citation.origin}" if origin and citation.origin else ""
    marker = "" if n is None else f"[{n}] "
    return f"{marker}{citation.title}{where}, {citation.place}{opened}"


Status = Literal["added", "updated", "unchanged", "skipped", "failed"]
STATUSES: tuple[Status, ...] = ("added", "updated", "unchanged", "skipped", "failed")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one input of an ingest: its status, and the reason or note behind it."""

    source: str
    status: Status
    detail: str = ""
    article_id: str = ""
    title: str = ""
    sentences: int = 0


@dataclass(frozen=True, slots=True)
class IngestProgress:
    """How far an ingest has got: the articles read so far (files, pages, a feed's items) and the
    last one's name, and the sentences embedded and stored."""

    read: int
    sentences: int
    current: str = ""


@dataclass(frozen=True, slots=True)
class IngestReport:
    """The outcomes of one ingest run, in input order."""

    outcomes: tuple[Outcome, ...]

    def count(self, status: Status) -> int:
        """How many inputs ended with ``status``."""
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failures(self) -> tuple[Outcome, ...]:
        """The inputs that could not be ingested."""
        return tuple(o for o in self.outcomes if o.status == "failed")

    @property
    def changed(self) -> bool:
        """Whether the run added or replaced any article."""
        return any(o.status in ("added", "updated") for o in self.outcomes)

    def summary(self) -> str:
        """One line: how many articles were added, updated, unchanged, skipped, failed."""
        return ", ".join(f"{self.count(s)} {s}" for s in STATUSES)
