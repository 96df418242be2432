"""Main-content benchmark: the parse stage against trafilatura alone, on trafilatura's evaluation set.

The set (990 real pages from many sites, each with up to six snippets the main text must contain and up
to six it must not) is unpacked from its archive into build/ (git-ignored; third-party pages are never
committed). The protocol is trafilatura's own: a ``with`` snippet found in the extracted text (whitespace
collapsed on both sides) is a true positive, else a false negative; a ``without`` snippet found is a false
positive. A page whose extraction raises counts as empty text, and is counted apart.

    python -m pipeline.bench_parse --archive ../shared/bench/trafilatura-eval.tar.gz [--json out.json]
    python -m pipeline.bench_parse --variants     # also trafilatura with other option sets

Every extractor runs over the same pages in the same process; each page goes through all of them in turn,
so that the load of a shared machine falls on all alike and their seconds compare. CPU seconds are counted
too: the wall clock also holds the wait for a core.
"""
from __future__ import annotations

import argparse
import json
import sys
import tarfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ARCHIVE = ROOT.parent / "shared" / "bench" / "trafilatura-eval.tar.gz"
DEFAULT_DIR = ROOT / "build" / "trafilatura-eval"
INDEX = "evaldata.json"
PAGE_FOLDERS = ("eval", "cache")  # a page's file is in one of these, as in trafilatura's own evaluation


@dataclass
class Score:
    """Snippet counts, seconds and failing pages of one extractor over the set."""

    name: str
    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0
    raised: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    pages: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def row(self) -> str:
        return (f"| {self.name} | {self.precision:.3f} | {self.recall:.3f} | {self.f1:.3f} | {len(self.raised)} | "
                f"{self.seconds:.0f} | {1000 * self.seconds / max(self.pages, 1):.0f} | "
                f"{1000 * self.cpu_seconds / max(self.pages, 1):.0f} |")


def unpack(archive: Path, folder: Path) -> Path:
    """The evaluation set in ``folder``, unpacked from ``archive`` the first time."""
    if (folder / INDEX).is_file():
        return folder
    if not archive.is_file():
        sys.exit(f"bench-parse: {archive}: no such archive (pass --archive PATH or --data DIR)")
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    if not (folder / INDEX).is_file():
        sys.exit(f"bench-parse: {archive}: no {INDEX} inside")
    return folder


def load_cases(folder: Path, limit: int = 0) -> list[tuple[Path, dict]]:
    """(page file, its snippets) for every entry of the index whose page is on disk."""
    index = json.loads((folder / INDEX).read_text(encoding="utf-8"))
    cases = []
    for entry in index.values():
        path = next((folder / sub / entry["file"] for sub in PAGE_FOLDERS if (folder / sub / entry["file"]).is_file()), None)
        if path is None:
            sys.exit(f"bench-parse: {entry['file']}: listed in {INDEX} but not found under {PAGE_FOLDERS}")
        cases.append((path, entry))
    return cases[:limit] if limit else cases


def collapse(text: str) -> str:
    return " ".join(text.split())


def score_page(result: Score, extract: Callable[[Path], str | None], path: Path, entry: dict) -> None:
    """Run ``extract`` on one page and count its snippets into ``result`` by trafilatura's protocol."""
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        text = collapse(extract(path) or "")
    except Exception as error:  # noqa: BLE001 - a raising page is a result of the benchmark, not its end
        result.raised.append(f"{path.name}: {type(error).__name__}: {str(error)[:160]}")
        text = ""
    result.seconds += time.perf_counter() - wall
    result.cpu_seconds += time.process_time() - cpu
    for snippet in entry["with"]:
        if collapse(snippet) in text:
            result.tp += 1
        else:
            result.fn += 1
    for snippet in entry["without"]:
        if collapse(snippet) in text:
            result.fp += 1
        else:
            result.tn += 1


def score_all(extractors: dict[str, Callable[[Path], str | None]], cases: list[tuple[Path, dict]]) -> list[Score]:
    """Every extractor over every page, each page through all extractors in turn."""
    results = {name: Score(name, pages=len(cases)) for name in extractors}
    for path, entry in cases:
        for name, extract in extractors.items():
            score_page(results[name], extract, path, entry)
    return list(results.values())


