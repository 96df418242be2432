"""Wiring of the stages over a folder of pages: snapshots → parse → segment → spaCy → extract → tables.

Pages whose file did not change since the last run (same sha256, same pipeline version) keep their rows
untouched, so a re-run over unchanged input writes nothing and an update re-extracts only what changed.

The work is decided by comparing the current snapshots in the raw folder with the ``articles`` table, never
by what the last fetch reported, so a run killed after fetching (or while writing the tables) is completed
by the next one. A page is all-or-nothing: if it cannot be parsed, or one of its articles cannot be
extracted, its previous rows are kept as they were and it is tried again on the next run.

``update_corpus`` is the cron entry point: under a lock on the output folder it fetches, then extracts.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Iterator

import httpx
from filelock import FileLock, Timeout
from tqdm import tqdm

from . import pipeline_version
from .extract import extract_article
from .fetch import GONE_STATUSES, REFUSALS, FetchConfig, FetchReport, Problem, Snapshot, current_snapshots, fetch_site
from .nlp import NLP_CHUNK_CHARS, build_nlp, process_text
from .parse import ParseError, RawPage, parse_page
from .records import Article
from .segment import segment
from .write import build_tables, extraction_rows, read_tables, rows_of, write_tables

log = logging.getLogger(__name__)

UPDATE_LOCK = ".update.lock"
FETCH_LOCK = ".fetch.lock"  # taken by fetch.fetch_site on the raw folder
_GONE_REASONS = {f"http {status}" for status in GONE_STATUSES}


@dataclass
class Failure:
    path: str
    reason: str
    url: str | None = None  # the page's URL when the fetch manifest knows it


@dataclass
class Summary:
    """What one extraction did. Each page counts once, in the first of: failed (in ``failures``), gone (its
    articles were marked gone in this run), new, changed (re-extracted, or back on the site after being gone),
    unchanged."""

    pages: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    gone: int = 0
    articles: int = 0
    profiles: int = 0
    people: int = 0
    roles: int = 0
    countries: int = 0
    batches: int = 0
    dates: int = 0
    written: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    def line(self) -> str:
        return (f"{self.pages} pages ({self.new} new, {self.changed} changed, {self.unchanged} unchanged, {self.gone} gone), "
                f"{self.articles} articles, {self.profiles} profiles, {self.people} people, {self.roles} roles, "
                f"{self.countries} countries, {self.batches} batches, {self.dates} dates, {len(self.failures)} failures")


@dataclass
class _Page:
    """A page to (re-)extract: its snapshot, the rows it had, its parsed articles, and the new rows."""

    snapshot: Snapshot
    known: list[dict]
    articles: list[Article]
    rows: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    failed: bool = False


def _relative(path: Path, raw_dir: Path) -> str:
    try:
        return str(path.relative_to(raw_dir))
    except ValueError:
        return str(path)


def extract_corpus(raw_dir: Path, out_dir: Path, model: str | None = None, progress: bool = True,
                   now: dt.datetime | None = None) -> Summary:
    """Bring ``out_dir`` up to date with the pages in ``raw_dir``; failures are reported, never fatal."""
    now = now or dt.datetime.now(dt.timezone.utc)
    summary = Summary()
    snapshots = current_snapshots(raw_dir)
    summary.pages = len(snapshots)
    existing = read_tables(out_dir)
    previous = _previous_articles(existing)
    keep_ids: set[str] = set()
    gone_ids: set[str] = set()
    back_ids: set[str] = set()
    pages: list[_Page] = []
    for snapshot in snapshots:
        rel = _relative(snapshot.path, raw_dir)
        known = previous.get(rel if snapshot.url is None else snapshot.url, [])
        known_ids = {row["article_id"] for row in known}
        if known and all(row["source_sha256"] == snapshot.sha256 and row["pipeline_version"] == pipeline_version() for row in known):
            keep_ids |= known_ids
            if snapshot.gone and any(row["gone_at"] is None for row in known):
                summary.gone += 1
                gone_ids |= known_ids
            elif not snapshot.gone and any(row["gone_at"] is not None for row in known):
                summary.changed += 1  # back on the site
                back_ids |= known_ids
            else:
                summary.unchanged += 1
            continue
        try:
            articles = parse_page(RawPage(snapshot.path, snapshot.url, rel))
        except Exception as error:  # noqa: BLE001 - one bad page (even a parser bug) must not sink the run
            expected = isinstance(error, (ParseError, OSError, ValueError))
            summary.failures.append(Failure(rel, str(error) if expected else f"{type(error).__name__}: {error}",
                                            snapshot.url))
            if not expected:
                log.exception("parsing failed for %s", rel)
            keep_ids |= known_ids  # keep what we had rather than lose it; tried again next run
            continue
        pages.append(_Page(snapshot, known, articles))
    keep_ids -= _drop_duplicate_articles(pages, previous, keep_ids)
    _extract_pages(pages, model, progress, now, summary)
    for page in pages:
        if page.failed:  # all or nothing: its previous rows stay, and the next run tries again
            keep_ids |= {row["article_id"] for row in page.known}
    rows = rows_of(existing, keep_ids)
    _set_gone(rows, gone_ids, back_ids, now)
    for page in pages:
        if page.failed:
            continue
        newly_gone = page.snapshot.gone and not any(row["gone_at"] for row in page.known)
        if newly_gone:
            summary.gone += 1
        elif page.known:
            summary.changed += 1
        else:
            summary.new += 1
        for name, items in page.rows.items():
            rows.setdefault(name, []).extend(items)
    tables = build_tables(rows)
    summary.written = _write_articles_last(tables, out_dir)
    _count(summary, tables)
    return summary


def _drop_duplicate_articles(pages: list[_Page], previous: dict[str, list[dict]], keep_ids: set[str]) -> set[str]:
    """One row set per article id: a story carried in several pages' related blocks, or also fetched as a
    page of its own, is the same article (its id hashes its URL).

    The story's own page wins over a related-block copy, and the first copy over later ones. Drops the
    losing copies from ``pages`` and returns the kept ids that a newly parsed own page supersedes.
    """
    parent_of = {row["article_id"]: row["parent_article_id"] for rows in previous.values() for row in rows}
    own_pages = {article.article_id for page in pages for article in page.articles if article.parent_article_id is None}
    claimed = own_pages | {aid for aid in keep_ids if parent_of.get(aid) is None}
    claimed_copies = {aid for aid in keep_ids if parent_of.get(aid) is not None} - own_pages
    for page in pages:
        unique = []
        for article in page.articles:
            if article.parent_article_id is not None:
                if article.article_id in claimed or article.article_id in claimed_copies:
                    continue
                claimed_copies.add(article.article_id)
            unique.append(article)
        page.articles = unique
    return {aid for aid in keep_ids if aid in own_pages}


def _previous_articles(tables) -> dict[str, list[dict]]:
    """Existing article rows grouped by the page they came from (URL, or file path for hand-placed pages)."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    if "articles" in tables:
        rows = tables["articles"].select(["article_id", "url", "source_path", "parent_article_id", "source_sha256",
                                          "pipeline_version", "gone_at"]).to_pylist()
        by_id = {row["article_id"]: row for row in rows}
        for row in rows:
            page = by_id.get(row["parent_article_id"], row)
            for key in {page["url"], page["source_path"]} - {None}:
                grouped[key].append(row)
    return grouped


