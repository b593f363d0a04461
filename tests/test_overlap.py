"""The written corpus must not echo the real seed passages, nor repeat itself."""

import json
from pathlib import Path

from stance.corpus.overlap import near_duplicates, shared_ngrams

LABELS = Path(__file__).resolve().parents[1] / "labels"


def texts(name):
    return [json.loads(line)["text"] for line in (LABELS / name).read_text(encoding="utf-8").splitlines()]


def test_no_authored_passage_shares_an_8_gram_with_a_seed_passage():
    assert shared_ngrams(texts("authored.jsonl"), texts("seeds.jsonl"), n=8) == []


def test_a_copied_seed_sentence_is_caught():
    seed_sentence = "NATO Secretary General Jens Stoltenberg said that the alliance would not establish a no-fly zone"
    authored = ["Allies met on Friday.", f"In Brussels, {seed_sentence}, officials confirmed."]
    hits = shared_ngrams(authored, texts("seeds.jsonl"), n=8)
    assert hits and {index for index, _ in hits} == {1}


def test_no_near_duplicates_inside_the_authored_corpus():
    corpus = texts("authored.jsonl")
    assert near_duplicates(corpus) == []


def test_near_duplicate_detection_catches_rewording_and_copied_sentences():
    corpus = [
        "Poland offered to hand all of its MiG-29 jets to the United States at Ramstein.",
        "Poland offered to hand all its MiG-29 jets to the US at Ramstein air base.",
        "Hungary said it would veto any embargo on Russian oil and gas imports, calling it a red line.",
        "Speaking on radio, the minister said Hungary would veto any embargo on Russian oil and gas imports.",
        "Grain ships left Odesa under the UN-brokered deal.",
    ]
    pairs = near_duplicates(corpus)
    assert [(i, j) for i, j, _ in pairs] == [(0, 1), (2, 3)]
    assert pairs[0][2].startswith("cosine") and pairs[1][2].startswith("share")
