"""Tests of pipeline.validate: every kind of rule declared in the schema finds a bad value and passes a good one;
the writer refuses an invalid set without touching the folder; ``python -m pipeline validate`` exit codes; the
sample and the dev-set extractions validate clean.

The small tables here are built by hand (an invented person and organisation), so every offset is known.
"""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.__main__ import main
from pipeline.normalize import person_id, stable_id
from pipeline.schema import TABLES
from pipeline.validate import InvalidTables, Violation, check_tables, validate_folder
from pipeline.validate import require_valid
from pipeline.write import build_tables

ROOT = Path(__file__).resolve().parent.parent
EXTRACTED_AT = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)

HEADING = "Ina Rask, Thailand, Youth Exchange Programme (2nd Batch, 2018-2019)"
SENTENCE = "Ms. Ina Rask has been Trade Officer at the Harbour Authority since March 2020."
TEXT = f"Harbour Notes\n\n{HEADING}\n\n{SENTENCE}"
RELATED_TEXT = "Harbour Notes Again\n\nA related story."
ARTICLE = stable_id("art", "https://example.org/harbour/")
RELATED = stable_id("art", "https://example.org/harbour-again/")
PERSON = person_id("Ina Rask")
PROFILE = stable_id("prf", ARTICLE, 0)
RELATED_PROFILE = stable_id("prf", RELATED, 0)


def _span(text: str, part: str, after: int = 0) -> tuple[int, int]:
    start = text.index(part, after)
    return start, start + len(part)


def _good_rows() -> dict[str, list[dict]]:
    """One article about one person with a role, a country, a batch and a date, and a related story (no person)."""
    heading = _span(TEXT, HEADING)
    name = _span(TEXT, "Ina Rask")
    country = _span(TEXT, "Thailand")
    batch = _span(TEXT, "2nd Batch")
    title = _span(TEXT, "Trade Officer")
    org = _span(TEXT, "Harbour Authority")
    date = _span(TEXT, "March 2020")
    evidence = {"article_id": ARTICLE}
    sha = {"content_sha256": "a" * 64, "source_sha256": "b" * 64, "extracted_at": EXTRACTED_AT,
           "pipeline_version": "0.0.test", "gone_at": None, "published": dt.date(2021, 5, 3), "byline": "Desk",
           "sectors": ["Trade"], "funding_framework": None, "photo_credits": []}
    return {
        "articles": [
            {"article_id": ARTICLE, "url": "https://example.org/harbour/", "source_path": "harbour.html",
             "parent_article_id": None, "title": "Harbour Notes", "text": TEXT, **sha},
            {"article_id": RELATED, "url": "https://example.org/harbour-again/", "source_path": "harbour.html",
             "parent_article_id": ARTICLE, "title": "Harbour Notes Again", "text": RELATED_TEXT, **sha},
        ],
        "profiles": [
            {"profile_id": PROFILE, "article_id": ARTICLE, "person_id": PERSON, "seq": 0, "heading": HEADING,
             "char_start": heading[0], "char_end": len(TEXT)},
            {"profile_id": RELATED_PROFILE, "article_id": RELATED, "person_id": None, "seq": 0, "heading": None,
             "char_start": 0, "char_end": len(RELATED_TEXT)},
        ],
        "article_people": [{"person_id": PERSON, "article_id": ARTICLE, "name": "Ina Rask", "aliases": ["Rask"],
                            "honorifics": ["Ms."], "char_start": name[0]}],
        "mentions": [
            {"mention_id": stable_id("men", label), **evidence, "profile_id": PROFILE, "person_id": person,
             "label": label, "text": TEXT[span[0]:span[1]], "char_start": span[0], "char_end": span[1],
             "normalized": normalized, "source": "rule:test/" + label.lower()}
            for label, span, normalized, person in (
                ("PERSON", name, "Ina Rask", PERSON), ("COUNTRY", country, "THA", PERSON),
                ("BATCH", batch, "2", PERSON), ("TITLE", title, "Trade Officer", PERSON),
                ("ORG", org, "Harbour Authority", None), ("DATE", date, "2020-03", None))
        ],
        "roles": [{"role_id": stable_id("rol", "trade officer"), "person_id": PERSON, **evidence, "profile_id": PROFILE,
                   "title": "Trade Officer", "org": "Harbour Authority", "status": "current", "start": "2020-03",
                   "end": None, "start_date": dt.date(2020, 3, 1), "end_date": None, "char_start": title[0],
                   "char_end": org[1], "source": "rule:test/role", "confidence": 0.9}],
        "countries": [{"person_id": PERSON, **evidence, "country_iso3": "THA", "country_name": "Thailand",
                       "char_start": country[0], "char_end": country[1], "source": "rule:test/country", "confidence": 0.9}],
        "batches": [{"batch_row_id": stable_id("bat", "2"), "person_id": PERSON, **evidence,
                     "programme": "Youth Exchange Programme", "programme_key": "youth exchange programme", "batch": 2,
                     "start_year": 2018, "end_year": 2019, "char_start": batch[0], "char_end": batch[1],
                     "source": "rule:test/batch", "confidence": 0.9}],
        "dates": [{"date_id": stable_id("dat", "march"), **evidence, "profile_id": PROFILE, "text": "March 2020",
                   "char_start": date[0], "char_end": date[1], "start": "2020-03", "end": "2020-03",
                   "start_date": dt.date(2020, 3, 1), "end_date": dt.date(2020, 3, 31), "precision": "month",
                   "source": "rule:test/date", "confidence": 0.9}],
    }