def _set_gone(rows: dict[str, list[dict]], gone_ids: set[str], back_ids: set[str], now: dt.datetime) -> None:
    """Mark the kept rows of pages that left the site; clear the mark of pages that came back."""
    for row in rows.get("articles", []):
        if row["article_id"] in gone_ids and row["gone_at"] is None:
            row["gone_at"] = now
        elif row["article_id"] in back_ids:
            row["gone_at"] = None


def _extract_pages(pages: list[_Page], model: str | None, progress: bool, now: dt.datetime, summary: Summary,
                   time_limit: float | None = None) -> None:
    """Fill each page's new rows; a page with any article that fails to extract is marked failed (all or nothing).

    Large runs spread the pages over worker processes (spaCy and the linking rules both run there), each
    with the model the parent loaded before forking. A page that takes longer than ``time_limit`` seconds
    (default: ``page_time_limit()``) fails as "timed out after N s" and the run goes on; a page whose text
    is beyond the size limits is extracted in bounded pieces, and each such page gets a warning on stderr.
    """
    pages = [page for page in pages if page.articles]
    if not pages:
        return
    processes = _processes(sum(len(page.articles) for page in pages))
    work = partial(_extract_page, model=model, now=now, time_limit=page_time_limit() if time_limit is None else time_limit)
    bar = tqdm(total=sum(len(page.articles) for page in pages), desc="extracting", unit="article", disable=not progress)
    if processes == 1:
        results = map(work, pages)
        pool = None
    else:
        build_nlp(model)  # loaded once here; forked workers share it
        context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
        pool = ProcessPoolExecutor(max_workers=processes, mp_context=context)
        results = pool.map(work, pages)
    try:
        for page, (rows, failures, warnings) in zip(pages, results):
            bar.update(len(page.articles))
            for warning in warnings:
                log.warning("%s", warning)
            summary.failures.extend(failures)
            if failures:
                page.failed = True
                continue
            for name, items in rows.items():
                page.rows[name].extend(items)
    finally:
        bar.close()
        if pool is not None:
            pool.shutdown()


