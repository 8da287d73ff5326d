"""The seam through which the chat and the evaluation add articles, without importing ingest.

Answering never needs ``ingest/``; the chat's upload and paste, and the evaluation's fresh
stores, do. They take a :class:`Library`, which ``ingest.Library`` implements and the
composition root (:attr:`assistant.app.Assistant.library`) hands them, so every article goes
in through the same code as ``python -m ingest``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from assistant.core.records import IngestProgress, IngestReport, Outcome, RawArticle

Follow = Callable[[IngestProgress], None]  # told how far an ingest has got, each time it gets further


@dataclass(frozen=True, slots=True)
class LinkOptions:
    """How web addresses are fetched: the seconds each may take, whether one on a loopback,
    private or link-local network may be fetched, and how many articles of a feed to take
    (newest first; None: all)."""

    timeout: float = 20.0
    allow_private: bool = True
    feed_limit: int | None = None


DEFAULT_LINKS = LinkOptions()


class Library(Protocol):
    """Adds articles to one store."""

    suffixes: tuple[str, ...]  # the file types it reads, for an upload's file chooser
    max_bytes: int  # the largest file it takes

    def add(
        self, raws: Iterable[RawArticle | Outcome], show_progress: bool = False, follow: Follow | None = None
    ) -> IngestReport:
        """Store articles already read; one outcome per input, in order. ``show_progress``
        draws a progress bar on stderr; ``follow`` is told how far it has got as it goes."""
        ...

    def add_sources(
        self,
        sources: Iterable[Path | str],
        links: LinkOptions = DEFAULT_LINKS,
        show_progress: bool = False,
        follow: Follow | None = None,
    ) -> IngestReport:
        """Ingest files, folders and web addresses, as ``python -m ingest SOURCE...`` does."""
        ...

    def add_file(
        self, path: Path, source: str, show_progress: bool = False, follow: Follow | None = None
    ) -> Outcome:
        """Ingest one file (an upload) under the name ``source``."""
        ...

    def add_text(
        self, title: str, text: str, show_progress: bool = False, follow: Follow | None = None
    ) -> Outcome:
        """Ingest pasted text under its title."""
        ...
