"""The one interface that training, evaluation and batch prediction use for every model family.

Labels are integer arrays of shape (n_passages, n_topics) holding indices into
`stance.corpus.schema.VALUES` (0 absent, 1 support, 2 reject); probabilities have shape
(n_passages, n_topics, 3) in the same order. A saved model is a folder with a
`stance_model.json` manifest naming its class, so `load_model` needs no other hint.
"""

from __future__ import annotations

import importlib
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from stance.errors import UserError

MANIFEST = "stance_model.json"


class StanceModel(ABC):
    family: str = "base"
    # What loading and predicting with a saved model of this family imports: the requirements of a logged model.
    runtime_packages: tuple[str, ...] = ("mlflow", "numpy", "pandas", "pyyaml")
    # Per-epoch records ({"epoch", "train_loss", "valid_loss"}) of the last fit, for tracking.
    history: list[dict]

    def __init__(self) -> None:
        self.history = []

    @abstractmethod
    def fit(self, texts: Sequence[str], labels: np.ndarray, groups: Sequence[str] | None = None) -> "StanceModel":
        """Train on passages; `groups` (doc_ids) lets a model hold out whole articles for early stopping."""

    @abstractmethod
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities of shape (n, n_topics, 3) in schema value order."""

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_proba(texts).argmax(axis=-1)

    def validation_split(self, groups: Sequence[str]) -> tuple[np.ndarray, np.ndarray] | None:
        """The (trained, held-out) passage indices `fit` would use for these doc_ids, for a model that holds out
        articles of its own (e.g. to choose an epoch); None for one that trains on everything it is given."""
        return None

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self._save(directory)
        manifest = {"class": f"{type(self).__module__}.{type(self).__qualname__}", "family": self.family}
        (directory / MANIFEST).write_text(json.dumps(manifest, indent=2))

    @abstractmethod
    def _save(self, directory: Path) -> None: ...

    @classmethod
    @abstractmethod
    def load(cls, directory: Path, device: str = "auto") -> "StanceModel":
        """The saved model; `device` (auto, cpu, cuda) places models that run on torch."""


class UnsafeModelError(UserError):
    """A saved model folder that asks for something the loader refuses to do; the message names file and reason."""

    hint = "load only models you trust (README: What is safe to load)"


# Every class a manifest may name. A manifest is data from a folder that may be hostile, so it selects one of
# these by name; nothing else is imported.
MODEL_CLASSES = {
    "stance.models.baselines.SklearnStanceModel": "stance.models.baselines",
    "stance.models.transformer.TransformerStanceModel": "stance.models.transformer",
    "stance.models.setfit_model.SetFitStanceModel": "stance.models.setfit_model",
    "stance.models.ensemble.Ensemble": "stance.models.ensemble",
}


def saved_class(directory: str | Path) -> type[StanceModel]:
    """The model class a saved folder's manifest names, without loading the model."""
    directory = Path(directory)
    manifest_path = directory / MANIFEST
    if not manifest_path.exists():
        raise UnsafeModelError(f"{directory}: not a saved stance model (no {MANIFEST})")
    try:
        name = json.loads(manifest_path.read_text(encoding="utf-8"))["class"]
    except (ValueError, KeyError, TypeError) as err:
        raise UnsafeModelError(f"{manifest_path}: not a readable manifest ({err})") from None
    if name not in MODEL_CLASSES:
        raise UnsafeModelError(f"{manifest_path}: unknown model class {name!r}; a stance model folder names one "
                               f"of {', '.join(sorted(MODEL_CLASSES))}")
    return getattr(importlib.import_module(MODEL_CLASSES[name]), name.rpartition(".")[2])


def load_model(directory: str | Path, device: str = "auto") -> StanceModel:
    """Load any saved model folder by the class its manifest names."""
    return saved_class(directory).load(Path(directory), device=device)
