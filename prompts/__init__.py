"""The fixed wording around answers and the prompt templates, as data files.

A package only so that the files ship inside the wheel and are found from any working
directory: read them with :func:`assistant.answering.wording.read_prompt`.
"""
