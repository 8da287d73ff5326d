"""The chat-model registry: a spec goes to the provider its prefix names, any other prefix to
LangChain's ``init_chat_model``, and every provider keeps the same contract."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from assistant.app import Assistant
from assistant.core.errors import ConfigError
from assistant.generation.local import LocalProvider
from assistant.generation.providers import (
    ChatModels,
    LangChainProvider,
    Writer,
    ollama_provider,
    openai_provider,
)


@dataclass
class Recording:
    """A provider that notes the specs it is asked for (the registry's routing, nothing else)."""

    name: str
    asked: list[str] = field(default_factory=list)

    def writer(self, spec: str) -> Writer:
        self.asked.append(spec)
        return Writer(spec, model=None)  # type: ignore[arg-type]

    def available(self) -> bool:
        return self.name == "local"


def test_a_spec_goes_to_the_provider_its_prefix_names() -> None:
    local, openai, other = Recording("local"), Recording("openai"), Recording("fallback")
    models = ChatModels({"local": local, "openai": openai}, fallback=other)
    for spec in ("local", "openai:gpt-4o-mini", "openai:o3", "mistralai:mistral-small", "anthropic:claude"):
        assert models.writer(spec).label == spec
    assert local.asked == ["local"]
    assert openai.asked == ["openai:gpt-4o-mini", "openai:o3"]
    assert other.asked == ["mistralai:mistral-small", "anthropic:claude"]
    assert models.offered() == ("local",)


def test_the_roots_registry_offers_the_local_model_when_it_is_installed(root: Assistant) -> None:
    from assistant.generation.local import local_model_installed

    assert root.chat_models.offered() == (("local",) if local_model_installed() else ())


PROVIDERS = {
    "openai": lambda root: openai_provider(5.0),
    "ollama": lambda root: ollama_provider(5.0),
    "init_chat_model": lambda root: LangChainProvider(),
    "local": lambda root: LocalProvider(root.settings.model_cache),
}


@pytest.mark.parametrize("name", PROVIDERS)
def test_every_provider_says_whether_it_can_run_and_refuses_a_spec_it_cannot_make(
    name: str, root: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = PROVIDERS[name](root)
    assert isinstance(provider.available(), bool)
    if name == "local":
        return  # its spec is "local" only; making it loads the model (tests/test_generated.py)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError, match=r"cannot use the chat model|needs"):
        provider.writer("nonsense-provider:some-model")


def test_the_openai_provider_holds_its_client_to_the_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "not-a-real-key")
    writer = openai_provider(7.5).writer("openai:gpt-4o-mini")
    assert writer.label == "openai:gpt-4o-mini"
    assert writer.model.request_timeout == 7.5 and writer.model.max_retries == 0
    assert writer.for_prompt(4, 3) is writer.model  # a hosted model reads the prompt's own instructions
