"""engine=ray (a local Ray, 2 CPUs) writes what the local engine writes."""

import json

import pandas as pd
import pytest
from conftest import read

from stance.batch.run import run

pytest.importorskip("ray")


def test_ray_engine_agrees_with_the_local_engine(compose_predict, tfidf_dir, mixed_folder, tmp_path):
    common = [f"model={tfidf_dir}", f"input={mixed_folder}", "chunk_passages=16"]
    local = run(compose_predict(*common, f"output={tmp_path}/local/p.jsonl"))
    on_ray = run(compose_predict(*common, f"output={tmp_path}/ray/p.jsonl", "engine=ray", "ray.actors=2",
                         "ray.cpus_per_actor=0.5"))
    for kind in ("passages", "articles"):
        expected, got = read(getattr(local.paths, kind)), read(getattr(on_ray.paths, kind))
        assert len(got) == len(expected)
        pd.testing.assert_frame_equal(got, expected, check_exact=False, atol=1e-12)
    errors = [[json.loads(line) for line in r.paths.errors.read_text().splitlines()] for r in (local, on_ray)]
    assert errors[0] == errors[1] and len(errors[0]) == 2
    assert on_ray.exit_code == local.exit_code == 2
