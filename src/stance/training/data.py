"""Label files in, a corpus of passages and leakage-free splits out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold, GroupShuffleSplit

from stance.corpus.schema import ABSENT, TOPICS, VALUES
from stance.files import read_jsonl


@dataclass
class Corpus:
    ids: np.ndarray
    doc_ids: np.ndarray
    texts: list[str]
    sources: np.ndarray
    labels: np.ndarray  # (n, n_topics) indices into VALUES

    @classmethod
    def from_files(cls, paths: Sequence[str | Path], max_passages: int | None = None) -> "Corpus":
        records = [record for path in paths for record in read_jsonl(path)][:max_passages]
        labels = [[VALUES.index(r["labels"].get(topic, ABSENT)) for topic in TOPICS] for r in records]
        return cls(
            ids=np.array([r["id"] for r in records]),
            doc_ids=np.array([r["doc_id"] for r in records]),
            texts=[r["text"] for r in records],
            sources=np.array([r["source"] for r in records]),
            labels=np.array(labels, dtype=int).reshape(len(records), len(TOPICS)),
        )

    def subset_texts(self, index: np.ndarray) -> list[str]:
        return [self.texts[i] for i in index]


def grouped_folds(doc_ids: Sequence[str], n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Seeded k-fold over articles: all passages of one doc_id fall in the same fold."""
    splitter = GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    placeholder = np.zeros(len(doc_ids))
    return list(splitter.split(placeholder, groups=np.asarray(doc_ids)))


def grouped_holdout(doc_ids: Sequence[str], test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One train/validation split by article, for models too slow for k folds."""
    splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    return next(splitter.split(np.zeros(len(doc_ids)), groups=np.asarray(doc_ids)))
