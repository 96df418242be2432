"""Tests of the corpus-wide derived tables: ``write.career_rows`` (careers) and ``write.programme_rows``
(programmes), the programme key of a batch, and the programme names the extractor gives batches.

The rows here are built by hand with invented people, organisations and programmes; the last tests run the
dev set through the whole chain and check what the derived tables make of it.
"""
from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

import pyarrow.parquet as pq
import pytest

from pipeline.extract.cohorts import PROGRAMME_HEADS, Chain, _programme_name
from pipeline.normalize import fold, programme_key, stable_id
from pipeline.parse import assemble
from pipeline.records import BatchFact, Extraction, Mention
from pipeline.schema import TABLES
from pipeline.validate import require_valid
from pipeline.write import (CAREER_COLUMNS, PROGRAMME_COLUMNS, arrow_table, career_rows, extraction_rows,
                            programme_rows)

EARLY, MIDDLE, LATE = "art_0001", "art_0002", "art_0003"
PUBLISHED = {EARLY: dt.date(2019, 9, 29), MIDDLE: dt.date(2021, 3, 1), LATE: dt.date(2024, 3, 12)}
ORVANE, TELMIRA = "per_00aa", "per_00bb"


def _role(role_id: str, article_id: str, title: str | None, org: str | None, status: str = "unknown",
          start: tuple[str, dt.date] | None = None, end: tuple[str, dt.date] | None = None,
          person: str = ORVANE) -> dict:
    """A roles row with only the columns ``career_rows`` reads."""
    return {"role_id": role_id, "person_id": person, "article_id": article_id, "title": title, "org": org,
            "status": status, "start": start[0] if start else None, "end": end[0] if end else None,
            "start_date": start[1] if start else None, "end_date": end[1] if end else None}


Y2018 = ("2018", dt.date(2018, 1, 1))
Y2022_END = ("2022", dt.date(2022, 12, 31))


# ---------------------------------------------------------------- careers


def test_one_position_in_two_articles_is_one_row_with_its_latest_status():
    roles = [_role("rol_01", EARLY, "Deputy Head", "Lanthian Rivers Office", "current", start=Y2018),
             _role("rol_02", LATE, "deputy head", "Rivers Office of Lanthia", "former", start=Y2018, end=Y2022_END)]
    [career] = career_rows(roles, PUBLISHED)
    assert career["title_key"] == "deputy head"
    assert career["titles"] == ["Deputy Head", "deputy head"]
    assert career["orgs"] == ["Lanthian Rivers Office", "Rivers Office of Lanthia"]
    assert (career["start"], career["start_precision"], career["end"], career["end_precision"]) == ("2018", "year", "2022", "year")
    assert (career["first_seen"], career["last_seen"]) == (PUBLISHED[EARLY], PUBLISHED[LATE])
    assert (career["status"], career["as_of"]) == ("former", PUBLISHED[LATE])
    assert career["article_ids"] == [EARLY, LATE] and career["role_ids"] == ["rol_01", "rol_02"]


def test_positions_that_differ_stay_apart():
    roles = [_role("rol_01", EARLY, "Analyst", "Coastal Survey Bureau"),
             _role("rol_02", LATE, "Analyst", "Ministry of Orchards"),  # another organisation
             _role("rol_03", LATE, "Senior Analyst", "Coastal Survey Bureau"),  # another title
             _role("rol_04", LATE, "Analyst", "Coastal Survey Bureau", person=TELMIRA)]  # another person
    careers = career_rows(roles, PUBLISHED)
    assert len(careers) == 4
    assert len({c["career_id"] for c in careers}) == 4
    assert sorted(c["role_ids"] for c in careers) == [["rol_01"], ["rol_02"], ["rol_03"], ["rol_04"]]


def test_a_position_without_its_organisation_joins_the_one_with_it():
    roles = [_role("rol_01", EARLY, "Programme Officer", None, "current"),
             _role("rol_02", MIDDLE, "Programme Officer", "Orchard Growers Network", "current")]
    [career] = career_rows(roles, PUBLISHED)
    assert career["org_key"] == "orchard growers network"
    assert career["orgs"] == ["Orchard Growers Network"]
    assert career["article_ids"] == [EARLY, MIDDLE]


