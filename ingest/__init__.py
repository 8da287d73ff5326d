"""Ingest: articles from files into the store, cleaned, split into sentences and embedded.

>>> from ingest import ingest_paths
>>> report = ingest_paths(["data/articles"], Settings())
>>> report.summary()
'1 added, 0 updated, 0 unchanged, 0 skipped, 0 failed'
"""

from ingest.pipeline import IngestReport, Outcome, ingest_articles, ingest_paths

__all__ = ["IngestReport", "Outcome", "ingest_articles", "ingest_paths"]
