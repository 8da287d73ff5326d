"""The small learned scorers the answerer ships with, and the file that holds them.

Both the ranker and the abstention model are a :class:`ScoreModel`: standardised features,
a linear part and an optional layer of tanh units. ``python -m assistant.eval.train`` fits them
and writes ``assistant/search/ranker.json``, which ships inside the wheel and is read with
:mod:`importlib.resources`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from assistant.core.errors import ConfigError

MODEL_FILE = "ranker.json"  # in this package (assistant.search)
_ARRAYS = ("mean", "scale", "weights", "hidden", "hidden_bias", "out")


@dataclass(frozen=True)
class ScoreModel:
    """Standardise, then a linear part plus an optional layer of tanh units:

    ``z = (x - mean) / scale``; ``score = z @ weights + bias + tanh(z @ hidden + hidden_bias) @ out``.
    Without hidden units it is plain linear (or logistic, read as log-odds).
    """

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float = 0.0
    hidden: np.ndarray | None = None  # (features, units)
    hidden_bias: np.ndarray | None = None  # (units,)
    out: np.ndarray | None = None  # (units,)

    def score(self, x: np.ndarray) -> np.ndarray:
        """One score per row of ``x``; higher is more likely the answer."""
        z = (x - self.mean) / self.scale
        linear = z @ self.weights + self.bias
        if self.hidden is None:
            return linear
        return linear + np.tanh(z @ self.hidden + self.hidden_bias) @ self.out

    def to_json(self) -> dict[str, Any]:
        """Plain numbers for ``ranker.json``."""
        data: dict[str, Any] = {"bias": round(float(self.bias), 6)}
        for key in _ARRAYS:
            value = getattr(self, key)
            if value is not None:
                data[key] = np.round(value, 6).tolist()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScoreModel:
        """The model saved by :meth:`to_json`."""
        arrays = {key: np.asarray(data[key], dtype=np.float32) for key in _ARRAYS if key in data}
        return cls(bias=float(data.get("bias", 0.0)), **arrays)


def read_model_file() -> dict[str, Any]:
    """The contents of the shipped ``ranker.json``."""
    return json.loads(resources.files("assistant.search").joinpath(MODEL_FILE).read_text(encoding="utf-8"))


def check_names(
    data: dict[str, Any],
    key: str,
    names: tuple[str, ...],
    file: str = MODEL_FILE,
    command: str = "python -m assistant.eval.train",
) -> None:
    """Refuse a model trained on other features than the code computes (by name and order)."""
    if tuple(data.get(key, ())) != names:
        raise ConfigError(
            f"{file} was trained on other {key.replace('_', ' ')} than this code computes: run `{command}`"
        )
