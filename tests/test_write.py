"""Tests of pipeline.write, pipeline.schema and pipeline.store: schema-exact tables, validation, atomic and
idempotent writes.

The extractions here are built by hand (invented people and organisations), so every expected row is
known in advance; one test also runs the bundled sample page through the whole chain.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.normalize import country_name, normalize_date, person_id, stable_id
from pipeline.parse import assemble
from pipeline.records import (BatchFact, CountryFact, DateFact, Extraction, Mention, Person, Profile, Role)
from pipeline.schema import TABLES, SchemaError, data_dictionary, validate
from pipeline.store import Store, id_part
from pipeline.write import build_tables, extraction_rows, people_rows

PART = "pages-000001"


def write_tables(tables: dict[str, pa.Table], out: Path) -> list[str]:
    """Store a whole set of tables as one page part (people by person id) and publish it; the tables changed."""
    update = Store(out).begin()
    for name, table in tables.items():
        if name != "people":
            update.write_part(name, PART, table)
            continue
        parts = [id_part("people", pid) for pid in table["person_id"].to_pylist()]
        for part in sorted(set(parts)):
            update.write_part(name, part, table.filter(pa.array([p == part for p in parts])))
    return update.commit()


def read_tables(out: Path) -> dict[str, pa.Table]:
    return {name: pq.read_table(out / f"{name}.parquet").cast(TABLES[name].schema) for name in TABLES}


def _files(out: Path) -> dict[str, bytes]:
    return {str(path.relative_to(out)): path.read_bytes() for path in sorted(out.rglob("*")) if path.is_file()}


EXTRACTED_AT = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
VERSION = "0.0.test"
ARTICLE_ONE = stable_id("art", "https://example.org/one/")
ARTICLE_TWO = stable_id("art", "https://example.org/two/")


def _extraction(article_id: str, printed_name: str, honorific: str, country: str, title: str = "Valley Alumni Reunite",
                url: str | None = "https://example.org/one/") -> Extraction:
    """One article about one person: heading, a role with a date, a country, a batch and a date."""
    heading = f"{printed_name}, {country_name(country)}, Youth Exchange Programme (4th Batch, 2018-2019)"
    sentence = f"{honorific} {printed_name} has been Trade Officer at the Harbour Authority since March 2020."
    art = assemble(article_id, url, f"{article_id}.html", None, title, dt.date(2021, 5, 3), "3 May 2021",
                   "Desk Team", {"sectors": ["Trade"], "funding_framework": "Open Fund"},
                   [("heading", heading), ("paragraph", sentence)], ["© Lens Club"])
    h_start = art.text.index(heading)
    art.text.index(sentence)
    key = printed_name.casefold()
    profile = Profile(stable_id("prf", article_id, 0), article_id, 0, heading, h_start, len(art.text), h_start + len(heading),
                      h_start, h_start + len(printed_name))
    person = Person(key, printed_name, {printed_name.split()[-1]}, [honorific], h_start)
    title_start = art.text.index("Trade Officer")
    org_start = art.text.index("Harbour Authority")
    date_start = art.text.index("March 2020")
    since = normalize_date("March 2020")
    batch_start = art.text.index("4th Batch")
    return Extraction(
        article=art, profiles=[profile], people={key: person},
        mentions=[
            Mention(article_id, "PERSON", printed_name, h_start, h_start + len(printed_name), "rule:person/profile-heading",
                    printed_name, key, profile.profile_id),
            Mention(article_id, "TITLE", "Trade Officer", title_start, title_start + 13, "rule:title/title-head",
                    "Trade Officer", key, profile.profile_id),
        ],
        roles=[Role(key, article_id, "Trade Officer", "Harbour Authority", "current", since, None, title_start,
                    org_start + len("Harbour Authority"), "rule:title/title-head", profile.profile_id)],
        countries=[CountryFact(key, article_id, country, country_name(country), h_start + len(printed_name) + 2,
                               h_start + len(printed_name) + 2 + len(country_name(country)), "rule:heading")],
        batches=[BatchFact(key, article_id, "Youth Exchange Programme", 4, 2018, 2019, batch_start, batch_start + 9,
                           "rule:batch/batch-ordinal")],
        dates=[DateFact(article_id, profile.profile_id, "March 2020", date_start, date_start + 10, since,
                        "rule:date/date-month-year")],
        profile_people={profile.profile_id: key},
    )


def _rows(*extractions: Extraction) -> dict[str, list[dict]]:
    merged: dict[str, list[dict]] = {}
    for ex in extractions:
        for name, rows in extraction_rows(ex, "f" * 64, EXTRACTED_AT, VERSION).items():
            merged.setdefault(name, []).extend(rows)
    return merged


def _two_articles() -> dict[str, list[dict]]:
    return _rows(_extraction(ARTICLE_ONE, "Mira Olsen", "Ms.", "THA"),
                 _extraction(ARTICLE_TWO, "OLSEN Mira", "Dr.", "VNM", url="https://example.org/two/"))


def _changed_tables() -> dict[str, pa.Table]:
    """The same facts with one article-level value changed (the byline is not part of the text)."""
    rows = _two_articles()
    rows["articles"][0]["byline"] = "Night Desk"
    return build_tables(rows)


@pytest.fixture
def tables():
    return build_tables(_two_articles())


# ---------------------------------------------------------------- schema-exact tables


def test_every_table_is_built_with_the_schema(tables):
    assert list(tables) == list(TABLES)
    for name, spec in TABLES.items():
        assert tables[name].schema.names == spec.column_names
        assert [f.type for f in tables[name].schema] == [c.type for c in spec.columns], name


def test_row_counts_and_values(tables):
    counts = {name: table.num_rows for name, table in tables.items()}
    assert counts == {"articles": 2, "profiles": 2, "people": 1, "article_people": 2, "mentions": 4, "roles": 2,
                      "countries": 2, "batches": 2, "dates": 2, "careers": 1, "person_links": 2, "programmes": 1}
    role = tables["roles"].to_pylist()[0]
    assert (role["start"], role["start_date"], role["end"], role["end_date"]) == ("2020-03", dt.date(2020, 3, 1), None, None)
    date = tables["dates"].to_pylist()[0]
    assert (date["start"], date["end"], date["end_date"], date["precision"]) == ("2020-03", "2020-03", dt.date(2020, 3, 31), "month")
    article = tables["articles"].to_pylist()[0]
    assert article["extracted_at"] == EXTRACTED_AT and article["published"] == dt.date(2021, 5, 3)
    assert article["sectors"] == ["Trade"] and article["photo_credits"] == ["© Lens Club"]
    assert all(r["person_id"] == person_id("Mira Olsen") for r in tables["profiles"].to_pylist())


def test_written_tables_have_exactly_the_schema(tables, tmp_path):
    written = write_tables(tables, tmp_path)
    assert written == list(TABLES)
    assert sorted(path.name for path in tmp_path.iterdir() if not path.name.startswith(".")) == \
        sorted(f"{name}.parquet" for name in TABLES)
    for name, spec in TABLES.items():
        stored = pq.read_table(tmp_path / f"{name}.parquet")
        assert stored.schema.names == spec.column_names, name
        for column in spec.columns:
            assert stored.schema.field(column.name).type == column.type, f"{name}.{column.name}"
        assert stored.sort_by([(k, "ascending") for k in spec.key]).equals(tables[name]), name
        validate(name, stored)


def test_tables_read_back_with_pandas(tables, tmp_path):
    import pandas as pd
    write_tables(tables, tmp_path)
    roles = pd.read_parquet(tmp_path / "roles.parquet", dtype_backend="pyarrow")
    assert len(roles) == tables["roles"].num_rows and list(roles.columns) == TABLES["roles"].column_names


def test_empty_extraction_gives_empty_tables_with_the_schema(tmp_path):
    built = build_tables({})
    assert all(built[name].num_rows == 0 and built[name].schema.names == spec.column_names for name, spec in TABLES.items())
    write_tables(built, tmp_path)
    for name, spec in TABLES.items():
        stored = pq.read_table(tmp_path / f"{name}.parquet")
        assert stored.num_rows == 0 and stored.schema.names == spec.column_names
    assert write_tables(build_tables({}), tmp_path) == []


# ---------------------------------------------------------------- validation


def _replace(table: pa.Table, name: str, array: pa.Array) -> pa.Table:
    index = table.schema.get_field_index(name)
    return table.set_column(index, pa.field(name, array.type, nullable=table.schema.field(name).nullable), array)


def test_validate_accepts_built_tables(tables):
    for name, table in tables.items():
        validate(name, table)


def test_validate_rejects_a_missing_column(tables):
    with pytest.raises(SchemaError, match="columns"):
        validate("articles", tables["articles"].drop_columns(["byline"]))


def test_validate_rejects_columns_in_another_order(tables):
    table = tables["profiles"]
    with pytest.raises(SchemaError):
        validate("profiles", table.select(list(reversed(table.schema.names))))


def test_validate_rejects_a_wrong_type(tables):
    table = tables["profiles"]
    with pytest.raises(SchemaError, match="seq"):
        validate("profiles", _replace(table, "seq", table.column("seq").cast(pa.int64()).combine_chunks()))
    with pytest.raises(SchemaError, match="start_year"):
        batches = tables["batches"]
        validate("batches", _replace(batches, "start_year", batches.column("start_year").cast(pa.int32()).combine_chunks()))


def test_validate_rejects_a_null_in_a_non_null_column(tables):
    table = tables["mentions"]
    source = pa.array([None] + table.column("source").to_pylist()[1:], pa.string())
    with pytest.raises(SchemaError, match="source"):
        validate("mentions", _replace(table, "source", source))


def test_validate_accepts_a_null_in_a_nullable_column(tables):
    table = tables["articles"]
    validate("articles", _replace(table, "byline", pa.array([None] * table.num_rows, pa.string())))


def test_validate_rejects_a_duplicate_key(tables):
    with pytest.raises(SchemaError, match="duplicate"):
        validate("articles", pa.concat_tables([tables["articles"], tables["articles"]]))
    # a composite key: the same (person, article, country) twice
    countries = tables["countries"]
    with pytest.raises(SchemaError, match="duplicate"):
        validate("countries", pa.concat_tables([countries, countries.slice(0, 1)]))


def test_build_tables_validates(tables):
    rows = _rows(_extraction(ARTICLE_ONE, "Mira Olsen", "Ms.", "THA"))
    rows["articles"] = rows["articles"] * 2
    with pytest.raises(SchemaError, match="duplicate"):
        build_tables(rows)
    rows = _rows(_extraction(ARTICLE_ONE, "Mira Olsen", "Ms.", "THA"))
    rows["roles"][0]["status"] = None
    with pytest.raises(SchemaError, match="status"):
        build_tables(rows)


# ---------------------------------------------------------------- idempotent and atomic writes


def test_writing_the_same_tables_twice_rewrites_nothing(tables, tmp_path):
    assert write_tables(tables, tmp_path) == list(TABLES)
    before = _files(tmp_path)
    assert write_tables(tables, tmp_path) == []
    # rebuilt from the same facts: still nothing to write
    assert write_tables(build_tables(_two_articles()), tmp_path) == []
    assert _files(tmp_path) == before


def test_only_changed_tables_are_rewritten(tables, tmp_path):
    write_tables(tables, tmp_path)
    changed = _changed_tables()
    assert write_tables(changed, tmp_path) == ["articles"]
    assert read_tables(tmp_path)["articles"].equals(changed["articles"])


def test_a_crash_while_writing_leaves_the_previous_tables_whole(tables, tmp_path, monkeypatch):
    import pipeline.store as store
    write_tables(tables, tmp_path)
    before = read_tables(tmp_path)
    real_write = store._write_bytes
    calls = []

    def disk_full_on_roles(data, path):
        calls.append(path.parent.name)
        if path.parent.name == "roles.parquet":
            raise OSError("disk full")
        return real_write(data, path)

    monkeypatch.setattr(store, "_write_bytes", disk_full_on_roles)
    changed = {**_changed_tables(), "roles": tables["roles"].slice(0, 1)}
    with pytest.raises(OSError, match="disk full"):
        write_tables(changed, tmp_path)
    monkeypatch.undo()
    assert calls[-1] == "roles.parquet" and "articles.parquet" in calls  # articles was already written...
    after = read_tables(tmp_path)
    assert all(after[name].equals(before[name]) for name in TABLES)  # ...but no reader ever sees it
    assert write_tables(changed, tmp_path) == ["articles", "roles"]  # the next run writes the change...
    assert [path.name for path in Store(tmp_path).versions()] == ["v000001", "v000002"]  # ...over the unfinished one


def test_a_run_killed_before_publishing_is_cleaned_up_by_the_next(tables, tmp_path):
    write_tables(tables, tmp_path)
    before = read_tables(tmp_path)
    update = Store(tmp_path).begin()  # killed after writing a part, before commit: the folder stays behind
    update.write_part("articles", PART, _changed_tables()["articles"])
    assert all(read_tables(tmp_path)[name].equals(before[name]) for name in TABLES)
    assert write_tables(_changed_tables(), tmp_path) == ["articles"]
    assert [path.name for path in Store(tmp_path).versions()] == ["v000001", "v000002"]


def test_old_versions_are_removed(tables, tmp_path):
    write_tables(tables, tmp_path)
    write_tables(_changed_tables(), tmp_path)
    write_tables(tables, tmp_path)
    assert [path.name for path in Store(tmp_path).versions()] == ["v000002", "v000003"]


def test_one_file_tables_of_an_earlier_version_are_moved_into_the_store(tables, tmp_path):
    for name, table in tables.items():
        pq.write_table(table, tmp_path / f"{name}.parquet")
    assert Store(tmp_path).migrate_legacy_tables(part_pages=1)
    assert all((tmp_path / f"{name}.parquet").is_symlink() for name in TABLES)
    after = read_tables(tmp_path)
    for name, spec in TABLES.items():
        assert after[name].sort_by([(k, "ascending") for k in spec.key]).equals(tables[name]), name
    index = Store(tmp_path).index().to_pylist()
    assert sorted(row["part"] for row in index) == ["pages-000001", "pages-000002"]  # one page per part


# ---------------------------------------------------------------- the people table


def test_one_person_in_two_articles_is_one_row(tables):
    people = tables["people"].to_pylist()
    assert len(people) == 1
    [person] = people
    assert person["person_id"] == person_id("Mira Olsen") == person_id("OLSEN Mira")
    assert sorted(person["article_ids"]) == sorted([ARTICLE_ONE, ARTICLE_TWO])
    assert person["name"] in {"Mira Olsen", "OLSEN Mira"}
    assert {person["name"], *person["aliases"]} >= {"Mira Olsen", "OLSEN Mira", "Olsen", "Mira"}
    assert person["name"] not in person["aliases"]
    assert sorted(person["honorifics"]) == ["Dr.", "Ms."]
    assert person["countries"] == ["THA", "VNM"]


def test_people_rows_prefers_the_fullest_name_and_keeps_distinct_people_apart():
    pid = person_id("Mira Olsen")
    article_people = [
        {"person_id": pid, "article_id": "art_b", "name": "Mira Olsen", "aliases": ["Olsen"], "honorifics": ["Ms."], "char_start": 0},
        {"person_id": pid, "article_id": "art_a", "name": "Olsen, Mira", "aliases": [], "honorifics": ["Ms."], "char_start": 5},
        {"person_id": person_id("Ivo Brandt"), "article_id": "art_a", "name": "Ivo Brandt", "aliases": [], "honorifics": [],
         "char_start": 9},
    ]
    countries = [{"person_id": pid, "article_id": "art_a", "country_iso3": "THA"},
                 {"person_id": pid, "article_id": "art_b", "country_iso3": "THA"}]
    rows = {r["person_id"]: r for r in people_rows(article_people, countries)}
    assert len(rows) == 2
    mira = rows[pid]
    assert mira["name"] == "Olsen, Mira"  # the longer printed form
    assert mira["aliases"] == ["Mira Olsen", "Olsen"]
    assert mira["honorifics"] == ["Ms."]
    assert mira["countries"] == ["THA"]
    assert sorted(mira["article_ids"]) == ["art_a", "art_b"]
    assert rows[person_id("Ivo Brandt")]["countries"] == []


# ---------------------------------------------------------------- data dictionary


def test_data_dictionary_mentions_every_table_and_column():
    text = data_dictionary()
    sections = {chunk.split("`", 1)[0]: chunk for chunk in text.split("\n## `")[1:]}
    assert set(sections) == set(TABLES)
    for name, spec in TABLES.items():
        for column in spec.columns:
            assert f"| `{column.name}` | `{column.type}` | {'yes' if column.nullable else 'no'} |" in sections[name], \
                f"{name}.{column.name}"
        assert f"Key: `{', '.join(spec.key)}`" in sections[name]
        for rule in spec.rules:  # accepted values, ranges, references... as the validation checks them
            assert f"- {rule.kind}: {rule.describe()}\n" in sections[name] + "\n", f"{name}: {rule}"


# ---------------------------------------------------------------- the sample page, end to end


def test_sample_page_through_the_whole_chain(tmp_path):
    from pipeline.extract import extract_article
    from pipeline.nlp import build_nlp
    from pipeline.parse import RawPage, parse_page
    from pipeline.segment import segment

    sample = Path(__file__).resolve().parents[1] / "raw" / "jaif-asean-deepens-integration-through-the-attachment-programme.html"
    nlp = build_nlp()
    rows: dict[str, list[dict]] = {}
    articles = parse_page(RawPage(sample))
    for article in articles:
        extraction = extract_article(article, segment(article), nlp(article.text))
        for name, part in extraction_rows(extraction, "0" * 64, EXTRACTED_AT, VERSION).items():
            rows.setdefault(name, []).extend(part)
    built = build_tables(rows)
    assert write_tables(built, tmp_path) == list(TABLES)
    assert write_tables(built, tmp_path) == []
    stored = read_tables(tmp_path)
    for name, spec in TABLES.items():
        assert stored[name].schema.names == spec.column_names
        validate(name, stored[name])
    assert stored["articles"].num_rows == len(articles) == 4
    texts = {r["article_id"]: r["text"] for r in stored["articles"].to_pylist()}
    for name in ("mentions", "dates", "roles", "countries", "batches"):
        for row in stored[name].to_pylist():
            assert 0 <= row["char_start"] < row["char_end"] <= len(texts[row["article_id"]]), (name, row)
    for row in stored["dates"].to_pylist():
        assert texts[row["article_id"]][row["char_start"]:row["char_end"]] == row["text"]
    people_ids = {r["person_id"] for r in stored["people"].to_pylist()}
    for name in ("roles", "countries", "article_people"):
        assert {r["person_id"] for r in stored[name].to_pylist()} <= people_ids