def test_an_affiliation_without_a_title_is_a_position_of_its_own():
    roles = [_role("rol_01", EARLY, None, "Orchard Growers Network"),
             _role("rol_02", EARLY, "Treasurer", "Orchard Growers Network")]
    careers = career_rows(roles, PUBLISHED)
    assert sorted((c["title_key"] or "", c["org_key"]) for c in careers) == \
        [("", "orchard growers network"), ("treasurer", "orchard growers network")]


@pytest.mark.parametrize("start, precision", [
    (("2019", dt.date(2019, 1, 1)), "year"),
    (("2019-06", dt.date(2019, 6, 1)), "month"),
    (("2019-06-03", dt.date(2019, 6, 3)), "day"),
    (None, None),
])
def test_precision_says_what_the_partial_date_says(start, precision):
    [career] = career_rows([_role("rol_01", EARLY, "Curator", "Tide Museum", start=start)], PUBLISHED)
    assert career["start_precision"] == precision and career["end_precision"] is None


def test_the_earliest_start_and_latest_end_are_kept_at_their_precision():
    roles = [_role("rol_01", EARLY, "Curator", "Tide Museum", start=("2017-04", dt.date(2017, 4, 1))),
             _role("rol_02", LATE, "Curator", "Tide Museum", start=("2017", dt.date(2017, 1, 1)),
                   end=("2023-08-15", dt.date(2023, 8, 15)))]
    [career] = career_rows(roles, PUBLISHED)
    assert (career["start"], career["start_precision"]) == ("2017", "year")  # 2017-01-01 is earlier
    assert (career["end"], career["end_precision"], career["end_date"]) == ("2023-08-15", "day", dt.date(2023, 8, 15))


def test_status_comes_from_the_latest_article_that_states_one():
    roles = [_role("rol_01", EARLY, "Curator", "Tide Museum", "current"),
             _role("rol_02", MIDDLE, "Curator", "Tide Museum", "former"),
             _role("rol_03", LATE, "Curator", "Tide Museum", "unknown")]
    [career] = career_rows(roles, PUBLISHED)
    assert (career["status"], career["as_of"]) == ("former", PUBLISHED[MIDDLE])
    [unstated] = career_rows([_role("rol_03", LATE, "Curator", "Tide Museum", "unknown")], PUBLISHED)
    assert (unstated["status"], unstated["as_of"]) == ("unknown", PUBLISHED[LATE])


def test_articles_that_disagree_on_the_dates_give_the_latest_statement():
    """A start after another article's end would make an impossible interval: the latest article's dates win."""
    roles = [_role("rol_01", EARLY, "Curator", "Tide Museum", end=("2015", dt.date(2015, 12, 31))),
             _role("rol_02", LATE, "Curator", "Tide Museum", start=("2020", dt.date(2020, 1, 1)))]
    [career] = career_rows(roles, PUBLISHED)
    assert (career["start"], career["end"]) == ("2020", None)


def test_undated_positions_sort_by_their_article_date():
    roles = [_role("rol_01", LATE, "Director", "Tide Museum", start=("2023", dt.date(2023, 1, 1))),
             _role("rol_02", EARLY, "Guide", "Tide Museum"),  # undated, in the 2019 article
             _role("rol_03", MIDDLE, "Registrar", "Tide Museum", start=("2016", dt.date(2016, 1, 1)))]
    assert [c["title_key"] for c in career_rows(roles, PUBLISHED)] == ["registrar", "guide", "director"]


def test_rows_and_ids_do_not_depend_on_input_order():
    roles = [_role(f"rol_{i:02d}", article, title, org, status)
             for i, (article, title, org, status) in enumerate([
                 (EARLY, "Curator", "Tide Museum", "current"), (LATE, "Curator", "Tide Museum of Lanthia", "former"),
                 (MIDDLE, "Guide", None, "unknown"), (LATE, "Guide", "Tide Museum", "current")])]
    expected = career_rows(roles, PUBLISHED)
    shuffled = roles[:]
    random.Random(7).shuffle(shuffled)
    assert career_rows(shuffled, PUBLISHED) == expected
    assert career_rows(roles[::-1], PUBLISHED) == expected


