"""Where the Hydra configs live and the resolvers they use; entry points call `register_resolvers()` first.

The default configs ship inside the package (`stance/conf/`), so an installed wheel can compose them; the
repository's `configs/` is a link to that folder, the copy users read and edit.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path

from omegaconf import OmegaConf

MARKER = Path("labels") / "schema.yaml"  # what makes a folder a stance project


def config_dir(group: str = "") -> str:
    """The packaged config folder (or one of its subfolders) as a path Hydra can read."""
    return str(Path(str(files("stance") / "conf")) / group)


def project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` (default: the working directory) holding `labels/schema.yaml`,
    else `start` itself: a checkout finds its labels and store from any subfolder, an installed package
    works in the folder it runs in."""
    start = (start or Path.cwd()).resolve()
    return next((folder for folder in (start, *start.parents) if (folder / MARKER).exists()), start)


def register_resolvers() -> None:
    """`${stance_root:}` in the configs; idempotent, so every entry point and test may call it."""
    if not OmegaConf.has_resolver("stance_root"):
        OmegaConf.register_new_resolver("stance_root", lambda: str(project_root()))


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """Environment variables set for the block only, then restored: settings libraries read from the
    environment (MLflow's progress bars, Ray's auth mode) without changing the whole process."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
