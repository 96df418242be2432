"""Tests of pipeline.normalize: partial dates at the text's precision, countries, batches and ids.

Expected values are worked out from the calendar (first/last day of a month, quarter, half, leap years),
not copied from the code's output. The article date used as ``base`` is deliberately in a year and month
that differ from today's, so a value borrowed from the clock cannot pass for the right one.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest

from pipeline.normalize import (batch_number, country_iso3, country_name, demonym_iso3, fold, name_key,
                                normalize_date, org_similar, person_id, stable_id)
from pipeline.records import PartialDate

BASE = dt.date(2015, 6, 10)  # an article date whose year and month are not today's
TODAY = dt.date.today()
D = dt.date


def _check(value: PartialDate | None, start: str, end: str, start_date: dt.date, end_date: dt.date, precision: str):
    assert value is not None
    assert (value.start, value.end, value.start_date, value.end_date, value.precision) == \
        (start, end, start_date, end_date, precision)
    assert value.start_date <= value.end_date


# ---------------------------------------------------------------- single points


@pytest.mark.parametrize("text", ["1996", "in 1996", " 1996 "])
@pytest.mark.parametrize("base", [None, BASE, D(2019, 9, 29)])
def test_bare_year_stays_a_year(text, base):
    # dateparser alone reads "1996" as 1996-<today's month>-01: the whole year must come back instead
    _check(normalize_date(text, base), "1996", "1996", D(1996, 1, 1), D(1996, 12, 31), "year")


@pytest.mark.parametrize("text, year, month, last_day", [
    ("May 2021", 2021, 5, 31),
    ("June 2019", 2019, 6, 30),
    ("Sept. 2019", 2019, 9, 30),
    ("February 2023", 2023, 2, 28),
    ("February 2024", 2024, 2, 29),  # leap year
    ("December 1999", 1999, 12, 31),
])
def test_month_year(text, year, month, last_day):
    iso = f"{year:04d}-{month:02d}"
    _check(normalize_date(text, BASE), iso, iso, D(year, month, 1), D(year, month, last_day), "month")


@pytest.mark.parametrize("text", ["3 May 2021", "3rd May 2021", "May 3, 2021", "May 3 2021", "Monday, 3 May 2021"])
def test_day_month_year_in_either_order(text):
    _check(normalize_date(text, BASE), "2021-05-03", "2021-05-03", D(2021, 5, 3), D(2021, 5, 3), "day")


def test_day_first_numeric_and_iso_dates():
    _check(normalize_date("2021/4/1"), "2021-04-01", "2021-04-01", D(2021, 4, 1), D(2021, 4, 1), "day")
    _check(normalize_date("2021-04-01"), "2021-04-01", "2021-04-01", D(2021, 4, 1), D(2021, 4, 1), "day")
    _check(normalize_date("Sept. 12, 2019"), "2019-09-12", "2019-09-12", D(2019, 9, 12), D(2019, 9, 12), "day")


def test_explicit_year_wins_over_the_article_year():
    assert normalize_date("3 May 2021", BASE).start == "2021-05-03"
    assert normalize_date("May 2021", D(1990, 1, 1)).start == "2021-05"


@pytest.mark.parametrize("text", ["30 February 2021", "31 April 2020", "2021/13/1"])
def test_impossible_calendar_dates_are_none(text):
    assert normalize_date(text, BASE) is None


# ---------------------------------------------------------------- days and months without a year


@pytest.mark.parametrize("text, iso", [
    ("30 September", "2015-09-30"),
    ("September 30", "2015-09-30"),
    ("3 May", "2015-05-03"),
    ("20 December", "2015-12-20"),
])
def test_day_without_year_takes_the_article_year(text, iso):
    day = D.fromisoformat(iso)
    _check(normalize_date(text, BASE), iso, iso, day, day, "day")


def test_month_without_year_takes_the_article_year():
    _check(normalize_date("September", BASE), "2015-09", "2015-09", D(2015, 9, 1), D(2015, 9, 30), "month")


@pytest.mark.parametrize("text", ["30 September", "3 May", "from 4 to 9 March", "21-25 August", "September"])
def test_without_a_year_and_without_an_article_date_there_is_no_date(text):
    # never today's year
    assert normalize_date(text) is None


@pytest.mark.parametrize("text", ["30 September", "from 4 to 9 March", "21-25 August", "4 May to 9 June"])
def test_yearless_days_never_take_todays_year(text):
    value = normalize_date(text, BASE)
    assert value is not None
    assert value.start_date.year == value.end_date.year == BASE.year != TODAY.year


# ---------------------------------------------------------------- ranges


@pytest.mark.parametrize("text", ["2006-2007", "2006–2007", "2006 – 2007", "from 2006 to 2007", "between 2006 and 2007",
                                  "2006/07", "2006/2007", "2006 to 2007"])
def test_year_ranges(text):
    _check(normalize_date(text, BASE), "2006", "2007", D(2006, 1, 1), D(2007, 12, 31), "year")


def test_from_to_and_between_with_other_years():
    _check(normalize_date("from 2019 to 2020"), "2019", "2020", D(2019, 1, 1), D(2020, 12, 31), "year")
    _check(normalize_date("between 2014 and 2018"), "2014", "2018", D(2014, 1, 1), D(2018, 12, 31), "year")
    _check(normalize_date("2019/20"), "2019", "2020", D(2019, 1, 1), D(2020, 12, 31), "year")


def test_two_digit_end_year_across_the_century():
    _check(normalize_date("1999/00"), "1999", "2000", D(1999, 1, 1), D(2000, 12, 31), "year")


@pytest.mark.parametrize("text, base, start, end", [
    ("from 4 to 9 March", BASE, "2015-03-04", "2015-03-09"),
    ("4-9 March", BASE, "2015-03-04", "2015-03-09"),
    ("21-25 August", BASE, "2015-08-21", "2015-08-25"),
    ("21-25 August 2022", BASE, "2022-08-21", "2022-08-25"),
    ("from 4 to 9 March 2022", None, "2022-03-04", "2022-03-09"),
    ("March 4-9, 2023", None, "2023-03-04", "2023-03-09"),
    ("4 May to 9 June", BASE, "2015-05-04", "2015-06-09"),
    ("12 December 2018 – 3 January 2019", None, "2018-12-12", "2019-01-03"),
    ("2021/4/1 – 2023/3/31", None, "2021-04-01", "2023-03-31"),
])
def test_day_ranges(text, base, start, end):
    _check(normalize_date(text, base), start, end, D.fromisoformat(start), D.fromisoformat(end), "day")


def test_month_ranges_and_mixed_precision():
    _check(normalize_date("from March to May 2020"), "2020-03", "2020-05", D(2020, 3, 1), D(2020, 5, 31), "month")
    _check(normalize_date("December 2019 to January 2020"), "2019-12", "2020-01", D(2019, 12, 1), D(2020, 1, 31), "month")
    # endpoints at different precisions: each keeps its own, the interval is "mixed"
    _check(normalize_date("from May 2019 to 2020"), "2019-05", "2020", D(2019, 5, 1), D(2020, 12, 31), "mixed")


@pytest.mark.parametrize("text, start, end, start_date, end_date", [
    ("from December to February 2020", "2019-12", "2020-02", D(2019, 12, 1), D(2020, 2, 29)),
    ("1 December to 5 January 2020", "2019-12-01", "2020-01-05", D(2019, 12, 1), D(2020, 1, 5)),
])
def test_range_crossing_new_year_does_not_end_before_it_starts(text, start, end, start_date, end_date):
    value = normalize_date(text, BASE)
    assert value is not None
    assert value.start_date <= value.end_date
    assert (value.start, value.end, value.start_date, value.end_date) == (start, end, start_date, end_date)


# ---------------------------------------------------------------- quarters, halves, parts of a year


@pytest.mark.parametrize("text, start, end, end_date", [
    ("the last quarter of 2019", "2019-10", "2019-12", D(2019, 12, 31)),
    ("the fourth quarter of 2019", "2019-10", "2019-12", D(2019, 12, 31)),
    ("the first quarter of 2020", "2020-01", "2020-03", D(2020, 3, 31)),
    ("the 2nd quarter of 2021", "2021-04", "2021-06", D(2021, 6, 30)),
    ("the third quarter of 2018", "2018-07", "2018-09", D(2018, 9, 30)),
    ("Q1 2022", "2022-01", "2022-03", D(2022, 3, 31)),
    ("Q4 2020", "2020-10", "2020-12", D(2020, 12, 31)),
])
def test_quarters(text, start, end, end_date):
    _check(normalize_date(text, BASE), start, end, D.fromisoformat(start + "-01"), end_date, "quarter")


@pytest.mark.parametrize("text, start, end, end_date", [
    ("the first half of 2020", "2020-01", "2020-06", D(2020, 6, 30)),
    ("the second half of 2020", "2020-07", "2020-12", D(2020, 12, 31)),
    ("the latter half of 2018", "2018-07", "2018-12", D(2018, 12, 31)),
])
def test_halves(text, start, end, end_date):
    _check(normalize_date(text, BASE), start, end, D.fromisoformat(start + "-01"), end_date, "half")


@pytest.mark.parametrize("text", ["the middle of 2019", "mid-2019", "mid 2019", "early 2019", "late 2019",
                                  "the end of 2019", "the beginning of 2019"])
def test_vague_part_of_a_year_is_the_year(text):
    # "the middle of 2019" says no month: the text's precision is the year
    _check(normalize_date(text, BASE), "2019", "2019", D(2019, 1, 1), D(2019, 12, 31), "year")


def test_decades():
    _check(normalize_date("the 1990s"), "1990", "1999", D(1990, 1, 1), D(1999, 12, 31), "decade")
    _check(normalize_date("the 2000s"), "2000", "2009", D(2000, 1, 1), D(2009, 12, 31), "decade")


# ---------------------------------------------------------------- not calendar times


@pytest.mark.parametrize("text", ["COVID-19", "Resolution 2250", "aged 15 to 24", "a two-year period",
                                  "120 participants", "1.2 billion", ""])
def test_not_a_calendar_time(text):
    assert normalize_date(text, BASE) is None


@pytest.mark.parametrize("text", ["six months", "three years", "two weeks"])
def test_durations_are_not_dates(text):
    assert normalize_date(text, BASE) is None


@pytest.mark.parametrize("text", ["15 to 24", "16%"])
def test_bare_numbers_are_not_days(text):
    assert normalize_date(text, BASE) is None


# ---------------------------------------------------------------- countries


@pytest.mark.parametrize("text, iso3", [
    ("Lao PDR", "LAO"), ("the Lao PDR", "LAO"), ("Laos", "LAO"), ("Lao People’s Democratic Republic", "LAO"),
    ("Viet Nam", "VNM"), ("Vietnam", "VNM"), ("VIET NAM", "VNM"),
    ("Burma", "MMR"), ("Myanmar", "MMR"),
    ("Brunei Darussalam", "BRN"), ("Brunei", "BRN"),
    ("the Philippines", "PHL"), ("The Philippines", "PHL"), ("Philippines", "PHL"),
    ("Timor-Leste", "TLS"), ("Timor Leste", "TLS"), ("East Timor", "TLS"),
    ("Korea", "KOR"), ("Republic of Korea", "KOR"), ("South Korea", "KOR"),
    ("Cambodia", "KHM"), ("Thailand", "THA"), ("Indonesia", "IDN"), ("Malaysia", "MYS"), ("Singapore", "SGP"),
    ("Japan", "JPN"), ("  Thailand  ", "THA"),
])
def test_country_iso3_every_spelling(text, iso3):
    assert country_iso3(text) == iso3


@pytest.mark.parametrize("text", ["ASEAN", "Mekong", "Asia", "Southeast Asia", "Jakarta", "CLMV", ""])
def test_country_iso3_none_for_non_countries(text):
    assert country_iso3(text) is None


@pytest.mark.parametrize("text, iso3", [
    ("Thai", "THA"), ("Cambodian", "KHM"), ("Khmer", "KHM"), ("Filipino", "PHL"), ("Filipina", "PHL"),
    ("Vietnamese", "VNM"), ("Lao", "LAO"), ("Laotian", "LAO"), ("Burmese", "MMR"), ("Bruneian", "BRN"),
    ("Timorese", "TLS"), ("Japanese", "JPN"), ("Indonesian", "IDN"), ("Malaysian", "MYS"), ("thai", "THA"),
])
def test_demonym_iso3(text, iso3):
    assert demonym_iso3(text) == iso3


@pytest.mark.parametrize("text", ["Asian", "ASEAN", "Thailand", "Mekong"])
def test_demonym_iso3_none(text):
    assert demonym_iso3(text) is None


def test_country_name_is_the_preferred_spelling():
    assert country_name("VNM") == "Viet Nam"
    assert country_name("LAO") == "Lao PDR"
    assert country_name("XYZ") == "XYZ"


# ---------------------------------------------------------------- batches


@pytest.mark.parametrize("text, number", [
    ("8th Batch", 8), ("13th Batch", 13), ("1st batch", 1), ("2nd Cohort", 2), ("21st intake", 21),
    ("Cohort 3", 3), ("Batch 12", 12), ("Batch No. 12", 12), ("Batch #5", 5),
    ("second batch", 2), ("first cohort", 1), ("twelfth cohort", 12), ("Twentieth Batch", 20),
])
def test_batch_number(text, number):
    assert batch_number(text) == number


@pytest.mark.parametrize("text", ["Class of 2018", "class of 1999", "batch", "the cohort"])
def test_batch_number_none(text):
    assert batch_number(text) is None


# ---------------------------------------------------------------- names and ids


def test_fold_is_case_accent_and_punctuation_insensitive():
    assert fold("Nguyễn  Văn-An") == fold("NGUYEN van an") == "nguyen van an"


@pytest.mark.parametrize("a, b", [
    ("Hiroshi Tanaka", "TANAKA Hiroshi"),
    ("Hiroshi Tanaka", "tanaka, hiroshi"),
    ("Nguyễn Văn An", "nguyen van an"),
    ("Zoë Ångström", "ANGSTROM Zoe"),
    ("Maria  da  Costa", "Costa Maria da"),
])
def test_name_key_is_order_case_and_accent_insensitive(a, b):
    assert name_key(a) == name_key(b)
    assert person_id(a) == person_id(b)


@pytest.mark.parametrize("a, b", [("Anna Berg", "Anna Borg"), ("Anna Berg", "Anna Berg Lund"), ("Li Wei", "Wei")])
def test_different_names_have_different_keys_and_ids(a, b):
    assert name_key(a) != name_key(b)
    assert person_id(a) != person_id(b)


def test_person_id_shape_and_stability():
    first = person_id("Hiroshi Tanaka")
    assert re.fullmatch(r"per_[0-9a-f]{16}", first)
    assert person_id("Hiroshi Tanaka") == first
    # stable across processes: the id is a content hash, not Python's salted hash()
    assert first == "per_" + hashlib.sha256(name_key("Hiroshi Tanaka").encode("utf-8")).hexdigest()[:16]


def test_stable_id():
    one = stable_id("art", "https://example.org/a", 3)
    assert re.fullmatch(r"art_[0-9a-f]{16}", one)
    assert stable_id("art", "https://example.org/a", 3) == one
    assert stable_id("art", "https://example.org/a", "3") == one  # parts are compared as text
    assert stable_id("art", "https://example.org/a", 4) != one
    assert stable_id("art", 3, "https://example.org/a") != one  # order matters
    assert stable_id("prf", "https://example.org/a", 3) != one  # so does the prefix
    assert stable_id("x", "ab", "c") != stable_id("x", "a", "bc")  # parts are delimited, not concatenated
    assert one == "art_" + hashlib.sha256("https://example.org/a\x1f3".encode("utf-8")).hexdigest()[:16]


def test_a_range_that_runs_backwards_is_no_date():
    assert normalize_date("2019-2018") is None and normalize_date("2019 to 1850") is None
    assert normalize_date("2018-2019").start == "2018"


def test_batch_zero_is_no_batch():
    from pipeline.normalize import batch_number
    assert batch_number("Batch 0") is None and batch_number("Batch 10") == 10


@pytest.mark.parametrize("a, b, same", [
    ("HLO", "Harbour Liaison Office (HLO)", True),
    ("Harbour Liaison Office (HLO)", "HLO", True),
    ("Delta Water Board", "Delta Water Board of Thailand", True),
    ("RFT", "Harbour Liaison Office (HLO)", False),
    ("HLO", "HLO Training Centre", False),
])
def test_an_acronym_and_its_spelled_out_name_are_one_organisation(a, b, same):
    assert org_similar(a, b) is same
