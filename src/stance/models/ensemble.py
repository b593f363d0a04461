"""Average the probabilities of several models, each trained on the same passages."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from stance.models.base import StanceModel, UnsafeModelError, load_model

MEMBERS_FILE = "ensemble.json"


class Ensemble(StanceModel):
    family = "ensemble"

    def __init__(self, members: Mapping[str, StanceModel], weights: Mapping[str, float] | None = None) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = dict(members)
        self.weights = {name: float((weights or {}).get(name, 1.0)) for name in self.members}

    @property
    def runtime_packages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for member in self.members.values() for name in member.runtime_packages))

    def fit(self, texts: Sequence[str], labels: np.ndarray, groups: Sequence[str] | None = None) -> "Ensemble":
        for name, member in self.members.items():
            member.fit(texts, labels, groups)
            self.history.extend({**record, "member": name} for record in member.history)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        total = sum(self.weights.values())
        return sum(self.weights[name] * member.predict_proba(texts) for name, member in self.members.items()) / total

    def _save(self, directory: Path) -> None:
        for name, member in self.members.items():
            member.save(directory / name)
        (directory / MEMBERS_FILE).write_text(json.dumps({"weights": self.weights}, indent=2))

    @classmethod
    def load(cls, directory: Path, device: str = "auto") -> "Ensemble":
        path = directory / MEMBERS_FILE
        try:
            weights = json.loads(path.read_text(encoding="utf-8"))["weights"]
            weights = {name: float(weight) for name, weight in weights.items()}
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise UnsafeModelError(f"{path}: not a readable ensemble file ({type(err).__name__}: {err})") from None
        for name in weights:
            # "." would load this folder again forever; "../x", "/x" or a symlink, a model from outside it.
            if not is_plain_name(name):
                raise UnsafeModelError(f"{path}: member {name!r} is not a plain subfolder name")
            if not (directory / name).resolve().is_relative_to(directory.resolve()):
                raise UnsafeModelError(f"{path}: member {name!r} links outside the model folder")
        return cls({name: load_model(directory / name, device) for name in weights}, weights)


def is_plain_name(name: str) -> bool:
    """A single path component that stays inside its folder on every OS."""
    return (bool(name) and name not in {".", ".."} and not any(c in name for c in "/\\:\0")
            and Path(name).name == name)
