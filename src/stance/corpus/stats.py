"""Counts of a labeled corpus per source and topic x stance, as the Markdown table the dataset card quotes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from stance.corpus.schema import STANCES, TOPICS

TOTAL = "all"


def label_counts(records: Iterable[dict]) -> dict[str, Counter]:
    """Per source (and `all`): passages, articles, passages with no topic / 2+ topics, and topic:stance."""
    counts: dict[str, Counter] = {}
    articles: dict[str, set] = {}
    for record in records:
        for group in (record["source"], TOTAL):
            counter = counts.setdefault(group, Counter())
            articles.setdefault(group, set()).add(record["doc_id"])
            counter["passages"] += 1
            counter["no topic"] += not record["labels"]
            counter["2+ topics"] += len(record["labels"]) >= 2
            for topic, stance in record["labels"].items():
                counter[f"{topic}:{stance}"] += 1
    for group, counter in counts.items():
        counter["articles"] = len(articles[group])
    return counts


def markdown_table(counts: dict[str, Counter]) -> str:
    columns = ["passages", "articles", "no topic", "2+ topics", *(f"{t}:{s}" for t in TOPICS for s in STANCES)]
    groups = sorted(g for g in counts if g != TOTAL) + [TOTAL]
    lines = ["| source | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    lines += [f"| {group} | " + " | ".join(str(counts[group][c]) for c in columns) + " |" for group in groups]
    return "\n".join(lines)


def shortfalls(counts: Counter, minimum: int, topics: Sequence[str] = TOPICS) -> list[str]:
    """topic:stance cells of one group below `minimum` passages."""
    return [f"{t}:{s}" for t in topics for s in STANCES if counts[f"{t}:{s}"] < minimum]
