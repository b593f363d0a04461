"""runtime=onnx computes what the torch model computes (int8: nearly), from a cached export."""

from pathlib import Path

import numpy as np
import pytest

from conftest import read

from stance.models.transformer import TransformerStanceModel
from stance.batch.engine import load_predictor
from stance.batch.run import run

TEXTS = ["NATO must close the sky over Ukraine now.", "Hungary blocked the sanctions package.",
         "Poland offered its MiG-29 jets to Kyiv, a move Washington refused to back. " * 3, "Sanctions."]


@pytest.fixture(scope="module")
def tiny_model_dir(tiny_encoder, tmp_path_factory) -> Path:
    """A saved transformer stance model with a random head on the tiny encoder: no training needed."""
    from transformers import AutoModel, AutoTokenizer, set_seed

    from stance.models.transformer import StanceNetwork

    set_seed(0)
    model = TransformerStanceModel(tiny_encoder, predict_batch_size=2)
    model.tokenizer = AutoTokenizer.from_pretrained(tiny_encoder)
    model.network = StanceNetwork(AutoModel.from_pretrained(tiny_encoder), dropout=0.1).eval()
    folder = tmp_path_factory.mktemp("tiny-stance") / "model"
    model.save(folder)
    return folder


def test_onnx_matches_torch_and_reuses_its_export(tiny_model_dir, tmp_path):
    torch_proba = load_predictor(tiny_model_dir, "torch").predict_proba(TEXTS)
    onnx_model = load_predictor(tiny_model_dir, "onnx", cache_dir=tmp_path, threads=1)
    np.testing.assert_allclose(onnx_model.predict_proba(TEXTS), torch_proba, atol=1e-5)
    exported = onnx_model.path.stat().st_mtime_ns
    again = load_predictor(tiny_model_dir, "onnx", cache_dir=tmp_path, threads=1)
    assert again.path == onnx_model.path and again.path.stat().st_mtime_ns == exported


def test_int8_stays_close_to_torch(tiny_model_dir, tmp_path):
    torch_proba = load_predictor(tiny_model_dir, "torch").predict_proba(TEXTS)
    int8 = load_predictor(tiny_model_dir, "onnx", quantize=True, cache_dir=tmp_path, threads=1)
    assert int8.path.name.endswith(".int8.onnx")
    proba = int8.predict_proba(TEXTS)
    np.testing.assert_allclose(proba.sum(axis=-1), 1.0)
    assert np.abs(proba - torch_proba).max() < 0.05


def test_an_ensemble_runs_its_transformer_member_on_onnx(tiny_model_dir, tfidf_dir, tmp_path):
    from stance.models import load_model
    from stance.models.ensemble import Ensemble

    folder = tmp_path / "ensemble"
    Ensemble({"tfidf": load_model(tfidf_dir), "minilm": load_model(tiny_model_dir)}, {"tfidf": 1, "minilm": 3},
             fit_weights=False).save(folder)
    torch_proba = load_predictor(folder, "torch").predict_proba(TEXTS)
    on_onnx = load_predictor(folder, "onnx", cache_dir=tmp_path / "cache", threads=1)
    assert type(on_onnx.members["minilm"]).__name__ == "OnnxStanceModel"
    assert type(on_onnx.members["tfidf"]).__name__ == "SklearnStanceModel"
    np.testing.assert_allclose(on_onnx.predict_proba(TEXTS), torch_proba, atol=1e-5)


def test_onnx_refuses_non_transformers_and_quantize_needs_onnx(tiny_model_dir, tfidf_dir, tmp_path):
    with pytest.raises(ValueError, match="runtime=onnx needs a transformer model"):
        load_predictor(tfidf_dir, "onnx", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="quantize=true needs runtime=onnx"):
        load_predictor(tiny_model_dir, "torch", quantize=True)


def test_predict_with_runtime_onnx_int8_writes_what_torch_writes(tiny_model_dir, compose_predict, tmp_path):
    (tmp_path / "in").mkdir()
    for i, text in enumerate(TEXTS):
        (tmp_path / "in" / f"a{i}.txt").write_text(text)
    common = [f"model={tiny_model_dir}", f"input={tmp_path}/in", f"onnx_cache={tmp_path}/cache"]
    with_torch = read(run(compose_predict(*common, f"output={tmp_path}/torch/p.jsonl")).paths.passages)
    with_onnx = read(run(compose_predict(*common, f"output={tmp_path}/onnx/p.jsonl", "runtime=onnx",
                                         "quantize=true")).paths.passages)
    assert with_onnx["id"].tolist() == with_torch["id"].tolist()
    columns = [c for c in with_torch.columns if "_p_" in c]
    assert (with_onnx[columns] - with_torch[columns]).abs().to_numpy().max() < 0.05
