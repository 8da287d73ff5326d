"""The bottom layer: the records that flow between the parts, settings, errors and the tokenizer.

Everything else in ``assistant/`` and ``ingest/`` builds on these modules; they import nothing
of the package but each other.
"""
