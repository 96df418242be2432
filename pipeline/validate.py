"""validate: the rules of meaning declared in ``schema.TABLES``, checked on Arrow tables with pyarrow.compute.

Structure comes first (``schema.validate``: columns, types, non-null columns, unique keys); a table that fails
it is not checked further, nor are rules of other tables that look into it. Then each declared rule: accepted
values, ISO 3166-1 alpha-3 codes (pycountry), formats, ranges, order within a row, references between tables
(joins), offsets inside the article text. ``require_valid`` runs before every write and raises
``InvalidTables``, naming table, column, rule and a few offending values.

Why pyarrow.compute and not pandera (both measured on the dev set's tables): the tables are Arrow tables
already and pyarrow is already a dependency, so this adds no package and no conversion; the 57 rules and the
structure of the nine tables are checked in about 40 ms (0.9 s for a hundred times the dev set: 1,800 articles,
108,500 mentions). References between tables, composite ones included ((article_id, profile_id) →
profiles), are one anti-join each, list columns are checked element-wise after ``list_flatten``, and the rules
stay plain data in the schema. pandera 0.35 would add four packages (pandera, typeguard, typing-inspect,
mypy-extensions: 6.5 MB) and 0.15-0.25 s of import on top of pandas, and needs every table copied into pandas;
with Arrow-backed dtypes its own dtype check fails ("expected string[pyarrow], got string[pyarrow]"), and it
validates one data frame at a time, so each reference, the offsets and the list columns become hand-written
checks closing over the other frames, built anew for every validation rather than declared once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .schema import (TABLES, Accepted, AtLeast, CountryCode, Format, InText, Ordered, Reference, Rule, SchemaError,
                     Within, validate)

EXAMPLES = 3  # offending values shown per violation: enough to see the pattern, few enough for one line
EXAMPLE_CHARS = 60  # a longer offending value (a URL, a text) is cut to this many characters
_ROW = "__row"  # column carrying a value's row number through filters and joins


@dataclass(frozen=True)
class Violation:
    """One rule broken by ``rows`` rows of ``table``, with up to ``EXAMPLES`` offending values."""

    table: str
    columns: tuple[str, ...]
    rule: str
    rows: int
    examples: tuple[str, ...] = ()

    def line(self) -> str:
        parts = [f"{self.table}.{','.join(self.columns)}" if self.columns else self.table, self.rule]
        if self.rows:
            examples = f", e.g. {'; '.join(self.examples)}" if self.examples else ""
            parts.append(f"{self.rows} row{'s' if self.rows != 1 else ''}{examples}")
        return ": ".join(parts)


@dataclass
class TableReport:
    """What was checked in one table: rows (None when the table could not be read), rules, violations."""

    name: str
    rows: int | None
    rules_checked: int = 0
    violations: list[Violation] = field(default_factory=list)


class InvalidTables(SchemaError):
    """The tables break their declared rules; nothing was written."""

    def __init__(self, violations: list[Violation]):
        self.violations = violations
        more = f" (and {len(violations) - 1} more violation{'s' if len(violations) > 2 else ''})" if len(violations) > 1 else ""
        super().__init__(f"tables not written: {violations[0].line()}{more}")


class NotTables(ValueError):
    """A folder that does not hold the tables at all (not a folder, or none of ``<table>.parquet`` in it)."""


# ---------------------------------------------------------------- checking


def check_tables(tables: dict[str, pa.Table], complete: bool = True) -> list[TableReport]:
    """Every table of ``schema.TABLES`` checked: structure, then each declared rule.

    With ``complete`` a missing table is a violation; without, only the tables given are checked (and rules that
    look into a table not given are skipped)."""
    names = list(TABLES) if complete else [name for name in TABLES if name in tables]
    reports = {name: TableReport(name, tables[name].num_rows if name in tables else None) for name in names}
    sound = set()
    for name, report in reports.items():
        if name not in tables:
            report.violations.append(Violation(name, (), "table is missing", 0))
            continue
        report.rules_checked += 1
        try:
            validate(name, tables[name])
        except SchemaError as error:
            report.violations.append(Violation(name, (), f"structure: {error}", 0))
            continue
        sound.add(name)
    for name in sorted(sound, key=list(TABLES).index):
        for rule in TABLES[name].rules:
            if not _other_tables(rule) <= sound:
                continue
            reports[name].rules_checked += 1
            violation = _check(rule, name, tables)
            if violation is not None:
                reports[name].violations.append(violation)
    return list(reports.values())


def require_valid(tables: dict[str, pa.Table], complete: bool = True) -> None:
    """Raise ``InvalidTables`` listing every violation, if there is any (``complete`` as for ``check_tables``)."""
    violations = [v for report in check_tables(tables, complete) for v in report.violations]
    if violations:
        raise InvalidTables(violations)


def _other_tables(rule: Rule) -> set[str]:
    """Tables a rule looks into besides its own: they must be there and sound for it to be checked."""
    if isinstance(rule, Reference):
        return {rule.table}
    if isinstance(rule, InText):
        return {"articles"}
    return set()


def _check(rule: Rule, name: str, tables: dict[str, pa.Table]) -> Violation | None:
    table = tables[name]
    if isinstance(rule, Reference):
        return _check_reference(rule, name, tables)
    if isinstance(rule, InText):
        return _check_in_text(rule, name, table, tables["articles"])
    if isinstance(rule, Ordered):
        pairs = _numbered(table).select([_ROW, rule.lower, rule.upper]).drop_null()
        bad = pairs.filter(pc.greater(pairs[rule.lower], pairs[rule.upper]))
        return _violation(name, (rule.lower, rule.upper), rule, bad)
    values = _values(table, rule.column, getattr(rule, "when", None))
    if isinstance(rule, Accepted):
        bad_mask = pc.invert(pc.is_in(values["value"], value_set=pa.array(rule.values, pa.string())))
    elif isinstance(rule, CountryCode):
        bad_mask = pc.invert(pc.is_in(values["value"], value_set=_iso3_codes()))
    elif isinstance(rule, Format):
        bad_mask = pc.invert(pc.match_substring_regex(values["value"], rule.regex))
    elif isinstance(rule, AtLeast):
        bad_mask = pc.less(values["value"], rule.minimum)
    elif isinstance(rule, Within):
        bad_mask = pc.or_(pc.less(values["value"], rule.minimum), pc.greater(values["value"], rule.maximum))
    else:
        raise TypeError(f"unknown rule {rule!r}")
    return _violation(name, (rule.column,), rule, values.filter(bad_mask).rename_columns([_ROW, rule.column]))


def _check_reference(rule: Reference, name: str, tables: dict[str, pa.Table]) -> Violation | None:
    """Anti-join of this table's (non-null) keys against the distinct keys of the referenced table."""
    table = tables[name]
    if len(rule.columns) == 1 and pa.types.is_list(table.schema.field(rule.columns[0]).type):
        keys = _values(table, rule.columns[0], None).rename_columns([_ROW, rule.columns[0]])
    else:
        keys = _numbered(table).select([_ROW, *rule.columns]).drop_null()
    there = tables[rule.table].select(list(rule.columns_there)).rename_columns(list(rule.columns))
    there = there.group_by(list(rule.columns)).aggregate([])
    missing = keys.join(there, keys=list(rule.columns), join_type="left anti")
    return _violation(name, rule.columns, rule, missing)


