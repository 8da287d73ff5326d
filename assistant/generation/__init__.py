"""Answers written by a chat model from the best-ranked sentences, every sentence checked
against the sources it cites; the chat models come from a registry keyed by provider.
"""
