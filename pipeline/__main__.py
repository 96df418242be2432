"""Command line: ``python -m pipeline {extract,eval,fetch,update,dictionary}``; it only wires the stages."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    extract = commands.add_parser("extract", help="extract a folder of HTML pages into Parquet tables")
    extract.add_argument("--raw", type=Path, default=Path("raw"))
    extract.add_argument("--out", type=Path, default=Path("extracted"))
    extract.add_argument("--model", help="spaCy model name or 'blank' for rules alone (default: $STORY_EXTRACTOR_MODEL or the pinned small model)")
    extract.add_argument("--quiet", action="store_true", help="no progress bar")

    evaluate = commands.add_parser("eval", help="score extracted tables against gold annotations")
    evaluate.add_argument("--gold", type=Path, required=True)
    evaluate.add_argument("--extracted", type=Path, required=True)
    evaluate.add_argument("--json", type=Path, help="also write the scores as JSON to this file ('-' for stdout only)")

    fetch = commands.add_parser("fetch", help="download new or changed stories politely into the raw folder")
    update = commands.add_parser("update", help="fetch, then re-extract only what is new or changed")
    for sub in (fetch, update):
        sub.add_argument("--start-url", default=None, help="listing page of the stories (default: the JAIF site)")
        sub.add_argument("--raw", type=Path, default=Path("raw"))
        sub.add_argument("--delay", type=float, default=1.0, help="seconds between requests (default: 1)")
        sub.add_argument("--timeout", type=float, default=20.0, help="connect and read timeout, seconds (default: 20)")
        sub.add_argument("--deadline", type=float, default=None, help="most seconds one request may take in all, however slowly the server sends (default: 60)")
    update.add_argument("--out", type=Path, default=Path("extracted"))
    update.add_argument("--model", help="spaCy model name or 'blank' (as for extract)")

    commands.add_parser("dictionary", help="print the data dictionary (Markdown) generated from the schema")

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "extract":
        return _extract(args.raw, args.out, args.model, not args.quiet)
    if args.command == "eval":
        return _eval(args)
    if args.command in ("fetch", "update"):
        return _fetch_and_update(args)
    if args.command == "dictionary":
        from .schema import data_dictionary
        print(data_dictionary())
        return 0
    return 2


def _extract(raw: Path, out: Path, model: str | None, progress: bool) -> int:
    from .run import Busy, extract_corpus, update_lock
    if not raw.is_dir():
        print(f"error: {raw} is not a folder of pages", file=sys.stderr)
        return 2
    try:
        with update_lock(out):
            summary = extract_corpus(raw, out, model=model, progress=progress and sys.stderr.isatty())
    except Busy as busy:
        print(f"error: {busy}", file=sys.stderr)
        return 2
    for failure in summary.failures:
        print(f"failed: {failure.path}: {failure.reason}", file=sys.stderr)
    print(summary.line())
    print(f"tables in {out}/: {'rewrote ' + ', '.join(summary.written) if summary.written else 'unchanged'}")
    return 1 if summary.failures else 0


def _eval(args) -> int:
    from .evaluate import MissingTables, evaluate, format_report
    if not args.gold.is_dir() or not list(args.gold.glob("*.json")):
        print(f"error: {args.gold} holds no gold *.json files", file=sys.stderr)
        return 2
    try:
        report = evaluate(args.gold, args.extracted)
    except MissingTables as missing:
        print(f"error: {missing}", file=sys.stderr)
        return 2
    print(format_report(report))
    if args.json:
        text = json.dumps(report, indent=2, sort_keys=True)
        if str(args.json) == "-":
            print(text)
        else:
            args.json.write_text(text + "\n")
    return 0


def _fetch_and_update(args) -> int:
    """fetch: 0 ok, 1 some request failed, 2 usage error or fetch lock held.
    update: the same, plus 1 when a page failed to parse or extract, and 2 when another update holds the lock."""
    from filelock import Timeout

    from .fetch import DEFAULT_DEADLINE, DEFAULT_START_URL, FetchConfig
    try:
        if args.delay < 0 or args.timeout <= 0:
            raise ValueError("--delay must be >= 0 and --timeout > 0")
        config = FetchConfig(start_url=args.start_url or DEFAULT_START_URL, delay=args.delay,
                             connect_timeout=args.timeout, read_timeout=args.timeout,
                             deadline=DEFAULT_DEADLINE if args.deadline is None else args.deadline)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    folders = [args.raw] + ([args.out] if args.command == "update" else [])
    for folder in folders:
        if folder.exists() and not folder.is_dir():
            print(f"error: {folder} is not a folder", file=sys.stderr)
            return 2
    if args.command == "update":
        return _update(config, args)
    from .fetch import fetch_site
    try:
        report = fetch_site(config, args.raw)
    except Timeout:
        print(f"error: another fetch is running on {args.raw} ({args.raw / '.fetch.lock'} is held)", file=sys.stderr)
        return 2
    for problem in report.problems:
        print(f"fetch: {problem.url}: {problem.reason}", file=sys.stderr)
    print(f"fetch: {report.discovered} discovered, {report.new} new, {report.changed} changed, "
          f"{report.unchanged} unchanged, {report.gone} gone, {report.skipped} skipped, {report.failed} failed")
    # A listing or sitemap that could not be read is a failure too (stories may be missing), e.g. the site is down.
    discovery_failed = any(p.reason.startswith(("listing:", "sitemap:")) for p in report.problems)
    return 1 if report.failed or discovery_failed else 0


def _update(config, args) -> int:
    """Fetch, then extract what changed: one summary line on stdout, each failure on stderr."""
    from .run import Busy, update_corpus
    try:
        result = update_corpus(config, args.raw, args.out, model=args.model)
    except Busy as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for problem in result.fetch_failures:
        print(f"failed: {problem.url}: {problem.reason}", file=sys.stderr)
    for failure in result.summary.failures:
        print(f"failed: {failure.url or failure.path}: {failure.reason}", file=sys.stderr)
    print(result.line())
    return result.status


if __name__ == "__main__":
    sys.exit(main())
