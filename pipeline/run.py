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

import datetime as dt
import logging
import multiprocessing
import os
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
from .fetch import FETCH_LOCK, GONE_STATUSES, REFUSALS, FetchConfig, FetchReport, Problem, Snapshot, fetch_site
from .nlp import build_nlp
from .parse import ParseError, RawPage, parse_page
from .rawfolder import scan
from .records import Article
from .segment import segment
from .write import build_tables, extraction_rows, read_tables, rows_of, write_tables

log = logging.getLogger(__name__)

UPDATE_LOCK = ".update.lock"
_GONE_REASONS = {f"http {status}" for status in GONE_STATUSES}


@dataclass
class Failure:
    path: str
    reason: str
    url: str | None = None  # the page's URL when the fetch manifest knows it


@dataclass
class Summary:
    """What one extraction did. Each page counts once, in the first of: failed (in ``failures``), gone (its
    articles were marked gone in this run: the story left the site, or the page left the folder), new,
    changed (re-extracted, or back after being gone), unchanged. ``pruned`` counts the pages whose rows
    ``--prune`` removed because they are no longer in the folder."""

    pages: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    gone: int = 0
    pruned: int | None = None  # None: pruning was not asked for
    articles: int = 0
    profiles: int = 0
    people: int = 0
    roles: int = 0
    countries: int = 0
    batches: int = 0
    dates: int = 0
    written: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    def counts(self) -> str:
        """``0 new, 1 changed, 4 unchanged, 1 gone`` (and ``, 2 pruned`` when pruning was asked for)."""
        pruned = f", {self.pruned} pruned" if self.pruned is not None else ""
        return f"{self.new} new, {self.changed} changed, {self.unchanged} unchanged, {self.gone} gone{pruned}"

    def line(self) -> str:
        return (f"{self.pages} pages ({self.counts()}), "
                f"{self.articles} articles, {self.profiles} profiles, {self.people} people, {self.roles} roles, "
                f"{self.countries} countries, {self.batches} batches, {self.dates} dates, {len(self.failures)} failures")


class WrongFolder(ValueError):
    """The raw folder holds none of the pages already in the tables: refused, nothing done."""


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
                   now: dt.datetime | None = None, *, prune: bool = False, follow_symlinks: bool = False) -> Summary:
    """Bring ``out_dir`` up to date with the pages in ``raw_dir``; failures are reported, never fatal.

    A page no longer in the folder keeps its rows, marked ``gone_at``, unless ``prune`` removes them.
    Raises ``WrongFolder`` (nothing done) when the tables hold pages and the folder none of them, unless
    ``prune``: an empty or mistyped folder must never empty the tables.
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    summary = Summary(pruned=0 if prune else None)
    folder = scan(raw_dir, follow_symlinks=follow_symlinks)
    snapshots = folder.snapshots
    summary.pages = len(snapshots)
    existing = read_tables(out_dir)
    previous = _previous_articles(existing)
    keep_ids: set[str] = set()
    gone_ids: set[str] = set()
    back_ids: set[str] = set()
    present_ids: set[str] = set()  # articles of pages still in the folder, readable or not
    for entry in folder.unreadable:
        rel = _relative(entry.path, raw_dir)
        summary.failures.append(Failure(rel, entry.reason))
        known_ids = {row["article_id"] for row in previous.get(rel, [])}
        keep_ids |= known_ids  # still there but unreadable: keep what we had
        present_ids |= known_ids
    pages: list[_Page] = []
    for snapshot in snapshots:
        rel = _relative(snapshot.path, raw_dir)
        known = previous.get(rel if snapshot.url is None else snapshot.url, [])
        known_ids = {row["article_id"] for row in known}
        present_ids |= known_ids
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
    present_ids |= {article.article_id for page in pages for article in page.articles}
    vanished = _vanished_pages(previous, present_ids)
    kept_any = any(row["article_id"] in present_ids for rows in previous.values() for row in rows)
    if vanished and not kept_any and not prune and _any_live(vanished):
        raise WrongFolder(f"{raw_dir} holds none of the {len(vanished)} pages already in {out_dir} "
                          f"({summary.pages} pages found there); nothing done. Check the folder, or pass --prune "
                          "to remove their rows")
    for page_rows in vanished:
        if prune:
            summary.pruned += 1
            continue
        ids = {row["article_id"] for row in page_rows}
        keep_ids |= ids
        if _any_live([page_rows]):
            summary.gone += 1
            gone_ids |= ids
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


def _vanished_pages(previous: dict[str, list[dict]], present_ids: set[str]) -> list[list[dict]]:
    """Article rows of the pages in the tables that are no longer in the folder, one list per page."""
    by_page: dict[str, list[dict]] = defaultdict(list)
    seen: set[str] = set()
    for rows in previous.values():
        for row in rows:
            if row["article_id"] not in present_ids and row["article_id"] not in seen:
                seen.add(row["article_id"])
                by_page[row["parent_article_id"] or row["article_id"]].append(row)
    return [by_page[page] for page in sorted(by_page)]


def _any_live(pages: list[list[dict]]) -> bool:
    """Whether any of these pages' articles is not yet marked gone."""
    return any(row["gone_at"] is None for rows in pages for row in rows)


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


def _extract_pages(pages: list[_Page], model: str | None, progress: bool, now: dt.datetime, summary: Summary) -> None:
    """Fill each page's new rows; a page with any article that fails to extract is marked failed (all or nothing).

    Large runs spread the pages over worker processes (spaCy and the linking rules both run there), each
    with the model the parent loaded before forking.
    """
    pages = [page for page in pages if page.articles]
    if not pages:
        return
    processes = _processes(sum(len(page.articles) for page in pages))
    work = partial(_extract_page, model=model, now=now)
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
        for page, (rows, failures) in zip(pages, results):
            bar.update(len(page.articles))
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


def _extract_page(page: _Page, model: str | None, now: dt.datetime) -> tuple[dict[str, list[dict]], list[Failure]]:
    """Rows of one page's articles, or the failures that keep its previous rows (runs in a worker process)."""
    nlp = build_nlp(model)
    rows: dict[str, list[dict]] = defaultdict(list)
    # A page re-extracted while gone keeps the time it was first seen gone.
    gone_at = None
    if page.snapshot.gone:
        gone_at = min((row["gone_at"] for row in page.known if row["gone_at"] is not None), default=now)
    for article, doc in zip(page.articles, nlp.pipe(article.text for article in page.articles)):
        try:
            extraction = extract_article(article, segment(article), doc)
        except Exception as error:  # noqa: BLE001 - one bad article must not sink the run; it is reported
            log.exception("extraction failed for %s", article.source_path)
            return {}, [Failure(article.source_path, f"{article.title!r}: {type(error).__name__}: {error}", page.snapshot.url)]
        for name, items in extraction_rows(extraction, page.snapshot.sha256, now, pipeline_version(), gone_at).items():
            rows[name].extend(items)
    return rows, []


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
        raise Busy(f"another extract or update is running on {out_dir} ({out_dir / UPDATE_LOCK} is held); "
                   "nothing done") from None
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
        return f"update: {s.counts()}, {self.failed} failed; {tables}"


def update_corpus(config: FetchConfig, raw_dir: Path, out_dir: Path, *, model: str | None = None,
                  progress: bool = False, prune: bool = False, client: httpx.Client | None = None,
                  sleep=time.sleep) -> UpdateResult:
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
        summary = extract_corpus(raw_dir, out_dir, model=model, progress=progress, prune=prune)
    return UpdateResult(report, summary)
