"""Benchmark: how time and memory grow with the corpus, what updates cost, and the local engine against Dask.

``python -m pipeline.bench_scale`` (part of ``make bench``):

1. builds corpora of 1×, 4× and 10× a base of ``--copies`` distinct copies of the sample and dev pages
   (see ``bench.build_corpus``), so no page is skipped as unchanged;
2. runs ``story-extractor extract`` over each as a separate command, as a user would, into a fresh folder,
   sampling the memory of the command and of every process it starts (workers, Dask nanny and workers)
   every ``SAMPLE_S`` seconds with psutil: the peak of the largest process and of all of them together;
3. at 10×: runs the same command again with nothing changed (no-op), then after editing one page;
4. runs the 4× corpus with ``--engine dask`` (a LocalCluster on 127.0.0.1) beside the local engine;
5. prints a table (wall time, pages/s, words/s, peak RSS), writes ``--json`` and a PNG plot of time and
   memory against pages (``--plot``).

Times include starting Python and loading the model, as a scheduled job pays them. The benchmark never
asserts anything and always exits 0.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from .bench import PROJECT_ROOT, build_corpus, source_pages

SCALES = (1, 4, 10)
DASK_SCALE = 4
DEFAULT_COPIES = 8  # the base corpus: 8 copies of the 19 sample and dev pages, 152 pages
SAMPLE_S = 0.1  # how often memory is sampled: short runs (a no-op) last about a second
RUN_TIMEOUT_S = 3600


class _MemorySampler(threading.Thread):
    """Samples the RSS of a process and all its descendants until stopped; keeps the peaks."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_largest = 0
        self.peak_total = 0
        self.processes = 0
        self._done = threading.Event()

    def run(self) -> None:
        import psutil
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        seen = set()
        while not self._done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            sizes = []
            for process in tree:
                try:
                    sizes.append(process.memory_info().rss)
                    seen.add(process.pid)
                except psutil.NoSuchProcess:
                    continue
            if sizes:
                self.peak_largest = max(self.peak_largest, max(sizes))
                self.peak_total = max(self.peak_total, sum(sizes))
            self.processes = len(seen)
            self._done.wait(SAMPLE_S)

    def stop(self) -> None:
        self._done.set()
        self.join()


def run_extract(raw: Path, out: Path, engine: str = "local") -> dict:
    """Time one ``story-extractor extract`` command and sample the memory of its process tree."""
    command = [sys.executable, "-m", "pipeline", "extract", "--raw", str(raw), "--out", str(out), "--quiet",
               "--engine", engine]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = _MemorySampler(process.pid)
    sampler.start()
    try:
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    seconds = time.perf_counter() - start
    sampler.stop()
    return {"seconds": seconds, "status": process.returncode, "summary": stdout.strip().splitlines()[:1],
            "errors": stderr.strip().splitlines()[-5:] if process.returncode else [],
            "peak_rss_largest_mb": sampler.peak_largest / 2**20, "peak_rss_total_mb": sampler.peak_total / 2**20,
            "processes": sampler.processes}


def _words(out: Path) -> int:
    import pyarrow.parquet as pq
    texts = pq.read_table(out / "articles.parquet", columns=["text"]).column("text").to_pylist()
    return sum(len((text or "").split()) for text in texts)


def _edit_one_page(raw: Path) -> Path:
    page = sorted(raw.iterdir())[0]
    html = page.read_text("utf-8")
    page.write_text(html.replace("</body>", "<p>An added closing paragraph, for the update benchmark.</p></body>", 1),
                    "utf-8")
    return page


def run_benchmark(copies: int, work: Path) -> dict:
    rows = []
    base = copies * len(source_pages())
    for scale in SCALES:
        raw = work / f"raw-{scale}x"
        pages = build_corpus(raw, copies * scale)
        print(f"{scale}x: {pages} pages", flush=True)
        row = run_extract(raw, work / f"out-{scale}x")
        rows.append({"run": f"full extraction, {scale}x", "engine": "local", "pages": pages, **row,
                     "words": _words(work / f"out-{scale}x") if row["status"] in (0, 1) else 0})
        if scale == DASK_SCALE:
            row = run_extract(raw, work / f"out-{scale}x-dask", engine="dask")
            rows.append({"run": f"full extraction, {scale}x", "engine": "dask", "pages": pages, **row,
                         "words": rows[-1]["words"]})
    largest = SCALES[-1]
    raw, out = work / f"raw-{largest}x", work / f"out-{largest}x"
    pages = rows[-1]["pages"] if rows[-1]["engine"] == "local" else base * largest
    rows.append({"run": f"no-op update, {largest}x", "engine": "local", "pages": pages, **run_extract(raw, out),
                 "words": 0})
    _edit_one_page(raw)
    rows.append({"run": f"one page changed, {largest}x", "engine": "local", "pages": pages, **run_extract(raw, out),
                 "words": 0})
    return {"base_pages": base, "cpu_count": os.cpu_count(), "python": sys.version.split()[0], "runs": rows}