def test_a_person_recomputed_from_their_own_roles_gets_the_same_rows():
    """What the integrator relies on: a person's rows depend on that person's roles only."""
    roles = [_role("rol_01", EARLY, "Curator", "Tide Museum", "current"),
             _role("rol_02", LATE, "Curator", "Tide Museum", "former"),
             _role("rol_03", LATE, "Analyst", "Coastal Survey Bureau", "current", person=TELMIRA)]
    everyone = career_rows(roles, PUBLISHED)
    one = career_rows([r for r in roles if r["person_id"] == TELMIRA], PUBLISHED)
    assert one == [c for c in everyone if c["person_id"] == TELMIRA]


def test_no_roles_no_careers_and_an_article_without_a_date():
    assert career_rows([], PUBLISHED) == []
    [career] = career_rows([_role("rol_01", "art_9999", "Curator", "Tide Museum", "current")], PUBLISHED)
    assert (career["first_seen"], career["last_seen"], career["as_of"], career["status"]) == (None, None, None, "current")


def test_career_rows_only_read_the_declared_columns_and_fit_the_schema():
    roles = [_role("rol_01", EARLY, "Deputy Head", "Lanthian Rivers Office", "current", start=Y2018),
             _role("rol_02", LATE, "Deputy Head", "Rivers Office of Lanthia", "former", start=Y2018, end=Y2022_END)]
    assert all(set(r) == set(CAREER_COLUMNS) for r in roles)
    table = arrow_table("careers", career_rows(roles, PUBLISHED))
    assert table.schema == TABLES["careers"].schema and table.num_rows == 1


# ---------------------------------------------------------------- programmes


def _batch(article_id: str, programme: str | None, batch: int | None, person: str | None = None,
           key: str | None = None) -> dict:
    return {"article_id": article_id, "person_id": person, "programme": programme,
            "programme_key": key if key else programme_key(programme), "batch": batch}


def test_one_programme_per_key_with_its_name_aliases_acronyms_batches_and_people():
    rows = [_batch(EARLY, "Harbour Skills Exchange (HSX)", 3, ORVANE),
            _batch(EARLY, "Harbour Skills Exchange", 4, TELMIRA),
            _batch(MIDDLE, "the Harbour Skills Exchange", 4, ORVANE),
            _batch(LATE, "HSX", 6, key=programme_key("Harbour Skills Exchange")),  # an acronym the article defined
            _batch(LATE, "Harbour Skills Exchange", None),
            _batch(LATE, None, 2)]  # no programme: no programmes row
    assert all(set(r) == set(PROGRAMME_COLUMNS) for r in rows)
    [programme] = programme_rows(rows)
    assert programme["programme_id"] == stable_id("prg", "harbour skills exchange")
    assert programme["name"] == "Harbour Skills Exchange"
    assert programme["aliases"] == ["HSX", "Harbour Skills Exchange (HSX)", "the Harbour Skills Exchange"]
    assert programme["acronyms"] == ["HSX"]
    assert programme["batches"] == [3, 4, 6]
    assert programme["people"] == 2
    assert programme["article_ids"] == [EARLY, MIDDLE, LATE]


def test_the_name_is_the_most_printed_form_then_the_longest():
    rows = [_batch(EARLY, "Kelp Farming Course", 1), _batch(MIDDLE, "KELP FARMING COURSE", 2),
            _batch(LATE, "KELP FARMING COURSE", 2)]
    assert programme_rows(rows)[0]["name"] == "KELP FARMING COURSE"
    tie = [_batch(EARLY, "the Kelp Farming Course", 1), _batch(MIDDLE, "Kelp Farming Course", 2)]
    assert programme_rows(tie)[0]["name"] == "the Kelp Farming Course"


def test_an_acronym_printed_alone_is_its_own_programme_and_its_own_name():
    [programme] = programme_rows([_batch(EARLY, "HSX", 2)])
    assert (programme["name"], programme["aliases"], programme["acronyms"]) == ("HSX", [], [])


