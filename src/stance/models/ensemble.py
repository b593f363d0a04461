"""Combine several model families: a weighted average of their probabilities, the weights fitted per topic.

The families make different errors (TF-IDF follows wording, the fine-tuned encoder follows meaning), so their
average beats either. How much each member counts for each topic is learned from out-of-fold probabilities:
the members are trained on most of the training articles and scored on the rest, and the weights that give
the best F_avg there are kept. The dev set is never used for this.
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from stance.corpus.schema import TOPICS, VALUES
from stance.metrics import topic_scores
from stance.models.base import StanceModel, UnsafeModelError, load_model
from stance.training.data import grouped_holdout

log = logging.getLogger(__name__)
MEMBERS_FILE = "ensemble.json"
Weights = dict[str, dict[str, float]]  # topic -> member -> weight (summing to 1)


class Ensemble(StanceModel):
    family = "ensemble"

    def __init__(self, members: Mapping[str, StanceModel], weights: Mapping | None = None, fit_weights: bool = True,
                 holdout_fraction: float = 0.2, weight_step: float = 0.1, refit: Sequence[str] = ("sklearn",),
                 seed: int = 0) -> None:
        """`weights`: fixed weights (one per member, or per topic and member) used when `fit_weights` is off.
        `holdout_fraction`: the articles held out for the weights, unless a kept member holds out its own.
        `refit`: the member families refitted on all passages after the weights are fitted; the others keep
        the fit that was scored on the hold-out, which spares a second fine-tuning of a transformer."""
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = dict(members)
        self.weights = per_topic(weights, list(self.members))
        self.fit_weights = fit_weights
        self.holdout_fraction = holdout_fraction
        self.weight_step = weight_step
        self.refit = tuple(refit)
        self.seed = seed

    @property
    def runtime_packages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for member in self.members.values() for name in member.runtime_packages))

    def fit(self, texts: Sequence[str], labels: np.ndarray, groups: Sequence[str] | None = None) -> "Ensemble":
        labels = np.asarray(labels)
        groups = np.asarray(groups) if groups is not None else np.arange(len(texts)).astype(str)
        kept = self._fit_weights_out_of_fold(texts, labels, groups) if self.fit_weights and len(self.members) > 1 else set()
        for name, member in self.members.items():
            if name not in kept:
                member.fit(texts, labels, groups)
                self.history.extend({**record, "member": name} for record in member.history)
        return self

    def _fit_weights_out_of_fold(self, texts: Sequence[str], labels: np.ndarray, groups: np.ndarray) -> set[str]:
        """Fit the weights on a grouped hold-out of the training articles; returns the members kept as fitted.

        A kept member that holds out articles of its own (a transformer choosing its epoch) sets the hold-out:
        it is fitted once on everything and scored on the articles it held out, so it trains on more passages
        (with the defaults 85% instead of 80% of 85%). Its held-out scores are a little optimistic (its epoch was chosen there), which
        can only tilt the weights towards it. The other members follow its split; refitted families are then
        fitted again on everything."""
        part, held = self._weight_split(groups)
        held_proba, kept = {}, set()
        for name, member in self.members.items():
            trained = copy.deepcopy(member) if member.family in self.refit else member
            own = member.validation_split(groups) if trained is member else None
            if own is not None and np.array_equal(np.sort(own[1]), np.sort(held)):
                trained.fit(texts, labels, groups)
            else:
                trained.fit([texts[i] for i in part], labels[part], groups[part])
            held_proba[name] = trained.predict_proba([texts[i] for i in held])
            if trained is member:
                kept.add(name)
                self.history.extend({**record, "member": name} for record in member.history)
        self.weights = fit_topic_weights(held_proba, labels[held], self.weight_step)
        log.info("ensemble weights per topic (fitted on %d held-out passages): %s", len(held), self.weights)
        return kept

    def _weight_split(self, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The first kept member's own hold-out, else a grouped `holdout_fraction` of the articles."""
        for member in self.members.values():
            split = member.validation_split(groups) if member.family not in self.refit else None
            if split is not None:
                return split
        return grouped_holdout(groups, self.holdout_fraction, self.seed)

    def member_probas(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Each member's probabilities: what `predict_proba` combines, for callers that also score the members."""
        return {name: member.predict_proba(texts) for name, member in self.members.items()}

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return combine(self.member_probas(texts), self.weights)

    def _save(self, directory: Path) -> None:
        for name, member in self.members.items():
            member.save(directory / name)
        (directory / MEMBERS_FILE).write_text(json.dumps({"weights": self.weights}, indent=2))

    @classmethod
    def load(cls, directory: Path, device: str = "auto",
             load_member: Callable[[Path], StanceModel] | None = None) -> "Ensemble":
        """The saved ensemble; `load_member` (default: `load_model` on `device`) lets a runtime swap in its own
        predictors, e.g. ONNX Runtime for the transformer members."""
        path = directory / MEMBERS_FILE
        try:
            weights = json.loads(path.read_text(encoding="utf-8"))["weights"]
            names = list(next(iter(weights.values())).keys()) if set(weights) <= set(TOPICS) else list(weights)
            weights = per_topic(weights, names)
        except (ValueError, KeyError, TypeError, AttributeError, StopIteration, ZeroDivisionError) as err:
            raise UnsafeModelError(f"{path}: not a readable ensemble file ({type(err).__name__}: {err})") from None
        for name in names:
            # "." would load this folder again forever; "../x", "/x" or a symlink, a model from outside it.
            if not is_plain_name(name):
                raise UnsafeModelError(f"{path}: member {name!r} is not a plain subfolder name")
            if not (directory / name).resolve().is_relative_to(directory.resolve()):
                raise UnsafeModelError(f"{path}: member {name!r} links outside the model folder")
        load_member = load_member or (lambda folder: load_model(folder, device))
        return cls({name: load_member(directory / name) for name in names}, weights, fit_weights=False)


def is_plain_name(name: object) -> bool:
    """A single path component that stays inside its folder on every OS."""
    return (isinstance(name, str) and bool(name) and name not in {".", ".."}
            and not any(c in name for c in "/\\:\0") and Path(name).name == name)


def per_topic(weights: Mapping | None, names: list[str]) -> Weights:
    """Normalised topic -> member -> weight from nothing (equal), one weight per member, or per topic."""
    if weights and set(weights) <= set(TOPICS):
        raw = {topic: dict(weights[topic]) for topic in TOPICS}
    else:
        flat = {name: float((weights or {}).get(name, 1.0)) for name in names}
        raw = {topic: flat for topic in TOPICS}
    return {topic: {name: float(raw[topic][name]) / sum(raw[topic].values()) for name in names} for topic in TOPICS}


def combine(probas: Mapping[str, np.ndarray], weights: Weights) -> np.ndarray:
    first = next(iter(probas.values()))
    out = np.zeros_like(first)
    for column, topic in enumerate(TOPICS):
        for name, proba in probas.items():
            out[:, column] += weights[topic][name] * proba[:, column]
    return out


def fit_topic_weights(probas: Mapping[str, np.ndarray], labels: np.ndarray, step: float) -> Weights:
    """Per topic, the weights on a grid over the simplex that give the best F_avg on these passages;
    ties go to the most even weights, so a topic the grid cannot tell apart stays an average."""
    names = list(probas)
    ticks = int(round(1 / step))
    grid = [np.array(c) / ticks for c in itertools.product(range(ticks + 1), repeat=len(names)) if sum(c) == ticks]
    weights: Weights = {}
    for column, topic in enumerate(TOPICS):
        gold = [VALUES[v] for v in labels[:, column]]
        stacked = np.stack([probas[name][:, column] for name in names])  # (members, n, values)

        def score(w: np.ndarray) -> tuple[float, float]:
            predicted = np.tensordot(w, stacked, axes=1).argmax(-1)
            return topic_scores(gold, [VALUES[v] for v in predicted])["f_avg"], -float(np.abs(w - 1 / len(w)).sum())

        best = max(grid, key=score)
        weights[topic] = {name: float(w) for name, w in zip(names, best)}
    return weights
