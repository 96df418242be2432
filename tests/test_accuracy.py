"""The accuracy gate: extraction of the sample and of the second development set, scored against their gold.

Fails when any field drops below the floor pinned in ``tests/accuracy_floors.json``.
"""
import json
from pathlib import Path

import pytest

from pipeline.evaluate import evaluate
from pipeline.run import extract_corpus

ROOT = Path(__file__).resolve().parent.parent
FLOORS = json.loads((ROOT / "tests" / "accuracy_floors.json").read_text())
# What the issues ask for; pinned floors may never be set below these.
TARGETS = {
    "sample": {"f1.people": 0.97, "f1.person_country": 0.95, "f1.role_title": 0.92, "f1.role_org": 0.85,
               "accuracy.role_status": 0.90, "f1.batches": 1.0, "accuracy.batch_years": 1.0, "f1.dates": 0.95},
    "devset": {"f1.people": 0.90, "f1.role_title": 0.80, "f1.role_org": 0.80, "f1.dates": 0.90},
}


@pytest.fixture(scope="module", params=["sample", "devset", "holdout", "holdout2"])
def scored(request, tmp_path_factory):
    spec = FLOORS[request.param]
    out = tmp_path_factory.mktemp(request.param)
    summary = extract_corpus(ROOT / spec["raw"], out, progress=False)
    assert not summary.failures
    return request.param, evaluate(ROOT / spec["gold"], out)


def _value(report: dict, key: str) -> float:
    kind, field = key.split(".")
    return report[kind][field]["f1" if kind == "f1" else "accuracy"]


def test_scores_stay_above_floors(scored):
    name, report = scored
    below = {key: (_value(report, key), floor) for key, floor in FLOORS[name]["floors"].items() if _value(report, key) < floor}
    assert not below, f"{name}: fields below their floor (score, floor): {below}"


def test_no_not_dates_extracted(scored):
    name, report = scored
    assert len(report["not_dates_extracted"]) <= FLOORS[name]["max_not_dates"], report["not_dates_extracted"]


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_floors_are_not_below_the_targets(name):
    floors = FLOORS[name]["floors"]
    assert all(floors[key] >= target for key, target in TARGETS[name].items())
