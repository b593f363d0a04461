import pandas as pd
import pytest

from stance.training.report import TABLE_END, TABLE_START, model_table, replace_table


def fake_run(model, evaluation, seed, seed_score, all_score, dev_score=None):
    return {"tags.model_name": model, "tags.evaluation": evaluation, "params.seed": str(seed),
            "metrics.seed_only/f_avg_macro": seed_score, "metrics.cv/f_avg_macro": all_score,
            "metrics.dev/f_avg_macro": seed_score if dev_score is None else dev_score,
            "metrics.train/seconds": 10.0 * (seed + 1), "metrics.train/peak_rss_mb": 500.0}


def test_model_table_gives_mean_and_population_std_over_seeds_best_first():
    runs = pd.DataFrame([fake_run("a", "kfold", 0, 0.4, 0.8), fake_run("a", "kfold", 1, 0.6, 0.8),
                         fake_run("b", "kfold", 0, 0.7, 0.5), fake_run("b", "kfold", 1, 0.7, 0.7)])
    table = model_table(runs)
    assert list(table["model"]) == ["b", "a"]  # best dev score first
    row = table.set_index("model").loc["a"]
    assert row["macro F_avg, real seed passages"] == "0.500 ± 0.100"
    assert row["macro F_avg, all evaluated passages"] == "0.800 ± 0.000"
    assert row["seeds"] == 2 and row["training time (s)"] == "15"


def test_replace_table_keeps_the_prose_and_refuses_a_file_without_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{TABLE_START}\nold\n{TABLE_END}\noutro\n")
    replace_table(readme, "| new |")
    assert readme.read_text() == f"intro\n{TABLE_START}\n| new |\n{TABLE_END}\noutro\n"
    (tmp_path / "bare.md").write_text("no markers")
    with pytest.raises(ValueError, match="bare.md"):
        replace_table(tmp_path / "bare.md", "| new |")
