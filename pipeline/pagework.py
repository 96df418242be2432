"""What one worker does with one page: parse, segment, spaCy, extract, rows.

Runs wherever the engine puts it (this process, a forked worker, a Dask worker), so it takes and returns
small picklable records and loads the spaCy pipeline once per process.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import signal
import threading
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from . import pipeline_version
from .fetch import Snapshot
from .records import Article

log = logging.getLogger(__name__)


@dataclass
class Failure:
    path: str
    reason: str
    url: str | None = None  # the page's URL when the fetch manifest knows it


@dataclass(frozen=True)
class PageTask:
    """One page to (re-)extract, as sent to a worker: small and picklable."""

    snapshot: Snapshot
    rel: str
    gone_at: dt.datetime | None  # set when the page is re-extracted while gone: it stays gone since then


@dataclass
class PageResult:
    """A worker's answer for one page: every table's rows, or the failures that keep its previous rows."""

    rows: dict[str, list[dict]]
    failures: list[Failure]
    warnings: list[str] = dataclasses.field(default_factory=list)  # about the page (size limits), not failures
    held_back: dict[str, int] = dataclasses.field(default_factory=dict)  # fact rows below the confidence threshold
    min_confidence: float | None = None  # the threshold they were held back by


def extraction_version(version: str, min_confidence: float | None) -> str:
    """What ``articles.pipeline_version`` records: the pipeline ``version``, and the confidence threshold when it
    is not the default, so a run with another threshold re-extracts the pages written under the old one."""
    if min_confidence is None:
        return version
    return f"{version}@min-confidence={min_confidence:g}"


def extract_page(task: PageTask, model: str | None, now: dt.datetime, time_limit: float | None = None,
                 min_confidence: float | None = None) -> PageResult:
    """Parse one page and extract each of its articles (runs in a worker; loads the model once per process).

    Past ``time_limit`` seconds (default ``page_time_limit()``; 0: none) the page fails as timed out; an
    article past the size limits is read in bounded pieces, or cut, with a warning. Fact rows scored below
    ``min_confidence`` (None: the scorer's default, chosen on dev data) are held back and counted in ``held_back``.
    """
    from .extract import extract_article
    from .extract.scorer import default_min_confidence, hold_back
    from .nlp import build_nlp, process_text
    from .parse import ParseError, RawPage, parse_page
    from .segment import segment
    from .write import extraction_rows

    snapshot = task.snapshot
    limit = page_time_limit() if time_limit is None else time_limit
    warnings: list[str] = []
    rows: dict[str, list[dict]] = defaultdict(list)
    held_back: Counter[str] = Counter()
    threshold = default_min_confidence() if min_confidence is None else min_confidence
    try:
        with _time_limit(limit):
            try:
                articles = parse_page(RawPage(snapshot.path, snapshot.url, task.rel))
            except Exception as error:  # noqa: BLE001 - one bad page (even a parser bug) must not sink the run
                expected = isinstance(error, (ParseError, OSError, ValueError))
                if not expected:
                    log.exception("parsing failed for %s", task.rel)
                reason = str(error).removeprefix(f"{snapshot.path}: ")  # the failure line names the file already
                return PageResult({}, [Failure(task.rel, reason if expected else f"{type(error).__name__}: {reason}",
                                               snapshot.url)])
            nlp = build_nlp(model)
            for article in _unique(articles):
                bounded = _bounded(article, warnings)
                try:
                    extraction = extract_article(bounded, segment(bounded), process_text(nlp, bounded.text))
                except Exception as error:  # noqa: BLE001 - one bad article must not sink the run; it is reported
                    log.exception("extraction failed for %s", article.source_path)
                    return PageResult({}, [Failure(article.source_path,
                                                   f"{article.title!r}: {type(error).__name__}: {error}", snapshot.url)],
                                      warnings)
                extraction.article = article  # the articles table keeps the whole text, even when facts stop short
                version = extraction_version(pipeline_version(), min_confidence)
                article_rows = extraction_rows(extraction, snapshot.sha256, now, version, task.gone_at)
                held_back += hold_back(article_rows, threshold)
                for name, items in article_rows.items():
                    rows[name].extend(items)
    except PageTimeout:
        return PageResult({}, [Failure(task.rel, f"timed out after {limit:g} s", snapshot.url)], warnings)
    return PageResult(dict(rows), [], warnings, dict(held_back), threshold)


def _unique(articles: list[Article]) -> list[Article]:
    """A story carried twice in one page's related block is one article: the first copy is kept."""
    seen: set[str] = set()
    kept = []
    for article in articles:
        if article.article_id not in seen:
            seen.add(article.article_id)
            kept.append(article)
    return kept


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
    from .nlp import NLP_CHUNK_CHARS
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
