"""Wiring of the stages over a folder of pages: snapshots → parse → segment → spaCy → extract → tables.

Pages whose file did not change since the last run (same sha256, same pipeline version) keep their rows
untouched, so a re-run over unchanged input writes nothing and an update re-extracts only what changed.
What changed is decided from the store's small index (page → content hash, pipeline version, article ids,
part), never by reading the tables, and a run with nothing to do never loads the spaCy model.

Pages are extracted by an engine (``engine.py``: local processes or a Dask cluster) in page order, and each
*part* of the store (a group of pages) is written as soon as its pages are done, so memory stays flat
whatever the number of pages. The new version of every table is published at once at the end
(``store.py``): a run killed at any point leaves the previous tables whole, and the next run completes it.

A page is all-or-nothing: if it cannot be read, parsed, or one of its articles cannot be extracted, its
previous rows are kept as they were and it is tried again on the next run. A page no longer in the folder
keeps its rows, marked ``gone_at``, unless ``prune`` removes them.

``update_corpus`` is the cron entry point: under a lock on the output folder it fetches, then extracts.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Iterator

import httpx
import pyarrow as pa
import pyarrow.compute  # noqa: F401 - pa.compute
from filelock import FileLock, Timeout
from tqdm import tqdm

from . import pipeline_version
from .engine import LocalEngine
from .fetch import FETCH_LOCK, GONE_STATUSES, REFUSALS, FetchConfig, FetchReport, Problem, Snapshot, fetch_site
from .pagework import Failure, PageResult, PageTask, extract_page, extraction_version
from .rawfolder import Unreadable, scan
from .schema import SchemaError
from .resolve import LINK_COLUMNS, link_rows
from .store import (CAREERS, INDEX_SCHEMA, PAGE_TABLES, PEOPLE, PERSON_LINKS, PROGRAMMES, Store, Update, id_part,
                    part_name, part_number)
from .validate import InvalidTables, require_valid
from .write import CAREER_COLUMNS, PROGRAMME_COLUMNS, arrow_table, career_rows, people_rows, programme_rows

log = logging.getLogger(__name__)

UPDATE_LOCK = ".update.lock"
PART_PAGES = 256  # pages per part: bounds what one part rewrite holds in memory, and keeps the files few
_GONE_REASONS = {f"http {status}" for status in GONE_STATUSES}


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
    warnings: list[str] = field(default_factory=list)  # pages read only in part (size limits); not failures
    held_back: Counter[str] = field(default_factory=Counter)  # fact rows below --min-confidence, per table
    min_confidence: float | None = None  # the threshold they were held back by

    def counts(self) -> str:
        """``0 new, 1 changed, 4 unchanged, 1 gone`` (and ``, 2 pruned`` when pruning was asked for)."""
        pruned = f", {self.pruned} pruned" if self.pruned is not None else ""
        return f"{self.new} new, {self.changed} changed, {self.unchanged} unchanged, {self.gone} gone{pruned}"

    def line(self) -> str:
        return (f"{self.pages} pages ({self.counts()}), "
                f"{self.articles} articles, {self.profiles} profiles, {self.people} people, {self.roles} roles, "
                f"{self.countries} countries, {self.batches} batches, {self.dates} dates, {len(self.failures)} failures"
                f"{self.held_back_note()}")

    def held_back_note(self) -> str:
        """``; 3 facts below confidence 0.35 held back (2 roles, 1 dates)``, or "" when none was."""
        total = sum(self.held_back.values())
        if not total:
            return ""
        tables = ", ".join(f"{n} {table}" for table, n in sorted(self.held_back.items()))
        return f"; {total} facts below confidence {self.min_confidence:g} held back ({tables})"


class WrongFolder(ValueError):
    """The raw folder holds none of the pages already in the tables: refused, nothing done."""


@dataclass
class _PartWork:
    """What one part of the store gets in this run."""

    tasks: list[PageTask] = field(default_factory=list)
    drop: set[str] = field(default_factory=set)  # article ids whose rows leave the part (pruned)
    gone: set[str] = field(default_factory=set)  # article ids to mark gone now
    back: set[str] = field(default_factory=set)  # article ids no longer gone


def _relative(path: Path, raw_dir: Path) -> str:
    try:
        return str(path.relative_to(raw_dir))
    except ValueError:
        return str(path)


def _task_key(snapshot: Snapshot, rel: str) -> tuple[str | None, str]:
    return snapshot.url, rel


def extract_corpus(raw_dir: Path, out_dir: Path, model: str | None = None, progress: bool = True,
                   now: dt.datetime | None = None, *, prune: bool = False, follow_symlinks: bool = False,
                   engine=None, min_confidence: float | None = None) -> Summary:
    """Bring ``out_dir`` up to date with the pages in ``raw_dir``; failures are reported, never fatal.

    A page no longer in the folder keeps its rows, marked ``gone_at``, unless ``prune`` removes them.
    Raises ``WrongFolder`` (nothing done) when the tables hold pages and the folder none of them, unless
    ``prune``: an empty or mistyped folder must never empty the tables. ``engine`` runs the per-page work
    (default: the local engine). Fact rows scored below ``min_confidence`` (None: the scorer's default) are
    held back and counted in the summary; a page written under another threshold is extracted again.
    """
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    now = now or dt.datetime.now(dt.timezone.utc)
    summary = Summary(pruned=0 if prune else None)
    store = Store(out_dir)
    store.migrate_legacy_tables(PART_PAGES)
    folder = scan(raw_dir, follow_symlinks=follow_symlinks)
    summary.pages = len(folder.snapshots)
    index = store.index().to_pylist()
    previous = _previous_pages(index)
    version = extraction_version(pipeline_version(), min_confidence)
    work: dict[str, _PartWork] = defaultdict(_PartWork)
    old_ids: dict[tuple, set[str]] = {}  # the article ids a re-extracted page had, by task key
    present: set[str] = set()  # pages (own article ids) still in the folder, readable or not
    new_tasks: list[PageTask] = []
    for entry in folder.unreadable:
        rel = _relative(entry.path, raw_dir)
        summary.failures.append(Failure(rel, entry.reason))
        present |= _pages_behind(entry, rel, previous)  # still there but unreadable: keep their rows
    for snapshot in folder.snapshots:
        rel = _relative(snapshot.path, raw_dir)
        known = previous.get(rel if snapshot.url is None else snapshot.url, [])
        present |= {row["page"] for row in known}
        if not known:
            new_tasks.append(PageTask(snapshot, rel, None))
            continue
        part = known[0]["part"]
        ids = {row["article_id"] for row in known}
        if all(row["source_sha256"] == snapshot.sha256 and row["pipeline_version"] == version for row in known):
            if snapshot.gone and any(row["gone_at"] is None for row in known):
                summary.gone += 1
                work[part].gone |= ids
            elif not snapshot.gone and any(row["gone_at"] is not None for row in known):
                summary.changed += 1  # back on the site
                work[part].back |= ids
            else:
                summary.unchanged += 1
            continue
        gone_at = None
        if snapshot.gone:  # re-extracted while gone: it keeps the time it was first seen gone
            gone_at = min((row["gone_at"] for row in known if row["gone_at"] is not None), default=now)
        work[part].tasks.append(PageTask(snapshot, rel, gone_at))
        old_ids[_task_key(snapshot, rel)] = ids
    vanished = _vanished_pages(index, present)
    if vanished and not present and not prune and any(row["gone_at"] is None for rows in vanished.values() for row in rows):
        raise WrongFolder(f"{raw_dir} holds none of the {len(vanished)} pages already in {out_dir} "
                          f"({summary.pages} pages found there); nothing done. Check the folder, or pass --prune "
                          "to remove their rows")
    for rows in vanished.values():
        ids = {row["article_id"] for row in rows}
        if prune:
            summary.pruned += 1
            work[rows[0]["part"]].drop |= ids
        elif any(row["gone_at"] is None for row in rows):
            summary.gone += 1
            work[rows[0]["part"]].gone |= ids
    _place_new_pages(new_tasks, index, work)
    if store.current is not None and not any(w.tasks or w.drop or w.gone or w.back for w in work.values()):
        _count(summary, store)
        return summary  # nothing to do: the model is never loaded, no table is read
    owner = engine or LocalEngine(prepare=partial(_load_model, model))
    try:
        _Run(store, index, old_ids, summary, now).write(work, owner, model, progress, min_confidence)
    finally:
        if engine is None:
            owner.close()
    _count(summary, store)
    return summary


def _load_model(model: str | None) -> None:
    from .nlp import build_nlp
    build_nlp(model)


def _pages_behind(entry: Unreadable, rel: str, previous: dict[str, list[dict]]) -> set[str]:
    """The known pages an unreadable entry stands for: its file, its URL's page, every page under a folder."""
    keys = {rel, entry.url} - {None}
    if entry.folder:
        under = "" if rel in ("", ".") else rel.rstrip("/") + "/"
        keys |= {key for key in previous if key.startswith(under) and "://" not in key}
    return {row["page"] for key in keys for row in previous.get(key, [])}


def _previous_pages(index: list[dict]) -> dict[str, list[dict]]:
    """Index rows grouped by the page they came from (its URL, or its file path for hand-placed pages)."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    by_id = {row["article_id"]: row for row in index}
    for row in index:
        page = by_id.get(row["page"], row)
        for key in {page["url"], page["source_path"]} - {None}:
            grouped[key].append(row)
    return grouped


def _vanished_pages(index: list[dict], present: set[str]) -> dict[str, list[dict]]:
    """Index rows of the pages no longer in the folder, by page."""
    vanished: dict[str, list[dict]] = defaultdict(list)
    for row in index:
        if row["page"] not in present:
            vanished[row["page"]].append(row)
    return dict(sorted(vanished.items()))


def _place_new_pages(tasks: list[PageTask], index: list[dict], work: dict[str, _PartWork]) -> None:
    """New pages fill the last part up to ``PART_PAGES`` pages, then new parts."""
    pages_in: dict[str, set[str]] = defaultdict(set)
    for row in index:
        pages_in[row["part"]].add(row["page"])
    last = max(pages_in, default=None)
    room = PART_PAGES - len(pages_in[last]) if last else 0
    number = part_number(last) if last else 0
    for task in tasks:
        if room <= 0:
            number += 1
            last, room = part_name(number), PART_PAGES
        work[last].tasks.append(task)
        room -= 1


class _Run:
    """One extraction's writes: each part rewritten once its pages are done, then people, index, publish."""

    def __init__(self, store: Store, index: list[dict], old_ids: dict[tuple, set[str]], summary: Summary,
                 now: dt.datetime) -> None:
        self.store = store
        self.update: Update | None = None
        self.claimed = {row["article_id"]: dict(row) for row in index}  # article id → index row of its holder
        self.old_ids = old_ids
        self.summary = summary
        self.now = now
        self.affected_people: set[str] = set()
        self.affected_programmes: set[str] = set()  # programme keys whose batches rows changed

    def write(self, work: dict[str, _PartWork], engine, model: str | None, progress: bool,
              min_confidence: float | None = None) -> None:
        self.update = self.store.begin()
        try:
            order = sorted(work)
            tasks = [task for part in order for task in work[part].tasks]
            results = engine.map(partial(extract_page, model=model, now=self.now, min_confidence=min_confidence),
                                 tasks)
            with tqdm(total=len(tasks), desc="extracting", unit="page", disable=not progress) as bar:
                for part in order:
                    done = []
                    for task in work[part].tasks:
                        done.append((task, next(results)))
                        bar.update(1)
                    self._rewrite_part(part, work[part], done)
            self._rewrite_people()
            self._rewrite_careers()
            self._rewrite_programmes()
            self._rewrite_person_links()
            self.update.write_index(_index_table(self.claimed))
            written = self.update.commit()
            self.summary.written = [name for name in written if name != "articles"] + \
                (["articles"] if "articles" in written else [])
        except BaseException:
            self.update.abort()
            raise

    def _rewrite_part(self, part: str, work: _PartWork, done: list[tuple[PageTask, PageResult]]) -> None:
        """Replace one part's rows: drop pruned and re-extracted articles, mark gone ones, add new rows.

        A story already held by another page (its own page, or an earlier related-block copy) is not added
        again: one row set per article id; its own page takes it over from a related-block copy.
        """
        drop = set(work.drop)
        new_rows: dict[str, list[dict]] = defaultdict(list)
        for task, result in done:
            self.summary.failures.extend(result.failures)
            self.summary.warnings.extend(result.warnings)
            if result.failures:  # all or nothing: its previous rows stay, and the next run tries again
                continue
            invalid = _invalid_rows(result.rows)
            if invalid is not None:  # a page whose rows break the schema's rules fails alone, like any other
                self.summary.failures.append(Failure(task.rel, f"rows not written: {invalid}", task.snapshot.url))
                continue
            had = self.old_ids.get(_task_key(task.snapshot, task.rel), set())
            # what this page still holds of what it had (its own page may since have taken a story over)
            mine = {aid for aid in had if aid in self.claimed and self.claimed[aid]["page"] in had}
            articles = result.rows.get("articles", [])
            own = next((a for a in articles if a["parent_article_id"] is None), None)
            holder = self.claimed.get(own["article_id"]) if own else None
            if own is None or holder is not None and own["article_id"] not in mine and holder["parent_article_id"] is None:
                what = f"same article as {holder['source_path']} (same URL)" if holder else "no article"
                self.summary.failures.append(Failure(task.rel, f"{what}; not extracted", task.snapshot.url))
                continue
            keep = set()
            for article in articles:
                aid = article["article_id"]
                holder = self.claimed.get(aid)
                if holder is None or aid in mine:
                    keep.add(aid)
                elif article is own:  # its own page takes the story over from a related-block copy
                    keep.add(aid)
                    self._drop_article(holder)
                # else: another page already holds this related-block copy
            self._count_page(task, mine)
            self.summary.held_back.update(result.held_back)
            self.summary.min_confidence = result.min_confidence
            drop |= mine
            for aid in mine:
                self.claimed.pop(aid, None)
            for name, items in result.rows.items():
                new_rows[name] += [row for row in items if row["article_id"] in keep]
            for article in articles:
                if article["article_id"] in keep:
                    self.claimed[article["article_id"]] = _index_row(article, own["article_id"], part)
        tables = {}
        for name in PAGE_TABLES:
            old = self.update.read_part(name, part)
            kept = _without(old, drop)
            if name == "article_people":  # people whose article rows leave or arrive
                self.affected_people |= set(_only(old, drop).column("person_id").to_pylist())
                self.affected_people |= {row["person_id"] for row in new_rows.get(name, [])}
            if name == "batches":
                self.affected_programmes |= set(_only(old, drop).column("programme_key").drop_null().to_pylist())
                self.affected_programmes |= {row["programme_key"] for row in new_rows.get(name, []) if row["programme_key"]}
            rows = kept.to_pylist() + new_rows.get(name, [])
            if name == "articles":
                self._mark_gone(rows, work.gone, work.back)
            tables[name] = arrow_table(name, rows)
        require_valid(tables, complete=False)  # a part holds every row of its pages, so its references close
        for name, table in tables.items():
            self.update.write_part(name, part, table)
        for aid in work.drop:
            self.claimed.pop(aid, None)

    def _drop_article(self, holder: dict) -> None:
        """Remove a related-block copy from the part that holds it."""
        for name in PAGE_TABLES:
            old = self.update.read_part(name, holder["part"])
            kept = _without(old, {holder["article_id"]})
            if name == "article_people":
                self.affected_people |= set(old.column("person_id").to_pylist())
            if name == "batches":
                self.affected_programmes |= set(_only(old, {holder["article_id"]}).column("programme_key").drop_null().to_pylist())
            if kept.num_rows != old.num_rows:
                self.update.write_part(name, holder["part"], kept)
        self.claimed.pop(holder["article_id"], None)

    def _count_page(self, task: PageTask, had: set[str]) -> None:
        if task.snapshot.gone and not any(self.claimed[aid]["gone_at"] for aid in had if aid in self.claimed):
            self.summary.gone += 1
        elif had:
            self.summary.changed += 1
        else:
            self.summary.new += 1

    def _mark_gone(self, rows: list[dict], gone: set[str], back: set[str]) -> None:
        """Mark the kept rows of pages that left; clear the mark of pages that came back (rows and index)."""
        for row in rows:
            if row["article_id"] in gone and row["gone_at"] is None:
                row["gone_at"] = self.now
            elif row["article_id"] in back:
                row["gone_at"] = None
            if row["article_id"] in self.claimed:
                self.claimed[row["article_id"]]["gone_at"] = row["gone_at"]

    def _rewrite_careers(self) -> None:
        """Recompute the careers of the people whose article rows changed in this run, from all their roles."""
        if not self.affected_people:
            return
        folder = self.update.folder
        roles = self.store.read_rows("roles", "person_id", self.affected_people, folder, list(CAREER_COLUMNS)).to_pylist()
        articles = self.store.read_rows("articles", "article_id", {r["article_id"] for r in roles}, folder,
                                        ["article_id", "published"]).to_pylist()
        fresh = career_rows(roles, {a["article_id"]: a["published"] for a in articles})
        _rewrite_derived(self.update, CAREERS, "career_id", "person_id", self.affected_people, fresh)

    def _rewrite_programmes(self) -> None:
        """Recompute the programmes whose batches rows changed in this run, from all their batches rows."""
        if not self.affected_programmes:
            return
        batches = self.store.read_rows("batches", "programme_key", self.affected_programmes, self.update.folder,
                                       list(PROGRAMME_COLUMNS)).to_pylist()
        _rewrite_derived(self.update, PROGRAMMES, "programme_id", "programme_key", self.affected_programmes,
                         programme_rows(batches))

    def _rewrite_people(self) -> None:
        """Recompute the people whose article rows changed in this run, from all their article rows."""
        if not self.affected_people:
            return
        folder = self.update.folder
        article_people = self.store.read_rows("article_people", "person_id", self.affected_people, folder).to_pylist()
        countries = self.store.read_rows("countries", "person_id", self.affected_people, folder).to_pylist()
        _rewrite_derived(self.update, PEOPLE, "person_id", "person_id", self.affected_people,
                         people_rows(article_people, countries))

    def _rewrite_person_links(self) -> None:
        """Resolve people across the whole corpus again when any person's article rows changed.

        A new article can link two people named in other articles, or split a name in two, so resolution reads
        the few columns it needs (``LINK_COLUMNS``) of every row, not only the affected people's; only the parts
        whose rows came out different are rewritten. The fact tables keep their per-article ``person_id``."""
        if not self.affected_people:
            return
        folder = self.update.folder
        rows = {name: self.store.read_columns(name, list(columns), folder).to_pylist()
                for name, columns in LINK_COLUMNS.items()}
        fresh = link_rows(*(rows[name] for name in LINK_COLUMNS))
        every = {row["person_id"] for row in fresh} | {row["person_id"] for row in
                                                        self.store.read_columns(PERSON_LINKS, ["person_id"], folder).to_pylist()}
        _rewrite_derived(self.update, PERSON_LINKS, "person_id", "person_id", every, fresh)


def _invalid_rows(rows: dict[str, list[dict]]) -> str | None:
    """Why one page's rows break the schema's rules (checked among themselves), or None when they hold."""
    try:
        require_valid({name: arrow_table(name, items) for name, items in rows.items()}, complete=False)
    except (InvalidTables, SchemaError) as error:
        return str(error).removeprefix("tables not written: ")
    return None


def _rewrite_derived(update: Update, table: str, id_column: str, key_column: str, affected: set[str],
                     fresh: list[dict]) -> None:
    """Replace the rows of ``affected`` keys (``key_column``) in the parts of a derived table by ``fresh`` ones.

    Fresh rows go to the part of their ``id_column``. Where the key is the id (people), old rows sit in the
    parts of the affected ids; otherwise (careers, programmes) an old row's id need not follow from its key,
    so every existing part is filtered."""
    by_part: dict[str, list[dict]] = defaultdict(list)
    for row in fresh:
        by_part[id_part(table, row[id_column])].append(row)
    holding = {id_part(table, key) for key in affected} if key_column == id_column else set(update.parts(table))
    for part in sorted(holding | set(by_part)):
        old = update.read_part(table, part)
        kept = _without(old, affected, key_column)
        if kept.num_rows == old.num_rows and part not in by_part:
            continue
        rows = arrow_table(table, kept.to_pylist() + by_part.get(part, []))
        require_valid({table: rows}, complete=False)
        update.write_part(table, part, rows)


def _only(table: pa.Table, article_ids: set[str]) -> pa.Table:
    if not article_ids or not table.num_rows:
        return table.slice(0, 0)
    return table.filter(pa.compute.is_in(table["article_id"], pa.array(sorted(article_ids), pa.string())))


def _without(table: pa.Table, values: set[str], column: str = "article_id") -> pa.Table:
    """The rows of ``table`` whose ``column`` is not one of ``values``."""
    if not values or not table.num_rows:
        return table
    return table.filter(pa.compute.invert(pa.compute.is_in(table[column], pa.array(sorted(values), pa.string()))))


def _index_row(article: dict, page: str, part: str) -> dict:
    return {"article_id": article["article_id"], "page": page, "part": part, "url": article["url"],
            "source_path": article["source_path"], "parent_article_id": article["parent_article_id"],
            "source_sha256": article["source_sha256"], "pipeline_version": article["pipeline_version"],
            "gone_at": article["gone_at"]}


def _index_table(claimed: dict[str, dict]) -> pa.Table:
    rows = [{name: row[name] for name in INDEX_SCHEMA.names} for _, row in sorted(claimed.items())]
    return pa.Table.from_pylist(rows, schema=INDEX_SCHEMA)


def _count(summary: Summary, store: Store) -> None:
    counts = store.row_counts()
    summary.articles, summary.profiles, summary.people = counts["articles"], counts["profiles"], counts["people"]
    summary.roles, summary.countries = counts["roles"], counts["countries"]
    summary.batches, summary.dates = counts["batches"], counts["dates"]


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
        return f"update: {s.counts()}, {self.failed} failed; {tables}{s.held_back_note()}"


def update_corpus(config: FetchConfig, raw_dir: Path, out_dir: Path, *, model: str | None = None,
                  min_confidence: float | None = None,
                  progress: bool = False, prune: bool = False, engine=None, client: httpx.Client | None = None,
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
        summary = extract_corpus(raw_dir, out_dir, model=model, progress=progress, prune=prune, engine=engine,
                                 min_confidence=min_confidence)
    return UpdateResult(report, summary)
