"""All configuration in one frozen object, read from the environment at the entry points.

``ASSISTANT_*`` variables set the assistant's own options; ``CHROMA_HOST``/``CHROMA_PORT``/
``CHROMA_SSL``/``CHROMA_AUTH_TOKEN`` switch from the embedded store to a Chroma server. CLI
flags override the environment through :meth:`Settings.with_overrides`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Chroma and Gradio both phone home unless told not to; nothing here may reach the network.
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_ARTICLES = PROJECT_ROOT / "data" / "articles"
PROMPTS_DIR = PROJECT_ROOT / "prompts"


def _default_store() -> Path:
    """``vectorstore/`` of the checkout when run from one, else of the working directory."""
    if (PROJECT_ROOT / "pyproject.toml").is_file():
        return PROJECT_ROOT / "vectorstore"
    return Path.cwd() / "vectorstore"


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "article-assistant"


EmbeddingBackend = Literal["onnx-int8", "onnx", "torch"]


class Settings(BaseSettings):
    """Where the store lives, how to embed, and how the server is exposed."""

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

    auth: str | None = None  # "user:password[,user2:password2]" for the web UI
    auth_file: Path | None = None  # a file of "user:password" lines

    def auth_pairs(self) -> list[tuple[str, str]]:
        """The web UI's users and passwords, from ``auth`` and ``auth_file``."""
        lines = (self.auth or "").split(",")
        if self.auth_file:
            from assistant.errors import ConfigError

            try:
                lines += self.auth_file.read_text().splitlines()
            except OSError as e:
                raise ConfigError(f"cannot read ASSISTANT_AUTH_FILE {self.auth_file}: {e}") from e
        pairs = [tuple(line.strip().split(":", 1)) for line in lines if ":" in line]
        return [(user, password) for user, password in pairs if user and password]

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
        """A copy with the given fields replaced, ignoring the ones left as None (CLI flags)."""
        given = {k: v for k, v in overrides.items() if v is not None}
        return self.model_copy(update=given) if given else self
