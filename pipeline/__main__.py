"""The command line: ``story-extractor`` (or ``python -m pipeline``). It only checks options and wires stages.

Every mistake in options, paths, models or environment is one line on stderr and a documented exit
status; ``--debug`` shows the traceback instead.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from contextlib import contextmanager
from pathlib import Path

from . import __version__

PROG = "story-extractor"
DESCRIPTION = """\
Turn narrative HTML stories about people into normalized, evidence-linked Parquet tables:
people, roles, countries, programme batches and dates, each with the text span it came from."""
EPILOG = """\
examples:
  story-extractor extract --raw my-pages --out my-tables
  story-extractor update --start-url https://example.org/stories/ --raw raw --out extracted
  story-extractor eval --gold tests/devset/gold --extracted build/devset --show-errors
  story-extractor report --extracted build/devset --out reports

exit status: 0 success; 1 the run finished but some page, request or write failed (the rest landed);
2 nothing was done: a usage mistake, a missing folder or model, a refused folder, or another run holds
the lock."""

EXIT_OK, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # the shell's status for a run stopped by Ctrl-C


class _HelpWithDefaults(argparse.HelpFormatter):
    """Appends "(default: X)" to an option's help when it has a default worth showing (not None, not a flag)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


class UsageError(Exception):
    """A mistake in the command line or its paths: reported in one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    from .fetch import DEFAULT_DEADLINE
    formatter = _HelpWithDefaults
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks and debug logging")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    extract = commands.add_parser("extract", formatter_class=formatter, help="extract a folder of HTML pages into tables",
                                  description="Extract every page of a folder (.html, .htm, .xhtml, .shtml, any case, "
                                              "optionally .gz) into Parquet tables; only new or changed pages are "
                                              "extracted again.")
    _raw_option(extract)
    _out_option(extract)
    _model_option(extract)
    _confidence_option(extract)
    _prune_option(extract)
    _engine_options(extract)
    extract.add_argument("--follow-symlinks", action="store_true",
                         help="also read pages that symlinks lead to outside the --raw folder")
    extract.add_argument("--quiet", action="store_true", help="no progress bar")

    evaluate = commands.add_parser("eval", formatter_class=formatter, help="score extracted tables against gold annotations",
                                   description="Score extracted tables against gold annotations (one JSON file per "
                                               "article, matched by title).")
    evaluate.add_argument("--gold", type=Path, default=Path("tests/fixtures/gold"), help="folder of gold *.json files")
    evaluate.add_argument("--extracted", type=Path, default=Path("extracted"), help="folder of extracted tables")
    evaluate.add_argument("--json", type=Path, help="also write the scores as JSON to this file ('-': stdout)")
    evaluate.add_argument("--show-errors", action="store_true", help="list each field's misses and extras")

    fetch = commands.add_parser("fetch", formatter_class=formatter, help="download new or changed stories politely",
                                description="Download new or changed stories into the raw folder (robots.txt obeyed, "
                                            "one request at a time).")
    update = commands.add_parser("update", formatter_class=formatter, help="fetch, then extract what is new or changed",
                                 description="Fetch, then extract only what is new or changed; one summary line, "
                                             "for cron.")
    for sub in (fetch, update):
        sub.add_argument("--start-url", default=None, help="listing page of the stories (default: the JAIF site)")
        _raw_option(sub)
        sub.add_argument("--delay", type=_seconds, default=1.0, help="seconds between requests")
        sub.add_argument("--timeout", type=_seconds, default=20.0, help="connect and read timeout, seconds")
        sub.add_argument("--deadline", type=_seconds, default=DEFAULT_DEADLINE,
                         help="most seconds one request may take in all, however slowly the server sends")
    _out_option(update)
    _model_option(update)
    _confidence_option(update)
    _prune_option(update)
    _engine_options(update)

    check = commands.add_parser("validate", formatter_class=formatter, help="check a folder of tables against the schema's rules",
                                description="Check every table of a folder against the schema: columns, types, keys, "
                                            "accepted values, ISO3 codes, references between tables, ranges and "
                                            "offsets. Prints a report; exit 1 on a violation.")
    check.add_argument("folder", type=Path, metavar="DIR", help="folder of tables")

    report = commands.add_parser("report", formatter_class=formatter, help="write the review site: each article's text with its facts",
                                 description="Write a static HTML site for reviewers: one page per article with its "
                                             "text, every extracted span highlighted by label, and a table of its "
                                             "facts with their source, each linked to its evidence; index.html lists "
                                             "the articles with their counts.")
    report.add_argument("--extracted", type=Path, default=Path("extracted"), help="folder of extracted tables")
    report.add_argument("--out", type=Path, default=Path("reports"), help="folder of the site (index.html and a page per article)")

    commands.add_parser("dictionary", help="print the data dictionary (Markdown) generated from the schema",
                        description="Print the data dictionary (Markdown) generated from pipeline/schema.py.")
    return parser


def _raw_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--raw", type=Path, default=Path("raw"), help="folder of pages (and of fetched snapshots)")


def _out_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("extracted"), help="folder of the Parquet tables")


def _model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None,
                        help="spaCy model name or path, or 'blank' for rules alone "
                             "(default: $STORY_EXTRACTOR_MODEL, else the pinned small English model)")


MAX_OPTION_SECONDS = 86400.0  # a day: more for a delay or a timeout is a typing mistake, and inf or nan break clocks


def _number_from(low: float, high: float, what: str):
    """An argparse type: a number from ``low`` to ``high`` (never inf or nan), else a usage error naming ``what``."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not low <= value <= high:  # false for nan too
            raise argparse.ArgumentTypeError(f"expected {what} from {low:g} to {high:g}, not {text!r}")
        return value
    return parse


