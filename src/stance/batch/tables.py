"""Prediction tables: their columns, the output files beside the passages file, and writing them as
JSON Lines, CSV or Parquet (by extension)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from stance.batch.articles import ARTICLE_META, COUNT_COLUMNS
from stance.corpus.schema import TOPICS, VALUES
from stance.errors import UserError
from stance.files import atomic_write
from stance.models.columns import probability_column, proba_to_frame

FORMATS = {".jsonl": "jsonl", ".csv": "csv", ".parquet": "parquet"}

PASSAGE_SCHEMA = pa.schema(
    [("id", pa.string()), ("doc_id", pa.string()), ("index", pa.int64()), ("text", pa.string())]
    + [(topic, pa.string()) for topic in TOPICS]
    + [(probability_column(topic, value), pa.float64()) for topic in TOPICS for value in VALUES])
ARTICLE_SCHEMA = pa.schema(
    [(name, pa.string()) for name in ARTICLE_META] + [("passages", pa.int64())]
    + [(topic, pa.string()) for topic in TOPICS] + [(name, pa.int64()) for name in COUNT_COLUMNS])


class OutputError(UserError):
    """An output path or a resume request that cannot work; raised before any classification."""

    hint = "output= names a .jsonl, .csv or .parquet file outside the input folders"


def table_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise OutputError(f"{path}: unsupported output format {suffix or '(none)'!r}; "
                          f"use one of {', '.join(FORMATS)}")
    return FORMATS[suffix]


@dataclass(frozen=True)
class OutputPaths:
    passages: Path
    articles: Path
    errors: Path
    plot: Path

    @property
    def lock(self) -> Path:
        """Held while a run writes these outputs: two runs on one output would destroy each other's parts."""
        return self.passages.with_name(f".{self.passages.name}.lock")

    @classmethod
    def beside(cls, passages: str | Path, articles: str | Path | None = None,
               errors: str | Path | None = None) -> "OutputPaths":
        """Articles, errors and plot default to `<name>.articles<ext>`, `<name>.errors.jsonl`, `<name>.png`."""
        passages = Path(passages)
        table_format(passages)
        articles = Path(articles) if articles else passages.with_name(f"{passages.stem}.articles{passages.suffix}")
        table_format(articles)
        errors = Path(errors) if errors else passages.with_name(f"{passages.stem}.errors.jsonl")
        return cls(passages, articles, errors, passages.with_name(f"{passages.stem}.png"))


def passage_frame(ids, doc_ids, indices, texts, proba: np.ndarray) -> pd.DataFrame:
    """One row per passage: id, doc_id, index, text, each topic's predicted value and its three probabilities."""
    frame = pd.DataFrame({"id": list(ids), "doc_id": list(doc_ids), "index": np.asarray(indices, dtype=np.int64),
                          "text": list(texts)})
    return pd.concat([frame, proba_to_frame(proba)], axis=1)


def arrow_table(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    frame = frame.loc[:, schema.names].astype({name: object for name in ARTICLE_META if name in frame})
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)


def write_table(path: Path, frames: Iterator[pd.DataFrame], schema: pa.Schema) -> int:
    """Stream frames into one JSONL, CSV or Parquet file (by extension), atomically; returns the row count."""
    kind = table_format(path)
    rows = 0
    with atomic_write(path, "wb" if kind == "parquet" else "w") as handle:
        writer = pq.ParquetWriter(handle, schema) if kind == "parquet" else None
        for frame in frames:
            if kind == "parquet":
                writer.write_table(arrow_table(frame, schema))
            elif kind == "csv":
                frame.to_csv(handle, header=rows == 0, index=False, lineterminator="\n")
            else:  # json.dumps: full float precision, and no escaped slashes in paths
                frame = frame.astype(object).where(frame.notna(), None)
                handle.writelines(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n"
                                  for record in frame.to_dict("records"))
            rows += len(frame)
        if writer is not None:
            writer.close()
        elif kind == "csv" and rows == 0:
            handle.write(",".join(schema.names) + "\n")
    return rows
