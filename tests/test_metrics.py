import numpy as np
import pytest

from stance.metrics import stance_scores, topic_confusion, topic_scores


def test_topic_scores_worked_by_hand():
    gold = ["support", "support", "reject", "absent", "absent"]
    pred = ["support", "absent", "reject", "reject", "absent"]
    # support: tp=1 fp=0 fn=1 -> P=1, R=1/2, F1=2/3; reject: tp=1 fp=1 fn=0 -> F1=2/3
    # detection: gold topical {0,1,2}, predicted {0,2,3}: tp=2 fp=1 fn=1 -> F1=2/3
    scores = topic_scores(gold, pred)
    assert scores["f1_support"] == pytest.approx(2 / 3)
    assert scores["f1_reject"] == pytest.approx(2 / 3)
    assert scores["f_avg"] == pytest.approx(2 / 3)
    assert scores["topic_f1"] == pytest.approx(2 / 3)


def test_wrong_stance_counts_against_both_classes_but_not_detection():
    scores = topic_scores(["support", "absent"], ["reject", "absent"])
    assert scores["f_avg"] == 0.0
    assert scores["topic_f1"] == 1.0


def test_class_absent_everywhere_scores_zero():
    scores = topic_scores(["support", "absent"], ["support", "absent"])
    assert scores["f1_support"] == 1.0 and scores["f1_reject"] == 0.0 and scores["f_avg"] == 0.5


def test_macro_is_mean_over_the_four_topics():
    gold = {"no_fly_zone": ["reject", "absent"], "jet_transfer": ["support", "reject"],
            "troop_deployment": ["absent", "absent"], "sanctions": ["support", "reject"]}
    pred = {"no_fly_zone": ["reject", "absent"], "jet_transfer": ["support", "reject"],
            "troop_deployment": ["support", "absent"], "sanctions": ["reject", "support"]}
    scores = stance_scores(gold, pred)
    # nfz: F1_reject=1, F1_support=0 -> 0.5; jets: 1; troops: 0; sanctions: 0
    assert scores["f_avg/no_fly_zone"] == 0.5
    assert scores["f_avg/jet_transfer"] == 1.0
    assert scores["f_avg_macro"] == pytest.approx((0.5 + 1 + 0 + 0) / 4)
    assert scores["topic_f1/sanctions"] == 1.0


def test_confusion_rows_are_gold_in_schema_order():
    matrix = topic_confusion(["absent", "support", "reject", "reject"], ["absent", "reject", "reject", "absent"])
    np.testing.assert_array_equal(matrix, [[1, 0, 0], [0, 0, 1], [1, 0, 1]])
