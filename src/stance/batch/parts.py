"""Crash-safe, resumable writing of a prediction run: committed chunks as Parquet parts, assembled at the end.

While a run goes, each chunk of whole articles is committed as two Parquet parts in a hidden folder beside
the output (`.passages.jsonl.parts/`), each renamed into place only once complete: passages first, then
articles, so a chunk counts as done exactly when its articles part exists. The final files are assembled
from the parts at the end, each written to a temporary file and renamed, then the parts are removed. A
killed run therefore leaves no final file (or an older complete one), and `resume=true` skips the articles
its parts already hold.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator

import pandas as pd
import pyarrow.parquet as pq

from stance.batch.tables import ARTICLE_SCHEMA, PASSAGE_SCHEMA, OutputError, OutputPaths, arrow_table, write_table
from stance.files import atomic_write

MANIFEST = "run.json"
log = logging.getLogger(__name__)


class PartStore:
    """The committed chunks of one run, in `.<passages file name>.parts/` beside the passages output."""

    def __init__(self, paths: OutputPaths, settings: dict, resume: bool) -> None:
        self.paths = paths
        self.folder = paths.passages.with_name(f".{paths.passages.name}.parts")
        if self.folder.exists() and not resume:
            if committed := len(list(self.folder.glob("articles-*.parquet"))):
                log.warning("%s: discarding %d committed chunk(s) of an interrupted run, as resume=true was not "
                            "given", paths.passages, committed)
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
                pq.write_table(arrow_table(frame, schema), handle)
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
