"""Engines only change where pages are extracted, never what is written."""
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.engine import DaskEngine, EngineError, LocalEngine
from pipeline.run import extract_corpus
from pipeline.schema import TABLES

DEVSET = Path(__file__).resolve().parent / "devset" / "raw"


def _tables(out: Path) -> dict:
    return {name: pq.read_table(out / f"{name}.parquet") for name in TABLES}


def test_dask_and_local_engines_write_identical_tables(tmp_path):
    import datetime as dt
    now = dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)
    local = extract_corpus(DEVSET, tmp_path / "local", progress=False, now=now, engine=LocalEngine(processes=2))
    engine = DaskEngine(workers=2)  # a LocalCluster on 127.0.0.1
    try:
        assert all(address.startswith("tcp://127.0.0.1:") for address in engine.client.scheduler_info()["workers"])
        remote = extract_corpus(DEVSET, tmp_path / "dask", progress=False, now=now, engine=engine)
    finally:
        engine.close()
    pages = len(list(DEVSET.glob("*.html")))
    assert not local.failures and not remote.failures and local.new == remote.new == pages
    ours, theirs = _tables(tmp_path / "local"), _tables(tmp_path / "dask")
    for name in TABLES:
        assert ours[name].num_rows > 0 and ours[name].equals(theirs[name]), name


def test_local_engine_keeps_page_order_with_workers():
    assert list(LocalEngine(processes=2).map(abs, list(range(-40, 0)))) == list(range(40, 0, -1))


def test_unreachable_scheduler_is_one_clear_error(monkeypatch):
    monkeypatch.setattr("pipeline.engine.SCHEDULER_TIMEOUT_S", 1)
    with pytest.raises(EngineError, match="cannot reach the Dask scheduler tcp://127.0.0.1:9"):
        DaskEngine("tcp://127.0.0.1:9")


def test_engine_options_from_the_command_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("pipeline.engine.SCHEDULER_TIMEOUT_S", 1)
    from pipeline.__main__ import main
    args = ["extract", "--raw", str(DEVSET), "--out", str(tmp_path / "out"), "--model", "blank", "--quiet"]
    assert main([*args, "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "--scheduler needs --engine dask" in capsys.readouterr().err
    assert main([*args, "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot reach the Dask scheduler" in err
    assert main([*args, "--engine", "dask", "--scheduler", "notanaddress"]) == 2  # Dask's ValueError, told as such
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot reach the Dask scheduler notanaddress" in err