@pytest.fixture
def good() -> dict[str, pa.Table]:
    return build_tables(_good_rows())


def _set(tables: dict[str, pa.Table], name: str, column: str, value, where: tuple[str, object] | None = None):
    """A copy of the tables with ``column`` set to ``value`` in the first row of ``name`` (matching ``where``)."""
    table = tables[name]
    rows = table.to_pylist()
    row = 0 if where is None else next(i for i, r in enumerate(rows) if r[where[0]] == where[1])
    values = table.column(column).to_pylist()
    values[row] = value
    index = table.schema.get_field_index(column)
    changed = dict(tables)
    changed[name] = table.set_column(index, table.schema.field(index), pa.array(values, table.schema.field(index).type))
    return changed


def _violations(tables: dict[str, pa.Table]) -> list[Violation]:
    return [v for report in check_tables(tables) for v in report.violations]


# ---------------------------------------------------------------- good tables pass


def test_the_good_tables_break_no_rule(good):
    reports = check_tables(good)
    assert [r.name for r in reports] == list(TABLES)
    assert not _violations(good)
    for report in reports:
        assert report.rows == good[report.name].num_rows
        assert report.rules_checked == 1 + len(TABLES[report.name].rules)  # structure, then every declared rule


def test_every_rule_kind_is_declared_somewhere():
    kinds = {rule.kind for table in TABLES.values() for rule in table.rules}
    assert kinds == {"accepted values", "ISO 3166-1 alpha-3", "format", "range", "order", "reference", "offsets in text"}


def test_every_rule_names_columns_that_exist():
    """A misspelt column in a rule would otherwise only show up as an error in the middle of a write."""
    for name, table in TABLES.items():
        for rule in table.rules:
            here = [getattr(rule, attr) for attr in ("column", "lower", "upper", "start", "end") if getattr(rule, attr, None)]
            here += list(getattr(rule, "columns", ())) + ([rule.when[0]] if getattr(rule, "when", None) else [])
            assert set(here) <= set(table.column_names), f"{name}: {rule}"
            if hasattr(rule, "table"):
                assert set(rule.columns_there) <= set(TABLES[rule.table].column_names), f"{name}: {rule}"


# ---------------------------------------------------------------- each kind of rule finds a bad value

