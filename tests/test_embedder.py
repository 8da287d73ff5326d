"""The embedder: ONNX int8 against plain sentence-transformers, batching, cached exports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.core.settings import Settings
from assistant.storage.embedder import DIMENSION, Embedder, remove_older_exports
from tests.conftest import SAMPLE, make_root


def embedder(backend: str) -> Embedder:
    """The session's embedder for ``backend``."""
    return make_root(Settings.from_env(embedding_backend=backend, chroma_host="")).embedder


SHORT = "The Taliban took Kabul."
LONG = (
    "The Haqqani Network, which the United States designated as a foreign terrorist "
    "organisation in 2012, is led by Sirajuddin Haqqani, whose uncle Khalil Haqqani has "
    "been seen in Kabul since the evacuation began at the airport, officials said on Monday."
)


# (backend, least cosine to plain sentence-transformers): int8 rounds the weights and the
# activations, the fp32 export only reorders float arithmetic
BACKENDS = [("onnx", 0.9999), ("onnx-int8", 0.96)]


@pytest.fixture(scope="module")
def plain():
    return embedder("torch")


@pytest.mark.slow
@pytest.mark.parametrize(("backend", "least"), BACKENDS)
def test_onnx_vectors_match_plain_sentence_transformers(plain, backend: str, least: float) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    sentences = [s.strip() for s in text.split(". ") if len(s.split()) > 3][:40]
    ours = embedder(backend).embed(sentences)
    assert ours.shape == (len(sentences), DIMENSION) and ours.dtype == np.float32
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosine = (ours * plain.embed(sentences)).sum(axis=1)
    assert cosine.min() > least and cosine.mean() > (1 + 3 * least) / 4


@pytest.mark.parametrize(("backend", "least"), [("onnx", 0.99999), ("onnx-int8", 0.98)])
def test_a_text_embeds_alike_alone_and_padded_beside_longer_ones(backend: str, least: float) -> None:
    model = embedder(backend)
    texts = [LONG, SHORT, LONG + " " + LONG, "Kabul.", *[LONG] * 12, SHORT + " Then it fell."]
    together = model.embed(texts)
    for row, text in enumerate(texts):
        # int8 scales activations per batch, so a text's companions move it a little; the
        # padding of a short text counted in its mean would move it far more
        assert float(model.embed([text])[0] @ together[row]) > least, text


def test_no_texts_give_an_empty_matrix() -> None:
    assert embedder("onnx-int8").embed([]).shape == (0, DIMENSION)


def test_a_new_export_removes_the_older_exports_of_its_backend(tmp_path: Path) -> None:
    names = [
        "all-MiniLM-L6-v2-0.1.0-onnx-int8.onnx",  # before exports had a version
        "all-MiniLM-L6-v2-0.1.0-onnx-int8.onnx.lock",
        "all-MiniLM-L6-v2-0.1.0-onnx-int8-1.onnx",
        "all-MiniLM-L6-v2-0.1.0-onnx-int8-2.onnx",  # ONNX's own format, before ONNX Runtime's
        "all-MiniLM-L6-v2-0.1.0-onnx-int8-3.ort",  # the new one
        "all-MiniLM-L6-v2-0.1.0-onnx-int8-3.ort.lock",
        "all-MiniLM-L6-v2-0.1.0-onnx.onnx",  # another backend
        "all-MiniLM-L6-v2-0.1.0-onnx-3.ort",
        "servers",
    ]
    for name in names:
        (tmp_path / name).write_text("x")
    removed = remove_older_exports(tmp_path / names[4], "onnx-int8")
    assert sorted(p.name for p in removed) == sorted(names[:4])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[4:])
