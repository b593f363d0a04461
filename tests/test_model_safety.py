"""A saved model folder may come from anyone: loading it must never run code it carries."""

import builtins
import json

import numpy as np
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from stance.models.base import UnsafeModelError, load_model
from stance.models.baselines import WEIGHTS_FILE, SklearnStanceModel


def exec_pipeline(code: str):
    """The issue's payload: every text becomes `code` (numpy.full_like), min() picks one, exec() runs it."""
    return make_pipeline(FunctionTransformer(np.full_like, kw_args={"fill_value": code, "dtype": object}),
                         FunctionTransformer(builtins.min), FunctionTransformer(builtins.exec))


def test_skops_file_with_a_code_running_type_is_refused_before_anything_runs(tmp_path, tfidf_dir):
    marker = tmp_path / "pwned"
    payload = exec_pipeline(f"open({str(marker)!r}, 'w').write('ran')")
    payload.transform(np.array(["any text"], dtype=object))  # the payload is real: trusted, it runs
    assert marker.exists()
    marker.unlink()

    folder = tmp_path / "model"
    SklearnStanceModel(payload, LogisticRegression()).save(folder)  # a valid manifest, a hostile skops file
    with pytest.raises(UnsafeModelError, match=r"sklearn_model\.skops: refusing to load.*builtins\.exec") as info:
        load_model(folder).predict(["NATO must close the sky over Ukraine now."])
    assert "\n" not in str(info.value)
    assert "numpy.full_like" in str(info.value)
    assert not marker.exists()


def test_project_models_load_with_the_minimal_trust_list(tmp_path):
    """The calibrated SVM is the one family whose skops file holds types beyond skops' defaults."""
    from conftest import TOY_PASSAGES

    from stance.corpus.schema import TOPICS, VALUES
    from stance.models.baselines import TRUSTED_TYPES, tfidf_svm

    texts = [text for text, _ in TOY_PASSAGES] * 3
    labels = np.array([[VALUES.index(labels.get(t, "absent")) for t in TOPICS] for _, labels in TOY_PASSAGES] * 3)
    model = tfidf_svm().fit(texts, labels)
    model.save(tmp_path / "svm")
    assert set(sio.get_untrusted_types(file=tmp_path / "svm" / WEIGHTS_FILE)) <= TRUSTED_TYPES
    assert load_model(tmp_path / "svm").predict(texts).tolist() == model.predict(texts).tolist()


def test_truncated_skops_file_is_one_clear_error(tmp_path, tfidf_dir):
    folder = tmp_path / "model"
    folder.mkdir()
    for item in tfidf_dir.iterdir():
        (folder / item.name).write_bytes(item.read_bytes()[:100])
    (folder / "stance_model.json").write_bytes((tfidf_dir / "stance_model.json").read_bytes())
    with pytest.raises(UnsafeModelError, match="sklearn_model.skops: not a readable skops file"):
        load_model(folder)


@pytest.mark.parametrize("member", [".", "..", "../model", "/etc", "a/b", "", "..\\\\x"])
def test_ensemble_members_are_plain_subfolder_names(tmp_path, tfidf_dir, member):
    folder = tmp_path / "ensemble"
    folder.mkdir()
    (folder / "stance_model.json").write_text(json.dumps({"class": "stance.models.ensemble.Ensemble"}))
    (folder / "ensemble.json").write_text(json.dumps({"weights": {member: 1.0}}))
    with pytest.raises(UnsafeModelError, match=r"ensemble\.json: member .* is not a plain subfolder name"):
        load_model(folder)


def test_ensemble_member_linking_outside_is_refused_and_a_plain_one_loads(tmp_path, tfidf_dir):
    folder = tmp_path / "ensemble"
    folder.mkdir()
    (folder / "stance_model.json").write_text(json.dumps({"class": "stance.models.ensemble.Ensemble"}))
    (folder / "ensemble.json").write_text(json.dumps({"weights": {"inside": 1.0, "outside": 1.0}}))
    (folder / "inside").mkdir()
    for item in tfidf_dir.iterdir():
        (folder / "inside" / item.name).write_bytes(item.read_bytes())
    (folder / "outside").symlink_to(tfidf_dir)
    with pytest.raises(UnsafeModelError, match="member 'outside' links outside the model folder"):
        load_model(folder)
    (folder / "ensemble.json").write_text(json.dumps({"weights": {"inside": 1.0}}))
    assert load_model(folder).predict(["Hungary blocked the sanctions package."]).shape == (1, 4)