BAD_VALUES = [
    # (table, column, bad value, row selector, violation columns, rule kind, shown example)
    ("roles", "status", "past", None, ("status",), "accepted values", "'past'"),
    ("mentions", "label", "LOCATION", ("label", "ORG"), ("label",), "accepted values", "'LOCATION'"),
    ("dates", "precision", "week", None, ("precision",), "accepted values", "'week'"),
    ("countries", "country_iso3", "XYZ", None, ("country_iso3",), "ISO 3166-1 alpha-3", "'XYZ'"),
    ("countries", "country_iso3", "tha", None, ("country_iso3",), "ISO 3166-1 alpha-3", "'tha'"),
    ("countries", "country_iso3", "TH", None, ("country_iso3",), "ISO 3166-1 alpha-3", "'TH'"),
    ("people", "countries", ["THA", "SIAM"], None, ("countries",), "ISO 3166-1 alpha-3", "'SIAM'"),
    ("mentions", "normalized", "Thailand", ("label", "COUNTRY"), ("normalized",), "ISO 3166-1 alpha-3", "'Thailand'"),
    ("mentions", "normalized", "second", ("label", "BATCH"), ("normalized",), "format", "'second'"),
    ("mentions", "normalized", "0", ("label", "BATCH"), ("normalized",), "format", "'0'"),
    ("mentions", "normalized", "March 2020", ("label", "DATE"), ("normalized",), "format", "'March 2020'"),
    ("roles", "start", "2020-13", None, ("start",), "format", "'2020-13'"),
    ("dates", "end", "20", None, ("end",), "format", "'20'"),
    ("articles", "content_sha256", "abc", None, ("content_sha256",), "format", "'abc'"),
    ("articles", "url", "example.org/harbour", None, ("url",), "format", "'example.org/harbour'"),
    ("roles", "role_id", "role-1", None, ("role_id",), "format", "'role-1'"),
    ("roles", "source", "guess", None, ("source",), "format", "'guess'"),
    ("batches", "batch", 0, None, ("batch",), "range", "0"),
    ("profiles", "seq", -1, None, ("seq",), "range", "-1"),
    ("roles", "confidence", 1.5, None, ("confidence",), "range", "1.5"),
    ("dates", "confidence", -0.1, None, ("confidence",), "range", "-0.1"),
    ("roles", "end_date", dt.date(2019, 12, 31), None, ("start_date", "end_date"), "order", "end_date=2019-12-31"),
    ("batches", "end_year", 2017, None, ("start_year", "end_year"), "order", "start_year=2018, end_year=2017"),
    ("dates", "start_date", dt.date(2020, 4, 1), None, ("start_date", "end_date"), "order", "start_date=2020-04-01"),
    ("articles", "parent_article_id", "art_ffff", ("article_id", RELATED), ("parent_article_id",), "reference", "'art_ffff'"),
    ("people", "article_ids", [ARTICLE, "art_ffff"], None, ("article_ids",), "reference", "'art_ffff'"),
    ("roles", "person_id", "per_ffff", None, ("article_id", "person_id"), "reference", "person_id='per_ffff'"),
    ("countries", "article_id", RELATED, None, ("article_id", "person_id"), "reference", f"article_id='{RELATED}'"),
    # the profile exists, but in another article: a composite reference
    ("mentions", "profile_id", RELATED_PROFILE, ("label", "ORG"), ("article_id", "profile_id"), "reference",
     f"profile_id='{RELATED_PROFILE}'"),
    ("dates", "article_id", "art_ffff", None, ("article_id",), "reference", "'art_ffff'"),
    ("roles", "char_end", len(TEXT) + 1, None, ("char_start", "char_end"), "offsets in text", f"text length={len(TEXT)}"),
    ("mentions", "char_start", -1, ("label", "ORG"), ("char_start", "char_end"), "offsets in text", "char_start=-1"),
    ("dates", "char_end", TEXT.index("March 2020"), None, ("char_start", "char_end"), "offsets in text",
     f"char_end={TEXT.index('March 2020')}"),
    ("article_people", "char_start", len(TEXT), None, ("char_start",), "offsets in text", f"char_start={len(TEXT)}"),
]


@pytest.mark.parametrize("name, column, value, where, columns, kind, example", BAD_VALUES,
                         ids=[f"{c[0]}.{c[1]}={c[2]!r}" for c in BAD_VALUES])