def _check_in_text(rule: InText, name: str, table: pa.Table, articles: pa.Table) -> Violation | None:
    """Offsets against the length (in characters, as Python counts them) of the row's article text."""
    offsets = [rule.start] + ([rule.end] if rule.end is not None else [])
    lengths = pa.table({"article_id": articles["article_id"], "__length": pc.utf8_length(articles["text"])})
    rows = _numbered(table).select([_ROW, "article_id", *offsets]).join(lengths, keys="article_id", join_type="inner")
    start, length = rows[rule.start], rows["__length"]
    bad = pc.less(start, 0)
    if rule.end is None:
        bad = pc.or_(bad, pc.greater_equal(start, length))
    else:
        end = rows[rule.end]
        bad = pc.or_(bad, pc.or_(pc.greater_equal(start, end), pc.greater(end, length)))
    offenders = rows.filter(bad)
    return _violation(name, tuple(offsets), rule, offenders.select([_ROW, "article_id", *offsets, "__length"])
                      .rename_columns([_ROW, "article_id", *offsets, "text length"]))


@lru_cache(maxsize=1)
def _iso3_codes() -> pa.Array:
    import pycountry  # only when a country rule runs: the dictionary and the writer's imports stay light
    return pa.array(sorted(country.alpha_3 for country in pycountry.countries), pa.string())


