"""Answering with the articles' own sentences: the conversation, the decision to cite or
abstain, citations, short answers, and answers about a whole article.
"""
