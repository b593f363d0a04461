"""Inter-annotator agreement: per topic Cohen's kappa over absent/support/reject and the spec's F_avg."""

from __future__ import annotations

from collections.abc import Sequence

from sklearn.metrics import cohen_kappa_score

from stance.metrics import topic_scores
from stance.corpus.schema import ABSENT, TOPICS


def agreement(first: Sequence[dict], second: Sequence[dict]) -> dict:
    """Compare two annotations of the same passages (matched by id); `first` plays gold for F_avg."""
    second_by_id = {r["id"]: r for r in second}
    shared = [r for r in first if r["id"] in second_by_id]
    if not shared:
        raise ValueError("the two annotations share no passage id")
    per_topic = {}
    for topic in TOPICS:
        a = [r["labels"].get(topic, ABSENT) for r in shared]
        b = [second_by_id[r["id"]]["labels"].get(topic, ABSENT) for r in shared]
        # kappa is undefined when both annotators use a single value throughout; they then agree fully
        kappa = cohen_kappa_score(a, b) if len(set(a) | set(b)) > 1 else 1.0
        per_topic[topic] = {"kappa": float(kappa), "f_avg": topic_scores(a, b)["f_avg"],
                            "agree": sum(x == y for x, y in zip(a, b)) / len(shared)}
    disagreements = [
        {"id": r["id"], "topic": topic, "first": r["labels"].get(topic, ABSENT),
         "second": second_by_id[r["id"]]["labels"].get(topic, ABSENT)}
        for r in shared for topic in TOPICS
        if r["labels"].get(topic, ABSENT) != second_by_id[r["id"]]["labels"].get(topic, ABSENT)
    ]
    return {"passages": len(shared), "only_first": len(first) - len(shared),
            "only_second": len(second_by_id) - len(shared), "topics": per_topic, "disagreements": disagreements}


def markdown_table(result: dict) -> str:
    lines = ["| topic | Cohen's kappa | F_avg (second vs first) | raw agreement |", "|---|---|---|---|"]
    for topic, scores in result["topics"].items():
        lines.append(f"| {topic} | {scores['kappa']:.3f} | {scores['f_avg']:.3f} | {scores['agree']:.3f} |")
    topics = result["topics"].values()
    lines.append(f"| mean | {sum(s['kappa'] for s in topics) / len(topics):.3f} | "
                 f"{sum(s['f_avg'] for s in topics) / len(topics):.3f} | "
                 f"{sum(s['agree'] for s in topics) / len(topics):.3f} |")
    return "\n".join(lines)
