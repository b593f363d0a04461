"""engine=ray: the same classification on Ray Data, locally or on the cluster RAY_ADDRESS names.

Files are read with `ray.data.read_binary_files` and cut into passages by the same readers as the local
engine; a pool of actors, each holding one copy of the model, classifies batches of passages
(`map_batches`). Rows come back in input order, and the driver gathers each article's passages and
commits chunks exactly as the local engine does, so outputs, errors and resume behave the same. On a
cluster, the input files and the model folder must be readable at the same paths from every node.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from stance.corpus.readers import InputError, read_bytes_articles
from stance.config import environment
from stance.errors import ConfigError
from stance.batch.articles import ARTICLE_META, article_frame
from stance.batch.engine import ArticleFilter, Chunk, in_chunks, load_predictor
from stance.batch.tables import passage_frame
from stance.models.columns import probability_column
from stance.corpus.schema import TOPICS, VALUES

ROW_FIELDS = ("kind", "file", "where", "reason", "doc_id", "date", "source", "n_passages", "id", "index", "text")


def _rows(row: dict, names: dict[str, str], done: dict[str, str]) -> list[dict]:
    """One file's bytes -> a row per passage (with its article's metadata) or per input error."""
    name = names.get(os.path.abspath(row["path"]), row["path"])
    empty = dict.fromkeys(ROW_FIELDS)
    rows = []
    for item in read_bytes_articles(name, row["bytes"]):
        if isinstance(item, InputError):
            rows.append(empty | {"kind": "error", "file": item.path, "where": item.where, "reason": item.reason})
        elif done.get(item.doc_id) != item.file:  # a resumed run skips what it committed
            meta = {"kind": "passage", "file": item.file, "doc_id": item.doc_id, "date": item.date,
                    "source": item.source, "n_passages": len(item.passages)}
            rows.extend(empty | meta | {"id": p.id, "index": p.index, "text": p.text} for p in item.passages)
    return rows


class StanceActor:
    """Holds one model; classifies the passage rows of a batch, passes error rows through."""

    def __init__(self, model_dir: str, runtime: str, quantize: bool, cache_dir: str, threads: int,
                 device: str) -> None:
        self.predictor = load_predictor(Path(model_dir), runtime, quantize, Path(cache_dir), threads, device)

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        passages = (batch["kind"] == "passage").to_numpy()
        proba = np.zeros((len(batch), len(TOPICS), len(VALUES)))
        if passages.any():
            proba[passages] = self.predictor.predict_proba(batch.loc[passages, "text"].tolist())
        return batch.assign(**{probability_column(topic, value): proba[:, t, v]
                               for t, topic in enumerate(TOPICS) for v, value in enumerate(VALUES)})


@contextmanager
def ray_session(ray_cfg: DictConfig) -> Iterator[None]:
    """Connect to `ray.address` or RAY_ADDRESS when given, else run a local Ray for the block and remove it after."""
    with environment(RAY_AUTH_MODE=os.environ.get("RAY_AUTH_MODE", "disabled")):  # no token warning locally
        yield from _ray_session(ray_cfg)


def _ray_session(ray_cfg: DictConfig) -> Iterator[None]:
    import ray

    if ray.is_initialized():
        yield
        return
    address = ray_cfg.get("address") or os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, log_to_driver=False)
        try:
            yield
        finally:
            ray.shutdown()
        return
    if ray_cfg.actors * ray_cfg.cpus_per_actor >= ray_cfg.num_cpus:  # else reading never gets a CPU: a hang
        raise ConfigError(f"ray.actors x ray.cpus_per_actor ({ray_cfg.actors} x {ray_cfg.cpus_per_actor}) must stay "
                         f"below ray.num_cpus ({ray_cfg.num_cpus}), leaving a CPU to read the input")
    # A short folder of our own (Ray's socket paths must stay under ~100 characters), removed afterwards.
    with tempfile.TemporaryDirectory(prefix="stance-ray-", dir="/tmp", ignore_cleanup_errors=True) as scratch:
        ray.init(num_cpus=ray_cfg.num_cpus, include_dashboard=False, log_to_driver=False, _temp_dir=scratch)
        try:
            yield
        finally:
            ray.shutdown()


def classify_with_ray(files: Sequence[Path], model_dir: Path, cfg: DictConfig,
                      keep: ArticleFilter) -> Iterator[InputError | Chunk]:
    if not files:
        return
    import ray

    with ray_session(cfg.ray):
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # same order as the local engine, so the same files
        context.enable_progress_bars = False
        names = {os.path.abspath(f): str(f) for f in files}
        dataset = ray.data.read_binary_files([str(f) for f in files], include_paths=True)
        dataset = dataset.flat_map(_rows, fn_kwargs={"names": names, "done": keep.done})
        dataset = dataset.map_batches(
            StanceActor, batch_format="pandas", batch_size=cfg.chunk_passages,
            compute=ray.data.ActorPoolStrategy(size=cfg.ray.actors), num_cpus=cfg.ray.cpus_per_actor,
            fn_constructor_kwargs={"model_dir": str(model_dir), "runtime": cfg.runtime, "quantize": cfg.quantize,
                                   "cache_dir": str(cfg.onnx_cache), "device": cfg.device,
                                   "threads": cfg.threads or max(1, int(cfg.ray.cpus_per_actor))})
        articles = _articles(dataset.iter_batches(batch_format="pandas", batch_size=None), keep)
        for chunk in in_chunks(articles, len, cfg.chunk_passages):
            yield chunk if isinstance(chunk, InputError) else _chunk(chunk)


def _articles(batches: Iterator[pd.DataFrame], keep: ArticleFilter) -> Iterator[InputError | pd.DataFrame]:
    """Rows gathered into whole articles (an article may span batches), filtered like the local engine's."""
    partial: dict[tuple[str, str], list[pd.DataFrame]] = {}
    for batch in batches:
        for row in batch[batch["kind"] == "error"].itertuples():
            yield InputError(row.file, row.reason, row.where if isinstance(row.where, str) else None)
        passages = batch[batch["kind"] == "passage"]
        for (file, doc_id), rows in passages.groupby(["file", "doc_id"], sort=False):
            parts = partial.setdefault((file, doc_id), [])
            parts.append(rows)
            if sum(len(p) for p in parts) < rows["n_passages"].iloc[0]:
                continue
            article = pd.concat(partial.pop((file, doc_id)))
            verdict = keep.check(doc_id, file)
            if isinstance(verdict, InputError):
                yield verdict
            elif verdict:
                yield article


def _chunk(articles: list[pd.DataFrame]) -> Chunk:
    rows = pd.concat(articles, ignore_index=True)
    proba_columns = [probability_column(topic, value) for topic in TOPICS for value in VALUES]
    proba = rows[proba_columns].to_numpy(dtype=np.float64).reshape(len(rows), len(TOPICS), len(VALUES))
    passages = passage_frame(rows["id"], rows["doc_id"], rows["index"], rows["text"], proba)
    meta = rows.drop_duplicates(["file", "doc_id"]).loc[:, list(ARTICLE_META)]
    meta = meta.astype(object).where(meta.notna(), None)
    return passages, article_frame(passages, meta)

