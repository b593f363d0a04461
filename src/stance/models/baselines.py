"""TF-IDF baselines: one shared word + character n-gram vectorizer, one 3-way classifier per topic."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.base import ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.dummy import DummyClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from stance.models.base import StanceModel, UnsafeModelError
from stance.corpus.schema import TOPICS, VALUES

WEIGHTS_FILE = "sklearn_model.skops"
# The only types beyond skops' own safe defaults that the project's models contain (the calibrated SVM's
# internals; found with skops.io.get_untrusted_types on saved tfidf_logreg, tfidf_svm and SetFit heads).
# Exact names, never prefixes: `builtins.exec` or `numpy.full_like` in a FunctionTransformer would run code.
TRUSTED_TYPES = frozenset({"sklearn.calibration._CalibratedClassifier", "sklearn.calibration._SigmoidCalibration"})


class SklearnStanceModel(StanceModel):
    family = "sklearn"
    runtime_packages = (*StanceModel.runtime_packages, "scipy", "scikit-learn", "skops")

    def __init__(self, vectorizer: FeatureUnion, classifier: ClassifierMixin) -> None:
        super().__init__()
        self.vectorizer = vectorizer
        self.classifier = classifier
        self.per_topic: dict[str, ClassifierMixin] = {}

    def fit(self, texts: Sequence[str], labels: np.ndarray, groups: Sequence[str] | None = None) -> "SklearnStanceModel":
        features = self.vectorizer.fit_transform(texts)
        for column, topic in enumerate(TOPICS):
            self.per_topic[topic] = self._fit_topic(features, labels[:, column])
        return self

    def _fit_topic(self, features, y: np.ndarray) -> ClassifierMixin:
        counts = np.bincount(y)
        counts = counts[counts > 0]
        if counts.size < 2:  # a small training set can lack a topic entirely
            return DummyClassifier(strategy="prior").fit(features, y)
        estimator = clone(self.classifier)
        if isinstance(estimator, CalibratedClassifierCV):
            if counts.min() < 2:  # too rare for calibration folds: calibrate on the training set
                fitted = clone(estimator.estimator).fit(features, y)
                estimator = CalibratedClassifierCV(FrozenEstimator(fitted), method=estimator.method)
            else:  # each calibration fold needs every class
                estimator.set_params(cv=int(min(estimator.cv, counts.min())))
        return estimator.fit(features, y)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        features = self.vectorizer.transform(texts)
        proba = np.zeros((len(texts), len(TOPICS), len(VALUES)))
        for column, topic in enumerate(TOPICS):
            estimator = self.per_topic[topic]
            proba[:, column, estimator.classes_] = estimator.predict_proba(features)
        return proba

    def _save(self, directory: Path) -> None:
        import skops.io as sio  # only where models are saved or loaded: fitting and scoring need no skops

        sio.dump({"vectorizer": self.vectorizer, "classifier": self.classifier, "per_topic": self.per_topic},
                 directory / WEIGHTS_FILE)

    @classmethod
    def load(cls, directory: Path, device: str = "auto") -> "SklearnStanceModel":
        """scikit-learn runs on the CPU whatever `device` says."""
        path = directory / WEIGHTS_FILE
        import skops.io as sio

        try:
            untrusted = sio.get_untrusted_types(file=path)
        except Exception as err:  # a truncated or foreign file: skops raises whatever its parser hits
            raise UnsafeModelError(f"{path}: not a readable skops file ({type(err).__name__}: {err})") from None
        unexpected = sorted(set(untrusted) - TRUSTED_TYPES)
        if unexpected:
            raise UnsafeModelError(f"{path}: refusing to load, it contains types a stance model never holds "
                                   f"(any could run code): {', '.join(unexpected)}")
        state = sio.load(path, trusted=untrusted)
        model = cls(state["vectorizer"], state["classifier"])
        model.per_topic = state["per_topic"]
        return model


def tfidf_features(word_ngrams: Sequence[int] = (1, 2), char_ngrams: Sequence[int] = (2, 5),
                   min_df: int = 1, sublinear_tf: bool = True) -> FeatureUnion:
    """Word n-grams for phrasing, character n-grams for spelling variants (MiG-29s, Zelenskyy/Zelensky)."""
    return FeatureUnion([
        ("word", TfidfVectorizer(ngram_range=tuple(word_ngrams), min_df=min_df, sublinear_tf=sublinear_tf,
                                 lowercase=True, strip_accents="unicode")),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(char_ngrams), min_df=min_df,
                                 sublinear_tf=sublinear_tf, lowercase=True)),
    ])


def tfidf_logreg(C: float = 4.0, word_ngrams: Sequence[int] = (1, 2), char_ngrams: Sequence[int] = (2, 5),
                 min_df: int = 1, class_weight: str | None = "balanced", max_iter: int = 2000) -> SklearnStanceModel:
    classifier = LogisticRegression(C=C, class_weight=class_weight, max_iter=max_iter)
    return SklearnStanceModel(tfidf_features(word_ngrams, char_ngrams, min_df), classifier)


def tfidf_svm(C: float = 0.5, word_ngrams: Sequence[int] = (1, 2), char_ngrams: Sequence[int] = (2, 5),
              min_df: int = 1, class_weight: str | None = "balanced", calibration_folds: int = 3) -> SklearnStanceModel:
    """Linear SVM with sigmoid calibration, so it yields probabilities like every other model."""
    classifier = CalibratedClassifierCV(LinearSVC(C=C, class_weight=class_weight), cv=calibration_folds,
                                        method="sigmoid")
    return SklearnStanceModel(tfidf_features(word_ngrams, char_ngrams, min_df), classifier)
