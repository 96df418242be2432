"""An extraction killed at any moment (SIGKILL: no cleanup runs) leaves tables that every reader can open and
that agree with each other, and the next run completes them to exactly what an uninterrupted run writes.

Each round changes the raw folder (pages added, removed, edited), starts ``python -m pipeline extract`` on
the output of the previous round, and kills its whole process group at a seeded moment: either at a random
time in the run, or just after the first table write begins (the narrow window a random time seldom hits).
``make killtest`` runs the same rounds ``KILLS`` times (``CRASH_SAFETY_KILLS`` here, 6 by default).
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from pipeline.fuzz import ROOT, Sources
from pipeline.schema import TABLES

KILLS = int(os.environ.get("CRASH_SAFETY_KILLS", "6"))
SEED = 5
VARIANTS = 3  # raw folders the rounds switch between, so every killed run has pages to add, drop or redo
RUN_LIMIT_SECONDS = 120  # an uninterrupted run here takes about 3 s
WRITE_POLL_SECONDS = 0.001
MAX_DELAY_AFTER_WRITE_STARTS = 0.3  # the tables are written within about this much time
RUN_TIME_COLUMNS = {"extracted_at"}
BAD_PAGES = {"empty.html": b"", "binary.html": b"\x00\x01\x02" * 100}  # failures belong in a killed run too


def _variant(number: int, sources: Sources) -> dict[str, bytes]:
    """The raw folder of one variant: most development pages (a seeded few left out, a few edited)."""
    rng = random.Random(f"{SEED}:variant:{number}")
    pages = {}
    for name, data in sources.devset.items():
        if number and rng.random() < 0.25:
            continue
        edited = number and rng.random() < 0.3  # same story, new bytes: the page counts as changed
        pages[name] = data + f"<!-- revision {number} -->".encode() if edited else data
    pages["sample.html"] = sources.sample[0]
    return {**pages, **BAD_PAGES}


def _write_raw(raw: Path, pages: dict[str, bytes]) -> None:
    raw.mkdir(parents=True, exist_ok=True)
    for path in raw.glob("*.html"):
        if path.name not in pages:
            path.unlink()
    for name, data in pages.items():
        if not (raw / name).exists() or (raw / name).read_bytes() != data:
            (raw / name).write_bytes(data)


def _start(raw: Path, out: Path, processes: str) -> subprocess.Popen:
    # --prune: pages the round's folder no longer holds leave the tables, so a finished run equals a fresh one
    command = [sys.executable, "-m", "pipeline", "extract", "--raw", str(raw), "--out", str(out), "--model", "blank",
               "--quiet", "--prune"]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            env={**os.environ, "STORY_EXTRACTOR_PROCESSES": processes})


def _finish(raw: Path, out: Path, processes: str = "1") -> float:
    started = time.monotonic()
    process = _start(raw, out, processes)
    _, stderr = process.communicate(timeout=RUN_LIMIT_SECONDS)
    assert process.returncode in (0, 1), stderr.decode(errors="replace")[-3000:]
    assert b"Traceback" not in stderr, stderr.decode(errors="replace")[-3000:]
    return time.monotonic() - started


def _kill_group(process: subprocess.Popen) -> bool:
    """SIGKILL the run and its worker processes (its own session); whether it was still running."""
    running = process.poll() is None
    if running:
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
    return running


def _table_writes_started(out: Path, before: dict[str, int]) -> bool:
    for entry in os.scandir(out) if out.exists() else ():
        if entry.name.endswith(".tmp") or (entry.name.endswith(".parquet") and entry.stat().st_mtime_ns != before.get(entry.name)):
            return True
    return False


def _kill_at_some_point(raw: Path, out: Path, rng: random.Random, run_seconds: float) -> tuple[str, bool]:
    """Start a run and kill it at a seeded moment; (when, whether it was still running)."""
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.parquet")}
    process = _start(raw, out, rng.choice(["1", "2"]))
    if rng.random() < 0.5:
        delay = rng.uniform(0, run_seconds)
        when = f"at {delay:.2f} s"
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            pass
    else:
        delay = rng.uniform(0, MAX_DELAY_AFTER_WRITE_STARTS)
        when = f"{delay:.3f} s after the table writes began"
        deadline = time.monotonic() + RUN_LIMIT_SECONDS
        while process.poll() is None and not _table_writes_started(out, before) and time.monotonic() < deadline:
            time.sleep(WRITE_POLL_SECONDS)
        time.sleep(delay)
    return when, _kill_group(process)


def _tables(out: Path) -> dict[str, list[dict]]:
    """Every table in ``out``, read by pyarrow and by pandas (a half-written file fails here)."""
    tables = {}
    for name in TABLES:
        path = out / f"{name}.parquet"
        if path.exists():
            pd.read_parquet(path)
            tables[name] = pq.read_table(path).to_pylist()
    return tables


REFERENCES = {  # column → the table and key column it points to
    "article_id": ("articles", "article_id"),
    "parent_article_id": ("articles", "article_id"),
    "person_id": ("people", "person_id"),
    "profile_id": ("profiles", "profile_id"),
}


def _dangling_references(tables: dict[str, list[dict]]) -> list[str]:
    """Ids in a table that the table they point to does not hold."""
    problems = []
    for name, rows in tables.items():
        for column, (target, key) in REFERENCES.items():
            if (name, column) == (target, key) or not rows or column not in rows[0]:
                continue
            known = {row[key] for row in tables.get(target, [])}
            dangling = {row[column] for row in rows if row[column] is not None} - known
            if dangling:
                problems.append(f"{name}.{column}: {len(dangling)} ids not in {target}, e.g. {sorted(dangling)[0]}")
    listed = {article for row in tables.get("people", []) for article in row["article_ids"]}
    if dangling := listed - {row["article_id"] for row in tables.get("articles", [])}:
        problems.append(f"people.article_ids: {len(dangling)} ids not in articles")
    return problems


def _comparable(tables: dict[str, list[dict]]) -> dict[str, list[str]]:
    return {name: sorted(repr(sorted((k, v) for k, v in row.items() if k not in RUN_TIME_COLUMNS)) for row in rows)
            for name, rows in tables.items()}


def test_killed_runs_leave_readable_consistent_tables_that_the_next_run_completes(tmp_path):
    sources = Sources.load()
    rng = random.Random(SEED)
    variants = [_variant(number, sources) for number in range(VARIANTS)]
    baselines, run_seconds = {}, {}
    for number, pages in enumerate(variants):
        _write_raw(tmp_path / f"raw-{number}", pages)
        run_seconds[number] = _finish(tmp_path / f"raw-{number}", tmp_path / f"baseline-{number}")
        baselines[number] = _comparable(_tables(tmp_path / f"baseline-{number}"))
        assert set(baselines[number]) == set(TABLES)
    raw, out = tmp_path / "raw", tmp_path / "out"
    failures, interrupted = [], 0
    for kill in range(KILLS):
        number = rng.randrange(VARIANTS)
        _write_raw(raw, variants[number])
        when, running = _kill_at_some_point(raw, out, rng, run_seconds[number])
        interrupted += running
        try:
            tables = _tables(out)
        except Exception as error:  # noqa: BLE001 - an unreadable table is the finding, with its round
            failures.append(f"kill {kill} ({when}): unreadable table: {type(error).__name__}: {error}")
            shutil.rmtree(out)
            continue
        failures += [f"kill {kill} ({when}): {problem}" for problem in _dangling_references(tables)]
        _finish(raw, out)
        completed = _comparable(_tables(out))
        if completed != baselines[number]:
            differing = [name for name in TABLES if completed.get(name) != baselines[number].get(name)]
            failures.append(f"kill {kill} ({when}): after the next run, tables differ from an uninterrupted run: {differing}")
    leftovers = sorted(p.name for p in out.glob(".*.tmp")) if out.exists() else []
    print(f"\ncrash safety: {KILLS} kills, {interrupted} while the run was still going, {len(failures)} problems, "
          f"{len(leftovers)} temporary files left in the output folder")
    assert interrupted, "no kill landed while a run was going: the kill points say nothing"
    assert not failures, "\n".join(failures)
