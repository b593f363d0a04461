"""What a prediction run found, in numbers and as a picture: stance counts per topic, over time when dated."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from stance.outputs import MIXED
from stance.schema import STANCES, TOPICS


@dataclass
class Totals:
    articles: int = 0
    passages: int = 0
    # (topic, stance) -> passages; (topic, stance or mixed) -> articles; date -> (topic, stance) -> passages
    passage_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    article_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    by_date: pd.DataFrame | None = None

    @classmethod
    def from_frames(cls, article_frames: Iterable[pd.DataFrame]) -> "Totals":
        """Accumulated over article tables one at a time, so a run of any size is summed in little memory."""
        totals = cls()
        dated = []
        count_columns = [f"{topic}_{stance}" for topic in TOPICS for stance in STANCES]
        for frame in article_frames:
            totals.articles += len(frame)
            totals.passages += int(frame["passages"].sum())
            for topic in TOPICS:
                for stance in STANCES:
                    key = (topic, stance)
                    count = int(frame[f"{topic}_{stance}"].sum())
                    totals.passage_counts[key] = totals.passage_counts.get(key, 0) + count
                for stance in (*STANCES, MIXED):
                    key = (topic, stance)
                    totals.article_counts[key] = totals.article_counts.get(key, 0) + int((frame[topic] == stance).sum())
            with_date = frame.dropna(subset=["date"])
            if len(with_date):
                dated.append(with_date.groupby("date")[count_columns].sum())
        if dated:
            totals.by_date = pd.concat(dated).groupby(level=0).sum()
        return totals

    def table(self) -> pd.DataFrame:
        """Per topic: passages for and against, and articles for, against and mixed."""
        rows = {topic: {**{f"passages {s}": self.passage_counts.get((topic, s), 0) for s in STANCES},
                        **{f"articles {s}": self.article_counts.get((topic, s), 0) for s in (*STANCES, MIXED)}}
                for topic in TOPICS}
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("topic")


def save_plot(totals: Totals, path: Path) -> None:
    """Support and reject passages per topic: one bar pair per topic, or per month and topic when dates are known."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from stance.io import atomic_write

    dates = None
    if totals.by_date is not None:
        by_date = totals.by_date.copy()
        by_date.index = pd.to_datetime(by_date.index, errors="coerce")
        by_date = by_date[by_date.index.notna()]
        if len(by_date):
            dates = by_date.groupby(by_date.index.to_period("M")).sum()
            dates = dates.reindex(pd.period_range(dates.index.min(), dates.index.max(), freq="M"), fill_value=0)
    if dates is None:
        figure, axes = plt.subplots(figsize=(7, 3.8))
        width = 0.4
        for offset, stance in enumerate(STANCES):
            heights = [totals.passage_counts.get((topic, stance), 0) for topic in TOPICS]
            axes.bar([i + offset * width for i in range(len(TOPICS))], heights, width, label=stance)
        axes.set_xticks([i + width / 2 for i in range(len(TOPICS))], [t.replace("_", "\n") for t in TOPICS])
        axes.set_ylabel("passages")
        axes.legend()
        axes.set_title(f"Stance of {totals.passages} passages in {totals.articles} articles")
    else:
        figure, grid = plt.subplots(2, 2, figsize=(11, 6.5), sharex=True, squeeze=False)
        labels = [str(period) for period in dates.index]
        for axes, topic in zip(grid.flat, TOPICS):
            for offset, stance in enumerate(STANCES):
                axes.bar([i + offset * 0.4 for i in range(len(labels))], dates[f"{topic}_{stance}"], 0.4, label=stance)
            axes.set_title(topic)
            axes.set_xticks([i + 0.2 for i in range(len(labels))], labels, rotation=45, ha="right")
            axes.set_ylabel("passages")
            axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        grid[0][0].legend()
        figure.suptitle(f"Stance per month ({totals.passages} passages in {totals.articles} articles; undated "
                        "articles not shown)")
    figure.tight_layout()
    with atomic_write(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=110)
    plt.close(figure)
