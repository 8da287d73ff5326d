"""The seam through which the chat and the evaluation add articles, without importing ingest.

Answering never needs ``ingest/``; the chat's upload and paste, and the evaluation's fresh
stores, do. They take a :class:`Library`, which ``ingest.Library`` implements and the
entry point (:mod:`assistant.cli`) hands them, so every article goes in through the same
code as ``python -m ingest``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from assistant.data import IngestReport, Outcome, RawArticle

if TYPE_CHECKING:
    from assistant.app import Assistant


class Library(Protocol):
    """Adds articles to one store."""

    suffixes: tuple[str, ...]  # the file types it reads, for an upload's file chooser
    max_bytes: int  # the largest file it takes

    def add(self, raws: Iterable[RawArticle | Outcome], show_progress: bool = False) -> IngestReport:
        """Store articles already read; one outcome per input, in order."""
        ...

    def add_paths(self, paths: Iterable[Path | str], show_progress: bool = False) -> IngestReport:
        """Ingest files and folders, as ``python -m ingest PATH...`` does."""
        ...

    def add_file(self, path: Path, source: str, show_progress: bool = False) -> Outcome:
        """Ingest one file (an upload) under the name ``source``."""
        ...

    def add_text(self, title: str, text: str, show_progress: bool = False) -> Outcome:
        """Ingest pasted text under its title."""
        ...


LibraryFactory = Callable[["Assistant"], Library]  # the library of a root's store
