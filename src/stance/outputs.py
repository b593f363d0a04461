"""Prediction tables: passage and article rows, the article stance rule, and crash-safe, resumable writing.

While a run goes, each chunk of whole articles is committed as two Parquet parts in a hidden folder beside
the output (`.passages.jsonl.parts/`), each renamed into place only once complete: passages first, then
articles, so a chunk counts as done exactly when its articles part exists. The final files are assembled
from the parts at the end, each written to a temporary file and renamed, then the parts are removed. A
killed run therefore leaves no final file (or an older complete one), and `resume=true` skips the articles
its parts already hold.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from stance.io import atomic_write
from stance.pyfunc import probability_column, proba_to_frame
from stance.schema import STANCES, TOPICS, VALUES

FORMATS = {".jsonl": "jsonl", ".csv": "csv", ".parquet": "parquet"}
MIXED = "mixed"
ABSENT = VALUES[0]
# An article takes a side when that side's summed confidence is at least this many times the other's.
MAJORITY_RATIO = 2.0
ARTICLE_META = ("doc_id", "file", "date", "source")
MANIFEST = "run.json"

PASSAGE_SCHEMA = pa.schema(
    [("id", pa.string()), ("doc_id", pa.string()), ("index", pa.int64()), ("text", pa.string())]
    + [(topic, pa.string()) for topic in TOPICS]
    + [(probability_column(topic, value), pa.float64()) for topic in TOPICS for value in VALUES])
ARTICLE_SCHEMA = pa.schema(
    [(name, pa.string()) for name in ARTICLE_META] + [("passages", pa.int64())]
    + [(topic, pa.string()) for topic in TOPICS]
    + [(f"{topic}_{stance}", pa.int64()) for topic in TOPICS for stance in STANCES])


class OutputError(ValueError):
    """An output path or a resume request that cannot work; raised before any classification."""


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
    return table.reset_index(drop=True).loc[:, ARTICLE_SCHEMA.names]


def _arrow(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    frame = frame.loc[:, schema.names].astype({name: object for name in ARTICLE_META if name in frame})
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)


class PartStore:
    """The committed chunks of one run, in `.<passages file name>.parts/` beside the passages output."""

    def __init__(self, paths: OutputPaths, settings: dict, resume: bool) -> None:
        self.paths = paths
        self.folder = paths.passages.with_name(f".{paths.passages.name}.parts")
        if self.folder.exists() and not resume:
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        manifest = self.folder / MANIFEST
        if manifest.exists():
            previous = json.loads(manifest.read_text())
            if previous != settings:
                raise OutputError(f"{self.folder}: the interrupted run used {previous}, this one {settings}; "
                                  "resume with the same settings, or run without resume=true to start afresh")
        else:
            with atomic_write(manifest) as handle:
                handle.write(json.dumps(settings, indent=2))
        for stale in self.folder.glob(".*.tmp"):  # a part being written when the run was killed
            stale.unlink()
        self.committed = sorted(int(p.stem.split("-")[1]) for p in self.folder.glob("articles-*.parquet"))
        for orphan in self.folder.glob("passages-*.parquet"):  # killed between a chunk's two parts
            if int(orphan.stem.split("-")[1]) not in self.committed:
                orphan.unlink()

    def _part(self, kind: str, number: int) -> Path:
        return self.folder / f"{kind}-{number:06d}.parquet"

    def done(self) -> dict[str, str]:
        """doc_id -> file of every article already committed (what a resumed run skips)."""
        done: dict[str, str] = {}
        for number in self.committed:
            table = pq.read_table(self._part("articles", number), columns=["doc_id", "file"])
            done.update(zip(table.column("doc_id").to_pylist(), table.column("file").to_pylist()))
        return done

    def commit(self, passages: pd.DataFrame, articles: pd.DataFrame) -> None:
        number = (self.committed[-1] + 1) if self.committed else 0
        for kind, frame, schema in (("passages", passages, PASSAGE_SCHEMA), ("articles", articles, ARTICLE_SCHEMA)):
            with atomic_write(self._part(kind, number), "wb") as handle:
                pq.write_table(_arrow(frame, schema), handle)
        self.committed.append(number)

    def frames(self, kind: str) -> Iterator[pd.DataFrame]:
        for number in self.committed:
            yield pq.read_table(self._part(kind, number)).to_pandas()

    def finish(self) -> None:
        """Assemble the final passage and article files from the parts, then drop the parts."""
        for kind, path, schema in (("passages", self.paths.passages, PASSAGE_SCHEMA),
                                   ("articles", self.paths.articles, ARTICLE_SCHEMA)):
            write_table(path, self.frames(kind), schema)
        shutil.rmtree(self.folder)


def write_table(path: Path, frames: Iterator[pd.DataFrame], schema: pa.Schema) -> int:
    """Stream frames into one JSONL, CSV or Parquet file (by extension), atomically; returns the row count."""
    kind = table_format(path)
    rows = 0
    with atomic_write(path, "wb" if kind == "parquet" else "w") as handle:
        writer = pq.ParquetWriter(handle, schema) if kind == "parquet" else None
        for frame in frames:
            if kind == "parquet":
                writer.write_table(_arrow(frame, schema))
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