def parse_stage(path: Path) -> str:
    """The project's parse stage: the text of the page's main article (``articles.text``)."""
    from .parse import RawPage, parse_page

    return parse_page(RawPage(path))[0].text


def trafilatura_with(**options) -> Callable[[Path], str | None]:
    """trafilatura.extract on the page's bytes (it decodes them itself), with ``options``."""
    import trafilatura

    return lambda path: trafilatura.extract(path.read_bytes(), **options)


def trafilatura_with_metadata(path: Path) -> str | None:
    """trafilatura alone doing the stage's job: the main text and the page's metadata (title, author, date
    through htmldate, canonical URL, site name, categories, tags), as ``bare_extraction`` returns them. Its
    text is scored, not ``extract``'s text output, which would put a header of those fields before it."""
    import trafilatura

    document = trafilatura.bare_extraction(path.read_bytes(), with_metadata=True)
    return document.text if document is not None else None


VARIANTS = {
    "trafilatura favor_recall": dict(favor_recall=True),
    "trafilatura favor_precision": dict(favor_precision=True),
    "trafilatura fast (no fallback extractors)": dict(fast=True),
    "trafilatura include_tables=False": dict(include_tables=False),
    "trafilatura include_formatting": dict(include_formatting=True),
    "trafilatura output_format=xml": dict(output_format="xml"),
    "trafilatura.extract with_metadata=True (text output: a header of the metadata first)": dict(with_metadata=True),
}
# The rows every run prints: the stage; trafilatura's defaults (main text only); trafilatura asked for what the
# stage delivers from it (main text and metadata), the like-for-like reference for time.
STAGE = "parse stage (articles.text of the main article)"
DEFAULTS = "trafilatura.extract defaults (main text only)"
WITH_METADATA = "trafilatura with its metadata (bare_extraction, with_metadata=True)"


def print_time_ratios(scores: list[Score]) -> None:
    """The stage's CPU time per page against each trafilatura row of the same run (below 1: the stage is faster)."""
    by_name = {result.name: result for result in scores}
    stage = by_name.get(STAGE)
    if stage is None or not stage.cpu_seconds:
        return
    for name in (DEFAULTS, WITH_METADATA):
        if name in by_name and by_name[name].cpu_seconds:
            print(f"parse stage CPU time / {name}: {stage.cpu_seconds / by_name[name].cpu_seconds:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.bench_parse", description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE, help="trafilatura-eval.tar.gz")
    parser.add_argument("--data", type=Path, default=DEFAULT_DIR, help="where the set is (or is unpacked to)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N pages (a quick look)")
    parser.add_argument("--variants", action="store_true", help="also trafilatura with other option sets")
    parser.add_argument("--only", choices=["parse", "trafilatura"], help="only the parse stage, or only the trafilatura rows")
    parser.add_argument("--json", type=Path, help="also write the numbers as JSON to this file")
    args = parser.parse_args(argv)
    cases = load_cases(unpack(args.archive, args.data), args.limit)
    extractors: dict[str, Callable[[Path], str | None]] = {}
    if args.only != "trafilatura":
        extractors[STAGE] = parse_stage
    if args.only != "parse":
        extractors[DEFAULTS] = trafilatura_with()
        extractors[WITH_METADATA] = trafilatura_with_metadata
    if args.variants:
        extractors.update({name: trafilatura_with(**options) for name, options in VARIANTS.items()})
    for extract in extractors.values():  # warm-up: imports and first-use costs are not per-page costs
        extract(cases[0][0])
    print(f"{len(cases)} pages from {args.data}", flush=True)
    scores = score_all(extractors, cases)
    print("| extractor | precision | recall | F1 | pages that raise | seconds | ms/page | CPU ms/page |")
    print("|---|---|---|---|---|---|---|---|")
    for result in scores:
        print(result.row())
    print_time_ratios(scores)
    for result in scores:
        for failure in result.raised:
            print(f"  {result.name} raised on {failure}")
    if args.json:
        args.json.write_text(json.dumps([asdict(s) | {"precision": s.precision, "recall": s.recall, "f1": s.f1}
                                         for s in scores], indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