def test_a_bad_value_is_found(good, name, column, value, where, columns, kind, example):
    found = [v for v in _violations(_set(good, name, column, value, where)) if v.table == name and v.columns == columns]
    assert found, f"no violation of {name}.{column}"
    [violation] = found
    assert violation.rule.startswith(kind) and violation.rows == 1
    assert any(example in shown for shown in violation.examples), violation.examples
    line = violation.line()
    assert line.startswith(f"{name}.{','.join(columns)}: {kind}") and example in line and "1 row" in line


GOOD_EDGES = [
    # values at the edge of a rule, or where a rule does not apply: no violation
    ("roles", "end_date", dt.date(2020, 3, 1), None),  # end on the day it starts
    ("batches", "end_year", 2018, None),  # a batch within one year
    ("batches", "batch", None, None),  # no batch number printed: nulls are not checked
    ("roles", "profile_id", None, None),  # no profile: a null reference is not checked
    ("mentions", "normalized", "Thailand", ("label", "ORG")),  # ISO3 is checked for COUNTRY mentions only
    ("mentions", "char_end", len(TEXT), ("label", "DATE")),  # a span may end at the end of the text
    ("profiles", "seq", 0, None),
    ("people", "countries", [], None),
    ("countries", "country_iso3", "LAO", None),
    ("countries", "confidence", 0.0, None),  # a confidence may be exactly 0 or 1
    ("batches", "confidence", 1.0, None),
]


@pytest.mark.parametrize("name, column, value, where", GOOD_EDGES, ids=[f"{c[0]}.{c[1]}={c[2]!r}" for c in GOOD_EDGES])
def test_a_good_edge_value_passes(good, name, column, value, where):
    assert not _violations(_set(good, name, column, value, where))


def test_every_offending_row_is_counted_and_examples_are_few_and_distinct(good):
    roles = good["roles"]
    many = pa.concat_tables([roles] * 5)
    ids = roles["role_id"].to_pylist()  # the first copy keeps its ids, which careers.role_ids refer to
    ids += [stable_id("rol", i) for i in range(many.num_rows - len(ids))]
    many = many.set_column(0, many.schema.field(0), pa.array(ids))
    statuses = pa.array(["past", "past", "then", "ex", "later"])
    tables = dict(good, roles=many.set_column(many.schema.get_field_index("status"), many.schema.field("status"), statuses))
    [violation] = _violations(tables)
    assert violation.rows == 5
    assert len(violation.examples) == 3 and len(set(violation.examples)) == 3


def test_a_broken_structure_is_reported_and_rules_that_need_it_are_skipped(good):
    tables = dict(good, articles=good["articles"].drop_columns(["text"]))
    reports = {r.name: r for r in check_tables(tables)}
    [structure] = reports["articles"].violations
    assert "structure" in structure.rule and "columns" in structure.rule
    assert reports["articles"].rules_checked == 1
    # offsets and references into articles are not checked (they cannot be), the rest of the roles rules are
    assert not reports["roles"].violations
    looks_into_articles = [r for r in TABLES["roles"].rules
                           if getattr(r, "table", None) == "articles" or r.kind == "offsets in text"]
    assert reports["roles"].rules_checked == 1 + len(TABLES["roles"].rules) - len(looks_into_articles)


def test_a_missing_table_is_a_violation(good):
    tables = {name: table for name, table in good.items() if name != "dates"}
    [violation] = _violations(tables)
    assert violation.table == "dates" and "missing" in violation.line()


# ---------------------------------------------------------------- the writer refuses an invalid set


def _write(tables: dict, folder: Path) -> None:
    """Tables as one file each, as any tool might leave them (``validate`` reads a store or plain files)."""
    for name, table in tables.items():
        pq.write_table(table, folder / f"{name}.parquet")


def test_an_invalid_set_is_refused_in_one_line(good):
    bad = _set(good, "roles", "status", "past")
    with pytest.raises(InvalidTables) as refused:
        require_valid(bad)
    message = str(refused.value)
    assert "roles.status" in message and "accepted values" in message and "'past'" in message
    assert "\n" not in message
    assert [v.table for v in refused.value.violations] == ["roles"]


