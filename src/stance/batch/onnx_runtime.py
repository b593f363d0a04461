"""The transformer model on ONNX Runtime: same tokenizer, same length-sorted batches, encoder and head in one graph.

On a 2-core CPU, ONNX Runtime with dynamically quantised int8 weights runs MiniLM about twice as fast as
PyTorch (experiments/benchmarks.md gives the measured speed and accuracy cost). Exports are cached by a
digest of the weights and settings, so only the first run of a model pays the export (~10 s).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from scipy.special import softmax

from stance.files import atomic_write
from stance.models.ensemble import Ensemble
from stance.models.transformer import (WEIGHTS_FILE, TransformerHyperparameters, TransformerStanceModel,
                                       length_sorted_batches, saved_settings)
from stance.corpus.schema import TOPICS, VALUES
from stance.errors import ConfigError

log = logging.getLogger(__name__)
INPUTS = ("input_ids", "attention_mask")
OPSET = 18


@contextmanager
def logging_disabled(level: int) -> Iterator[None]:
    """Silence records up to `level` for the block, then restore whatever was disabled before."""
    previous = logging.root.manager.disable
    logging.disable(level)
    try:
        yield
    finally:
        logging.disable(previous)


def export(model: TransformerStanceModel, path: Path) -> None:
    """Encoder, pooling and head as one ONNX graph with dynamic batch and sequence axes (dynamo exporter)."""
    import torch

    class Logits(torch.nn.Module):  # the exporter wants tensors out, not the training dict
        def __init__(self, network: torch.nn.Module) -> None:
            super().__init__()
            self.network = network

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.network(input_ids, attention_mask)["logits"]

    example = model.tokenizer(["a short example", "an example"], padding=True, return_tensors="pt",
                              return_token_type_ids=False)
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
    model.network.eval()
    with logging_disabled(logging.INFO):  # the exporter's graph passes log a line per initializer they fold
        program = torch.onnx.export(
            Logits(model.network), (example["input_ids"], example["attention_mask"]), input_names=list(INPUTS),
            output_names=["logits"], dynamic_shapes={name: {0: batch, 1: sequence} for name in INPUTS},
            opset_version=OPSET, dynamo=True, optimize=True, verbose=False)
    with atomic_write(path, "wb") as handle:
        handle.write(program.model_proto.SerializeToString())


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 weights, one scale per output channel (twice as close to fp32 as one per tensor, ~10% slower)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    scratch = target.with_name(f".{target.name}.tmp")
    try:
        with logging_disabled(logging.INFO):  # the quantiser logs a line per tensor on the root logger
            # Tensors the dynamo export leaves without a type would stop the quantiser; they are all float.
            quantize_dynamic(source, scratch, weight_type=QuantType.QInt8, per_channel=True,
                             extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        scratch.replace(target)
    finally:
        scratch.unlink(missing_ok=True)


def cached_path(model_dir: Path, cache_dir: Path, max_length: int, quantized: bool) -> Path:
    """Where the export of these weights and settings lives in the cache."""
    digest = hashlib.sha256()
    for name in (WEIGHTS_FILE, "config.json"):
        digest.update((model_dir / name).read_bytes())
    digest.update(json.dumps({"max_length": max_length, "opset": OPSET}).encode())
    return cache_dir / f"stance-{digest.hexdigest()[:16]}{'.int8' if quantized else ''}.onnx"


class OnnxStanceModel:
    """`predict_proba` of a TransformerStanceModel, computed by an ONNX Runtime session."""

    def __init__(self, onnx_path: Path, tokenizer, max_length: int, batch_size: int, threads: int,
                 device: str = "auto") -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # CUDA only where asked for (or auto) and where the installed onnxruntime build has it (onnxruntime-gpu).
        gpu = device in ("auto", "cuda") and "CUDAExecutionProvider" in ort.get_available_providers()
        if device == "cuda" and not gpu:
            raise ConfigError("device=cuda with runtime=onnx needs onnxruntime-gpu (no CUDAExecutionProvider here)")
        providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if gpu else ["CPUExecutionProvider"]
        self.session = ort.InferenceSession(str(onnx_path), options, providers=providers)
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.batch_size = batch_size
        self.path = onnx_path

    @classmethod
    def from_saved(cls, model_dir: Path, cache_dir: Path, quantize: bool = False, threads: int = 1,
                   device: str = "auto") -> "OnnxStanceModel | Ensemble":
        """A saved TransformerStanceModel on ONNX Runtime (an ensemble: its transformer members); torch weights
        load only when no export is cached."""
        from transformers import AutoTokenizer

        from stance.models import load_model
        from stance.models.base import saved_class

        model_class = saved_class(model_dir)
        if issubclass(model_class, Ensemble):  # its transformer members on ONNX Runtime, the others as they are
            return Ensemble.load(model_dir, device, load_member=lambda folder: (
                cls.from_saved(folder, cache_dir, quantize, threads, device)
                if issubclass(saved_class(folder), TransformerStanceModel) else load_model(folder, device)))
        if not issubclass(model_class, TransformerStanceModel):
            raise ConfigError(f"runtime=onnx needs a transformer model or an ensemble with one; {model_dir} holds a "
                             f"{model_class.family} model (use runtime=torch)")
        hp = TransformerHyperparameters(**saved_settings(model_dir)[1])
        fp32 = cached_path(model_dir, cache_dir, hp.max_length, quantized=False)
        int8 = cached_path(model_dir, cache_dir, hp.max_length, quantized=True)
        if not fp32.exists():
            log.info("exporting the model to ONNX: %s", fp32)
            export(load_model(model_dir, device="cpu"), fp32)
        if quantize and not int8.exists():
            log.info("quantising to int8: %s", int8)
            quantize_int8(fp32, int8)
        return cls(int8 if quantize else fp32, AutoTokenizer.from_pretrained(model_dir, trust_remote_code=False),
                   hp.max_length, hp.predict_batch_size, threads, device)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        proba = np.zeros((len(texts), len(TOPICS), len(VALUES)))
        for positions, batch in length_sorted_batches(self.tokenizer, texts, self.max_length, self.batch_size, "np"):
            logits = self.session.run(None, {name: batch[name].astype(np.int64) for name in INPUTS})[0]
            proba[positions] = softmax(logits.astype(np.float64), axis=-1)
        return proba
