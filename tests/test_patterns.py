"""Tests of the rule patterns (pipeline/patterns/*.jsonl) as they run inside ``build_nlp()``.

Every family gets sentences that MUST produce a span and sentences that MUST NOT. The sentences, names
and organisations are invented for these tests.
"""
from __future__ import annotations

import datetime as dt
import json

import pycountry
import pytest

from pipeline.nlp import build_nlp, process_text
from pipeline.normalize import country_iso3, demonym_iso3
from pipeline.extract.syntax import LINK_PATTERNS, link_patterns, organisation_entities, parse_links
from pipeline.patterns import PATTERN_DIR, RULE_FAMILIES, load_jsonl

FAMILY_LABEL = {"dates": "DATE", "titles": "TITLE", "honorifics": "HONORIFIC", "batches": "BATCH"}


@pytest.fixture(scope="module")
def nlp():
    return build_nlp()


def spans(nlp, text: str, family: str) -> list[tuple[str, str, str]]:
    doc = nlp(text)
    return [(s.text, s.label_, s.id_) for s in doc.spans.get(family, [])]


# ---------------------------------------------------------------- the pattern files themselves


def test_rule_families_cover_every_rule_file():
    files = {p.stem for p in PATTERN_DIR.glob("*.jsonl")}
    assert set(RULE_FAMILIES) | {"countries", LINK_PATTERNS} == files


@pytest.mark.parametrize("family", RULE_FAMILIES)
def test_every_pattern_has_an_id_a_label_and_a_pattern(family):
    rows = load_jsonl(family)
    assert rows, f"{family}.jsonl is empty"
    for row in rows:
        assert isinstance(row.get("id"), str) and row["id"].strip(), row
        assert row.get("label") == FAMILY_LABEL[family], row["id"]
        assert isinstance(row.get("pattern"), list) and row["pattern"], row["id"]


def test_pattern_ids_are_unique_across_all_files():
    ids = [row["id"] for family in RULE_FAMILIES for row in load_jsonl(family)]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates


