"""Guards for written training text: no echo of the real seed passages, no near-copies inside the corpus."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

WORD = re.compile(r"[a-z0-9]+")


def word_ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    words = WORD.findall(text.lower().replace("’", "'"))
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def shared_ngrams(texts: Sequence[str], reference: Sequence[str], n: int = 8) -> list[tuple[int, str]]:
    """(index in `texts`, n-gram) for every word n-gram a text shares with any reference text."""
    reference_grams = set().union(*(word_ngrams(t, n) for t in reference))
    return [(i, " ".join(gram)) for i, text in enumerate(texts) for gram in sorted(word_ngrams(text, n) & reference_grams)]


def near_duplicates(texts: Sequence[str], threshold: float = 0.6, shared_words: int = 10) -> list[tuple[int, int, str]]:
    """Pairs (i, j, why) of texts that are near-copies: TF-IDF cosine >= threshold, or a shared run of words.

    Cosine on word uni+bigrams catches rewordings of a whole passage; the shared run catches one
    sentence (often a quote) copied into otherwise different passages.
    """
    vectors = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform(texts)
    similarity = np.triu(cosine_similarity(vectors), k=1)
    pairs = {(int(i), int(j)): f"cosine {similarity[i, j]:.2f}" for i, j in zip(*np.nonzero(similarity >= threshold))}
    first_seen: dict[tuple[str, ...], int] = {}
    for j, text in enumerate(texts):
        for gram in sorted(word_ngrams(text, shared_words)):
            i = first_seen.setdefault(gram, j)
            if i != j:
                pairs.setdefault((i, j), f"share {' '.join(gram)!r}")
    return [(i, j, why) for (i, j), why in sorted(pairs.items())]