_seconds = _number_from(0.0, MAX_OPTION_SECONDS, "seconds")
_confidence = _number_from(0.0, 1.0, "a number")


def _confidence_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--min-confidence", type=_confidence, default=None, metavar="0-1",
                        help="hold back fact rows (roles, countries, batches, dates) the scorer gives less confidence; "
                             "they are counted in the summary line (default: the threshold chosen on the dev set, "
                             "stored in pipeline/models/scorer.json; 0 keeps every row)")


def _engine_options(parser: argparse.ArgumentParser) -> None:
    from .engine import ENGINES
    parser.add_argument("--engine", choices=ENGINES, default="local",
                        help="where pages are extracted: this machine's cores, or a Dask cluster")
    parser.add_argument("--scheduler", metavar="ADDRESS", default=None,
                        help="Dask scheduler to use (e.g. tcp://10.0.0.5:8786); without it --engine dask starts a "
                             "local cluster, one worker per core")


def _prune_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--prune", action="store_true",
                        help="remove the rows of pages no longer in the --raw folder (otherwise they are kept and "
                             "marked gone_at)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return _run(args)
    except BrokenPipeError:
        # the reader (e.g. `| head`) has gone: end quietly, and keep Python from complaining at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; the tables are as the last completed write left them", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # noqa: BLE001 - the one place every error becomes one line
        if args.debug:
            raise
        status, message = _describe(error)
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return status


def _describe(error: Exception) -> tuple[int, str]:
    """The exit status and one-line message for an error that reached the top."""
    from .evaluate import MissingTables
    from .engine import EngineError
    from .extract.scorer import ScorerModelError
    from .model import ModelNotFound
    from .run import Busy, WrongFolder
    from .store import StoreError
    from .validate import InvalidTables
    if isinstance(error, (UsageError, ModelNotFound, Busy, WrongFolder, MissingTables, EngineError, StoreError,
                          ScorerModelError)):
        return EXIT_USAGE, str(error)
    if isinstance(error, InvalidTables):  # a bug or old tables: nothing was written
        return EXIT_FAILURES, str(error)
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        return EXIT_FAILURES, f"{where}{error.strerror or error}"
    return EXIT_FAILURES, f"unexpected {type(error).__name__}: {error} (run with --debug for the traceback)"


