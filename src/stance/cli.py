"""stance: segment articles into passages, validate labels, train and apply stance classifiers."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)


def _article_paths(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        found.extend(sorted(path.rglob("*.txt")) if path.is_dir() else [path])
    return found


@app.command()
def segment(
    paths: list[Path] = typer.Argument(..., help="Article text files or folders of .txt files."),
    out: Path = typer.Option(..., "--out", help="JSONL file of unlabeled passages to write."),
) -> None:
    """Split articles into passages (id, doc_id, index, text, date) for labeling."""
    from stance.io import write_jsonl
    from stance.segment import SegmentError, segment_file

    records, failed = [], 0
    for path in _article_paths(paths):
        try:
            article = segment_file(path)
        except SegmentError as err:
            typer.echo(f"error: {err}", err=True)
            failed += 1
            continue
        if not article.passages:
            typer.echo(f"warning: {path}: no passages (empty article)", err=True)
        for passage in article.passages:
            record = {"id": passage.id, "doc_id": passage.doc_id, "index": passage.index, "text": passage.text}
            if article.date:
                record["date"] = article.date
            records.append(record)
    write_jsonl(out, records)
    typer.echo(f"wrote {len(records)} passages to {out}")
    raise typer.Exit(1 if failed else 0)


@app.command()
def validate(files: list[Path] = typer.Argument(..., help="Label files (JSONL) to check.")) -> None:
    """Check label files against the schema; exit 1 when anything is wrong. Never modifies a file."""
    from stance.validate import validate_files

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
    from stance.data import read_records
    from stance.stats import TOTAL, label_counts, markdown_table, shortfalls

    counts = label_counts(record for path in files for record in read_records(path))
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
    from stance.agreement import agreement as compare
    from stance.agreement import markdown_table
    from stance.data import read_records

    result = compare(read_records(first), read_records(second))
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
    model: str = typer.Option("best", help="best, a run id, runs:/ or models:/ URI, or a model folder."),
    runtime: str = typer.Option("torch", help="torch, or onnx (transformers; add --quantize for int8)."),
    quantize: bool = typer.Option(False, "--quantize", help="With --runtime onnx: dynamic int8 weights."),
    engine: str = typer.Option("local", help="local, or ray (RAY_ADDRESS selects an existing cluster)."),
    resume: bool = typer.Option(False, "--resume", help="Continue a killed run with the same output."),
    plot: bool = typer.Option(False, "--plot", help="Also write a PNG of stance counts per topic."),
    overrides: list[str] = typer.Option([], "--set", help="Any other configs/predict/predict.yaml key, as key=value."),
) -> None:
    """Classify articles in bulk, like scripts/predict.py: passages and articles tables; exit 2 if an input failed."""
    from hydra import compose, initialize_config_dir

    import stance.config  # noqa: F401  registers the resolvers the configs use
    from stance.config import PROJECT_ROOT
    from stance.predict import main

    listed = ",".join(f"'{path}'" for path in inputs)
    chosen = [f"input=[{listed}]", f"output='{output}'", f"model='{model}'", f"runtime={runtime}",
              f"quantize={quantize}", f"engine={engine}", f"resume={resume}", f"plot={plot}"]
    with initialize_config_dir(config_dir=str(PROJECT_ROOT / "configs" / "predict"), version_base="1.3"):
        cfg = compose("predict", overrides=[*chosen, *overrides])
    raise typer.Exit(main(cfg))


if __name__ == "__main__":
    app()
