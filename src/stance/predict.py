"""Batch classification: input files in, passage and article tables out, streamed chunk by chunk.

Articles are gathered into chunks of about `chunk_passages` passages; each chunk goes through the model in
one call (the transformer sorts it by length into dynamically padded batches under `inference_mode`) and
is committed to disk before the next is read, so memory stays flat and a killed run can resume.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from stance import summary
from stance.inputs import InputArticle, InputError, discover, read_articles
from stance.outputs import OutputPaths, PartStore, article_frame, passage_frame, table_format

log = logging.getLogger(__name__)
RUNTIMES = ("torch", "onnx")
ENGINES = ("local", "ray")
Chunk = tuple[pd.DataFrame, pd.DataFrame]  # (passages, articles)


class Predictor(Protocol):
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...


def cpu_threads(threads: int | None) -> int:
    return threads or len(os.sched_getaffinity(0))


def load_predictor(model_dir: Path, runtime: str = "torch", quantize: bool = False,
                   cache_dir: Path | None = None, threads: int | None = None) -> Predictor:
    """The saved model as is (`torch`), or its transformer exported to ONNX Runtime (`onnx`, optionally int8)."""
    from stance.models import load_model

    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {RUNTIMES}, got {runtime!r}")
    if runtime == "onnx":
        from stance.onnx_runtime import OnnxStanceModel

        return OnnxStanceModel.from_saved(model_dir, cache_dir or model_dir, quantize, cpu_threads(threads))
    if quantize:
        raise ValueError("quantize=true needs runtime=onnx")
    model = load_model(model_dir)
    if "torch" in sys.modules:  # only models that loaded torch use it; sklearn ones never pay its import
        import torch

        torch.set_num_threads(cpu_threads(threads))
    return model


@dataclass
class ArticleFilter:
    """Skips articles a resumed run already committed, and reports a doc_id seen twice (ids must be unique)."""

    done: dict[str, str]  # doc_id -> file, from the parts of an interrupted run
    seen: set[str] = field(default_factory=set)

    def check(self, doc_id: str, file: str) -> bool | InputError:
        """True: classify it; False: already done; an InputError: a duplicate."""
        if doc_id in self.seen or self.done.get(doc_id, file) != file:
            return InputError(file, f"duplicate doc_id {doc_id!r} (already read from "
                                    f"{self.done.get(doc_id, 'an earlier input')}); skipped")
        self.seen.add(doc_id)
        return doc_id not in self.done


def classify(articles: Sequence[InputArticle], predictor: Predictor) -> Chunk:
    passages = [p for article in articles for p in article.passages]
    proba = predictor.predict_proba([p.text for p in passages])
    frame = passage_frame([p.id for p in passages], [p.doc_id for p in passages], [p.index for p in passages],
                          [p.text for p in passages], proba)
    meta = pd.DataFrame([(a.doc_id, a.file, a.date, a.source) for a in articles],
                        columns=["doc_id", "file", "date", "source"])
    return frame, article_frame(frame, meta)


def classify_locally(files: Iterable[Path], predictor: Predictor, keep: ArticleFilter,
                     chunk_passages: int) -> Iterator[InputError | Chunk]:
    """Chunks of whole articles, classified in this process, in input order; errors as they are met."""
    pending: list[InputArticle] = []
    size = 0
    for path in files:
        for item in read_articles(path):
            verdict = item if isinstance(item, InputError) else keep.check(item.doc_id, item.file)
            if isinstance(verdict, InputError):
                yield verdict
            elif verdict:
                pending.append(item)
                size += len(item.passages)
                if size >= chunk_passages:
                    yield classify(pending, predictor)
                    pending, size = [], 0
    if pending:
        yield classify(pending, predictor)


@dataclass
class PredictResult:
    paths: OutputPaths
    articles: int
    passages: int
    resumed_articles: int
    errors: list[InputError]
    summary: pd.DataFrame

    @property
    def exit_code(self) -> int:
        return 2 if self.errors else 0


def run(cfg: DictConfig) -> PredictResult:
    """Classify every article under `cfg.input`; write passages, articles and errors (and a plot with `plot`)."""
    from tqdm import tqdm

    from stance.io import write_jsonl
    from stance.model_ref import fingerprint, local_model
    from stance.tracking import use_store

    if cfg.engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {cfg.engine!r}")
    paths = OutputPaths.beside(cfg.output, cfg.get("articles"), cfg.get("errors"))
    inputs = [cfg.input] if isinstance(cfg.input, str) else list(cfg.input)
    use_store(cfg.tracking_uri)
    with local_model(str(cfg.model), cfg.experiment_name) as model_dir:
        # The model's content, not its name: `best` may name another model by the time a run resumes.
        settings = {"model_digest": fingerprint(model_dir), "runtime": cfg.runtime, "quantize": bool(cfg.quantize)}
        store = PartStore(paths, settings, resume=cfg.resume)
        keep = ArticleFilter(store.done())
        files, errors = discover(inputs)
        for error in errors:
            log.warning("%s", error)
        if cfg.engine == "ray":
            from stance.ray_engine import classify_with_ray

            chunks = classify_with_ray(files, model_dir, cfg, keep)
        else:
            predictor = load_predictor(model_dir, cfg.runtime, cfg.quantize, Path(cfg.onnx_cache), cfg.threads)
            chunks = classify_locally(files, predictor, keep, cfg.chunk_passages)
        with tqdm(unit=" passages", desc="classifying", disable=not cfg.progress, dynamic_ncols=True) as bar:
            for item in chunks:
                if isinstance(item, InputError):
                    log.warning("%s", item)
                    errors.append(item)
                    continue
                store.commit(*item)
                bar.update(len(item[0]))
                bar.set_postfix(articles=len(keep.seen), errors=len(errors), refresh=False)
    totals = summary.Totals.from_frames(store.frames("articles"))
    store.finish()
    write_jsonl(paths.errors, (error.record() for error in errors))
    if cfg.plot:
        summary.save_plot(totals, paths.plot)
    result = PredictResult(paths, totals.articles, totals.passages, len(keep.done), errors, totals.table())
    log.info("%d articles, %d passages, %d input errors -> %s", result.articles, result.passages, len(errors),
             paths.passages)
    return result


def report(result: PredictResult) -> str:
    """The summary printed at the end of a run."""
    kept = f" ({result.resumed_articles} articles kept from the interrupted run)" if result.resumed_articles else ""
    lines = [f"{result.articles} articles, {result.passages} passages{kept}", result.summary.to_markdown(),
             f"passages: {result.paths.passages}", f"articles: {result.paths.articles}"]
    if result.errors:
        lines.append(f"{len(result.errors)} input(s) failed, listed in {result.paths.errors}")
    return "\n".join(lines)


def main(cfg: DictConfig) -> int:
    """Entry point shared by scripts/predict.py and `stance predict`: run, print the summary, return the exit code."""
    table_format(cfg.output)  # a bad output name fails before the model loads
    result = run(cfg)
    print(report(result))
    return result.exit_code

