"""Storage: the Chroma store, the sentence embedder, and the in-memory corpus with its cache.

Ingest writes through these modules and answering reads through them; they know nothing of
questions or answers.
"""
