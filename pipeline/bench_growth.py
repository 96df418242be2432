"""Benchmark: does extraction grow linearly with the page on the shapes that once made it quadratic?

``python -m pipeline.bench_growth`` (part of ``make bench``) extracts pages that are one unpunctuated run of a
repeated unit (``synthetic.RUN_SHAPES``: capitalised programme words, names, acronym titles, organisation
chains, name lists, plural titles before names, bracketed acronyms, plain words) at two sizes, one page at a
time in this process with the per-page time limit off, and prints the CPU seconds of each and their ratio.
Four times the text should cost about four times the work; a step that searches the whole run from each
match costs sixteen. A ratio above ``LINEAR_RATIO_LIMIT`` is flagged. CPU time, not wall time, so other work
on the machine moves the numbers little. It never asserts anything and always exits 0.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from .bench import cpu_seconds

SIZES = (100_000, 400_000)  # characters; the second is 4x the first
LINEAR_RATIO_LIMIT = 6.0  # for 4x the text: linear is about 4x the CPU time, quadratic 16x; 6 leaves room for noise


def measure(shapes: list[str], sizes: tuple[int, int]) -> list[dict]:
    """CPU seconds to extract one page of each shape at each size, and the ratio of the two."""
    from .engine import PROCESSES_ENV
    from .nlp import build_nlp
    from .pagework import PAGE_TIME_LIMIT_ENV
    from .run import extract_corpus
    from .synthetic import run_page

    os.environ[PAGE_TIME_LIMIT_ENV] = "0"  # see the real time, not the limit
    os.environ[PROCESSES_ENV] = "1"  # one page: this process does the work it measures
    build_nlp(None)
    work = Path(tempfile.mkdtemp(prefix="pipeline-growth-"))
    rows = []
    try:
        (work / "warmup").mkdir()  # first-use costs (dateparser data, regex compilation) are not the first shape's
        (work / "warmup" / "page.html").write_text(run_page(shapes[0], 2_000), "utf-8")
        extract_corpus(work / "warmup", work / "out-warmup", progress=False)
        for number, shape in enumerate(shapes):
            row = {"shape": shape}
            for size in sizes:
                raw = work / f"raw-{number}-{size}"
                raw.mkdir()
                (raw / "page.html").write_text(run_page(shape, size), "utf-8")
                start = cpu_seconds()
                summary = extract_corpus(raw, work / f"out-{number}-{size}", progress=False)
                row[f"cpu_s_{size}"] = cpu_seconds() - start
                row.setdefault("failures", []).extend(f"{f.path}: {f.reason}" for f in summary.failures)
            row["ratio"] = row[f"cpu_s_{sizes[1]}"] / max(row[f"cpu_s_{sizes[0]}"], 0.01)
            rows.append(row)
            print(format_row(row, sizes), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def format_row(row: dict, sizes: tuple[int, int]) -> str:
    """One line: shape, CPU seconds at each size, ratio, and whether it looks linear."""
    verdict = "linear" if row["ratio"] <= LINEAR_RATIO_LIMIT else f"GROWS FASTER THAN LINEAR (> {LINEAR_RATIO_LIMIT}x)"
    failures = f"  failures: {row['failures']}" if row["failures"] else ""
    return (f"{row['shape']:<30} {row[f'cpu_s_{sizes[0]}']:>10.1f} {row[f'cpu_s_{sizes[1]}']:>10.1f} "
            f"{row['ratio']:>6.1f}x  {verdict}{failures}")


def main(argv: list[str] | None = None) -> int:
    from .synthetic import RUN_SHAPES

    parser = argparse.ArgumentParser(prog="python -m pipeline.bench_growth", description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", action="append", choices=sorted(RUN_SHAPES), help="only these shapes (default: all)")
    parser.add_argument("--json", type=Path, help="also write the numbers as JSON to this file")
    args = parser.parse_args(argv)
    print(f"{'one unpunctuated run of':<30} {f'{SIZES[0] // 1000}K CPU s':>10} {f'{SIZES[1] // 1000}K CPU s':>10} "
          f"{'ratio':>7}", flush=True)
    try:
        rows = measure(args.shape or list(RUN_SHAPES), SIZES)
        if args.json is not None:
            args.json.write_text(json.dumps({"sizes": SIZES, "shapes": rows}, indent=2) + "\n")
            print(f"numbers written to {args.json}")
    except Exception as error:  # noqa: BLE001 - report, but a benchmark never fails the build
        print(f"benchmark error: {type(error).__name__}: {error}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
