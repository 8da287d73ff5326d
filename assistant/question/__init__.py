"""What a question asks, parsed once: its terms, the kind of answer it wants, the entity labels
and role it asks about, and whether it is about a whole article.

Search reads the parsed :class:`~assistant.question.parse.Question` for its features, and
answering for short answers, near misses and whole-article answers, so it sits below both.
"""
