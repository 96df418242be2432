"""Bad pages must never crash a run nor vanish, and must not change what the good pages around them yield.

A few hundred seeded pages from ``pipeline.fuzz`` (every kind, medium sizes; ``make fuzz`` does 5,000 with
1 MB lines) go through the real command, ``python -m pipeline extract``, in one folder with unchanged copies
of the development pages. The blank model keeps the run short: what is fuzzed is the parsing and the rules,
and ``make fuzz`` runs the pinned model page by page.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.fuzz import (KINDS, MEDIUM, WALL_HANG_FACTOR, CorpusRun, FuzzPage, Sources, _cpu_seconds, _Slot,
                           generate, read_failures, run_command)

PAGES = 240  # 16 of each bad kind, and every development page once
SEED = 11
MODEL = "blank"
RUN_LIMIT_SECONDS = 240  # the folder takes 30-75 s on 2 cores shared with other jobs; past this it hangs
PER_ARTICLE_TABLES = ("articles", "profiles", "article_people", "mentions", "roles", "countries", "batches", "dates")
RUN_TIME_COLUMNS = {"extracted_at"}


def _run(raw: Path, out: Path) -> CorpusRun:
    try:
        return run_command(raw, out, MODEL, timeout=RUN_LIMIT_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"hang: python -m pipeline extract over {raw} still running after {RUN_LIMIT_SECONDS} s")


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    """(pages, the run over bad and good pages together, the run over the good pages alone)."""
    folder = tmp_path_factory.mktemp("fuzz")
    pages = generate(folder / "raw", PAGES, SEED, MEDIUM)
    (folder / "good").mkdir()
    for page in pages:
        if page.good:
            shutil.copy(folder / "raw" / page.name, folder / "good" / page.name)
    alone = _run(folder / "good", folder / "good-out")
    together = _run(folder / "raw", folder / "out")
    return pages, together, alone, folder


def test_the_generator_is_seeded_and_writes_every_kind(tmp_path):
    sources = Sources.load()
    first = generate(tmp_path / "a", 40, 3, MEDIUM, sources)
    again = generate(tmp_path / "b", 40, 3, MEDIUM, sources)
    other = generate(tmp_path / "c", 40, 4, MEDIUM, sources)
    read = lambda folder, pages: [(folder / p.name).read_bytes() for p in pages]  # noqa: E731
    assert read(tmp_path / "a", first) == read(tmp_path / "b", again)
    assert read(tmp_path / "a", first) != read(tmp_path / "c", other)
    assert {p.kind for p in first} == set(KINDS) | {"good"}


def test_no_crash(fuzzed):
    pages, together, _, _ = fuzzed
    assert together.status in (0, 1), together.stderr[-3000:]
    assert not together.traceback, together.stderr[-3000:]


def test_every_page_is_extracted_or_reported(fuzzed):
    pages, together, _, _ = fuzzed
    lost = together.lost(pages)
    assert not lost, f"{len(lost)} pages neither extracted nor reported, e.g. {lost[:10]}"
    assert set(together.reported) <= {p.name for p in pages}, "a failed: line names a file that is not a page"


def test_every_good_page_lands_as_when_extracted_alone(fuzzed):
    pages, together, alone, folder = fuzzed
    good = [p.name for p in pages if p.good]
    assert good and all(name in alone.landed for name in good), alone.stderr[-2000:]
    missing = [name for name in good if together.landed.get(name) != alone.landed[name]]
    assert not missing, f"good pages whose articles differ next to bad pages: {missing}"
    ids = set().union(*(alone.landed[name] for name in good))
    for table in PER_ARTICLE_TABLES:
        assert _rows(folder / "out", table, ids) == _rows(folder / "good-out", table, ids), table


def _rows(out: Path, table: str, article_ids: set[str]) -> list[str]:
    rows = pq.read_table(out / f"{table}.parquet").to_pylist()
    return sorted(repr(sorted((k, v) for k, v in row.items() if k not in RUN_TIME_COLUMNS))
                  for row in rows if row["article_id"] in article_ids)


def test_two_files_with_one_canonical_url_are_each_extracted_or_reported(tmp_path):
    """A page saved twice under two names declares one canonical URL: one article, never a failed run."""
    page = next(iter(Sources.load().devset.values()))
    (tmp_path / "raw").mkdir()
    for name in ("copy-a.html", "copy-b.html"):
        (tmp_path / "raw" / name).write_bytes(page)
    run = _run(tmp_path / "raw", tmp_path / "out")
    assert run.status in (0, 1) and not run.traceback, run.stderr[-3000:]
    assert not run.lost([FuzzPage("copy-a.html", "good"), FuzzPage("copy-b.html", "good")]), run.stderr[-3000:]


SPACY_MAX_CHARACTERS = 1_000_000  # spaCy's default nlp.max_length


def test_a_page_longer_than_the_model_accepts_is_extracted_or_reported(tmp_path):
    """One page of more text than spaCy takes at once must not sink the pages next to it."""
    (tmp_path / "raw").mkdir()
    words = "word " * (SPACY_MAX_CHARACTERS // len("word ") + 1)
    (tmp_path / "raw" / "long.html").write_text(f"<html><body><h1>Long</h1><p>{words}</p></body></html>")
    name, page = next(iter(Sources.load().devset.items()))
    (tmp_path / "raw" / name).write_bytes(page)
    run = _run(tmp_path / "raw", tmp_path / "out")
    assert run.status in (0, 1) and not run.traceback, run.stderr[-3000:]
    assert name in run.landed
    assert not run.lost([FuzzPage("long.html", "huge-line"), FuzzPage(name, "good")]), run.stderr[-3000:]


def _spin(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    time.sleep(60)


def _starved() -> None:
    """Works a little, waits a lot, as a worker does when other jobs hold the cores."""
    while True:
        end = time.process_time() + 0.05
        while time.process_time() < end:
            pass
        time.sleep(0.3)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="CPU time is read from /proc")
def test_a_hang_is_counted_in_cpu_time_and_a_worker_without_any_progress_by_the_clock():
    """A worker burning CPU past the limit is hanging; one that uses no CPU time at all for several times the
    limit is too; one that gets a little CPU time now and then (starved by other jobs) is not."""
    context = multiprocessing.get_context("fork")
    slots = {name: _Slot(context.Process(target=target, args=args, daemon=True), None)
             for name, target, args in (("busy", _spin, (1.5,)), ("asleep", time.sleep, (60,)), ("starved", _starved, ()))}
    try:
        for slot in slots.values():
            slot.process.start()
            slot.started, slot.cpu_started = time.monotonic(), _cpu_seconds(slot.process.pid)
        limit = 1.0
        deadline = time.monotonic() + WALL_HANG_FACTOR * limit + 2.5
        verdicts = {name: False for name in slots}
        while time.monotonic() < deadline:
            for name, slot in slots.items():
                verdicts[name] = verdicts[name] or slot.hung(limit, time.monotonic() - slot.started)
            time.sleep(0.5)
        assert verdicts == {"busy": True, "asleep": True, "starved": False}
        assert slots["busy"].cpu_spent() >= 1.0
    finally:
        for slot in slots.values():
            slot.process.kill()
            slot.process.join()


def test_a_stopped_fuzz_run_resumes_where_it_stopped(tmp_path, capsys):
    """Each page's result is kept as it comes; --resume checks only the pages not yet checked, and the report
    counts them all."""
    from pipeline.fuzz import main
    work = tmp_path / "work"
    arguments = ["--pages", "12", "--seed", "3", "--medium", "--model", MODEL, "--work", str(work), "--workers", "1"]
    main(arguments)
    log = work / "per-page.jsonl"
    lines = log.read_text().splitlines()
    assert len(lines) == 12
    log.write_text("\n".join(lines[:5]) + "\n" + lines[5][:20])  # stopped while writing the sixth
    capsys.readouterr()
    main(arguments + ["--resume"])
    err = capsys.readouterr().err
    assert "5 of 12 pages checked before" in err
    resumed = [json.loads(line) for line in log.read_text().splitlines()]  # every line whole again
    assert len(resumed) == 12 and [r["name"] for r in resumed[:5]] == [json.loads(line)["name"] for line in lines[:5]]
    report = json.loads((work / "report.json").read_text())
    assert sorted(r["name"] for r in report["per_page"]) == sorted(json.loads(line)["name"] for line in lines)


def test_the_page_checks_leave_the_whole_folder_run_its_own_processes(tmp_path, monkeypatch):
    """Only the page-check workers run single-process; the whole-folder run (a child of the runner) must get the
    command's default, or it measures a run no user makes."""
    from pipeline.engine import PROCESSES_ENV
    from pipeline.fuzz import check_pages
    monkeypatch.delenv(PROCESSES_ENV, raising=False)
    pages = generate(tmp_path / "raw", 4, SEED, MEDIUM)
    results = check_pages(tmp_path / "raw", pages, MODEL, hang_seconds=60, workers=1, progress=False)
    assert len(results) == 4
    assert PROCESSES_ENV not in os.environ


def test_a_caught_traceback_of_any_pipeline_module_is_an_internal_error_not_a_crash():
    """The 5,000-page run's whole-folder pass printed CRASHED for a caught error: its traceback was logged by
    pipeline.pagework, and the pattern knew only pipeline.run."""
    stderr = ("ERROR pipeline.pagework: parsing failed for soup.html\nTraceback (most recent call last):\n"
              "  File \"x.py\", line 1, in f\nAssertionError\nfailed: soup.html: AssertionError: \n"
              "failed: empty.html: empty file\n")
    reported, internal = read_failures(stderr)
    assert reported == {"soup.html": "AssertionError: ", "empty.html": "empty file"}
    assert internal == {"soup.html"}
    run = CorpusRun(1, 1.0, "", stderr, {}, reported, internal)
    assert not run.crashed
    assert CorpusRun(1, 1.0, "", stderr, {}, reported, set()).crashed  # an escaped traceback still is one