def test_programmes_are_sorted_and_a_programme_recomputed_alone_is_the_same():
    rows = [_batch(EARLY, "Reef Fellowship", 1, ORVANE), _batch(LATE, "Kelp Farming Course", 2, TELMIRA),
            _batch(MIDDLE, "Reef Fellowship", 2, TELMIRA)]
    everything = programme_rows(rows)
    assert [p["programme_key"] for p in everything] == ["kelp farming course", "reef fellowship"]
    assert programme_rows(rows[::-1]) == everything
    alone = programme_rows([r for r in rows if r["programme_key"] == "reef fellowship"])
    assert alone == [p for p in everything if p["programme_key"] == "reef fellowship"]
    assert programme_rows([]) == []


def test_programme_key_ignores_a_leading_the_and_a_bracketed_acronym():
    assert programme_key("The Harbour Skills Exchange (HSX)") == programme_key("Harbour Skills Exchange") \
        == "harbour skills exchange"
    assert programme_key("(HSX)") == "hsx"  # nothing before the bracket: the acronym is the name
    assert programme_key(None) is None


def _article_with_batches(text_after_title: str, programme_mention: str, batches: list[tuple[str, int]]) -> Extraction:
    """One article printing ``text_after_title``: a programme mention and batches of the given forms."""
    aid = "art_00cc"
    art = assemble(aid, "https://example.org/harbour/", "harbour.html", None, "Harbour News", dt.date(2022, 4, 1),
                   "1 April 2022", None, {}, [("paragraph", text_after_title)], [])
    start = art.text.index(programme_mention)
    mention = Mention(aid, "PROGRAMME", programme_mention, start, start + len(programme_mention), "rule:programme/name",
                      programme_mention)
    facts = [BatchFact(None, aid, form, number, None, None, art.text.index(form), art.text.index(form) + len(form),
                       "rule:batch/batch-ordinal") for form, number in batches]
    return Extraction(art, [], {}, [mention], [], [], facts, [])


def _batch_keys(ex: Extraction) -> dict[str, tuple[str, str]]:
    rows = extraction_rows(ex, "0" * 64, dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), "0.0.test")["batches"]
    return {r["programme"]: (r["programme_key"], r["programme_id"]) for r in rows}


def test_a_batch_of_an_acronym_the_article_defines_takes_the_programme_key_of_its_name():
    ex = _article_with_batches("The Harbour Skills Exchange (HSX) trains pilots. The 6th Batch of HSX starts soon.",
                               "Harbour Skills Exchange", [("HSX", 6)])
    key = programme_key("Harbour Skills Exchange")
    assert _batch_keys(ex) == {"HSX": (key, stable_id("prg", key))}


def test_a_batch_of_the_initials_of_a_programme_takes_its_key_but_two_letters_are_too_few():
    ex = _article_with_batches("The Harbour Skills Exchange trains pilots. The 6th Batch of HSE starts soon.",
                               "Harbour Skills Exchange", [("HSE", 6)])
    assert _batch_keys(ex)["HSE"][0] == "harbour skills exchange"
    ex = _article_with_batches("The Harbour Skills Exchange trains pilots. The 6th Batch of HSX starts soon.",
                               "Harbour Skills Exchange", [("HSX", 6)])
    assert _batch_keys(ex)["HSX"][0] == "hsx"  # not its initials
    ex = _article_with_batches("The Kelp Camp trains growers. The 2nd Batch of KC starts soon.", "Kelp Camp", [("KC", 2)])
    assert _batch_keys(ex)["KC"][0] == "kc"


# ---------------------------------------------------------------- the programme a batch names


def test_a_programme_named_in_the_body_cuts_the_run_on_words_of_a_headline():
    body = [Chain("Reef Fellowship for Young Divers", 200, 232)]
    assert _programme_name("Reef Fellowship for Young Divers Welcomed in Coralia", "of", body) == \
        "Reef Fellowship for Young Divers"


