"""Tables on disk: each table a folder of Parquet part files, every table switched to a new version at once.

Layout of the output folder ``OUT``::

    OUT/<table>.parquet        symlink → .store/current/<table>.parquet, a folder of part files
    OUT/.store/current         symlink → v000007; replaced by one atomic rename per update
    OUT/.store/v000007/<table>.parquet/<part>-<digest>.parquet
    OUT/.store/v000007/index.parquet    one row per article: its page, hashes, pipeline version and part

``pd.read_parquet("OUT/roles.parquet")``, ``pq.read_table`` and DuckDB's
``read_parquet('OUT/roles.parquet/*.parquet')`` read a table whole, as when it was one file.

A *page part* holds every row of a group of pages in every per-article table, so an update rewrites only
the parts of the pages it changed. The derived tables are partitioned by their id instead (``people`` and
``person_links`` by person id). A part file's name
carries a digest of its content, so a reader that lists one version and opens files after the switch
fails loudly instead of mixing two versions.

An update is built in a new version folder (unchanged parts are hard links of the current ones) and
published by switching ``current``: a reader sees the old version whole or the new one whole, a run
killed before the switch leaves the previous version as it was, and the next run removes the unfinished
folder. The version before the current one is kept for readers still reading it.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterable, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from .schema import TABLES
from .resolve import link_rows
from .write import arrow_table, career_rows, programme_rows

STORE_DIR = ".store"
T = TypeVar("T")  # what a read of a stored file gives
CURRENT = "current"
INDEX_FILE = "index.parquet"
PEOPLE = "people"
CAREERS = "careers"
PROGRAMMES = "programmes"
PERSON_LINKS = "person_links"
DERIVED_TABLES = (PEOPLE, CAREERS, PROGRAMMES, PERSON_LINKS)  # corpus-wide, partitioned by their own id, recomputed per id
PAGE_TABLES = tuple(name for name in TABLES if name not in DERIVED_TABLES)
EMPTY_PART = "empty"  # a table with no rows keeps one empty file, so readers still get its columns
KEEP_VERSIONS = 2  # the current version and the one before, which a reader may still be reading
_VERSION = re.compile(r"^v(\d{6})$")
_DIGEST_CHARS = 12

INDEX_SCHEMA = pa.schema([
    pa.field("article_id", pa.string(), nullable=False),
    pa.field("page", pa.string(), nullable=False),  # article_id of the page's own article: the unit of update
    pa.field("part", pa.string(), nullable=False),
    pa.field("url", pa.string()),
    pa.field("source_path", pa.string()),
    pa.field("parent_article_id", pa.string()),
    pa.field("source_sha256", pa.string()),
    pa.field("pipeline_version", pa.string()),
    pa.field("gone_at", pa.timestamp("us", tz="UTC")),
])


class StoreError(RuntimeError):
    """The output folder holds something that is not a table store (or a broken one)."""


def part_name(number: int) -> str:
    """The name of the n-th page part."""
    return f"pages-{number:06d}"


def part_number(name: str) -> int:
    return int(name.rsplit("-", 1)[-1])


def id_part(table: str, row_id: str) -> str:
    """The part of a derived table holding an id (``per_<hex>``, ``prg_<hex>``): its first hex digit, so 16 parts
    at most: few files, and a rewrite touches a sixteenth of the table."""
    digit = row_id.split("_", 1)[-1][:1]
    return f"{table}-{digit if digit else '0'}"


class Store:
    """The table store in one output folder: read the current version, or build and publish the next."""

    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        self.root = self.out_dir / STORE_DIR

    # --- reading ----------------------------------------------------------------------------------

    @property
    def current(self) -> Path | None:
        """The folder of the current version, or None before the first update."""
        link = self.root / CURRENT
        return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None

    def index(self) -> pa.Table:
        current = self.current
        if current is None:
            return INDEX_SCHEMA.empty_table()
        if not (current / INDEX_FILE).exists():  # every published version has one (commit writes it)
            raise _damaged(current / INDEX_FILE, "is missing")
        return _read_stored(current / INDEX_FILE, lambda path: pq.read_table(path).cast(INDEX_SCHEMA))

    def parts(self, table: str, version: Path | None = None) -> dict[str, Path]:
        """Part name → file of one table in a version (the current one by default)."""
        version = version or self.current
        folder = version / f"{table}.parquet" if version else None
        if folder is None or not folder.is_dir():
            return {}
        return {path.stem.rsplit("-", 1)[0]: path for path in folder.glob("*.parquet")
                if not path.name.startswith((".", "_")) and path.stem.rsplit("-", 1)[0] != EMPTY_PART}

    def read_part(self, table: str, part: str) -> pa.Table:
        return _read_part(self.parts(table).get(part), table)

    def read_rows(self, table: str, column: str, values: Iterable[str], version: Path | None = None,
                  columns: list[str] | None = None) -> pa.Table:
        """The rows of ``table`` whose ``column`` is one of ``values``, across all parts (filtered as read);
        only ``columns`` when given."""
        files = [str(path) for path in self.parts(table, version).values()]
        wanted = pa.array(sorted(set(values)), pa.string())
        if not files or len(wanted) == 0:
            empty = TABLES[table].schema.empty_table()
            return empty.select(columns) if columns else empty
        dataset = ds.dataset(files, schema=TABLES[table].schema, format="parquet")
        return dataset.to_table(columns=columns, filter=pc.field(column).isin(wanted))

    def read_columns(self, table: str, columns: list[str], version: Path | None = None) -> pa.Table:
        """Every row of ``table``, only ``columns``, across all parts."""
        files = [str(path) for path in self.parts(table, version).values()]
        if not files:
            return TABLES[table].schema.empty_table().select(columns)
        return ds.dataset(files, schema=TABLES[table].schema, format="parquet").to_table(columns=columns)

    def row_counts(self) -> dict[str, int]:
        """Rows per table, from the part files' footers (no data is read)."""
        return {name: sum(_read_stored(path, lambda part: pq.ParquetFile(part).metadata.num_rows)
                          for path in self.parts(name).values())
                for name in TABLES}

    # --- writing ----------------------------------------------------------------------------------

    def migrate_legacy_tables(self, part_pages: int) -> bool:
        """Move one-file tables written by an earlier version (``OUT/<table>.parquet`` files) into the store.

        Runs once, reading them whole; their pages are grouped into parts of ``part_pages`` pages. Returns
        whether there was anything to move. Tables that do not match the schema are left for the user.
        """
        files = {name: self.out_dir / f"{name}.parquet" for name in TABLES}
        if self.current is not None or not any(path.is_file() and not path.is_symlink() for path in files.values()):
            return False
        later = (CAREERS, PROGRAMMES, PERSON_LINKS)  # tables an earlier version did not write: derived below when missing
        missing = [name for name, path in files.items() if not path.is_file() and name not in later]
        if missing:
            raise StoreError(f"{self.out_dir} holds one-file tables of an earlier version but not "
                             f"{', '.join(missing)}; move the folder away or restore them")
        tables = {}
        for name, path in files.items():
            if name in later and not path.is_file():
                continue
            try:
                table = pq.read_table(path)
            except (OSError, pa.ArrowInvalid) as error:
                raise StoreError(f"{path} cannot be read: {error}") from None
            if table.schema.names != TABLES[name].column_names:
                raise StoreError(f"{path} has other columns than this version's {name} table; move it away")
            tables[name] = table.cast(TABLES[name].schema)
        articles = tables["articles"].to_pylist()
        if CAREERS not in tables:
            published = {a["article_id"]: a["published"] for a in articles}
            tables[CAREERS] = arrow_table(CAREERS, career_rows(tables["roles"].to_pylist(), published))
        if PROGRAMMES not in tables:
            tables[PROGRAMMES] = arrow_table(PROGRAMMES, programme_rows(tables["batches"].to_pylist()))
        if PERSON_LINKS not in tables:
            tables[PERSON_LINKS] = arrow_table(PERSON_LINKS, link_rows(
                *(tables[name].to_pylist() for name in ("article_people", "countries", "roles", "batches"))))
        pages = sorted({row["parent_article_id"] or row["article_id"] for row in articles})
        part_of_page = {page: part_name(position // part_pages + 1) for position, page in enumerate(pages)}
        index = [{"article_id": row["article_id"], "page": row["parent_article_id"] or row["article_id"],
                  "part": part_of_page[row["parent_article_id"] or row["article_id"]], **{
                      key: row[key] for key in ("url", "source_path", "parent_article_id", "source_sha256",
                                                "pipeline_version", "gone_at")}} for row in articles]
        part_of_article = {row["article_id"]: row["part"] for row in index}
        update = self.begin()
        try:
            for name in PAGE_TABLES:
                parts = pa.array([part_of_article.get(aid, "") for aid in tables[name]["article_id"].to_pylist()])
                for part in sorted(set(part_of_page.values())):
                    update.write_part(name, part, tables[name].filter(pc.equal(parts, part)))
            for name, id_column in ((PEOPLE, "person_id"), (CAREERS, "career_id"), (PROGRAMMES, "programme_id"),
                                    (PERSON_LINKS, "person_id")):
                parts = pa.array([id_part(name, row_id) for row_id in tables[name][id_column].to_pylist()])
                for part in sorted(set(parts.to_pylist())):
                    update.write_part(name, part, tables[name].filter(pc.equal(parts, part)))
            update.write_index(pa.Table.from_pylist(index, schema=INDEX_SCHEMA))
            update.commit()
        except BaseException:
            update.abort()
            raise
        return True

    def begin(self) -> "Update":
        """A new version, to fill and then ``commit``; starts as a copy (hard links) of the current one."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._remove_unfinished()
        return Update(self)

    def versions(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(path for path in self.root.iterdir() if _VERSION.match(path.name) and not path.is_symlink())

    def _remove_unfinished(self) -> None:
        """Version folders newer than the current one were left by a killed run: never published, removed.
        A ``current`` link that names no version is damage, not a first run: nothing is removed, the run stops."""
        current = self.current
        link = self.root / CURRENT
        if current is None and link.is_symlink():
            raise StoreError(f"{link} points at {os.readlink(link)}, which is not a version of this store; "
                             f"point it at the newest of {[v.name for v in self.versions()] or 'no versions'} "
                             f"or move {self.root} away to start again")
        for version in self.versions():
            if current is None or version.name > current.name:
                shutil.rmtree(version, ignore_errors=True)

    def _remove_old_versions(self) -> None:
        for version in self.versions()[:-KEEP_VERSIONS]:
            shutil.rmtree(version, ignore_errors=True)

    def link_tables(self) -> None:
        """Make ``OUT/<table>.parquet`` point into the current version (replacing a one-file table of old)."""
        for name in TABLES:
            link = self.out_dir / f"{name}.parquet"
            target = Path(STORE_DIR) / CURRENT / f"{name}.parquet"
            if link.is_symlink() and Path(os.readlink(link)) == target:
                continue
            _replace_with_symlink(link, target)


class Update:
    """One version being built. Nothing is visible to readers until ``commit``."""

    def __init__(self, store: Store) -> None:
        self.store = store
        current = store.current
        number = int(current.name[1:]) + 1 if current else 1
        self.folder = store.root / f"v{number:06d}"
        self.folder.mkdir()
        self.changed: set[str] = set() if current else set(TABLES)  # a first version writes every table
        self.published = False  # once ``current`` points here, the version is the store's: never removed by abort
        for name in TABLES:
            (self.folder / f"{name}.parquet").mkdir()
            for path in (current / f"{name}.parquet").glob("*.parquet") if current else ():
                os.link(path, self.folder / f"{name}.parquet" / path.name)
        if current and (current / INDEX_FILE).exists():
            os.link(current / INDEX_FILE, self.folder / INDEX_FILE)

    def parts(self, table: str) -> dict[str, Path]:
        return self.store.parts(table, self.folder)

    def read_part(self, table: str, part: str) -> pa.Table:
        return _read_part(self.parts(table).get(part), table)

    def write_part(self, table: str, part: str, rows: pa.Table) -> None:
        """Replace one part of a table (an empty ``rows`` removes the part); unchanged content is left alone."""
        folder = self.folder / f"{table}.parquet"
        old = self.parts(table).get(part)
        if old is None and not rows.num_rows:
            return
        data, name = _serialized(rows, part)
        if old is not None and old.name == name:
            return  # the same bytes (a part of an earlier schema has other bytes, so it is rewritten)
        if old is not None:
            old.unlink()
        if rows.num_rows:
            _write_bytes(data, folder / name)
        self.changed.add(table)

    def write_index(self, index: pa.Table) -> None:
        path = self.folder / INDEX_FILE
        if path.exists() and pq.read_table(path).cast(INDEX_SCHEMA).equals(index):
            return
        if path.exists():
            path.unlink()
        _write_atomically(index, path)
        self.changed.add("index")

    def commit(self) -> list[str]:
        """Publish this version (when anything changed) and return the tables it changed, in schema order."""
        if not self.changed and self.store.current is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            return []
        for name in TABLES:  # a table with no part keeps an empty file, so readers still see its columns
            folder = self.folder / f"{name}.parquet"
            if not self.parts(name) and not any(folder.glob(f"{EMPTY_PART}-*.parquet")):
                _write_file(TABLES[name].schema.empty_table(), folder, EMPTY_PART)
            elif self.parts(name):
                for empty in folder.glob(f"{EMPTY_PART}-*.parquet"):
                    empty.unlink()
        if not (self.folder / INDEX_FILE).exists():
            _write_atomically(INDEX_SCHEMA.empty_table(), self.folder / INDEX_FILE)
        _fsync_tree(self.folder)
        _replace_with_symlink(self.store.root / CURRENT, Path(self.folder.name))
        self.published = True
        self.store.link_tables()
        self.store._remove_old_versions()
        return [name for name in TABLES if name in self.changed]

    def abort(self) -> None:
        """Remove the unfinished version; a published one stays (a failure after the switch, such as a table
        link that cannot be made, must not take away the version ``current`` names)."""
        if not self.published:
            shutil.rmtree(self.folder, ignore_errors=True)


# --- files ------------------------------------------------------------------------------------------


def _read_part(path: Path | None, table: str) -> pa.Table:
    return _read_stored(path, lambda part: _in_schema(pq.read_table(part), table)) if path \
        else TABLES[table].schema.empty_table()


def _read_stored(path: Path, read: Callable[[Path], T]) -> T:
    """``read(path)`` of a file of the store; a file that is empty, cut or not Parquet is a damaged store, said
    with the file and what to do, not an unexpected error."""
    try:
        return read(path)
    except (OSError, pa.ArrowException) as error:
        raise _damaged(path, f"cannot be read ({error})") from None


def _damaged(path: Path, what: str) -> StoreError:
    return StoreError(f"{path} {what}: the table store is damaged; restore it from a backup, or move the output "
                      f"folder's {STORE_DIR} away to extract every page again")


def _in_schema(stored: pa.Table, table: str) -> pa.Table:
    """A part in this version's schema: a nullable column an earlier version did not write reads as nulls
    (``batches.programme_id``); the pages it came from are extracted again, as the pipeline version changed."""
    schema = TABLES[table].schema
    for field in schema:
        if field.name not in stored.column_names:
            if not field.nullable:
                raise StoreError(f"{table}: a part has no {field.name} column; move the output folder away")
            stored = stored.append_column(field.name, pa.nulls(stored.num_rows, field.type))
    return stored.select(schema.names).cast(schema)


def _serialized(rows: pa.Table, part: str) -> tuple[bytes, str]:
    """A part's Parquet bytes and its file name, ``<part>-<digest of the bytes>.parquet``."""
    sink = pa.BufferOutputStream()
    pq.write_table(rows, sink)
    data = sink.getvalue().to_pybytes()
    return data, f"{part}-{hashlib.sha256(data).hexdigest()[:_DIGEST_CHARS]}.parquet"


def _write_file(rows: pa.Table, folder: Path, part: str) -> Path:
    """Write a part as ``<part>-<digest>.parquet``, via a temporary file."""
    data, name = _serialized(rows, part)
    _write_bytes(data, folder / name)
    return folder / name


def _write_bytes(data: bytes, path: Path) -> None:
    handle, temp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, 0o644)  # mkstemp makes files owner-only; tables are for everyone to read
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def _write_atomically(table: pa.Table, path: Path) -> None:
    handle, temp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        pq.write_table(table, temp)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def _replace_with_symlink(link: Path, target: Path) -> None:
    """Point ``link`` at ``target`` in one atomic rename, whatever was there (a file, a link, nothing)."""
    if link.is_dir() and not link.is_symlink():
        raise StoreError(f"{link} is a folder, not a table of this store; move it away")
    temp = link.with_name(f".{link.name}.{os.getpid()}.link")
    if temp.is_symlink() or temp.exists():
        temp.unlink()
    os.symlink(target, temp)
    os.replace(temp, link)


def _fsync_tree(folder: Path) -> None:
    """Flush the new version's folders to disk before it is published."""
    for path in [*folder.rglob("*"), folder]:
        if path.is_dir():
            descriptor = os.open(path, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
