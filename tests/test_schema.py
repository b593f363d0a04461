import pytest

from stance.corpus.schema import ABSENT, STANCES, TOPICS, VALUES, load_schema, parse_schema


def test_schema_has_the_four_topics_and_two_stances_of_the_spec():
    assert TOPICS == ("no_fly_zone", "jet_transfer", "troop_deployment", "sanctions")
    assert STANCES == ("support", "reject")
    assert VALUES == (ABSENT, "support", "reject")
    assert all(load_schema().topic_definitions[t] for t in TOPICS)


def test_malformed_schema_names_the_file(tmp_path):
    path = tmp_path / "schema.yaml"
    path.write_text("topics: {}\n")
    with pytest.raises(ValueError, match=r"schema\.yaml: malformed schema"):
        parse_schema(path)
