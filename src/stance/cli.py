"""stance: segment articles into passages, validate labels, train and apply stance classifiers."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import typer

from stance.errors import reported

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)


@app.callback()
def options(debug: bool = typer.Option(False, "--debug", help="Show the traceback of an error.")) -> None:
    """Read by `main` before typer runs; declared here for --help."""


def main(argv: list[str] | None = None) -> None:
    """The `stance` command: a user mistake is one `error:` line and a hint; `--debug` keeps the traceback."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    with reported(debug):
        app([a for a in args if a != "--debug"], prog_name="stance")


def hydra_quoted(value: object) -> str:
    """A value as a quoted Hydra override string, so a path with a quote, comma or bracket stays one value."""
    # Hydra: backslashes are escaped only before a quote or the end; `\${` keeps OmegaConf from interpolating.
    text = re.sub(r"(\\+)(?='|$)", lambda run: run.group(1) * 2, str(value))
    return "'" + text.replace("'", "\\'").replace("${", "\\${") + "'"


@app.command()
def segment(
    paths: list[Path] = typer.Argument(..., help="Articles: folders, .txt, .html, or .jsonl/.csv/.parquet tables."),
    out: Path = typer.Option(..., "--out", help="JSONL file of unlabeled passages to write."),
) -> None:
    """Split articles into passages (id, doc_id, index, text, date) for labeling, with prediction's readers."""
    from stance.corpus.readers import InputError, discover, read_articles
    from stance.files import write_jsonl

    files, errors = discover(paths)
    records = []
    for path in files:
        for item in read_articles(path):
            if isinstance(item, InputError):
                errors.append(item)
                continue
            for passage in item.passages:
                record = {"id": passage.id, "doc_id": passage.doc_id, "index": passage.index, "text": passage.text}
                if item.date:
                    record["date"] = item.date
                records.append(record)
    for error in errors:
        typer.echo(f"skipped: {error}", err=True)
    write_jsonl(out, records)
    typer.echo(f"wrote {len(records)} passages to {out}")
    raise typer.Exit(1 if errors else 0)


@app.command()
def validate(files: list[Path] = typer.Argument(..., help="Label files (JSONL) to check.")) -> None:
    """Check label files against the schema; exit 1 when anything is wrong. Never modifies a file."""
    from stance.corpus.validate import validate_files

    problems = validate_files(files)
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        typer.echo(f"{len(problems)} problem(s) in {len(files)} file(s)", err=True)
        raise typer.Exit(1)
    typer.echo(f"ok: {len(files)} file(s) valid")


@app.command()
def stats(
    files: list[Path] = typer.Argument(..., help="Label files (JSONL)."),
    minimum: int = typer.Option(0, help="Exit 1 if any topic:stance cell over all files has fewer passages."),
) -> None:
    """Counts per source and topic x stance, as a Markdown table."""
    from stance.files import read_jsonl
    from stance.corpus.stats import TOTAL, label_counts, markdown_table, shortfalls

    counts = label_counts(record for path in files for record in read_jsonl(path))
    typer.echo(markdown_table(counts))
    short = shortfalls(counts[TOTAL], minimum) if minimum else []
    if short:
        typer.echo(f"below {minimum} passages: {', '.join(short)}", err=True)
        raise typer.Exit(1)


@app.command()
def agreement(
    first: Path = typer.Argument(..., help="First annotation (JSONL); plays gold for F_avg."),
    second: Path = typer.Argument(..., help="Second annotation of the same passages (JSONL)."),
    show: bool = typer.Option(False, "--show", help="Also list every disagreement."),
) -> None:
    """Per-topic Cohen's kappa (absent/support/reject) and F_avg of one annotation against the other."""
    from stance.corpus.agreement import agreement as compare
    from stance.corpus.agreement import markdown_table
    from stance.files import read_jsonl

    result = compare(read_jsonl(first), read_jsonl(second))
    typer.echo(f"{result['passages']} passages in both ({result['only_first']} only in {first.name}, "
               f"{result['only_second']} only in {second.name})")
    typer.echo(markdown_table(result))
    if show:
        for d in result["disagreements"]:
            typer.echo(f"{d['id']}\t{d['topic']}\t{d['first']} vs {d['second']}")


@app.command()
def predict(
    inputs: list[Path] = typer.Argument(..., help="Articles: folders, .txt, .html, or .jsonl/.csv/.parquet tables."),
    output: Path = typer.Option(..., "--output", "-o", help="Passages file (.jsonl, .csv or .parquet)."),
    model: str = typer.Option(None, help="best, a run id, runs:/ or models:/ URI, or a model folder."),
    runtime: str = typer.Option(None, help="torch, or onnx (transformers; add --quantize for int8)."),
    quantize: bool = typer.Option(None, "--quantize", help="With --runtime onnx: dynamic int8 weights."),
    engine: str = typer.Option(None, help="local, or ray (RAY_ADDRESS selects an existing cluster)."),
    device: str = typer.Option(None, help="auto, cpu or cuda (transformer models)."),
    resume: bool = typer.Option(None, "--resume", help="Continue a killed run with the same output."),
    plot: bool = typer.Option(None, "--plot", help="Also write a PNG of stance counts per topic."),
    overrides: list[str] = typer.Option([], "--set", help="Any other predict.yaml key, as key=value."),
) -> None:
    """Classify articles in bulk, like scripts/predict.py: passages and articles tables; exit 2 if an input failed.

    Options left out take their defaults from the packaged configs/predict/predict.yaml.
    """
    from hydra import compose, initialize_config_dir

    from stance.batch.run import main
    from stance.config import config_dir, register_resolvers

    given = {"model": model, "runtime": runtime, "quantize": quantize, "engine": engine, "device": device,
             "resume": resume, "plot": plot}
    listed = ",".join(hydra_quoted(path) for path in inputs)
    chosen = [f"input=[{listed}]", f"output={hydra_quoted(output)}"]
    chosen += [f"{key}={hydra_quoted(value)}" if isinstance(value, str) else f"{key}={value}"
               for key, value in given.items() if value is not None]
    register_resolvers()
    with initialize_config_dir(config_dir=config_dir("predict"), version_base="1.3"):
        cfg = compose("predict", overrides=[*chosen, *overrides])
    raise typer.Exit(main(cfg))


if __name__ == "__main__":
    main()