def derived(result: dict) -> dict:
    """The ratios the issue asks about: memory at 10x over 1x, and updates over the full run at 10x."""
    full = {row["run"]: row for row in result["runs"] if row["engine"] == "local"}
    first, last = full[f"full extraction, {SCALES[0]}x"], full[f"full extraction, {SCALES[-1]}x"]
    noop, one = full[f"no-op update, {SCALES[-1]}x"], full[f"one page changed, {SCALES[-1]}x"]
    return {"rss_largest_10x_over_1x": last["peak_rss_largest_mb"] / first["peak_rss_largest_mb"],
            "rss_total_10x_over_1x": last["peak_rss_total_mb"] / first["peak_rss_total_mb"],
            "noop_over_full_10x": noop["seconds"] / last["seconds"],
            "one_page_over_full_10x": one["seconds"] / last["seconds"]}


def format_table(result: dict) -> str:
    header = (f"{'run':<28} {'engine':<6} {'pages':>6} {'seconds':>8} {'pages/s':>8} {'words/s':>8} "
              f"{'peak RSS largest MB':>19} {'peak RSS all MB':>15} {'procs':>5}")
    lines = [header, "-" * len(header)]
    for row in result["runs"]:
        words_per_s = f"{row['words'] / row['seconds']:>8.0f}" if row["words"] else f"{'':>8}"
        lines.append(f"{row['run']:<28} {row['engine']:<6} {row['pages']:>6} {row['seconds']:>8.1f} "
                     f"{row['pages'] / row['seconds']:>8.1f} {words_per_s} {row['peak_rss_largest_mb']:>19.0f} "
                     f"{row['peak_rss_total_mb']:>15.0f} {row['processes']:>5}"
                     + ("" if row["status"] in (0, 1) else f"  (exit {row['status']}: {' | '.join(row['errors'])})"))
    return "\n".join(lines)


def plot(result: dict, path: Path) -> None:
    """Time and peak memory against pages, for the full runs of each engine, as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (time_axis, memory_axis) = plt.subplots(1, 2, figsize=(10, 4))
    for engine, marker, color in (("local", "o", "tab:blue"), ("dask", "s", "tab:orange")):
        runs = [row for row in result["runs"] if row["engine"] == engine and row["run"].startswith("full")]
        if not runs:
            continue
        pages = [row["pages"] for row in runs]
        time_axis.plot(pages, [row["seconds"] for row in runs], marker=marker, color=color, label=f"{engine} engine")
        memory_axis.plot(pages, [row["peak_rss_largest_mb"] for row in runs], marker=marker, color=color,
                         label=f"{engine}: largest process")
        memory_axis.plot(pages, [row["peak_rss_total_mb"] for row in runs], marker=marker, color=color,
                         linestyle="--", label=f"{engine}: all processes")
    for row in result["runs"]:
        if not row["run"].startswith("full"):
            time_axis.scatter([row["pages"]], [row["seconds"]], marker="x", color="black")
            time_axis.annotate(row["run"].split(",")[0], (row["pages"], row["seconds"]), fontsize=7,
                               textcoords="offset points", xytext=(-60, 6))
    time_axis.set(xlabel="pages", ylabel="wall seconds", title="Extraction time")
    memory_axis.set(xlabel="pages", ylabel="peak RSS (MB)", title="Peak memory", ylim=(0, None))
    time_axis.legend(fontsize=8)
    memory_axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.bench_scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=DEFAULT_COPIES,
                        help=f"copies of the sample and dev pages in the 1x corpus (default {DEFAULT_COPIES})")
    parser.add_argument("--json", type=Path, help="also write the numbers as JSON to this file")
    parser.add_argument("--plot", type=Path, help="also draw time and memory against pages into this PNG")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="pipeline-bench-scale-"))
    try:
        result = run_benchmark(max(1, args.copies), work)
        result["ratios"] = derived(result)
        print()
        print(format_table(result))
        print()
        for name, value in result["ratios"].items():
            print(f"{name}: {value:.3f}")
        if args.json:
            args.json.write_text(json.dumps(result, indent=2) + "\n")
        if args.plot:
            plot(result, args.plot)
            print(f"plot written to {args.plot}")
    except Exception as error:  # noqa: BLE001 - report, but a benchmark never fails the build
        print(f"benchmark error: {type(error).__name__}: {error}", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
