"""Benchmark: `python benchmarks/bench_predict.py [model=<transformer ref>]` -> experiments/benchmarks.md.

How fast batch prediction is, against the obvious ways of doing it, on the same passages and model, in one run.

Compared on the labeled passages: this engine (torch; ONNX Runtime fp32 and int8), a plain
`transformers.pipeline("text-classification")` loop over the same network, and a one-passage-at-a-time
loop. Each method's probabilities are checked against the engine's (they compute one function), int8's
accuracy cost is measured on the gold labels, and a full `scripts/predict.py` run gives end-to-end speed
and peak memory. Results go to experiments/benchmarks.md.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import hydra
from omegaconf import DictConfig
from scipy.special import softmax

from stance.config import register_resolvers
from stance.batch.engine import cpu_threads, load_predictor
from stance.corpus.schema import TOPICS, VALUES

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[1]


def pipeline_predictor(model, batch_size: int) -> Callable[[Sequence[str]], np.ndarray]:
    """The stance network behind a stock text-classification pipeline: 12 raw logits out, softmax per topic after."""
    from transformers import PreTrainedModel, pipeline
    from transformers.modeling_outputs import SequenceClassifierOutput
    from transformers.utils import logging as hf_logging

    network = model.network
    labels = [f"{topic}/{value}" for topic in TOPICS for value in VALUES]
    config = network.encoder.config.__class__.from_dict(
        network.encoder.config.to_dict() | {"id2label": dict(enumerate(labels)),
                                           "label2id": {label: i for i, label in enumerate(labels)}})

    class StanceForSequenceClassification(PreTrainedModel):
        config_class = type(config)

        def __init__(self, config) -> None:
            super().__init__(config)
            self.network = network

        def forward(self, input_ids, attention_mask, **_):  # the tokenizer also sends token_type_ids
            return SequenceClassifierOutput(logits=self.network(input_ids, attention_mask)["logits"].flatten(1))

    hf_logging.set_verbosity(logging.CRITICAL)  # it would list every architecture it knows, ours not among them
    classifier = pipeline("text-classification", model=StanceForSequenceClassification(config).eval(),
                          tokenizer=model.tokenizer, device="cpu")

    def predict(texts: Sequence[str]) -> np.ndarray:
        outputs = classifier(list(texts), batch_size=batch_size, top_k=None, function_to_apply="none",
                             truncation=True, max_length=model.hp.max_length)
        logits = np.array([[{o["label"]: o["score"] for o in row}[label] for label in labels] for row in outputs])
        return softmax(logits.reshape(len(texts), len(TOPICS), len(VALUES)), axis=-1)

    return predict


def one_at_a_time_predictor(model) -> Callable[[Sequence[str]], np.ndarray]:
    import torch

    def predict(texts: Sequence[str]) -> np.ndarray:
        rows = []
        with torch.inference_mode():
            for text in texts:
                encoded = model.tokenizer(text, truncation=True, max_length=model.hp.max_length,
                                          return_token_type_ids=False, return_tensors="pt")
                logits = model.network(encoded["input_ids"], encoded["attention_mask"])["logits"]
                rows.append(torch.softmax(logits.double(), dim=-1).numpy()[0])
        return np.stack(rows)

    return predict


def timed(predict: Callable[[Sequence[str]], np.ndarray], texts: Sequence[str]) -> tuple[np.ndarray, float]:
    started = time.perf_counter()
    proba = predict(texts)
    return proba, len(texts) / (time.perf_counter() - started)


def f_avg(gold: np.ndarray, proba: np.ndarray) -> float:
    from stance.metrics import index_scores

    return index_scores(gold, proba.argmax(-1))["f_avg_macro"]


def end_to_end(model_dir: Path, texts: Sequence[str], cfg: DictConfig, *overrides: str) -> dict[str, float]:
    """A real scripts/predict.py run in a child process over a JSONL of the passages: speed and peak memory."""
    with tempfile.TemporaryDirectory(prefix="stance-bench-") as scratch:
        table = Path(scratch) / "passages.jsonl"
        table.write_text("".join(json.dumps({"id": f"b{i}", "text": t}) + "\n" for i, t in enumerate(texts)))
        command = [sys.executable, str(REPO / "scripts" / "predict.py"), f"model={model_dir}",
                   f"input={table}", f"output={scratch}/out/p.parquet", "progress=false",
                   f"onnx_cache={cfg.onnx_cache}", f"hydra.run.dir={scratch}/hydra", *overrides]
        with open(Path(scratch) / "stderr.txt", "w+") as stderr:
            started = time.perf_counter()
            child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
            peak_kb = 0
            # The child's own high-water mark, sampled: its ru_maxrss would include this process's at fork time.
            while child.poll() is None:
                with suppress(OSError):
                    status = Path(f"/proc/{child.pid}/status").read_text()
                    peak_kb = max([peak_kb] + [int(line.split()[1]) for line in status.splitlines()
                                               if line.startswith("VmHWM:")])
                time.sleep(0.05)
            seconds = time.perf_counter() - started
            if child.returncode not in (0, 2):  # 2: a passage that is only a date makes no article
                stderr.seek(0)
                raise RuntimeError(f"{' '.join(command)} failed:\n{stderr.read()[-3000:]}")
        passages = pq.ParquetFile(Path(scratch) / "out" / "p.parquet").metadata.num_rows
    return {"passages": passages, "passages_per_s": passages / seconds, "seconds": seconds,
            "peak_rss_mb": peak_kb / 1024}


def resolved(reference: str, cfg: DictConfig) -> str:
    """The reference as given, and the MLflow model it named at the time (`best` moves as runs finish)."""
    from stance.batch.model_ref import model_uri

    return reference if Path(reference).exists() else f"{reference}` = `{model_uri(reference, cfg.experiment_name)}"


def run(cfg: DictConfig) -> dict:
    """Measure everything in one process on the same passages; returns the results that the report shows."""
    from stance.batch.model_ref import local_model
    from stance.models import load_model
    from stance.models.transformer import TransformerStanceModel
    from stance.training.tracking import use_store
    from stance.training.data import Corpus

    use_store(cfg.tracking_uri)
    corpus = Corpus.from_files(cfg.data_files, cfg.max_passages)
    texts, gold = corpus.texts, corpus.labels
    results: dict = {"passages": len(texts), "load_average": os.getloadavg(), "model": resolved(cfg.model, cfg),
                     "repeats": cfg.repeats, "tfidf_model": resolved(cfg.tfidf_model, cfg),
                     "threads": cpu_threads(cfg.threads)}
    with local_model(cfg.model) as model_dir:
        model = load_model(model_dir)
        if not isinstance(model, TransformerStanceModel):
            raise ValueError(f"model={cfg.model} is a {model.family} model; the benchmark needs a transformer")
        results["tokens_mean"] = float(np.mean([len(ids) for ids in model.tokenizer(
            texts, truncation=True, max_length=model.hp.max_length)["input_ids"]]))
        torch_engine = load_predictor(model_dir, "torch", threads=cfg.threads)
        started = time.perf_counter()
        onnx_fp32 = load_predictor(model_dir, "onnx", cache_dir=Path(cfg.onnx_cache), threads=cfg.threads)
        onnx_int8 = load_predictor(model_dir, "onnx", quantize=True, cache_dir=Path(cfg.onnx_cache),
                                   threads=cfg.threads)
        results["onnx_prepare_seconds"] = time.perf_counter() - started
        methods = {
            "pipeline": (pipeline_predictor(model, cfg.pipeline_batch_size), texts),
            "one at a time": (one_at_a_time_predictor(model), texts[: cfg.single_passages]),
            "engine, torch": (torch_engine.predict_proba, texts),
            "engine, onnx fp32": (onnx_fp32.predict_proba, texts),
            "engine, onnx int8": (onnx_int8.predict_proba, texts),
        }
        rows = {name: {"passages": len(subset), "passages_per_s": 0.0} for name, (_, subset) in methods.items()}
        # Rounds over all methods, best rate of each kept: other jobs on the machine slow all methods alike.
        for round_ in range(cfg.repeats):
            for name, (predict, subset) in methods.items():
                log.info("round %d: timing %s on %d passages", round_ + 1, name, len(subset))
                proba, rate = timed(predict, subset)
                rows[name] |= {"passages_per_s": max(rate, rows[name]["passages_per_s"]), "proba": proba}
        reference = rows["engine, torch"]["proba"]
        for name, row in rows.items():
            proba = row.pop("proba")
            n = len(proba)
            row["max_abs_diff_vs_engine_torch"] = float(np.abs(proba - reference[:n]).max())
            row["labels_changed_vs_engine_torch"] = float((proba.argmax(-1) != reference[:n].argmax(-1)).mean())
            row["f_avg_macro_on_gold"] = f_avg(gold[:n], proba) if n == len(texts) else float("nan")
        pipeline_rate = rows["pipeline"]["passages_per_s"]
        for row in rows.values():
            row["vs_pipeline"] = row["passages_per_s"] / pipeline_rate
        results["methods"] = rows
        log.info("end-to-end runs of scripts/predict.py")
        results["end_to_end"] = {
            "runtime=torch": end_to_end(model_dir, texts, cfg, "runtime=torch"),
            "runtime=onnx quantize=true": end_to_end(model_dir, texts, cfg, "runtime=onnx", "quantize=true"),
        }
    with local_model(cfg.tfidf_model) as tfidf_dir:
        tfidf = load_predictor(tfidf_dir, "torch")
        many = (texts * (cfg.tfidf_passages // len(texts) + 1))[: cfg.tfidf_passages]
        _, rate = timed(tfidf.predict_proba, many)
        # Where the time goes: each vectorizer of the feature union, then the per-topic heads.
        parts = {name: timed(part.transform, many)[1] for name, part in tfidf.vectorizer.transformer_list}
        features = tfidf.vectorizer.transform(many)
        parts["heads"] = timed(lambda _: [head.predict_proba(features) for head in tfidf.per_topic.values()],
                               many)[1]
        results["tfidf"] = {"passages": len(many), "passages_per_s": rate, "parts_per_s": parts,
                            "end_to_end": end_to_end(tfidf_dir, many, cfg)}
    return results


def markdown(results: dict) -> str:
    """experiments/benchmarks.md from the results of `run`."""
    methods = pd.DataFrame(results["methods"]).T
    methods.index.name = "method"
    table = methods.loc[:, ["passages", "passages_per_s", "vs_pipeline", "max_abs_diff_vs_engine_torch",
                            "labels_changed_vs_engine_torch", "f_avg_macro_on_gold"]]
    table = table.rename(columns={"passages_per_s": "passages/s", "vs_pipeline": "x pipeline",
                                  "max_abs_diff_vs_engine_torch": "max |Δp| vs engine torch",
                                  "labels_changed_vs_engine_torch": "labels changed",
                                  "f_avg_macro_on_gold": "macro F_avg (gold)"})
    e2e = pd.DataFrame(results["end_to_end"]).T
    e2e.index.name = "scripts/predict.py"
    e2e = e2e.rename(columns={"passages_per_s": "passages/s", "peak_rss_mb": "peak RSS (MB)"})
    tfidf = results["tfidf"]
    fp32, int8 = results["methods"]["engine, onnx fp32"], results["methods"]["engine, onnx int8"]
    peak = max(row["peak_rss_mb"] for row in results["end_to_end"].values())

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    targets = pd.DataFrame([
        ("MiniLM, engine (onnx int8) vs pipeline", ">= 2x", f"{int8['vs_pipeline']:.2f}x",
         verdict(int8["vs_pipeline"] >= 2)),
        ("MiniLM, peak memory of a predict run", "< 1.5 GB", f"{peak:,.0f} MB", verdict(peak < 1536)),
        ("TF-IDF predict_proba", "> 10,000 passages/s", f"{tfidf['passages_per_s']:,.0f} passages/s",
         verdict(tfidf["passages_per_s"] > 10_000)),
    ], columns=["target", "wanted", "measured", "verdict"])
    load = ", ".join(f"{x:.2f}" for x in results["load_average"])
    return "\n".join([
        "# Batch prediction benchmark",
        "",
        "Written by `python scripts/bench_predict.py` (logic in `src/stance/bench.py`); rerun it to refresh.",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, {results['threads']} threads, Python {platform.python_version()}; "
        f"load average when it started: {load} (other jobs shared the CPUs when above ~0.5).",
        "",
        f"Model: `{results['model']}`. Passages: the {results['passages']} labeled passages "
        f"(mean {results['tokens_mean']:.0f} tokens). Each method ran {results['repeats']} time(s) over the same "
        "passages, in rounds, and its best rate is shown "
        "(one-at-a-time over the first ones only: it is slow); probabilities are compared with the engine's "
        "torch runtime. The gold F_avg is on passages the model was trained on, so it is optimistic: read it "
        "only as the difference between runtimes.",
        "",
        table.to_markdown(floatfmt=".4g"),
        "",
        f"int8 against fp32: macro F_avg {int8['f_avg_macro_on_gold'] - fp32['f_avg_macro_on_gold']:+.4f} on the "
        f"gold labels, {int8['labels_changed_vs_engine_torch']:.2%} of topic labels changed, largest probability "
        f"difference {int8['max_abs_diff_vs_engine_torch']:.3g}. Preparing the ONNX models took "
        f"{results['onnx_prepare_seconds']:.0f} s (export and quantisation on a model's first run, ~10 s; "
        "a cache hit after).",
        "",
        "End to end (`scripts/predict.py` in a child process over a JSONL of the same passages, parquet out; "
        "includes start-up, model load, reading and writing):",
        "",
        e2e.to_markdown(floatfmt=".4g"),
        "",
        f"TF-IDF (`{results['tfidf_model']}`): {tfidf['passages_per_s']:,.0f} passages/s for `predict_proba` over "
        f"{tfidf['passages']:,} passages; end to end {tfidf['end_to_end']['passages_per_s']:,.0f} passages/s, "
        f"peak RSS {tfidf['end_to_end']['peak_rss_mb']:.0f} MB. Alone, each part runs at "
        + ", ".join(f"{name} {rate:,.0f}" for name, rate in tfidf["parts_per_s"].items()) + " passages/s.",
        "",
        "## Targets (issue 5)",
        "",
        targets.to_markdown(index=False),
        "",
    ])


@hydra.main(version_base="1.3", config_path="../configs/predict", config_name="bench")
def main(cfg: DictConfig) -> dict:
    from stance.files import atomic_write

    results = run(cfg)
    report = markdown(results)
    with atomic_write(Path(cfg.report)) as handle:
        handle.write(report)
    print(report)
    return results


if __name__ == "__main__":
    register_resolvers()
    main()
