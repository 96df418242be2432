"""What one worker does with one page: parse, segment, spaCy, extract, rows.

Runs wherever the engine puts it (this process, a forked worker, a Dask worker), so it takes and returns
small picklable records and loads the spaCy pipeline once per process.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass

from . import pipeline_version
from .fetch import Snapshot

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


def extract_page(task: PageTask, model: str | None, now: dt.datetime) -> PageResult:
    """Parse one page and extract each of its articles (runs in a worker; loads the model once per process)."""
    from .extract import extract_article
    from .nlp import build_nlp
    from .parse import ParseError, RawPage, parse_page
    from .segment import segment
    from .write import extraction_rows

    snapshot = task.snapshot
    try:
        articles = parse_page(RawPage(snapshot.path, snapshot.url, task.rel))
    except Exception as error:  # noqa: BLE001 - one bad page (even a parser bug) must not sink the run
        expected = isinstance(error, (ParseError, OSError, ValueError))
        if not expected:
            log.exception("parsing failed for %s", task.rel)
        return PageResult({}, [Failure(task.rel, str(error) if expected else f"{type(error).__name__}: {error}",
                                       snapshot.url)])
    nlp = build_nlp(model)
    rows: dict[str, list[dict]] = defaultdict(list)
    for article, doc in zip(articles, nlp.pipe(article.text for article in articles)):
        try:
            extraction = extract_article(article, segment(article), doc)
        except Exception as error:  # noqa: BLE001 - one bad article must not sink the run; it is reported
            log.exception("extraction failed for %s", article.source_path)
            return PageResult({}, [Failure(article.source_path, f"{article.title!r}: {type(error).__name__}: {error}",
                                           snapshot.url)])
        for name, items in extraction_rows(extraction, snapshot.sha256, now, pipeline_version(), task.gone_at).items():
            rows[name].extend(items)
    return PageResult(dict(rows), [])
