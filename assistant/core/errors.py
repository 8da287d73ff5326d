"""Errors a user can act on. Their messages are shown as they are, by the CLI and the UI."""


class AssistantError(Exception):
    """Base class: something the user can fix, explained in the message."""


class InvalidQuestionError(AssistantError, ValueError):
    """The question is empty, blank or otherwise unusable."""


class EmptyStoreError(AssistantError):
    """No article has been ingested into the store being asked."""

    def __init__(self, store: str) -> None:
        super().__init__(
            f"no articles ingested yet in {store}: run `python -m ingest PATH` first "
            "(for example `python -m ingest data/articles`)"
        )


class StoreError(AssistantError):
    """The store cannot be opened or reached."""


class IngestError(AssistantError):
    """An input file cannot be ingested; the message says which file and why."""


class ConfigError(AssistantError):
    """A setting or a combination of settings is not allowed."""
