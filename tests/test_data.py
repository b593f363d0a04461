import pytest

from stance.files import JsonlError, read_jsonl
from stance.training.data import grouped_folds, grouped_holdout


def test_broken_line_names_file_and_line(write_jsonl):
    path = write_jsonl("l.jsonl", [{"id": "a:0"}, "{not json"])
    with pytest.raises(JsonlError, match=r"l\.jsonl:2: invalid JSON"):
        read_jsonl(path)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_article_on_both_sides_of_any_fold(seed):
    doc_ids = [f"d{i % 13}" for i in range(100)]
    folds = grouped_folds(doc_ids, n_splits=5, seed=seed)
    assert len(folds) == 5
    seen_in_test = []
    for train, test in folds:
        assert {doc_ids[i] for i in train}.isdisjoint({doc_ids[i] for i in test})
        seen_in_test.extend(test)
    assert sorted(seen_in_test) == list(range(100))


def test_folds_depend_on_seed_and_holdout_keeps_groups():
    doc_ids = [f"d{i % 20}" for i in range(80)]
    assert [t.tolist() for _, t in grouped_folds(doc_ids, 4, 0)] != [t.tolist() for _, t in grouped_folds(doc_ids, 4, 1)]
    train, valid = grouped_holdout(doc_ids, test_size=0.25, seed=0)
    assert {doc_ids[i] for i in train}.isdisjoint({doc_ids[i] for i in valid})
    assert len(train) + len(valid) == 80
