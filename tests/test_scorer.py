"""The fact scorer: every fact row has a confidence, the threshold decides what is written and the summary
counts what it held back, the committed model loads, and training gives the same bytes twice."""
import logging
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import pipeline
from pipeline.extract import scorer
from pipeline.extract.scorer import FACT_TABLES, ScorerModelError, read_model
from pipeline.run import extract_corpus

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_RAW = ROOT / "raw"


def _rows(out: Path, table: str) -> list[dict]:
    return pq.read_table(out / f"{table}.parquet").to_pylist()


def test_every_fact_row_has_a_confidence_between_0_and_1(devset_tables):
    for table in FACT_TABLES:
        rows = _rows(devset_tables, table)
        assert rows, f"the dev set has {table}"
        values = [row["confidence"] for row in rows]
        assert all(value is not None and 0.0 <= value <= 1.0 for value in values), table
    confidences = {row["confidence"] for table in FACT_TABLES for row in _rows(devset_tables, table)}
    assert len(confidences) > 1, "the scorer tells the rows apart"


@pytest.fixture(scope="module")
def everything_kept(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("kept")
    summary = extract_corpus(SAMPLE_RAW, out, progress=False, min_confidence=0.0)
    assert not summary.failures and not summary.held_back
    return out


def test_the_threshold_holds_back_the_rows_below_it_and_the_summary_counts_them(everything_kept, tmp_path):
    scored = {table: _rows(everything_kept, table) for table in FACT_TABLES}
    confidences = sorted(row["confidence"] for rows in scored.values() for row in rows)
    threshold = confidences[len(confidences) // 2]  # the median: some rows fall below it, some stay
    below = {table: sum(row["confidence"] < threshold for row in rows) for table, rows in scored.items()}
    assert sum(below.values()) > 0

    summary = extract_corpus(SAMPLE_RAW, tmp_path, progress=False, min_confidence=threshold)
    assert dict(summary.held_back) == {table: n for table, n in below.items() if n}
    assert f"{sum(below.values())} facts below confidence {threshold:g} held back" in summary.line()
    for table, rows in scored.items():
        kept = _rows(tmp_path, table)
        assert len(kept) == len(rows) - below[table]
        assert all(row["confidence"] >= threshold for row in kept)


def test_a_new_threshold_re_extracts_the_pages_written_under_the_old_one(everything_kept, tmp_path):
    assert extract_corpus(SAMPLE_RAW, tmp_path, progress=False, min_confidence=0.0).new == 1
    assert extract_corpus(SAMPLE_RAW, tmp_path, progress=False, min_confidence=0.0).unchanged == 1
    assert extract_corpus(SAMPLE_RAW, tmp_path, progress=False, min_confidence=0.99).changed == 1


def test_the_min_confidence_option_is_a_number_from_0_to_1(tmp_path, capsys):
    from pipeline.__main__ import main
    with pytest.raises(SystemExit) as exited:
        main(["extract", "--raw", str(SAMPLE_RAW), "--out", str(tmp_path), "--min-confidence", "1.5"])
    assert exited.value.code == 2
    assert "expected a number from 0 to 1, not '1.5'" in capsys.readouterr().err


def test_the_committed_model_loads_with_a_threshold_chosen_on_dev():
    model = read_model(pipeline.SCORER_MODEL)
    assert 0.0 <= model.default_threshold <= 1.0
    assert {"sample", "devset", "holdout", "holdout2"} <= set(model.trained_on)
    assert set(model.weights) <= set(FACT_TABLES) and model.weights, "some fact table has coefficients"
    assert all("bias" in weights for weights in model.weights.values())


def test_a_broken_model_file_is_one_line_naming_it(tmp_path):
    broken = tmp_path / "scorer.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(ScorerModelError, match=f"{broken}: cannot read the scorer model"):
        read_model(broken)
    broken.write_text('{"format": 0}', encoding="utf-8")
    with pytest.raises(ScorerModelError, match="not a scorer model of format"):
        read_model(broken)


def test_a_model_trained_on_other_extraction_code_warns_once(tmp_path, monkeypatch, caplog):
    other = tmp_path / "scorer.json"
    other.write_text(pipeline.SCORER_MODEL.read_text(encoding="utf-8").replace(
        read_model(pipeline.SCORER_MODEL).code_fingerprint, "0000000000"), encoding="utf-8")
    monkeypatch.setattr(scorer, "SCORER_MODEL", other)
    scorer.scorer_model.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="pipeline.extract.scorer"):
            scorer.scorer_model()
            scorer.scorer_model()
    finally:
        scorer.scorer_model.cache_clear()
    warnings = [r.getMessage() for r in caplog.records if r.name == "pipeline.extract.scorer"]
    assert len(warnings) == 1 and "trained on extraction code 0000000000" in warnings[0]


HOLDOUT2 = ("holdout2", ROOT / "tests/holdout2/raw", ROOT / "tests/holdout2/gold")


def test_training_gives_the_same_file_bytes_twice(tmp_path):
    from pipeline.train_scorer import GoldSet, model_json, train
    sets = [GoldSet("sample", SAMPLE_RAW, ROOT / "tests/fixtures/gold"), GoldSet(*HOLDOUT2)]
    first, ablation = train(sets, tmp_path / "first")
    second, _ = train(sets, tmp_path / "second")
    assert model_json(first) == model_json(second)
    assert first.weights, "holdout2 has wrong rows to learn from"
    assert "| holdout2 | rules alone |" in ablation


def test_rows_are_labelled_as_the_evaluation_matches_them(tmp_path):
    from pipeline.evaluate import evaluate_tables
    from pipeline.train_scorer import GoldSet, examples, extract_set
    gold_set = GoldSet(*HOLDOUT2)
    tables = extract_set(gold_set, tmp_path)
    found = examples(gold_set.gold, tables)
    scores = evaluate_tables(gold_set.gold, tables)["f1"]
    wrong = {table: sum(not e.right for e in found if e.table == table) for table in FACT_TABLES}
    assert wrong["countries"] == scores["person_country"]["fp"] and wrong["dates"] == scores["dates"]["fp"]
    assert wrong["roles"] >= scores["role_title"]["fp"] > 0  # a role is wrong when its title or its organisation is
    assert len(found) == sum(len(tables[table]) for table in FACT_TABLES), "every fact row of a gold article"