def _run(args: argparse.Namespace) -> int:
    if args.command == "extract":
        return _extract(args)
    if args.command == "eval":
        return _eval(args)
    if args.command == "fetch":
        return _fetch(args)
    if args.command == "update":
        return _update(args)
    if args.command == "validate":
        return _validate(args)
    if args.command == "report":
        return _report(args)
    from .schema import data_dictionary
    print(data_dictionary())
    return EXIT_OK


def _folder_to_read(path: Path, what: str) -> Path:
    if not path.exists():
        raise UsageError(f"{what} {path} does not exist")
    if not path.is_dir():
        raise UsageError(f"{what} {path} is not a folder")
    if not os.access(path, os.R_OK | os.X_OK):
        raise UsageError(f"{what} {path} cannot be read (permission denied)")
    return path


def _folder_to_write(path: Path, what: str) -> Path:
    if path.exists() and not path.is_dir():
        raise UsageError(f"{what} {path} is a file, not a folder")
    existing = next(parent for parent in (path, *path.absolute().parents) if parent.exists())
    if not existing.is_dir():
        raise UsageError(f"{what} {path} cannot be made: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{what} {path} cannot be written (permission denied on {existing})")
    return path


@contextmanager
def _engine(args: argparse.Namespace):
    """The engine the options ask for (None: the local default), closed when the run ends."""
    from .engine import DaskEngine
    if args.engine == "local":
        if args.scheduler:
            raise UsageError("--scheduler needs --engine dask")
        yield None
        return
    engine = DaskEngine(args.scheduler)
    try:
        yield engine
    finally:
        engine.close()


CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")


def _one_line(text: object) -> str:
    """A file name or reason on one line: a newline in a file's name must not split its "failed:" line."""
    return CONTROL_CHARACTER.sub(lambda match: repr(match.group())[1:-1], str(text))


def _extract(args: argparse.Namespace) -> int:
    from .extract.scorer import scorer_model
    from .model import check_model
    from .run import extract_corpus, update_lock
    _folder_to_read(args.raw, "--raw")
    _folder_to_write(args.out, "--out")
    check_model(args.model)
    scorer_model()  # a missing or unreadable scorer model is one line here, not a failure on every page
    with update_lock(args.out), _engine(args) as engine:
        summary = extract_corpus(args.raw, args.out, model=args.model, progress=not args.quiet and sys.stderr.isatty(),
                                 prune=args.prune, follow_symlinks=args.follow_symlinks, engine=engine,
                                 min_confidence=args.min_confidence)
    for warning in summary.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for failure in summary.failures:
        print(f"failed: {_one_line(failure.path)}: {_one_line(failure.reason)}", file=sys.stderr)
    print(summary.line())
    print(f"tables in {args.out}/: {'rewrote ' + ', '.join(summary.written) if summary.written else 'unchanged'}")
    return EXIT_FAILURES if summary.failures else EXIT_OK


def _eval(args: argparse.Namespace) -> int:
    from .evaluate import evaluate, format_report
    _folder_to_read(args.gold, "--gold")
    if not list(args.gold.glob("*.json")):
        raise UsageError(f"--gold {args.gold} holds no gold *.json files")
    _folder_to_read(args.extracted, "--extracted")
    report = evaluate(args.gold, args.extracted)
    gold_files = len(list(args.gold.glob("*.json")))
    for unmatched in report["unmatched_gold"]:
        print(f"warning: {unmatched}", file=sys.stderr)
    if len(report["unmatched_gold"]) == gold_files:
        print(f"warning: no gold article matched an extracted article; is {args.extracted} the extraction of "
              f"the pages {args.gold} annotates?", file=sys.stderr)
    if str(args.json) != "-":
        print(format_report(report, show_errors=args.show_errors))
    if args.json:
        text = json.dumps(report, indent=2, sort_keys=True)
        if str(args.json) == "-":
            print(text)
        else:
            args.json.write_text(text + "\n")
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    """Report per table on stdout; 0 when valid, 1 on a violation, 2 when DIR is not a folder of tables."""
    from .validate import NotTables, format_report, validate_folder
    try:
        reports = validate_folder(args.folder)
    except NotTables as error:
        raise UsageError(str(error)) from None
    print(format_report(reports))
    return EXIT_FAILURES if any(report.violations for report in reports) else EXIT_OK


