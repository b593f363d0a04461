"""The article verdict: per topic, what a whole article says, from the stances of its passages.

For each topic, sum the confidence (the predicted class's probability) of the passages predicted `support`
(S) and of those predicted `reject` (R). No such passage: absent. Otherwise the article takes a side when that
side's sum is at least twice the other's, and is `mixed` when neither is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stance.corpus.schema import ABSENT, STANCES, TOPICS
from stance.models.columns import probability_column

MIXED = "mixed"
# An article takes a side when that side's summed confidence is at least this many times the other's.
MAJORITY_RATIO = 2.0
ARTICLE_META = ("doc_id", "file", "date", "source")
COUNT_COLUMNS = tuple(f"{topic}_{stance}" for topic in TOPICS for stance in STANCES)


def article_stance(support: np.ndarray, reject: np.ndarray) -> np.ndarray:
    """The README's rule on summed confidences: absent, one side, or `mixed` when neither side is twice the other."""
    stance = np.full(support.shape, MIXED, dtype=object)
    stance[support >= MAJORITY_RATIO * reject] = STANCES[0]
    stance[reject >= MAJORITY_RATIO * support] = STANCES[1]
    stance[(support == 0) & (reject == 0)] = ABSENT
    return stance


def article_frame(passages: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    """Per article (in `meta`'s order): metadata, passage count, per topic the stance and the support/reject counts."""
    grouped = passages.groupby("doc_id", sort=False)
    table = meta.loc[:, list(ARTICLE_META)].set_index("doc_id", drop=False)
    table["passages"] = grouped.size().reindex(table.index).astype(np.int64)
    for topic in TOPICS:
        columns = {}
        for stance in STANCES:
            chosen = passages[topic] == stance
            columns[f"{stance}_n"] = chosen
            columns[f"{stance}_p"] = passages[probability_column(topic, stance)].where(chosen, 0.0)
        sums = pd.DataFrame(columns).groupby(passages["doc_id"], sort=False).sum().reindex(table.index)
        table[topic] = article_stance(sums[f"{STANCES[0]}_p"].to_numpy(), sums[f"{STANCES[1]}_p"].to_numpy())
        for stance in STANCES:
            table[f"{topic}_{stance}"] = sums[f"{stance}_n"].astype(np.int64)
    return table.reset_index(drop=True).loc[:, [*ARTICLE_META, "passages", *TOPICS, *COUNT_COLUMNS]]
