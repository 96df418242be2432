"""Wiring of the stages over a folder of pages: snapshots → parse → segment → spaCy → extract → tables.

Pages whose file did not change since the last run (same sha256, same pipeline version) keep their rows
untouched, so a re-run over unchanged input writes nothing and an update re-extracts only what changed.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from . import __version__
from .extract import extract_article
from .fetch import Snapshot, current_snapshots
from .nlp import build_nlp
from .parse import ParseError, RawPage, parse_page
from .records import Article
from .segment import segment
from .write import build_tables, extraction_rows, read_tables, rows_of, write_tables

log = logging.getLogger(__name__)


@dataclass
class Failure:
    path: str
    reason: str


@dataclass
class Summary:
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
    to_extract: list[tuple[Article, Snapshot]] = []
    for snapshot in snapshots:
        rel = _relative(snapshot.path, raw_dir)
        known = previous.get(rel if snapshot.url is None else snapshot.url, [])
        if known and all(row["source_sha256"] == snapshot.sha256 and row["pipeline_version"] == __version__ for row in known):
            summary.unchanged += 1
            keep_ids.update(row["article_id"] for row in known)
            if snapshot.gone:
                gone_ids.update(row["article_id"] for row in known)
            continue
        try:
            articles = parse_page(RawPage(snapshot.path, snapshot.url, rel))
        except (ParseError, OSError, ValueError) as error:
            summary.failures.append(Failure(rel, str(error)))
            keep_ids.update(row["article_id"] for row in known)  # keep what we had rather than lose it
            continue
        summary.changed += bool(known)
        summary.new += not known
        summary.gone += snapshot.gone
        to_extract += [(article, snapshot) for article in articles]
    rows = rows_of(existing, keep_ids)
    _mark_gone(rows, gone_ids, now)
    new_rows = _extract_all(to_extract, model, progress, now, summary)
    for name, items in new_rows.items():
        rows.setdefault(name, []).extend(items)
    tables = build_tables(rows)
    summary.written = write_tables(tables, out_dir)
    _count(summary, tables)
    return summary


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


def _mark_gone(rows: dict[str, list[dict]], gone_ids: set[str], now: dt.datetime) -> None:
    for row in rows.get("articles", []):
        if row["article_id"] in gone_ids and row["gone_at"] is None:
            row["gone_at"] = now


def _extract_all(items: list[tuple[Article, Snapshot]], model: str | None, progress: bool, now: dt.datetime,
                 summary: Summary) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = defaultdict(list)
    if not items:
        return rows
    nlp = build_nlp(model)
    texts = (article.text for article, _ in items)
    bar = tqdm(total=len(items), desc="extracting", unit="article", disable=not progress)
    for (article, snapshot), doc in zip(items, nlp.pipe(texts, batch_size=32)):
        try:
            extraction = extract_article(article, segment(article), doc)
        except Exception as error:  # noqa: BLE001 - one bad article must not sink the run; it is reported
            summary.failures.append(Failure(article.source_path, f"{article.title!r}: {type(error).__name__}: {error}"))
            log.exception("extraction failed for %s", article.source_path)
            continue
        finally:
            bar.update(1)
        gone_at = now if snapshot.gone else None
        for name, items_ in extraction_rows(extraction, snapshot.sha256, now, __version__, gone_at).items():
            rows[name].extend(items_)
    bar.close()
    return rows


def _count(summary: Summary, tables) -> None:
    summary.articles = tables["articles"].num_rows
    summary.profiles = tables["profiles"].num_rows
    summary.people = tables["people"].num_rows
    summary.roles = tables["roles"].num_rows
    summary.countries = tables["countries"].num_rows
    summary.batches = tables["batches"].num_rows
    summary.dates = tables["dates"].num_rows
