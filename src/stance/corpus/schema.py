"""The labeling schema, loaded once from the packaged schema.yaml: the only source of topic and stance names.

The file ships inside the package (`importlib.resources`), so an installed wheel knows the schema; the
repository's `labels/schema.yaml` is a link to it, the copy people read and edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import yaml



@dataclass(frozen=True)
class Schema:
    topics: tuple[str, ...]
    stances: tuple[str, ...]
    absent: str
    topic_definitions: dict[str, str]
    stance_definitions: dict[str, str]
    required_fields: tuple[str, ...]

    @property
    def values(self) -> tuple[str, ...]:
        """The three values a topic can take on a passage, absent first (class index 0)."""
        return (self.absent, *self.stances)


def parse_schema(path: Path) -> Schema:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        topics = raw["topics"]
        stances = raw["stances"]
        return Schema(
            topics=tuple(topics),
            stances=tuple(stances),
            absent=raw["absent"],
            topic_definitions={t: " ".join(d["covers"].split()) for t, d in topics.items()},
            stance_definitions={s: " ".join(d.split()) for s, d in stances.items()},
            required_fields=tuple(raw["record"]["required"]),
        )
    except (KeyError, TypeError) as err:
        raise ValueError(f"{path}: malformed schema, missing {err}") from err


@lru_cache(maxsize=1)
def load_schema() -> Schema:
    return parse_schema(Path(str(files("stance.corpus") / "schema.yaml")))


SCHEMA = load_schema()
TOPICS = SCHEMA.topics
STANCES = SCHEMA.stances
ABSENT = SCHEMA.absent
VALUES = SCHEMA.values
