"""What a prediction run found, in numbers and as a picture: stance counts per topic, over time when dated."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from stance.batch.articles import MIXED
from stance.corpus.schema import STANCES, TOPICS

BAR_WIDTH = 0.4  # a support and a reject bar side by side per tick
MAX_MONTHS = 36  # the widest date axis that stays readable; a stray date from 1900 must not set the axis


@dataclass
class Totals:
    articles: int = 0
    passages: int = 0
    # (topic, stance) -> passages; (topic, stance or mixed) -> articles; date -> (topic, stance) -> passages
    passage_counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    article_counts: Counter[tuple[str, str]] = field(default_factory=Counter)
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
                    totals.passage_counts[topic, stance] += int(frame[f"{topic}_{stance}"].sum())
                for stance in (*STANCES, MIXED):
                    totals.article_counts[topic, stance] += int((frame[topic] == stance).sum())
            with_date = frame.dropna(subset=["date"])
            if len(with_date):
                dated.append(with_date.groupby("date")[count_columns].sum())
        if dated:
            totals.by_date = pd.concat(dated).groupby(level=0).sum()
        return totals

    def table(self) -> pd.DataFrame:
        """Per topic: passages for and against, and articles for, against and mixed."""
        rows = {topic: {**{f"passages {s}": self.passage_counts[topic, s] for s in STANCES},
                        **{f"articles {s}": self.article_counts[topic, s] for s in (*STANCES, MIXED)}}
                for topic in TOPICS}
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("topic")


def monthly(by_date: pd.DataFrame, max_months: int = MAX_MONTHS) -> tuple[pd.DataFrame | None, int]:
    """Counts per month over the run of at most `max_months` consecutive months that holds the most passages,
    and how many counted passages fall outside it (None when no date parses)."""
    stamps = pd.to_datetime(pd.Series(by_date.index, index=by_date.index), errors="coerce", format="mixed")
    dated = by_date[stamps.notna().to_numpy()]
    if not len(dated):
        return None, 0
    months = dated.groupby(stamps.dropna().dt.to_period("M").to_numpy()).sum()
    ordinal = [period.ordinal for period in months.index]
    weight = months.sum(axis=1).to_numpy()
    best, best_start, start, window = -1, 0, 0, 0
    for end in range(len(ordinal)):  # sliding window over the sorted months that have data
        window += weight[end]
        while ordinal[end] - ordinal[start] >= max_months:
            window -= weight[start]
            start += 1
        if window > best:
            best, best_start, best_end = window, start, end
    kept = months.iloc[best_start:best_end + 1]
    kept = kept.reindex(pd.period_range(kept.index[0], kept.index[-1], freq="M"), fill_value=0)
    return kept, int(weight.sum() - kept.to_numpy().sum())


def save_plot(totals: Totals, path: Path) -> None:
    """Support and reject passages per topic: one bar pair per topic, or per month and topic when dates are known."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from stance.files import atomic_write

    dates, hidden = monthly(totals.by_date) if totals.by_date is not None else (None, 0)
    if dates is None:
        figure = Figure(figsize=(7, 3.8))
        axes = figure.subplots()
        for offset, stance in enumerate(STANCES):
            heights = [totals.passage_counts[topic, stance] for topic in TOPICS]
            axes.bar([i + offset * BAR_WIDTH for i in range(len(TOPICS))], heights, BAR_WIDTH, label=stance)
        axes.set_xticks([i + BAR_WIDTH / 2 for i in range(len(TOPICS))], [t.replace("_", "\n") for t in TOPICS])
        axes.set_ylabel("passages")
        axes.legend()
        axes.set_title(f"Stance of {totals.passages} passages in {totals.articles} articles")
    else:
        figure = Figure(figsize=(11, 6.5))
        grid = figure.subplots(2, 2, sharex=True, squeeze=False)
        labels = [str(period) for period in dates.index]
        for axes, topic in zip(grid.flat, TOPICS):
            for offset, stance in enumerate(STANCES):
                axes.bar([i + offset * BAR_WIDTH for i in range(len(labels))], dates[f"{topic}_{stance}"], BAR_WIDTH,
                         label=stance)
            axes.set_title(topic)
            axes.set_xticks([i + BAR_WIDTH / 2 for i in range(len(labels))], labels, rotation=45, ha="right")
            axes.set_ylabel("passages")
            axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        grid[0][0].legend()
        outside = f"; {hidden} dated passages outside these months" if hidden else ""
        figure.suptitle(f"Stance per month ({totals.passages} passages in {totals.articles} articles; undated "
                        f"articles not shown{outside})")
    figure.tight_layout()
    with atomic_write(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=110)