def _numbered(table: pa.Table) -> pa.Table:
    return table.append_column(_ROW, pa.array(range(table.num_rows), pa.int64()))


def _values(table: pa.Table, column: str, when: tuple[str, str] | None) -> pa.Table:
    """(row, value) for every non-null value of ``column``, list columns flattened, only rows matching ``when``."""
    numbered = _numbered(table)
    if when is not None:
        numbered = numbered.filter(pc.equal(numbered[when[0]], when[1]))
    array = numbered[column].combine_chunks()
    rows = numbered[_ROW].combine_chunks()
    if pa.types.is_list(array.type):
        rows = pc.take(rows, pc.list_parent_indices(array))
        array = pc.list_flatten(array)
    values = pa.table({_ROW: rows, "value": array})
    return values.filter(pc.is_valid(values["value"]))


def _violation(name: str, columns: tuple[str, ...], rule: Rule, offenders: pa.Table) -> Violation | None:
    """A violation from the offending (row, value columns…) table; None when it is empty."""
    if offenders.num_rows == 0:
        return None
    offenders = offenders.sort_by(_ROW)
    examples: list[str] = []
    for record in offenders.drop_columns([_ROW]).to_pylist():
        values = list(record.items())
        shown = _shown(values[0][1]) if len(values) == 1 else ", ".join(f"{k}={_shown(v)}" for k, v in values)
        if shown not in examples:
            examples.append(shown)
        if len(examples) == EXAMPLES:
            break
    rows = len(pc.unique(offenders[_ROW]))
    return Violation(name, columns, f"{rule.kind} ({rule.describe().replace('`', '')})", rows, tuple(examples))


def _shown(value: object) -> str:
    """Strings quoted (so an empty or padded value shows), dates and numbers as they print."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS - 1] + "…"


# ---------------------------------------------------------------- a folder of tables


def read_folder(folder: Path) -> tuple[dict[str, pa.Table], list[Violation]]:
    """The tables in ``folder`` as stored, and the files that could not be read.

    Raises ``NotTables`` when ``folder`` is not a folder or holds none of the table files."""
    if not folder.is_dir():
        raise NotTables(f"{folder} is not a folder")
    present = [name for name in TABLES if (folder / f"{name}.parquet").exists()]  # a file, or a folder of parts
    if not present:
        raise NotTables(f"{folder} is not a folder of tables (none of {', '.join(f'{n}.parquet' for n in TABLES)})")
    tables, unreadable = {}, []
    for name in present:
        try:
            tables[name] = pq.read_table(folder / f"{name}.parquet")
        except (pa.ArrowException, OSError) as error:
            unreadable.append(Violation(name, (), f"{name}.parquet cannot be read: {error}", 0))
    return tables, unreadable


def validate_folder(folder: Path) -> list[TableReport]:
    """Reports of every table in ``folder`` (raises ``NotTables`` as ``read_folder``)."""
    tables, unreadable = read_folder(folder)
    reports = check_tables(tables)
    for report in reports:
        unread = [v for v in unreadable if v.table == report.name]
        if unread:  # reported as unreadable rather than as missing
            report.violations = unread
    return reports


def format_report(reports: list[TableReport]) -> str:
    """Per table: rows, rules checked, then each violation with its examples; a last line with the verdict."""
    lines = []
    for report in reports:
        rows = "not read" if report.rows is None else f"{report.rows} rows"
        verdict = "ok" if not report.violations else f"{len(report.violations)} violation{'s' if len(report.violations) > 1 else ''}"
        lines.append(f"{report.name:<15} {rows:>10}  {report.rules_checked:>2} rules  {verdict}")
        lines += [f"  {violation.line()}" for violation in report.violations]
    total = sum(len(report.violations) for report in reports)
    lines.append("valid" if not total else f"invalid: {total} violation{'s' if total > 1 else ''}")
    return "\n".join(lines)
