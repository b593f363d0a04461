from pathlib import Path

import pytest
from typer.testing import CliRunner

from stance.corpus.agreement import agreement
from stance.cli import app
from stance.files import read_jsonl
from stance.corpus.stats import TOTAL, label_counts, shortfalls

REPO = Path(__file__).resolve().parents[1]


def record(id_, labels, source="authored"):
    return {"id": id_, "doc_id": id_.split(":")[0], "text": "t", "labels": labels, "source": source}


def test_label_counts_per_source_and_total():
    records = [record("a:0", {"sanctions": "support", "jet_transfer": "reject"}), record("a:1", {}),
               record("s:0", {"sanctions": "support"}, source="seed")]
    counts = label_counts(records)
    assert counts[TOTAL]["passages"] == 3 and counts[TOTAL]["articles"] == 2
    assert counts["authored"]["2+ topics"] == 1 and counts["authored"]["no topic"] == 1
    assert counts[TOTAL]["sanctions:support"] == 2 and counts["seed"]["jet_transfer:reject"] == 0
    assert "sanctions:reject" in shortfalls(counts[TOTAL], minimum=1)


def test_agreement_kappa_and_f_avg_worked_by_hand():
    first = [record("a:0", {"sanctions": "support"}), record("a:1", {"sanctions": "reject"}),
             record("a:2", {}), record("a:3", {"sanctions": "support"})]
    second = [record("a:0", {"sanctions": "support"}), record("a:1", {"sanctions": "support"}),
              record("a:2", {}), record("a:3", {"sanctions": "support"}), record("b:0", {})]
    result = agreement(first, second)
    assert result["passages"] == 4 and result["only_second"] == 1
    sanctions = result["topics"]["sanctions"]
    # observed 3/4; expected = (1*1 + 2*3 + 1*0)/16 = 7/16 -> kappa = (12/16 - 7/16) / (9/16) = 5/9
    assert sanctions["kappa"] == pytest.approx(5 / 9)
    # support: tp=2 fp=1 fn=0 -> 0.8; reject: tp=0 -> 0
    assert sanctions["f_avg"] == pytest.approx(0.4)
    assert result["topics"]["no_fly_zone"]["kappa"] == 1.0
    assert result["disagreements"] == [{"id": "a:1", "topic": "sanctions", "first": "reject", "second": "support"}]


def test_agreement_without_shared_ids_is_an_error():
    with pytest.raises(ValueError, match="share no passage id"):
        agreement([record("a:0", {})], [record("b:0", {})])


def test_gold_corpus_meets_the_counts_it_promises():
    result = CliRunner().invoke(app, ["stats", *map(str, sorted(REPO.glob("labels/*.jsonl"))), "--minimum", "120"])
    assert result.exit_code == 0, result.output
    authored = label_counts(read_jsonl(REPO / "labels" / "authored.jsonl"))["authored"]
    assert authored["passages"] >= 1200 and authored["articles"] >= 200
    assert authored["no topic"] * 3 >= authored["passages"]
    assert authored["2+ topics"] >= 120
