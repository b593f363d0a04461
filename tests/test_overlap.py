"""The written corpus must not echo the real seed passages, nor repeat itself, and the dev set must stay apart
from everything trained on: no shared 8-word run, no stored page restated on both sides."""

import csv
import json
from pathlib import Path

from stance.corpus.overlap import near_duplicates, shared_ngrams

LABELS = Path(__file__).resolve().parents[1] / "labels"
TRAINING = ("seeds.jsonl", "authored.jsonl", "reported.jsonl")
DEV = "dev/dev.jsonl"


def texts(*names):
    return [json.loads(line)["text"] for name in names for line in (LABELS / name).read_text(encoding="utf-8").splitlines()]


def pages(name):
    with (LABELS / name).open(encoding="utf-8") as handle:
        return {(row["doc_id"], row["url"]) for row in csv.DictReader(handle, delimiter="\t")}


def test_no_written_passage_shares_an_8_gram_with_a_seed_passage():
    assert shared_ngrams(texts("authored.jsonl", "reported.jsonl"), texts("seeds.jsonl"), n=8) == []


def test_a_copied_seed_sentence_is_caught():
    seed_sentence = "NATO Secretary General Jens Stoltenberg said that the alliance would not establish a no-fly zone"
    authored = ["Allies met on Friday.", f"In Brussels, {seed_sentence}, officials confirmed."]
    hits = shared_ngrams(authored, texts("seeds.jsonl"), n=8)
    assert hits and {index for index, _ in hits} == {1}


def test_no_near_duplicates_inside_the_written_training_text():
    assert near_duplicates(texts("authored.jsonl", "reported.jsonl")) == []


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


def test_no_dev_passage_shares_an_8_gram_with_any_training_passage():
    assert shared_ngrams(texts(DEV), texts(*TRAINING), n=8) == []


def test_no_stored_page_is_restated_in_both_training_and_dev():
    dev_pages = {url for _, url in pages("dev/provenance.tsv")}
    training_pages = {url for _, url in pages("reported_provenance.tsv")}
    assert dev_pages and training_pages
    assert dev_pages.isdisjoint(training_pages)


def test_every_restated_article_names_its_pages():
    for labels, provenance in ((DEV, "dev/provenance.tsv"), ("reported.jsonl", "reported_provenance.tsv")):
        articles = {json.loads(line)["doc_id"] for line in (LABELS / labels).read_text().splitlines()}
        assert articles == {doc_id for doc_id, _ in pages(provenance)}


def test_training_config_never_reads_the_dev_set(compose_train):
    from hydra import compose, initialize_config_dir

    from stance.config import config_dir, register_resolvers

    register_resolvers()
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose("train")
    assert not {Path(f).resolve() for f in cfg.data.files} & {Path(f).resolve() for f in cfg.data.dev_files}
    assert all(json.loads(line)["source"] == "dev" for line in (LABELS / DEV).read_text().splitlines())
