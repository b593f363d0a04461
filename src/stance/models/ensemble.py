"""Average the probabilities of several models, each trained on the same passages."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from stance.models.base import StanceModel, load_model

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
        weights = json.loads((directory / MEMBERS_FILE).read_text())["weights"]
        return cls({name: load_model(directory / name, device) for name in weights}, weights)
