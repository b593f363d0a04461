"""Label files in, Hugging Face datasets and leakage-free splits out."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold, GroupShuffleSplit

from stance.schema import ABSENT, TOPICS


class LabelFileError(ValueError):
    """A label file that cannot be read; the message is `file:line: what is wrong`."""


def read_records(path: str | Path) -> list[dict]:
    path = Path(path)
    records = []
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise LabelFileError(f"{path}:{line_no}: invalid JSON ({err.msg})") from None
    return records


def records_to_rows(records: Iterable[dict]) -> dict[str, list]:
    """Columns for a dataset: one row per passage, one column per topic (absent/support/reject)."""
    columns: dict[str, list] = {"id": [], "doc_id": [], "text": [], "source": []}
    columns.update({topic: [] for topic in TOPICS})
    for record in records:
        for key in ("id", "doc_id", "text", "source"):
            columns[key].append(record[key])
        for topic in TOPICS:
            columns[topic].append(record["labels"].get(topic, ABSENT))
    return columns


def load_dataset(paths: Sequence[str | Path]):
    """All passages of the given label files as a `datasets.Dataset`."""
    from datasets import Dataset  # heavy import, only where a Dataset is built

    records = [record for path in paths for record in read_records(path)]
    return Dataset.from_dict(records_to_rows(records))


def grouped_folds(doc_ids: Sequence[str], n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Seeded k-fold over articles: all passages of one doc_id fall in the same fold."""
    splitter = GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    placeholder = np.zeros(len(doc_ids))
    return list(splitter.split(placeholder, groups=np.asarray(doc_ids)))


def grouped_holdout(doc_ids: Sequence[str], test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One train/validation split by article, for models too slow for k folds."""
    splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    return next(splitter.split(np.zeros(len(doc_ids)), groups=np.asarray(doc_ids)))
