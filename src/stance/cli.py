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


if __name__ == "__main__":
    app()
