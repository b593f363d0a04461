"""Batch classification: input files in, passage and article tables out, streamed chunk by chunk.

Articles are gathered into chunks of about `chunk_passages` passages; each chunk goes through the model in
one call (the transformer sorts it by length into dynamically padded batches under `inference_mode`) and
is committed to disk before the next is read, so memory stays flat and a killed run can resume.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig

from stance.batch import summary
from stance.batch.engine import ArticleFilter, load_predictor
from stance.batch.parts import PartStore
from stance.batch.tables import OutputError, OutputPaths, table_format
from stance.corpus.readers import InputError, discover
from stance.errors import ConfigError
from stance.files import check_writable

log = logging.getLogger(__name__)
ENGINES = ("local", "ray")


@dataclass
class PredictResult:
    paths: OutputPaths
    articles: int
    passages: int
    resumed_articles: int
    errors: list[InputError]
    summary: pd.DataFrame

    @property
    def exit_code(self) -> int:
        return 2 if self.errors else 0


def run(cfg: DictConfig) -> PredictResult:
    """Classify every article under `cfg.input`; write passages, articles and errors (and a plot with `plot`)."""
    from tqdm import tqdm

    from stance.batch.model_ref import local_model
    from stance.files import exclusive_lock, folder_digest, write_jsonl

    if cfg.engine not in ENGINES:
        raise ConfigError(f"engine must be one of {ENGINES}, got {cfg.engine!r}")
    paths = OutputPaths.beside(cfg.output, cfg.get("articles"), cfg.get("errors"))
    inputs = [cfg.input] if isinstance(cfg.input, str) else list(cfg.input)
    files, errors = discover(inputs)
    check_outputs(paths, inputs, files, cfg.plot)
    with exclusive_lock(paths.lock, str(paths.passages)), \
            local_model(str(cfg.model), cfg.experiment_name, cfg.tracking_uri) as model_dir:
        # The model's content, not its name: `best` may name another model by the time a run resumes.
        settings = {"model_digest": folder_digest(model_dir), "runtime": cfg.runtime, "quantize": bool(cfg.quantize)}
        store = PartStore(paths, settings, resume=cfg.resume)
        keep = ArticleFilter(store.done())
        for error in errors:
            log.warning("%s", error)
        if cfg.engine == "ray":
            from stance.batch.ray_executor import classify_with_ray

            chunks = classify_with_ray(files, model_dir, cfg, keep)
        else:
            from stance.batch.local import classify_locally

            predictor = load_predictor(model_dir, cfg.runtime, cfg.quantize, Path(cfg.onnx_cache), cfg.threads,
                                       cfg.device)
            chunks = classify_locally(files, predictor, keep, cfg.chunk_passages)
        with tqdm(unit=" passages", desc="classifying", disable=not cfg.progress, dynamic_ncols=True) as bar:
            for item in chunks:
                if isinstance(item, InputError):
                    log.warning("%s", item)
                    errors.append(item)
                    continue
                store.commit(*item)
                bar.update(len(item[0]))
                bar.set_postfix(articles=len(keep.seen), errors=len(errors), refresh=False)
        totals = summary.Totals.from_frames(store.frames("articles"))
        write_jsonl(paths.errors, (error.record() for error in errors))  # before the parts go: nothing is lost
        store.finish()
        if cfg.plot:
            summary.save_plot(totals, paths.plot)
    result = PredictResult(paths, totals.articles, totals.passages, len(keep.done), errors, totals.table())
    log.info("%d articles, %d passages, %d input errors -> %s", result.articles, result.passages, len(errors),
             paths.passages)
    return result


def check_outputs(paths: OutputPaths, inputs: list[str], files: list[Path], plot: bool) -> None:
    """Refuse outputs that would overwrite an input or be read back as inputs by the next run, and prove every
    output folder writable, all before the model loads."""
    outputs = [paths.passages, paths.articles, paths.errors, *([paths.plot] if plot else [])]
    if len({output.resolve() for output in outputs}) < len(outputs):
        raise OutputError(f"{paths.passages}: the passages, articles, errors and plot outputs must be different files")
    input_files = {path.resolve() for path in files}
    folders = [path.resolve() for path in map(Path, inputs) if path.is_dir()]
    for output in outputs:
        resolved = output.resolve()
        if resolved in input_files:
            raise OutputError(f"{output}: is also an input; writing it would destroy that input. "
                              "Choose another output name")
        if inside := next((folder for folder in folders if resolved.is_relative_to(folder)), None):
            raise OutputError(f"{output}: lies inside the input folder {inside}, so the next run would read it "
                              "back as input. Write the outputs to another folder")
    for folder in dict.fromkeys(output.parent for output in outputs):
        try:
            check_writable(folder)
        except OSError as err:
            raise OutputError(str(err)) from None


def report(result: PredictResult) -> str:
    """The summary printed at the end of a run."""
    kept = f" ({result.resumed_articles} articles kept from the interrupted run)" if result.resumed_articles else ""
    lines = [f"{result.articles} articles, {result.passages} passages{kept}", result.summary.to_markdown(),
             f"passages: {result.paths.passages}", f"articles: {result.paths.articles}"]
    if result.errors:
        lines.append(f"{len(result.errors)} input(s) failed, listed in {result.paths.errors}")
    return "\n".join(lines)


def main(cfg: DictConfig) -> int:
    """Entry point shared by scripts/predict.py and `stance predict`: run, print the summary, return the exit code."""
    table_format(cfg.output)  # a bad output name fails before the model loads
    result = run(cfg)
    print(report(result))
    return result.exit_code