def _report(args: argparse.Namespace) -> int:
    """Build the review site; a folder without tables is a usage mistake (exit 2)."""
    from .evaluate import MissingTables
    from .report import INDEX, build_report
    _folder_to_read(args.extracted, "--extracted")
    _folder_to_write(args.out, "--out")
    if args.out.resolve() == args.extracted.resolve():
        raise UsageError(f"--out {args.out} is the folder of tables; give the site its own folder")
    try:
        summary = build_report(args.extracted, args.out)
    except MissingTables as error:
        raise UsageError(str(error)) from None
    print(summary.line())
    print(f"open {args.out / INDEX}")
    return EXIT_OK


def _fetch_config(args: argparse.Namespace):
    from .fetch import DEFAULT_START_URL, FetchConfig
    if args.delay < 0 or args.timeout <= 0 or args.deadline <= 0:
        raise UsageError("--delay must be >= 0, --timeout and --deadline > 0")
    try:
        return FetchConfig(start_url=args.start_url or DEFAULT_START_URL, delay=args.delay,
                           connect_timeout=args.timeout, read_timeout=args.timeout, deadline=args.deadline)
    except ValueError as error:
        raise UsageError(str(error)) from None


def _fetch(args: argparse.Namespace) -> int:
    """0 ok, 1 some request failed, 2 usage error or fetch lock held."""
    from filelock import Timeout

    from .fetch import FETCH_LOCK, fetch_site
    config = _fetch_config(args)
    _folder_to_write(args.raw, "--raw")
    try:
        report = fetch_site(config, args.raw)
    except Timeout:
        raise UsageError(f"another fetch is running on {args.raw} ({args.raw / FETCH_LOCK} is held); nothing done") from None
    for problem in report.problems:
        print(f"fetch: {problem.url}: {problem.reason}", file=sys.stderr)
    print(f"fetch: {report.discovered} discovered, {report.new} new, {report.changed} changed, "
          f"{report.unchanged} unchanged, {report.gone} gone, {report.skipped} skipped, {report.failed} failed")
    # A listing or sitemap that could not be read is a failure too (stories may be missing), e.g. the site is down.
    discovery_failed = any(p.reason.startswith(("listing:", "sitemap:")) for p in report.problems)
    return EXIT_FAILURES if report.failed or discovery_failed else EXIT_OK


def _update(args: argparse.Namespace) -> int:
    """Fetch, then extract what changed: one summary line on stdout, each failure on stderr."""
    from .extract.scorer import scorer_model
    from .model import check_model
    from .run import update_corpus
    config = _fetch_config(args)
    _folder_to_write(args.raw, "--raw")
    _folder_to_write(args.out, "--out")
    check_model(args.model)
    scorer_model()
    with _engine(args) as engine:
        result = update_corpus(config, args.raw, args.out, model=args.model, prune=args.prune, engine=engine,
                               min_confidence=args.min_confidence)
    for problem in result.fetch_failures:
        print(f"failed: {_one_line(problem.url)}: {_one_line(problem.reason)}", file=sys.stderr)
    for warning in result.summary.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for failure in result.summary.failures:
        print(f"failed: {_one_line(failure.url or failure.path)}: {_one_line(failure.reason)}", file=sys.stderr)
    print(result.line())
    return result.status


if __name__ == "__main__":
    sys.exit(main())
