"""Ingest: articles from files into the store, cleaned, split into sentences and embedded.

>>> from assistant import Assistant, Settings
>>> from ingest import Library
>>> report = Library(Assistant.from_settings(Settings.from_env())).add_paths(["data/articles"])
>>> report.summary()
'1 added, 0 updated, 0 unchanged, 0 skipped, 0 failed'
"""

from ingest.pipeline import Library

__all__ = ["Library"]
