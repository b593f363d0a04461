"""The classification step every executor shares: a saved model as a predictor, the duplicate and resume
filter, chunks of whole articles, and one chunk in -> its passage and article tables out.

Executors (`local`, `ray_executor`) depend on this module, never the reverse.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np
import pandas as pd

from stance.batch.articles import article_frame
from stance.batch.tables import passage_frame
from stance.corpus.readers import InputArticle, InputError
from stance.errors import ConfigError

RUNTIMES = ("torch", "onnx")
Chunk = tuple[pd.DataFrame, pd.DataFrame]  # (passages, articles)
Item = TypeVar("Item")


class Predictor(Protocol):
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...


def cpu_threads(threads: int | None) -> int:
    return threads or len(os.sched_getaffinity(0))


def load_predictor(model_dir: Path, runtime: str = "torch", quantize: bool = False,
                   cache_dir: Path | None = None, threads: int | None = None, device: str = "auto") -> Predictor:
    """The saved model as is (`torch`), or its transformer exported to ONNX Runtime (`onnx`, optionally int8)."""
    from stance.models import load_model

    if runtime not in RUNTIMES:
        raise ConfigError(f"runtime must be one of {RUNTIMES}, got {runtime!r}")
    if runtime == "onnx":
        from stance.batch.onnx_runtime import OnnxStanceModel

        return OnnxStanceModel.from_saved(model_dir, cache_dir or model_dir, quantize, cpu_threads(threads), device)
    if quantize:
        raise ConfigError("quantize=true needs runtime=onnx")
    model = load_model(model_dir, device=device)
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


def in_chunks(items: Iterable[Item | InputError], size: Callable[[Item], int],
              limit: int) -> Iterator[list[Item] | InputError]:
    """Whole items gathered into lists of at least `limit` passages (the last may be smaller); errors pass
    through as they are met. The unit of memory, of a model call and of resume."""
    pending: list[Item] = []
    total = 0
    for item in items:
        if isinstance(item, InputError):
            yield item
            continue
        pending.append(item)
        total += size(item)
        if total >= limit:
            yield pending
            pending, total = [], 0
    if pending:
        yield pending


def classify(articles: Sequence[InputArticle], predictor: Predictor) -> Chunk:
    passages = [p for article in articles for p in article.passages]
    proba = predictor.predict_proba([p.text for p in passages])
    frame = passage_frame([p.id for p in passages], [p.doc_id for p in passages], [p.index for p in passages],
                          [p.text for p in passages], proba)
    meta = pd.DataFrame([(a.doc_id, a.file, a.date, a.source) for a in articles],
                        columns=["doc_id", "file", "date", "source"])
    return frame, article_frame(frame, meta)
