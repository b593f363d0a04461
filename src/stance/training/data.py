"""Label files in, a corpus of passages and leakage-free splits out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from omegaconf import DictConfig
from sklearn.model_selection import GroupKFold, GroupShuffleSplit

from stance.corpus.schema import ABSENT, TOPICS, VALUES
from stance.errors import UserError
from stance.files import read_jsonl

SHOWN_PROBLEMS = 10


class LabelError(UserError):
    """Label files that training cannot use; raised before any MLflow run exists."""

    hint = "data.files= names the label files; `stance validate` checks them"


@dataclass
class Corpus:
    ids: np.ndarray
    doc_ids: np.ndarray
    texts: list[str]
    sources: np.ndarray
    labels: np.ndarray  # (n, n_topics) indices into VALUES

    @classmethod
    def from_files(cls, paths: Sequence[str | Path], max_passages: int | None = None) -> "Corpus":
        """The passages of valid label files; anything `stance validate` would reject raises `LabelError`."""
        from stance.corpus.validate import validate_files

        # The validator's own record checks; whether texts still match their articles is `stance validate`'s
        # job (make train runs it), so label files outside a project train too.
        if problems := validate_files(paths, article_dirs={}):
            shown = "\n".join(f"  {problem}" for problem in problems[:SHOWN_PROBLEMS])
            more = f"\n  ... and {len(problems) - SHOWN_PROBLEMS} more" if len(problems) > SHOWN_PROBLEMS else ""
            raise LabelError(f"{len(problems)} problem(s) in the label files (fix them; `stance validate` lists "
                             f"them all):\n{shown}{more}")
        records = [record for path in paths for record in read_jsonl(path)][:max_passages]
        labels = [[VALUES.index(r["labels"].get(topic, ABSENT)) for topic in TOPICS] for r in records]
        return cls(
            ids=np.array([r["id"] for r in records]),
            doc_ids=np.array([r["doc_id"] for r in records]),
            texts=[r["text"] for r in records],
            sources=np.array([r["source"] for r in records]),
            labels=np.array(labels, dtype=int).reshape(len(records), len(TOPICS)),
        )

    def check_trainable(self, trainer: DictConfig) -> None:
        """Refuse a corpus that can only give a meaningless score or a crash deep inside a run."""
        if not self.labels.any():
            raise LabelError(f"none of the {len(self.texts)} passages has a label (every topic absent): "
                             "there is nothing to learn")
        articles = len(set(self.doc_ids))
        needed = trainer.n_splits if trainer.strategy == "kfold" else 2
        if articles < needed:
            hint = "lower trainer.n_splits or " if trainer.strategy == "kfold" else ""
            raise LabelError(f"{articles} article(s) are too few for {trainer.strategy} evaluation, which needs at "
                             f"least {needed}; {hint}add labeled articles")

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
