"""Ingest: articles from files and web addresses into the store, cleaned, split into
sentences and embedded.

>>> from assistant import Assistant, Settings
>>> root = Assistant.from_settings(Settings.from_env())
>>> report = root.library.add_sources(["data/articles"])   # an ingest.Library over the root's store
>>> report.summary()
'1 added, 0 updated, 0 unchanged, 0 skipped, 0 failed'

The pipeline loads on first use, so that ``python -m ingest --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingest.pipeline import Library

__all__ = ["Library"]


def __getattr__(name: str) -> object:
    if name == "Library":
        from ingest.pipeline import Library

        return Library
    raise AttributeError(f"module 'ingest' has no attribute {name!r}")
