"""The ways in: the command line, the browser chat, and LangChain adapters.

Each takes the composition root (:class:`~assistant.app.Assistant`) or its parts; none holds
answering logic of its own.
"""
