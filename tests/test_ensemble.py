"""The ensemble: weights fitted per topic on out-of-fold probabilities, saved and loaded, members kept inside."""

import json

import numpy as np
import pytest

from stance.corpus.schema import TOPICS
from stance.models import load_model
from stance.models.base import StanceModel, UnsafeModelError
from stance.models.baselines import tfidf_logreg
from stance.models.ensemble import Ensemble, combine, fit_topic_weights, per_topic


class Constant(StanceModel):
    """A member that always gives the same probabilities, whatever it was trained on."""

    family = "constant"

    def __init__(self, proba: list[float]) -> None:
        super().__init__()
        self.proba = np.asarray(proba)
        self.fits = 0

    def fit(self, texts, labels, groups=None):
        self.fits += 1
        return self

    def predict_proba(self, texts):
        return np.tile(self.proba, (len(texts), len(TOPICS), 1))

    def _save(self, directory):
        raise NotImplementedError

    @classmethod
    def load(cls, directory, device="auto"):
        raise NotImplementedError


def test_fitted_weights_favour_the_member_that_is_right_on_held_out_passages():
    gold = np.array([[1, 0, 0, 2], [2, 0, 0, 1], [0, 0, 0, 0], [1, 0, 0, 2]])
    right = np.eye(3)[gold]  # one-hot on the gold value for every topic
    wrong = np.eye(3)[(gold + 1) % 3]
    weights = fit_topic_weights({"right": right, "wrong": wrong}, gold, step=0.1)
    for topic in ("no_fly_zone", "sanctions"):
        assert weights[topic]["right"] > weights[topic]["wrong"]
    assert np.array_equal(combine({"right": right, "wrong": wrong}, weights).argmax(-1), gold)


def test_a_topic_the_members_agree_on_keeps_even_weights():
    gold = np.zeros((4, len(TOPICS)), dtype=int)
    same = np.eye(3)[gold]
    assert fit_topic_weights({"a": same, "b": same}, gold, step=0.1)["jet_transfer"] == {"a": 0.5, "b": 0.5}


def test_fit_refits_only_the_listed_families_and_the_rest_keep_their_share_fit(toy_corpus):
    texts, labels, groups = toy_corpus
    slow = Constant([0.6, 0.3, 0.1])
    ensemble = Ensemble({"tfidf": tfidf_logreg(min_df=1), "slow": slow}, refit=("sklearn",), seed=0)
    ensemble.fit(texts, labels, groups)
    assert slow.fits == 1  # trained once, on the share: no second fine-tuning
    assert set(ensemble.weights) == set(TOPICS)
    assert all(abs(sum(w.values()) - 1) < 1e-9 for w in ensemble.weights.values())


class HoldsOut(Constant):
    """A member that, like a transformer choosing its epoch, holds out the last article of those it is given."""

    family = "holds_out"

    def fit(self, texts, labels, groups=None):
        self.fitted_on = len(texts)
        return super().fit(texts, labels, groups)

    def validation_split(self, groups):
        groups = np.asarray(groups)
        held = groups == sorted(set(groups))[-1]
        return np.flatnonzero(~held), np.flatnonzero(held)


class Refitted(Constant):
    """A refitted-family member that notes, in a list shared by its deep copies, the articles of each fit."""

    family = "sklearn"

    def __init__(self, proba, fitted_articles: list) -> None:
        super().__init__(proba)
        self.fitted_articles = fitted_articles

    def __deepcopy__(self, memo):
        return Refitted(self.proba, self.fitted_articles)

    def fit(self, texts, labels, groups=None):
        self.fitted_articles.append(set(groups))
        return super().fit(texts, labels, groups)


def test_a_member_with_its_own_hold_out_is_fitted_once_on_everything_and_sets_the_weight_split(toy_corpus):
    texts, labels, groups = toy_corpus
    own, fitted_articles = HoldsOut([0.6, 0.3, 0.1]), []
    members = {"fast": Refitted([0.2, 0.5, 0.3], fitted_articles), "own": own}
    Ensemble(members, refit=("sklearn",), holdout_fraction=0.5, seed=0).fit(texts, labels, groups)
    assert own.fits == 1 and own.fitted_on == len(texts)
    held = sorted(set(groups))[-1]
    assert fitted_articles == [set(groups) - {held}, set(groups)]  # scored on the member's hold-out, then refitted


def test_saved_ensemble_reloads_with_its_per_topic_weights(tmp_path, toy_corpus):
    texts, labels, groups = toy_corpus
    ensemble = Ensemble({"a": tfidf_logreg(C=1.0), "b": tfidf_logreg(C=8.0)}).fit(texts, labels, groups)
    ensemble.save(tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    assert loaded.weights == ensemble.weights
    np.testing.assert_allclose(loaded.predict_proba(texts[:5]), ensemble.predict_proba(texts[:5]))


def test_equal_weights_from_one_weight_per_member_or_none():
    assert per_topic(None, ["a", "b"])["sanctions"] == {"a": 0.5, "b": 0.5}
    assert per_topic({"a": 3, "b": 1}, ["a", "b"])["no_fly_zone"] == {"a": 0.75, "b": 0.25}


@pytest.mark.parametrize("member", [".", "..", "/tmp/elsewhere", "sub/dir", ""])
def test_a_member_outside_the_model_folder_is_refused(tmp_path, member):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "stance_model.json").write_text(json.dumps({"class": "stance.models.ensemble.Ensemble"}))
    (folder / "ensemble.json").write_text(json.dumps({"weights": {member: 1.0}}))
    with pytest.raises(UnsafeModelError, match="not a plain subfolder name"):
        load_model(folder)


@pytest.fixture
def toy_corpus():
    from conftest import TOY_PASSAGES
    from stance.corpus.schema import ABSENT, VALUES

    texts, labels, groups = [], [], []
    for doc in range(20):
        for index in range(4):
            text, tags = TOY_PASSAGES[(doc * 4 + index) % len(TOY_PASSAGES)]
            texts.append(f"{text} (article {doc})")
            labels.append([VALUES.index(tags.get(topic, ABSENT)) for topic in TOPICS])
            groups.append(f"d{doc}")
    return texts, np.array(labels), groups
