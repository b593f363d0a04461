"""engine=local: read, chunk and classify in this process, in input order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from stance.batch.engine import ArticleFilter, Chunk, Predictor, classify, in_chunks
from stance.corpus.readers import InputArticle, InputError, read_articles


def _kept_articles(files: Iterable[Path], keep: ArticleFilter) -> Iterator[InputArticle | InputError]:
    for path in files:
        for item in read_articles(path):
            verdict = item if isinstance(item, InputError) else keep.check(item.doc_id, item.file)
            if isinstance(verdict, InputError):
                yield verdict
            elif verdict:
                yield item


def classify_locally(files: Iterable[Path], predictor: Predictor, keep: ArticleFilter,
                     chunk_passages: int) -> Iterator[InputError | Chunk]:
    """Chunks of whole articles, classified in this process, in input order; errors as they are met."""
    for chunk in in_chunks(_kept_articles(files, keep), lambda article: len(article.passages), chunk_passages):
        yield chunk if isinstance(chunk, InputError) else classify(chunk, predictor)