def _extract_page(page: _Page, model: str | None, now: dt.datetime, time_limit: float = 0
                  ) -> tuple[dict[str, list[dict]], list[Failure], list[str]]:
    """Rows of one page's articles, or the failures that keep its previous rows, and warnings about the page
    (runs in a worker process). Past ``time_limit`` seconds (0: no limit) the page fails as timed out."""
    nlp = build_nlp(model)
    rows: dict[str, list[dict]] = defaultdict(list)
    warnings: list[str] = []
    # A page re-extracted while gone keeps the time it was first seen gone.
    gone_at = None
    if page.snapshot.gone:
        gone_at = min((row["gone_at"] for row in page.known if row["gone_at"] is not None), default=now)
    try:
        with _time_limit(time_limit):
            for article in page.articles:
                bounded = _bounded(article, warnings)
                doc = process_text(nlp, bounded.text)
                try:
                    extraction = extract_article(bounded, segment(bounded), doc)
                except Exception as error:  # noqa: BLE001 - one bad article must not sink the run; it is reported
                    log.exception("extraction failed for %s", article.source_path)
                    return {}, [Failure(article.source_path, f"{article.title!r}: {type(error).__name__}: {error}",
                                        page.snapshot.url)], warnings
                extraction.article = article  # the articles table keeps the whole text, even when facts stop short
                for name, items in extraction_rows(extraction, page.snapshot.sha256, now, pipeline_version(), gone_at).items():
                    rows[name].extend(items)
    except PageTimeout:
        path = page.articles[0].source_path
        return {}, [Failure(path, f"timed out after {time_limit:g} s", page.snapshot.url)], warnings
    return rows, [], warnings


def _write_articles_last(tables, out_dir: Path) -> list[str]:
    """Write the tables with ``articles`` last: it is what the next run compares snapshots with, so a run killed
    between two table writes leaves the changed pages looking changed, and the next run rewrites them."""
    ordered = {name: table for name, table in tables.items() if name != "articles"}
    ordered["articles"] = tables["articles"]
    return write_tables(ordered, out_dir)


PARALLEL_FROM = 32  # below this many articles, starting a second process costs more than it saves
PROCESSES_ENV = "STORY_EXTRACTOR_PROCESSES"


def _processes(articles: int) -> int:
    """Worker processes: one per core (at most 2 here), unless the run is small.

    ``$STORY_EXTRACTOR_PROCESSES`` overrides it (1 turns multiprocessing off).
    """
    if os.environ.get(PROCESSES_ENV):
        return max(1, int(os.environ[PROCESSES_ENV]))
    return min(2, os.cpu_count() or 1) if articles >= PARALLEL_FROM else 1


def _count(summary: Summary, tables) -> None:
    summary.articles = tables["articles"].num_rows
    summary.profiles = tables["profiles"].num_rows
    summary.people = tables["people"].num_rows
    summary.roles = tables["roles"].num_rows
    summary.countries = tables["countries"].num_rows
    summary.batches = tables["batches"].num_rows
    summary.dates = tables["dates"].num_rows


# --- update: fetch, then extract, for cron ---------------------------------------------------------------


class Busy(RuntimeError):
    """Another update (or fetch) holds the lock; nothing was done."""


