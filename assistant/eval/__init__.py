"""Measuring and fitting the answerer: ``python -m assistant.eval FILE`` scores it on a question
set, ``python -m assistant.eval.train`` fits the ranker and the abstention model.
"""