@pytest.mark.parametrize("phrase, preposition, expected", [
    ("Programme", "of", None),  # "the 2nd Batch of the Programme": generic words name nothing
    ("Fellowship Programme", "of", None),
    ("Coralia", "in", None),  # "the 5th Batch in Coralia": a place
    ("Reef Fellowship", "in", "Reef Fellowship"),
    ("RFYD", "in", "RFYD"),
    ("Young Divers", "for", "Young Divers"),  # "the 9th Batch for Young Divers": the programme's own words
])
def test_what_a_phrase_after_a_batch_names(phrase, preposition, expected):
    assert _programme_name(phrase, preposition, []) == expected


# ---------------------------------------------------------------- the dev set


@pytest.fixture(scope="module")
def devset(devset_tables):
    return {name: pq.read_table(devset_tables / f"{name}.parquet")
            for name in ("articles", "people", "roles", "batches")}


def _derived(devset) -> dict:
    published = {r["article_id"]: r["published"] for r in devset["articles"].select(["article_id", "published"]).to_pylist()}
    careers = career_rows(devset["roles"].select(list(CAREER_COLUMNS)).to_pylist(), published)
    programmes = programme_rows(devset["batches"].select(list(PROGRAMME_COLUMNS)).to_pylist())
    tables = dict(devset, careers=arrow_table("careers", careers), programmes=arrow_table("programmes", programmes))
    require_valid(tables, complete=False)
    return tables


def test_a_job_stated_in_two_articles_is_one_career_row(devset):
    """Every (person, title) whose roles in several articles name matching organisations (or none) is one row."""
    careers = _derived(devset)["careers"].to_pylist()
    by_position = defaultdict(list)
    for role in devset["roles"].to_pylist():
        if role["title"]:
            by_position[(role["person_id"], fold(role["title"]))].append(role)
    repeated = {position: roles for position, roles in by_position.items()
                if len({r["article_id"] for r in roles}) > 1 and len({fold(r["org"]) for r in roles if r["org"]}) <= 1}
    assert repeated, "the dev set has a person holding one job in two articles"
    for (person, title_key), roles in repeated.items():
        rows = [c for c in careers if (c["person_id"], c["title_key"]) == (person, title_key)]
        assert len(rows) == 1, rows
        assert rows[0]["article_ids"] == sorted({r["article_id"] for r in roles})
        assert len(rows[0]["article_ids"]) > 1


def test_a_dev_set_career_changes_status_across_articles(devset):
    """The job printed current in an earlier article and former in a later one is former as of the later one."""
    careers = _derived(devset)["careers"].to_pylist()
    roles = devset["roles"].to_pylist()
    published = {r["article_id"]: r["published"] for r in devset["articles"].select(["article_id", "published"]).to_pylist()}
    changed = [c for c in careers if {r["status"] for r in roles if r["role_id"] in c["role_ids"]} >= {"current", "former"}]
    assert changed
    for career in changed:
        latest = max((r for r in roles if r["role_id"] in career["role_ids"] and r["status"] != "unknown"),
                     key=lambda r: published[r["article_id"]])
        assert (career["status"], career["as_of"]) == (latest["status"], published[latest["article_id"]])


def test_dev_set_programmes_are_named_as_the_body_prints_them(devset):
    """No headline words and no generic word alone: every programme name is printed below its article's headline."""
    programmes = _derived(devset)["programmes"].to_pylist()
    texts = {r["article_id"]: r["text"] for r in devset["articles"].select(["article_id", "text"]).to_pylist()}
    assert programmes
    for programme in programmes:
        assert set(fold(programme["name"]).split()) - PROGRAMME_HEADS - {"the", "of", "for"}, programme["name"]
        bodies = [texts[aid].split("\n\n", 1)[-1] for aid in programme["article_ids"]]
        assert any(programme["name"] in body for body in bodies), programme["name"]


def test_most_dev_set_batches_name_their_programme(devset):
    batches = devset["batches"].to_pylist()
    unnamed = [b for b in batches if b["programme_key"] is None]
    assert len(unnamed) <= MAX_UNNAMED_SHARE * len(batches), f"{len(unnamed)} of {len(batches)} batch rows have no programme"
    assert all(b["programme_id"] == stable_id("prg", b["programme_key"]) for b in batches if b["programme_key"])


MAX_UNNAMED_SHARE = 0.1  # the dev set's articles name a programme for nearly every batch (its gold: all but a class year)
