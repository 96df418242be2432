"""docs/queries.sql answers the researchers' three questions in DuckDB, and pandas gives the same answers."""
import re
from pathlib import Path

import pandas as pd
import pytest

duckdb = pytest.importorskip("duckdb", reason="duckdb is a test dependency: pip install -e '.[test]'")

QUERIES = Path(__file__).resolve().parent.parent / "docs" / "queries.sql"
QUERY_MARK = "-- name: "


def _read_queries() -> tuple[str, dict[str, str]]:
    """The setup statements (views, parameters) and each named query of docs/queries.sql."""
    setup, *blocks = QUERIES.read_text(encoding="utf-8").split(QUERY_MARK)
    queries = {}
    for block in blocks:
        name, _, sql = block.partition("\n")
        queries[name.strip()] = sql
    return setup, queries


@pytest.fixture(scope="module")
def connection(devset_tables):
    setup, _ = _read_queries()
    con = duckdb.connect()
    con.execute("SET VARIABLE tables = ?", [str(devset_tables)])
    con.execute(setup)
    yield con
    con.close()


@pytest.fixture(scope="module")
def tables(devset_tables) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(devset_tables / f"{name}.parquet")
            for name in ("articles", "people", "roles", "countries", "batches", "person_links")}


def _variable(con, name: str):
    return con.execute(f"SELECT getvariable('{name}')").fetchall()[0][0]


def _rows(frame: pd.DataFrame) -> list[tuple]:
    """Rows as plain Python values, nulls as None, so DuckDB's and pandas' dtypes compare equal."""
    def plain(value):
        if value is None or value is pd.NaT or (not isinstance(value, (list, str)) and pd.isna(value)):
            return None
        if hasattr(value, "date") and callable(value.date):
            return value.date()
        return value.item() if hasattr(value, "item") else value
    return [tuple(plain(v) for v in row) for row in frame.itertuples(index=False)]


def test_the_file_has_the_three_questions_and_quotes_every_end():
    setup, queries = _read_queries()
    assert set(queries) == {"cohort", "career", "country_year"}
    bare_end = re.compile(r'(?<!")\bend\b(?!")')
    for name, sql in queries.items():
        code = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
        assert not [line for line in code if bare_end.search(line)], f"{name}: write the column end as \"end\""


def test_end_is_reserved_so_it_must_be_quoted(connection):
    with pytest.raises(duckdb.ParserException):
        connection.sql("SELECT end FROM roles")
    assert connection.sql('SELECT count(r."end") FROM roles r').fetchall()[0][0] > 0


def test_cohort_and_what_they_do_now(connection, tables):
    result = connection.sql(_read_queries()[1]["cohort"]).df()
    programme, batch = _variable(connection, "programme"), _variable(connection, "batch")

    articles, people, roles, batches = (tables[n] for n in ("articles", "people", "roles", "batches"))
    members = batches[(batches.batch == batch) & batches.person_id.notna()
                      & batches.programme_key.str.contains(programme.lower(), regex=False)].person_id.unique()
    now = (roles[roles.status != "former"].merge(articles[["article_id", "published"]], on="article_id")
           .sort_values(["published", "start_date", "role_id"], ascending=[False, False, True], na_position="last")
           .drop_duplicates("person_id"))
    expected = (people[people.person_id.isin(members)][["person_id", "name"]]
                .merge(now, on="person_id", how="left").sort_values("name")
                [["name", "title", "org", "status", "start", "end", "published"]])

    assert len(result) >= 2, "the example cohort has several members"
    assert _rows(result) == _rows(expected)
    assert result.title.notna().any(), "someone in the cohort has a current role"


def test_career_of_a_person(connection, tables):
    result = connection.sql(_read_queries()[1]["career"]).df()
    person = _variable(connection, "person")

    articles, people, roles, links = (tables[n] for n in ("articles", "people", "roles", "person_links"))
    person_ids = people.loc[people.name == person, "person_id"]
    counts = links[links.person_id.isin(person_ids)].groupby("canonical_id").size().reset_index(name="n")
    canonical = counts.sort_values(["n", "canonical_id"], ascending=[False, True]).canonical_id.iloc[0]
    career = (roles.merge(links[links.canonical_id == canonical][["person_id", "article_id", "name"]],
                          on=["person_id", "article_id"])
              .merge(articles[["article_id", "published", "title"]].rename(columns={"title": "article"}), on="article_id")
              .rename(columns={"name": "printed_as", "title_x": "title"}))
    career["order"] = career.start_date.fillna(career.published)
    expected = career.sort_values(["order", "published", "role_id"])[
        ["title", "org", "status", "start", "end", "published", "article", "printed_as"]]

    assert result.article.nunique() >= 2, "the example person is named in several articles"
    assert _rows(result) == _rows(expected)


def test_a_career_follows_one_person_under_every_name_printed(tmp_path):
    """Two spellings of one name in two articles ("Maria" and "Ma."; two person_ids), with an agreeing country:
    one career, both names shown."""
    from pipeline.run import extract_corpus
    page = ("<html><head><link rel=\"canonical\" href=\"https://example.org/{slug}/\"></head><body><article>"
            "<h1>{headline}</h1><p class=\"date\">{date}</p><p>{text}</p></article></body></html>")
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.html").write_text(page.format(slug="a", headline="Planners Meet", date="3 March 2019",
                                            text="Ms. Maria Luisa Santos from the Philippines, Planning Officer at the Delta Water Board, spoke."))
    (raw / "b.html").write_text(page.format(slug="b", headline="Board Renewed", date="5 May 2023",
                                            text="Ms. Ma. Luisa Santos from the Philippines, Director of the Delta Water Board, opened the day."))
    assert not extract_corpus(raw, tmp_path / "out", progress=False).failures
    setup, queries = _read_queries()
    con = duckdb.connect()
    con.execute("SET VARIABLE tables = ?", [str(tmp_path / "out")])
    con.execute("SET VARIABLE person = ?", ["Maria Luisa Santos"])
    con.execute(setup)
    rows = con.sql(queries["career"]).fetchall()
    assert [(title, printed) for title, *_, printed in rows] == [("Planning Officer", "Maria Luisa Santos"),
                                                                   ("Director", "Ma. Luisa Santos")]


def test_people_per_country_per_year(connection, tables):
    result = connection.sql(_read_queries()[1]["country_year"]).df()

    countries, articles = tables["countries"], tables["articles"]
    stated = countries.merge(articles[["article_id", "published"]], on="article_id").dropna(subset=["published"])
    stated["year"] = pd.to_datetime(stated.published).dt.year
    expected = (stated.groupby(["country_iso3", "country_name", "year"]).person_id.nunique()
                .rename("people").reset_index()
                .sort_values(["year", "people", "country_iso3"], ascending=[True, False, True]))

    assert len(result) > 1
    assert _rows(result) == _rows(expected)