def test_every_jsonl_line_is_a_json_object():
    for path in PATTERN_DIR.glob("*.jsonl"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                assert isinstance(json.loads(line), dict), f"{path.name}:{number}"


def test_country_rows_are_consistent():
    rows = load_jsonl("countries")
    codes = [row["iso3"] for row in rows]
    assert len(codes) == len(set(codes))
    for row in rows:
        assert pycountry.countries.get(alpha_3=row["iso3"]) is not None, row["iso3"]
        assert row["aliases"], row["iso3"]
        for alias in row["aliases"]:
            assert country_iso3(alias) == row["iso3"], alias
        for demonym in row["demonyms"]:
            assert demonym_iso3(demonym) == row["iso3"], demonym


def test_pipeline_has_one_ruler_per_family_and_span_ids_are_pattern_ids(nlp):
    for family in (*RULE_FAMILIES, "countries"):
        assert f"{family}_ruler" in nlp.pipe_names
    known = {row["id"] for family in RULE_FAMILIES for row in load_jsonl(family)} | {"country-name", "country-demonym"}
    doc = nlp("On 3 May 2021, Dr Lena Okafor, Programme Officer from Viet Nam and a Thai member of the "
              "12th Batch, spoke.")
    found = [(family, s.id_) for family in (*RULE_FAMILIES, "countries") for s in doc.spans.get(family, [])]
    assert {family for family, _ in found} == {*RULE_FAMILIES, "countries"}
    assert all(span_id in known for _, span_id in found)


# ---------------------------------------------------------------- dates

DATE_MATCHES = [
    ("The workshop opened on 3 May 2021 in the capital.", "3 May 2021"),
    ("It closed on 12 Sept. 2019 after a week.", "12 Sept. 2019"),
    ("The forum met on Sept. 12, 2019 by the river.", "Sept. 12, 2019"),
    ("The launch was held on Monday, 3 May 2021 at noon.", "Monday, 3 May 2021"),
    ("The survey closes in the last quarter of 2019.", "the last quarter of 2019"),
    ("Results are due in Q1 2022.", "Q1 2022"),
    ("The summit runs March 4-9, 2023 near the coast.", "March 4-9, 2023"),
    ("The fair ran from 4 to 9 March 2022 downtown.", "from 4 to 9 March 2022"),
    ("Payments are due 21-25 August each year.", "21-25 August"),
    ("The grant covers 2021/4/1 – 2023/3/31 in full.", "2021/4/1 – 2023/3/31"),
    ("The file was dated 2021-04-01 by the clerk.", "2021-04-01"),
    ("The office reopened in May 2021.", "May 2021"),
    ("Trials ran from March to May 2020 in three towns.", "from March to May 2020"),
    ("The scheme ran from 2019 to 2020 in two phases.", "from 2019 to 2020"),
    ("Funding continued between 2014 and 2018 without a break.", "between 2014 and 2018"),
    ("She coached the team (2006-2007) with success.", "2006-2007"),
    ("The 2019/20 season was difficult.", "2019/20"),
    ("The reform slowed in the middle of 2019.", "the middle of 2019"),
    ("Sales rose in the first half of 2020.", "the first half of 2020"),
    ("Work began in early 2018 and paused.", "early 2018"),
    ("Growth returned by mid-2019 at last.", "mid-2019"),
    ("The idea dates back to the 1990s in the valley.", "the 1990s"),
    ("He moved to the port city in 1996 with his family.", "1996"),
    ("The deadline is 30 September for everyone.", "30 September"),
    ("Her term runs from 6 January 2025 to 5 January 2029 in full.", "from 6 January 2025 to 5 January 2029"),
    ("He was posted there between 2019 to 2024 as a trainer.", "between 2019 to 2024"),
    ("The visit is planned for March 3rd to 7th this year.", "March 3rd to 7th"),
]


@pytest.mark.parametrize("sentence, expected", DATE_MATCHES)
def test_dates_must_match(nlp, sentence, expected):
    found = spans(nlp, sentence, "dates")
    assert (expected, "DATE") in [(text, label) for text, label, _ in found], found


DATE_NON_MATCHES = [
    "The course lasted six months.",
    "It was funded over a two-year period.",
    "Young people aged 15 to 24 took part.",
    "The council adopted Resolution 2250 unanimously.",
    "More than 120 participants attended.",
    "The COVID-19 pandemic slowed the work.",
    "The volunteers march 10 kilometres each day.",
    "Around 16% of the members agreed.",
    "The vote was 15 to 24 against the motion.",
    "She may 2 times a week visit the clinic.",
    "Groups of between 20 to 30 people joined each walk.",
]


@pytest.mark.parametrize("sentence", DATE_NON_MATCHES)
def test_dates_must_not_match(nlp, sentence):
    assert spans(nlp, sentence, "dates") == []


def test_year_inside_a_name_is_dropped_by_extraction_not_by_patterns(nlp):
    """keep_date (in extract) drops "Masterplan 2030"-style years and counts; real years stay."""
    from pipeline.extract import extract_article
    from pipeline.parse import assemble
    from pipeline.segment import segment

    text = ("The Coastal Resilience Masterplan 2030 was adopted in 2017 by the port authority. "
            "Over 2000 participants came to the launch.")
    article = assemble("art_test_keep_date", None, "keep-date.html", None, "Harbour plan adopted",
                       dt.date(2018, 2, 1), None, None, {}, [("paragraph", text)], [])
    doc = nlp(article.text)
    raw_years = {s.text for s in doc.spans["dates"]}
    assert {"2030", "2017", "2000"} <= raw_years  # the pattern layer proposes all three
    extraction = extract_article(article, segment(article), doc)
    kept = {d.text for d in extraction.dates}
    assert "2017" in kept
    assert "2030" not in kept
    assert "2000" not in kept


# ---------------------------------------------------------------- titles

TITLE_MATCHES = [
    ("She was named Deputy Secretary-General last week.", "Deputy Secretary-General"),
    ("He works as a Programme Officer at the bureau.", "Programme Officer"),
    ("Marisol Quintero is Vice Rector of Lakeshore University.", "Vice Rector"),
    ("The Director-General opened the session.", "Director-General"),
    ("The Vice-President thanked the guests.", "Vice-President"),
    ("Nour Haddad, Chief Executive Officer of Brightline, spoke.", "Chief Executive Officer"),
    ("The Acting Director arrived.", "Acting Director"),
    ("She served as Head of Mission in the north.", "Head of Mission"),
    ("Tamsin Rowe, a staff member of the agency, spoke.", "staff member"),
    ("He was an Assistant to the Minister for two years.", "Assistant to the Minister"),
    ("The DSG opened the meeting.", "DSG"),
    ("Pablo Reyes became Senior Adviser in the ministry.", "Senior Adviser"),
    ("Ines Moreau is the Ambassador of her country.", "Ambassador"),
    ("said the Deputy Secretary–General of the council.", "Deputy Secretary–General"),
    ("Ms. Ines Moreau, Member of the House of Delegates, called on the Director.", "Member of the House of Delegates"),
    ("He was elected Member of Parliament in 2019.", "Member of Parliament"),
]


@pytest.mark.parametrize("sentence, expected", TITLE_MATCHES)
def test_titles_must_match(nlp, sentence, expected):
    found = spans(nlp, sentence, "titles")
    assert (expected, "TITLE") in [(text, label) for text, label, _ in found], found


TITLE_NON_MATCHES = [
    "The staff prepared the venue.",
    "Staff were asked to leave early.",
    "Our group includes 45 staff across the sites.",
    "Several officials attended the session.",
    "Senior officials met on Monday.",
    "Government Officials met the press.",
    "She is a member of the Rotary Club.",
]


@pytest.mark.parametrize("sentence", TITLE_NON_MATCHES)
def test_titles_must_not_match(nlp, sentence):
    assert spans(nlp, sentence, "titles") == []


@pytest.mark.parametrize("sentence", ["That was the chief reason for the delay.", "She will head the new unit next year."])
def test_lower_case_common_words_are_not_titles(nlp, sentence):
    assert spans(nlp, sentence, "titles") == []


# ---------------------------------------------------------------- honorifics

HONORIFIC_MATCHES = [
    ("Dr Anton Weller spoke first.", "Dr"),
    ("Dr. Anton Weller spoke first.", "Dr."),
    ("H.E. Tomas Varga arrived late.", "H.E."),
    ("Dato' Kamal Idris opened the forum.", "Dato'"),
    ("Dato’ Sri Kamal Idris opened the forum.", "Dato’ Sri"),
    ("Datuk Seri Anwar Tajuddin attended.", "Datuk Seri"),
    ("Tan Sri Musa Hamid attended.", "Tan Sri"),
    ("Prof. Lena Okafor gave a talk.", "Prof."),
    ("Associate Professor Kai Lund spoke.", "Associate Professor"),
    ("His Excellency Rafael Ortiz spoke first.", "His Excellency"),
    ("Later Mr. Ivo Brandt joined them.", "Mr."),
    ("Later Ms Petra Lind joined them.", "Ms"),
    ("Later Mrs. Alma Cruz joined them.", "Mrs."),
]


@pytest.mark.parametrize("sentence, expected", HONORIFIC_MATCHES)
def test_honorifics_must_match(nlp, sentence, expected):
    found = spans(nlp, sentence, "honorifics")
    assert (expected, "HONORIFIC") in [(text, label) for text, label, _ in found], found


@pytest.mark.parametrize("sentence", [
    "The doctor spoke first.",
    "The professor gave a talk.",
    "Her excellent work was praised.",
    "They drove to the town centre.",
])
def test_honorifics_must_not_match(nlp, sentence):
    assert spans(nlp, sentence, "honorifics") == []


@pytest.mark.parametrize("sentence, expected", [
    ("Hon. Ana Ruiz opened the debate.", "Hon."),
    ("Assoc. Prof. Helga Moen presented.", "Assoc. Prof."),
    ("Mdm. Lim Bee Hoon chaired the panel.", "Mdm."),
])
def test_dotted_honorific_abbreviations(nlp, sentence, expected):
    assert expected in [text for text, _, _ in spans(nlp, sentence, "honorifics")]


# ---------------------------------------------------------------- batches

BATCH_MATCHES = [
    ("She joined the 12th Batch of the exchange.", "12th Batch"),
    ("He was part of Cohort 4 in the scheme.", "Cohort 4"),
    ("She chaired the second batch of trainees.", "second batch"),
    ("The fifth cohort graduated on time.", "fifth cohort"),
    ("Nine groups met in the 3rd intake.", "3rd intake"),
    ("It was the 1st Generation of fellows.", "1st Generation"),
    ("She was placed in Batch #3 last spring.", "Batch #3"),
    ("He belongs to the Class of 2018 alumni.", "Class of 2018"),
]


@pytest.mark.parametrize("sentence, expected", BATCH_MATCHES)
def test_batches_must_match(nlp, sentence, expected):
    found = spans(nlp, sentence, "batches")
    assert (expected, "BATCH") in [(text, label) for text, label, _ in found], found


@pytest.mark.parametrize("sentence", [
    "More than 120 participants attended.",
    "The batch of samples arrived late.",
    "Each cohort has its own mentor.",
    "She came second in the race.",
    "The class met 4 times.",
])
def test_batches_must_not_match(nlp, sentence):
    assert spans(nlp, sentence, "batches") == []


@pytest.mark.parametrize("sentence, expected", [
    ("He was in Cohort No. 12 then.", "Cohort No. 12"),
    ("Batch No. 7 graduated last year.", "Batch No. 7"),
])
def test_batch_with_no_abbreviation(nlp, sentence, expected):
    assert expected in [text for text, _, _ in spans(nlp, sentence, "batches")]


# ---------------------------------------------------------------- countries

COUNTRY_MATCHES = [
    ("Delegates from Lao PDR met in the capital.", "Lao PDR", "COUNTRY"),
    ("Delegates from Viet Nam met in the capital.", "Viet Nam", "COUNTRY"),
    ("She flew in from Vietnam on Sunday.", "Vietnam", "COUNTRY"),
    ("A team from the Philippines visited.", "the Philippines", "COUNTRY"),
    ("A team from Timor-Leste visited.", "Timor-Leste", "COUNTRY"),
    ("They toured Brunei Darussalam in spring.", "Brunei Darussalam", "COUNTRY"),
    ("Envoys from Burma attended.", "Burma", "COUNTRY"),
    ("Envoys from Korea attended.", "Korea", "COUNTRY"),
    ("The Cambodian delegation arrived.", "Cambodian", "DEMONYM"),
    ("The Thai hosts greeted them.", "Thai", "DEMONYM"),
]


@pytest.mark.parametrize("sentence, expected, label", COUNTRY_MATCHES)
def test_countries_must_match(nlp, sentence, expected, label):
    found = spans(nlp, sentence, "countries")
    assert (expected, label) in [(text, lab) for text, lab, _ in found], found


@pytest.mark.parametrize("sentence", [
    "The ASEAN Mekong corridor plan was discussed across Asia.",
    "Please let us know by Friday.",
    "The delegates met in Jakarta and Hanoi.",
    "The south-east of the island flooded.",
])
def test_countries_must_not_match(nlp, sentence):
    assert spans(nlp, sentence, "countries") == []


# ---------------------------------------------------------------- links of the dependency parse (links.jsonl)


def links(nlp, sentence: str) -> list[tuple[str, str, str]]:
    """(pattern id, title, person or organisation) of every link in ``sentence``; the model's PERSON entities
    stand for the person mentions the extractor finds."""
    doc = process_text(nlp, sentence)
    people = [ent for ent in doc.ents if ent.label_ == "PERSON"]
    return [(link.pattern_id, link.title.text, link.other.text)
            for link in parse_links(doc, list(doc.spans["titles"]), people, organisation_entities(doc))]


def test_every_link_pattern_has_an_id_a_relation_and_examples_both_ways():
    patterns = link_patterns()
    assert len({p["id"] for p in patterns}) == len(patterns)
    for pattern in patterns:
        assert pattern["relation"] in {"holder", "organisation"}
        assert pattern["match"] and pattern["no_match"], pattern["id"]


@pytest.mark.parametrize("pattern_id, sentence, title, other",
                         [(p["id"], *example) for p in link_patterns() for example in p["match"]])
def test_link_patterns_must_match(nlp, pattern_id, sentence, title, other):
    assert (pattern_id, title, other) in links(nlp, sentence)


@pytest.mark.parametrize("pattern_id, sentence", [(p["id"], s) for p in link_patterns() for s in p["no_match"]])
def test_link_patterns_must_not_match(nlp, pattern_id, sentence):
    assert [link for link in links(nlp, sentence) if link[0] == pattern_id] == []


def test_a_doc_without_a_parse_has_no_links():
    doc = process_text(build_nlp("blank"), "Ms. Lina Santos, the Director of the Bay Trust, spoke.")
    assert parse_links(doc, list(doc.spans["titles"]), [doc[1:3]], []) == []


def test_a_model_that_parses_the_whole_doc_keeps_that_parse():
    """A model whose parser is not on demand (its parser runs over the page) gives the links its own parse."""
    import spacy

    from pipeline.model import model_name
    from pipeline.nlp import parse_title_sentences
    full = spacy.load(model_name(None))
    doc = full("Ms. Lina Santos, the Director of the Bay Trust, spoke.")
    assert parse_title_sentences(full, doc) == [(0, doc)]
