"""The chat models that write generated answers, found by the provider their spec names.

    "local"               -> SmolLM2-135M run by this package (:mod:`assistant.generation.local`)
    "openai:gpt-4o-mini"  -> LangChain's ``init_chat_model``, its client held to the time limit
    "ollama:llama3.2"     -> the same
    "<provider>:<model>"  -> any other provider ``init_chat_model`` knows

:class:`ChatModels` is the registry: a provider per key, and the provider for any other key.
The composition root builds it (:attr:`assistant.app.Assistant.chat_models`); a new provider
is one :class:`Provider` class and one entry there. Each provider makes a :class:`Writer`: the
chat model, and how it is told the shape of the prompt (the local model is made to write a
marker after each sentence; a hosted one reads the prompt's instructions).

The provider packages are optional extras: a missing one is a :class:`ConfigError` that
names the extra to install. ``OPENAI_BASE_URL``/``OPENAI_API_KEY`` and ``OLLAMA_HOST`` are
read by the providers themselves, so an OpenAI-compatible server anywhere works as
``openai:<model>``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from assistant.core.errors import ConfigError

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.runnables import Runnable


def _as_is(model: BaseChatModel, sources: int, sentences: int) -> Runnable:
    return model


@dataclass(frozen=True)
class Writer:
    """A chat model ready to write answers, named ``label`` in notes."""

    label: str
    model: BaseChatModel
    # (model, numbered sources, sentences asked for) -> what to stream the prompt through
    shape: Callable[[BaseChatModel, int, int], Runnable] = _as_is

    def for_prompt(self, sources: int, sentences: int) -> Runnable:
        """The model told that the prompt numbers ``sources`` sources and asks for ``sentences``
        sentences, when it can use that."""
        return self.shape(self.model, sources, sentences)


class Provider(Protocol):
    """Makes the chat models of one provider."""

    def writer(self, spec: str) -> Writer:
        """The writer for ``spec``; raises :class:`ConfigError` naming what to install or set."""
        ...

    def available(self) -> bool:
        """Whether this machine can make its models with nothing more to install or start
        (the chat offers the ones that are)."""
        ...


@dataclass(frozen=True)
class LangChainProvider:
    """A provider reached through LangChain's ``init_chat_model``; ``extra`` is the extra of this
    package that installs it, ``limit`` gives its client a time limit in seconds (the answerer
    keeps its own as well), so that a request given up on does not linger in a thread for
    the client's default minutes."""

    extra: str | None = None
    limit: Callable[[float], dict[str, Any]] | None = None
    timeout: float | None = None

    def writer(self, spec: str) -> Writer:
        """The chat model of an ``init_chat_model`` spec ("provider:model")."""
        provider = spec.split(":", 1)[0] if ":" in spec else ""
        install = f"pip install 'article-assistant[{self.extra}]'" if self.extra else "pip install langchain"
        try:
            from langchain.chat_models import init_chat_model
        except ImportError as e:
            raise ConfigError(f"ASSISTANT_LLM={spec} needs LangChain's chat models: {install}") from e
        try:
            arguments = self.limit(self.timeout) if self.limit and self.timeout else {}
            return Writer(spec, init_chat_model(spec, **arguments))
        except ImportError as e:
            hint = install if self.extra else str(e)
            raise ConfigError(
                f"ASSISTANT_LLM={spec} needs the {provider or 'provider'} package: {hint}"
            ) from e
        except Exception as e:  # an unknown provider, a missing API key: the provider's own words
            raise ConfigError(
                f"cannot use the chat model {spec!r}: {e} (a spec is 'provider:model', "
                f"such as 'ollama:llama3.2' or 'openai:gpt-4o-mini', or 'local')"
            ) from e

    def available(self) -> bool:
        """A hosted model needs a server or a key this machine cannot vouch for: not offered."""
        return False


def openai_provider(timeout: float) -> LangChainProvider:
    """OpenAI and OpenAI-compatible servers, held to ``timeout`` without retries."""
    return LangChainProvider("openai", lambda seconds: {"timeout": seconds, "max_retries": 0}, timeout)


def ollama_provider(timeout: float) -> LangChainProvider:
    """An Ollama server, its client held to ``timeout``."""
    return LangChainProvider("ollama", lambda seconds: {"client_kwargs": {"timeout": seconds}}, timeout)


class ChatModels:
    """The registry of chat-model providers, keyed by a spec's provider ("local" for "local",
    "openai" for "openai:gpt-4o-mini"); a key it does not hold goes to ``fallback``."""

    def __init__(self, providers: Mapping[str, Provider], fallback: Provider) -> None:
        self._providers = dict(providers)
        self._fallback = fallback

    @staticmethod
    def key(spec: str) -> str:
        """The provider a spec names: the part before ":", or the whole spec without one."""
        return spec.split(":", 1)[0]

    def writer(self, spec: str) -> Writer:
        """The writer ``spec`` names; raises :class:`ConfigError` when it cannot be made."""
        return self._providers.get(self.key(spec), self._fallback).writer(spec)

    def offered(self) -> tuple[str, ...]:
        """The specs this machine can run as they are, for the chat to offer (``local`` when its
        model is installed)."""
        return tuple(key for key, provider in self._providers.items() if provider.available())