@contextmanager
def update_lock(out_dir: Path) -> Iterator[None]:
    """Hold ``OUT/.update.lock`` for the duration, or raise ``Busy`` at once if another run holds it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(out_dir / UPDATE_LOCK), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise Busy(f"another update is running ({out_dir / UPDATE_LOCK} is held); nothing done") from None
    try:
        yield
    finally:
        lock.release()


@dataclass
class UpdateResult:
    """A fetch report and the extraction summary that followed it."""

    fetch: FetchReport
    summary: Summary

    @property
    def fetch_failures(self) -> list[Problem]:
        """Story requests that failed and listing/sitemap pages that could not be read (not refusals, not 404/410)."""
        return [p for p in self.fetch.problems if p.reason not in REFUSALS and p.reason not in _GONE_REASONS]

    @property
    def failed(self) -> int:
        return len(self.fetch_failures) + len(self.summary.failures)

    @property
    def status(self) -> int:
        """0: everything fetched and extracted; 1: something failed, the rest landed."""
        return 1 if self.failed else 0

    def line(self) -> str:
        """One line for cron mail, e.g.
        ``update: 0 new, 0 changed, 5 unchanged, 0 gone, 0 failed; tables unchanged``."""
        s = self.summary
        tables = f"rewrote {', '.join(s.written)}" if s.written else "tables unchanged"
        return (f"update: {s.new} new, {s.changed} changed, {s.unchanged} unchanged, {s.gone} gone, "
                f"{self.failed} failed; {tables}")


def update_corpus(config: FetchConfig, raw_dir: Path, out_dir: Path, *, model: str | None = None,
                  progress: bool = False, client: httpx.Client | None = None, sleep=time.sleep) -> UpdateResult:
    """Fetch into ``raw_dir``, then bring ``out_dir`` up to date, holding ``OUT/.update.lock`` throughout.

    Raises ``Busy`` without doing anything when another update holds the lock, or when a fetch holds
    ``RAW/.fetch.lock``. Both locks are taken without waiting, always in the order out then raw, so two runs
    can never wait on each other.
    """
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    with update_lock(out_dir):
        try:
            report = fetch_site(config, raw_dir, client=client, sleep=sleep)
        except Timeout:
            raise Busy(f"another fetch is running on {raw_dir} ({raw_dir / FETCH_LOCK} is held); "
                       "nothing done") from None
        summary = extract_corpus(raw_dir, out_dir, model=model, progress=progress)
    return UpdateResult(report, summary)


# --- bounded work: one page can fail, never stall the run --------------------------------------------------

# Facts are extracted from at most this many characters of an article's text; the rest is kept in the
# articles table but not read, with a warning naming the page. A 1,000,000-character page takes about 21 CPU
# seconds and 0.4 GB here (docs/benchmark.md); twice that is far beyond any story page (5,000-30,000
# characters) and still fits the time limit below, while memory stays bounded whatever a page holds.
MAX_ARTICLE_CHARS = 2_000_000
# A page that takes longer than this many seconds fails ("timed out after N s"), keeps its previous rows and
# is tried again next run. The largest page the size limit lets through needs about 40 CPU seconds here, so
# it finishes even on a machine shared four ways; past 300 s (the audit's own cut-off) a page is stuck, and
# a nightly run must go on without it.
PAGE_TIME_LIMIT_S = 300.0
PAGE_TIME_LIMIT_ENV = "STORY_EXTRACTOR_PAGE_TIMEOUT"


class PageTimeout(BaseException):
    """A page ran past its time limit. A BaseException, so no ``except Exception`` on the way swallows it."""


def page_time_limit() -> float:
    """Seconds one page may take: ``$STORY_EXTRACTOR_PAGE_TIMEOUT`` (0 turns the limit off), else the default."""
    value = os.environ.get(PAGE_TIME_LIMIT_ENV, "").strip()
    if not value:
        return PAGE_TIME_LIMIT_S
    try:
        seconds = float(value)
    except ValueError:
        log.warning("$%s must be a number of seconds, not %r; using %g s", PAGE_TIME_LIMIT_ENV, value, PAGE_TIME_LIMIT_S)
        return PAGE_TIME_LIMIT_S
    return max(0.0, seconds)


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise ``PageTimeout`` in this thread once ``seconds`` have passed (0: no limit).

    A real-time interval timer (SIGALRM) interrupts the page wherever it is, in the single-process run and
    in each forked worker alike (each worker runs its pages in its main thread); the worker catches it and
    returns a failure, so the pool lives on. Where signals cannot be used (not the main thread, or no
    SIGALRM on the platform) the page runs without a limit. A timer set by someone else is restored after.
    """
    if not seconds or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise PageTimeout()

    previous_handler = signal.signal(signal.SIGALRM, expire)
    previous_delay, previous_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay:
            left = previous_delay - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001), previous_interval)


def _bounded(article: Article, warnings: list[str]) -> Article:
    """The article as extraction reads it: whole, or cut after the last block that ends within
    ``MAX_ARTICLE_CHARS``; a cut, and a text long enough to be read in pieces, each add a warning."""
    length = len(article.text)
    if length > NLP_CHUNK_CHARS:
        warnings.append(f"{article.source_path}: article {article.title!r} has {length:,} characters; spaCy reads it "
                        f"in pieces of at most {NLP_CHUNK_CHARS:,} (entities are not joined across a blank line "
                        "between pieces)")
    if length <= MAX_ARTICLE_CHARS:
        return article
    blocks = [block for block in article.blocks if block.end <= MAX_ARTICLE_CHARS]
    end = blocks[-1].end if blocks else MAX_ARTICLE_CHARS
    warnings.append(f"{article.source_path}: article {article.title!r} has {length:,} characters; facts are extracted "
                    f"from the first {end:,} only (MAX_ARTICLE_CHARS = {MAX_ARTICLE_CHARS:,}); the whole text is kept")
    return dataclasses.replace(article, text=article.text[:end], blocks=blocks or article.blocks[:0])
