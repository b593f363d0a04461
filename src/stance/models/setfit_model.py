"""SetFit on MiniLM: contrastive fine-tuning of the sentence encoder, then one 3-way logistic regression per topic.

The contrastive phase sees multi-hot labels over topic x stance plus a "no topic" bit, so two passages
pair positively when they share a (topic, stance) or when neither has any topic.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer

from stance.models.base import StanceModel
from stance.models.baselines import SklearnStanceModel
from stance.models.transformer import MINILM_HUB_ID, predict_batch_size, resolve_device, resolve_pretrained
from stance.corpus.schema import TOPICS, VALUES

BODY_DIR = "body"
HEAD_DIR = "head"
HYPERPARAMETERS_FILE = "setfit_stance.json"


def contrastive_labels(labels: np.ndarray) -> list[list[int]]:
    """(n, n_topics) value indices -> multi-hot over topic x stance, plus a last bit for "no topic"."""
    stances = np.zeros((len(labels), len(TOPICS), len(VALUES) - 1), dtype=int)
    rows, topics = np.nonzero(labels)
    stances[rows, topics, labels[rows, topics] - 1] = 1
    no_topic = (labels == 0).all(axis=1, keepdims=True).astype(int)
    return np.hstack([stances.reshape(len(labels), -1), no_topic]).tolist()


@dataclass
class SetFitHyperparameters:
    """Contrastive phase and head settings; saved with the model as JSON."""

    # Pairs per passage and epoch: 2 * num_iterations. SetFit's default of 20 is for few-shot data; on
    # ~1,500 passages one iteration already costs ~3,000 pairs, minutes of CPU per epoch.
    num_iterations: int = 1
    num_epochs: int = 1
    body_learning_rate: float = 2e-5
    batch_size: int = 16
    max_length: int = 128
    warmup_proportion: float = 0.1
    head_C: float = 1.0
    seed: int = 0


class SetFitStanceModel(StanceModel):
    family = "setfit"
    runtime_packages = tuple(dict.fromkeys((*SklearnStanceModel.runtime_packages, "torch", "transformers",
                                            "tokenizers", "safetensors", "sentence-transformers")))

    def __init__(self, pretrained: str, device: str = "auto", **hyperparameters: Any) -> None:
        super().__init__()
        self.pretrained = pretrained
        self.device = resolve_device(device)
        self.hp = SetFitHyperparameters(**hyperparameters)
        self.body = None  # sentence_transformers.SentenceTransformer once fitted or loaded
        # Per-topic heads over embeddings: a SklearnStanceModel whose "vectorizer" is the identity, which
        # reuses its handling of topics missing from training and its type-checked skops loading.
        self.head: SklearnStanceModel | None = None

    def fit(self, texts: Sequence[str], labels: np.ndarray,
            groups: Sequence[str] | None = None) -> "SetFitStanceModel":
        """Contrastive phase on all passages (SetFit does no early stopping), then the heads; `groups` is unused."""
        from sentence_transformers import SentenceTransformer
        from setfit import SetFitModel, Trainer, TrainingArguments
        from transformers import set_seed

        hp = self.hp
        labels = np.asarray(labels)
        set_seed(hp.seed)
        body = SentenceTransformer(self.pretrained, device=self.device, trust_remote_code=False)
        body.max_seq_length = hp.max_length
        # A multi-target strategy makes SetFit pair passages by shared label bits; its own head stays unused.
        setfit_model = SetFitModel(model_body=body, multi_target_strategy="one-vs-rest")
        with tempfile.TemporaryDirectory(prefix="stance-setfit-") as scratch:
            args = TrainingArguments(
                output_dir=scratch, report_to="none", save_strategy="no", logging_strategy="epoch",
                logging_first_step=False, num_iterations=hp.num_iterations, num_epochs=hp.num_epochs,
                body_learning_rate=hp.body_learning_rate, batch_size=hp.batch_size,
                warmup_proportion=hp.warmup_proportion, seed=hp.seed, show_progress_bar=False)
            trainer = Trainer(model=setfit_model, args=args)
            trainer.train_embeddings(list(texts), contrastive_labels(labels), args=args)
        self.body = setfit_model.model_body
        self.history = [{"epoch": round(entry["epoch"]), "train_loss": entry["embedding_loss"]}
                        for entry in trainer.st_trainer.state.log_history if "embedding_loss" in entry]
        classifier = LogisticRegression(C=hp.head_C, class_weight="balanced", max_iter=2000)
        self.head = SklearnStanceModel(FunctionTransformer(), classifier).fit(self._embed(texts), labels)
        return self

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        embeddings = self.body.encode(list(texts), batch_size=predict_batch_size(64, self.device), normalize_embeddings=True, convert_to_numpy=True)
        return embeddings.astype(np.float64)  # float32 heads give probabilities summing to 1 only within 1e-7

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if self.head is None:
            raise RuntimeError("SetFitStanceModel: call fit() or load() before predicting")
        return self.head.predict_proba(self._embed(texts))

    def _save(self, directory: Path) -> None:
        if self.head is None:
            raise RuntimeError("SetFitStanceModel: nothing to save before fit()")
        self.body.save_pretrained(str(directory / BODY_DIR), create_model_card=False, safe_serialization=True)
        self.head.save(directory / HEAD_DIR)
        saved = {"pretrained": self.pretrained, "hyperparameters": asdict(self.hp)}
        (directory / HYPERPARAMETERS_FILE).write_text(json.dumps(saved, indent=2))

    @classmethod
    def load(cls, directory: Path, device: str = "auto") -> "SetFitStanceModel":
        from sentence_transformers import SentenceTransformer

        directory = Path(directory)
        saved = json.loads((directory / HYPERPARAMETERS_FILE).read_text())
        model = cls(saved["pretrained"], device, **saved["hyperparameters"])
        model.body = SentenceTransformer(str(directory / BODY_DIR), device=model.device, trust_remote_code=False)
        model.head = SklearnStanceModel.load(directory / HEAD_DIR)
        return model


def setfit(pretrained: str | None = None, device: str = "auto", **hyperparameters: Any) -> SetFitStanceModel:
    """SetFit on all-MiniLM-L6-v2, from the HF cache or else the packaged copy (works offline)."""
    return SetFitStanceModel(resolve_pretrained(pretrained, MINILM_HUB_ID, packaged=True), device, **hyperparameters)