def test_a_partial_set_is_checked_on_what_it_holds(good):
    """A part of the store holds every page table but not people: references inside it are checked."""
    partial = {name: good[name] for name in ("article_people", "roles")}
    with pytest.raises(InvalidTables, match="roles.article_id,person_id: reference"):
        require_valid(_set(partial, "roles", "person_id", "per_ffff"), complete=False)
    require_valid(partial, complete=False)  # rules into absent tables are skipped


def test_a_run_that_builds_invalid_tables_keeps_the_previous_ones(extracted, tmp_path, monkeypatch):
    import pipeline.run as run
    out = tmp_path / "out"
    shutil.copytree(extracted("sample"), out, symlinks=True)
    before = {path.relative_to(out): path.read_bytes() for path in out.rglob("*") if path.is_file()}
    real_table = run.arrow_table

    def roles_with_a_bad_status(name, rows):
        table = real_table(name, rows)
        return _set({name: table}, name, "status", "retired")[name] if name == "roles" else table

    monkeypatch.setattr(run, "arrow_table", roles_with_a_bad_status)
    monkeypatch.setattr(run, "pipeline_version", lambda: "re-extract everything")
    with pytest.raises(InvalidTables, match="roles.status.*'retired'"):
        run.extract_corpus(ROOT / "raw", out, progress=False)
    assert {path.relative_to(out): path.read_bytes() for path in out.rglob("*") if path.is_file()} == before


# ---------------------------------------------------------------- python -m pipeline validate DIR


def test_cli_exits_0_on_valid_tables(good, tmp_path, capsys):
    _write(good, tmp_path)
    assert main(["validate", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "valid"
    for name in TABLES:
        [line] = [row for row in out if row.split()[0] == name]
        assert f"{good[name].num_rows} rows" in line and f"{1 + len(TABLES[name].rules)} rules" in line
        assert line.endswith("ok")


def test_cli_exits_1_on_a_violation_and_shows_it(good, tmp_path, capsys):
    _write(good, tmp_path)
    bad = _set(good, "countries", "country_iso3", "XYZ")["countries"]
    pq.write_table(bad, tmp_path / "countries.parquet")  # behind the writer's back
    assert main(["validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "countries.country_iso3: ISO 3166-1 alpha-3" in out and "'XYZ'" in out
    assert out.splitlines()[-1] == "invalid: 1 violation"


def test_cli_exits_1_on_a_missing_or_unreadable_table(good, tmp_path, capsys):
    _write(good, tmp_path)
    (tmp_path / "dates.parquet").unlink()
    (tmp_path / "roles.parquet").write_bytes(b"PAR1 not really")
    assert main(["validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "dates: table is missing" in out
    assert "roles: roles.parquet cannot be read" in out
    assert "dates" in out and "not read" in out


@pytest.mark.parametrize("target", ["missing", "file", "empty", "pages"])
def test_cli_exits_2_when_the_folder_holds_no_tables(tmp_path, capsys, target):
    path = tmp_path / target
    if target == "file":
        path.write_text("not a folder")
    elif target == "empty":
        path.mkdir()
    elif target == "pages":
        path.mkdir()
        (path / "story.html").write_text("<html></html>")
    assert main(["validate", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("story-extractor: error: ") and str(path) in lines[0]
    assert "Traceback" not in captured.err


# ---------------------------------------------------------------- real extractions validate clean


_RAW = {"sample": ROOT / "raw", "devset": ROOT / "tests" / "devset" / "raw"}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The tables of a bundled corpus (``make run`` writes the sample's, ``make eval-dev`` the dev set's), once."""
    from pipeline.run import extract_corpus
    folders: dict[str, Path] = {}

    def folder(name: str) -> Path:
        if name not in folders:
            out = tmp_path_factory.mktemp(name)
            assert not extract_corpus(_RAW[name], out, progress=False).failures
            folders[name] = out
        return folders[name]
    return folder


@pytest.mark.parametrize("name", sorted(_RAW))
def test_bundled_extractions_validate_clean(extracted, name, capsys):
    reports = validate_folder(extracted(name))
    assert [v.line() for r in reports for v in r.violations] == []
    assert all(r.rows for r in reports)  # every table has rows, so every rule really ran on something
    assert main(["validate", str(extracted(name))]) == 0
