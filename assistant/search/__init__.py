"""Search: candidate sentences from several sources, their evidence, and the learned ranking.

:class:`~assistant.search.searcher.Searcher` is the one way in: a parsed question, the articles
to search and a depth in, a :class:`~assistant.search.ranking.Ranking` out.
"""
