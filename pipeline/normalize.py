"""Normalization: ISO 3166-1 alpha-3 countries, ISO partial dates at the text's precision, batch numbers, ids."""
from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import re
import unicodedata
from functools import lru_cache

import pycountry
from dateparser.date import DateDataParser

from .patterns import load_jsonl
from .records import PartialDate

# ---------------------------------------------------------------- ids and names


def stable_id(prefix: str, *parts: object) -> str:
    """A short id that is the same on every run for the same input parts."""
    digest = hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode("utf-8")).hexdigest()
    return f"{prefix}_{digest[:16]}"


FOLD_CACHE = 1 << 16  # distinct strings remembered: names, titles and organisations of even a very long page


@lru_cache(maxsize=FOLD_CACHE)
def fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form used to compare names and titles."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^\w\s]", " ", text.casefold())
    return " ".join(text.split())


def name_key(name: str) -> str:
    """Order-free key of a personal name, so "TANAKA Hiroshi" and "Hiroshi Tanaka" are one person."""
    return " ".join(sorted(fold(name).split()))


def person_id(name: str) -> str:
    """Corpus-wide person id: the same printed name in two articles is one person."""
    return stable_id("per", name_key(name))


ORG_STOPWORDS = {"the", "of", "and", "at", "in", "for", "to", "a", "an"}
ORG_MATCH = 0.5  # half the content words shared: "Delta Water Board" and "Delta Water Board of Thailand" match


def _org_words(text: str | None) -> set[str]:
    return set(fold(text or "").split()) - ORG_STOPWORDS


def org_similar(a: str | None, b: str | None) -> bool:
    """Organisations match when their content words overlap enough (Jaccard ≥ ``ORG_MATCH``), or when one is
    the bare acronym the other prints in brackets ("HLO" and "Harbour Liaison Office (HLO)"): how the evaluator
    scores organisations and how careers merge the same position printed two ways."""
    wa, wb = _org_words(a), _org_words(b)
    if not (wa and wb):
        return False
    return len(wa & wb) / len(wa | wb) >= ORG_MATCH or _acronym_of(a, b) or _acronym_of(b, a)


def _acronym_of(short: str | None, full: str | None) -> bool:
    """``short`` is a bare acronym and ``full`` ends with it in brackets."""
    match = BRACKETED_ACRONYM.search(full or "")
    return bool(match) and (short or "").strip() == match.group("acronym") and bool(full[:match.start()].strip())


# ---------------------------------------------------------------- countries


@lru_cache(maxsize=1)
def _country_tables() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(folded name → ISO3, folded demonym → ISO3, ISO3 → display name) from pycountry plus our alias file."""
    names: dict[str, str] = {}
    display: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                names.setdefault(fold(value), country.alpha_3)
        display[country.alpha_3] = getattr(country, "common_name", None) or country.name
    demonyms: dict[str, str] = {}
    for row in load_jsonl("countries"):
        for alias in row["aliases"]:
            names[fold(alias)] = row["iso3"]
            names[fold(re.sub(r"^the\s+", "", alias, flags=re.I))] = row["iso3"]
        for demonym in row["demonyms"]:
            demonyms[fold(demonym)] = row["iso3"]
        display[row["iso3"]] = row["aliases"][0]
    return names, demonyms, display


def country_iso3(text: str) -> str | None:
    """ISO3 for a country name in any of its spellings ("Lao PDR", "Viet Nam", "Burma"), else None."""
    names, _, _ = _country_tables()
    folded = fold(re.sub(r"^the\s+", "", text.strip(), flags=re.I))
    return names.get(folded)


def demonym_iso3(text: str) -> str | None:
    """ISO3 for a demonym ("Thai", "Cambodian"), else None."""
    _, demonyms, _ = _country_tables()
    return demonyms.get(fold(text))


def country_name(iso3: str) -> str:
    """The short English name we display for an ISO3 code."""
    return _country_tables()[2].get(iso3, iso3)


def country_phrases() -> list[str]:
    """Every spelling we recognise as a country in running text (for the phrase matcher)."""
    names, _, _ = _country_tables()
    phrases = {row_alias for row in load_jsonl("countries") for row_alias in row["aliases"]}
    for country in pycountry.countries:
        for attr in ("name", "common_name"):
            value = getattr(country, attr, None)
            if value and "," not in value:
                phrases.add(value)
    return sorted(phrases)


def demonym_phrases() -> list[str]:
    """Every demonym we recognise."""
    return sorted({d for row in load_jsonl("countries") for d in row["demonyms"]})


# ---------------------------------------------------------------- batches

_ORDINAL_WORDS = {w: i for i, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth "
    "fifteenth sixteenth seventeenth eighteenth nineteenth twentieth".split(), start=1)}


def batch_number(text: str) -> int | None:
    """Integer cohort number from "4th Batch", "Batch 3", "Cohort No. 12", "second batch"; None for "Class of 2018"."""
    if re.search(r"\bclass\s+of\b", text, re.I):
        return None
    match = re.search(r"\b(\d{1,3})(?:st|nd|rd|th)?\b", text)
    if match:
        return int(match.group(1)) or None  # cohorts count from 1: "Batch 0" is no batch
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in _ORDINAL_WORDS:
            return _ORDINAL_WORDS[word]
    return None


BRACKETED_ACRONYM = re.compile(r"\s*\((?P<acronym>[A-Z][A-Z0-9&-]*[A-Z0-9])\)\s*$")  # "... Programme (MRYL-TP)"


def split_acronym(programme: str) -> tuple[str, str | None]:
    """A programme name and the acronym printed in brackets after it, if any."""
    match = BRACKETED_ACRONYM.search(programme)
    if match is None or not programme[:match.start()].strip():
        return programme.strip(), None
    return programme[:match.start()].strip(), match.group("acronym")


def programme_key(programme: str | None) -> str | None:
    """Folded programme name without a leading "the" or a bracketed acronym, to group batches of the same
    programme across articles ("the X Programme (XP)" and "X Programme" are one)."""
    if not programme:
        return None
    return fold(re.sub(r"^the\s+", "", split_acronym(programme)[0], flags=re.I)) or None


# ---------------------------------------------------------------- dates

_QUARTERS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "last": 4, "final": 4}
_PART_OF_YEAR = {"beginning": (1, 3), "start": (1, 3), "early": (1, 4), "middle": (5, 8), "mid": (5, 8),
                 "end": (10, 12), "late": (9, 12), "turn": (1, 1)}
_RANGE_SPLIT = re.compile(r"^(?:from|between)?\s*(?P<a>.+?)\s*(?:\s-\s|–|—|-|\bto\b|\buntil\b|\btill\b|\bthrough\b|\band\b)\s*(?P<b>.+)$", re.I)
_MONTH = r"(?P<month>[A-Za-z]{3,9}\.?)"
_DAYS_IN_MONTH = re.compile(r"^(?:from|between)?\s*(?P<d1>\d{1,2})(?:st|nd|rd|th)?\s*(?:-|–|—|to|until|and)\s*(?P<d2>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s*(?P<year>\d{4})?$", re.I)
_MONTH_DAYS = re.compile(r"^" + _MONTH + r"\s+(?P<d1>\d{1,2})(?:st|nd|rd|th)?\s*(?:-|–|—|to|until)\s*(?P<d2>\d{1,2})(?:st|nd|rd|th)?,?\s*(?P<year>\d{4})?$", re.I)
_YEAR_SLASH = re.compile(r"^(?P<a>\d{4})\s*/\s*(?P<b>\d{2}|\d{4})$")
_YEAR = re.compile(r"^(1[89]\d\d|20\d\d)$")
_CALENDAR_WORD = re.compile(r"\b(1[89]\d\d|20\d\d)|\d{1,2}/\d{1,2}/\d{4}|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\b"
                            r"|\bq[1-4]\b|\b\d{3}0s\b", re.I)


def _iso(year: int, month: int | None = None, day: int | None = None) -> str:
    if month is None:
        return f"{year:04d}"
    if day is None:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}"


def _first_last(year: int, month: int | None, day: int | None) -> tuple[dt.date, dt.date]:
    if month is None:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    if day is None:
        return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
    return dt.date(year, month, day), dt.date(year, month, day)


@lru_cache(maxsize=1)
def _parser() -> DateDataParser:
    return DateDataParser(languages=["en"], settings={"PREFER_DAY_OF_MONTH": "first", "DATE_ORDER": "DMY"})


@lru_cache(maxsize=4096)
def _endpoint(text: str, base_year: int | None) -> tuple[int, int | None, int | None] | None:
    """(year, month|None, day|None) for one calendar point, keeping only the parts the text states.

    dateparser fills missing parts from today (it reads "1996" as 1996-11-01), so its ``period`` and
    ``parts`` decide what we keep; a missing year comes from the article's year, never from today.
    """
    text = text.strip(" ,.")
    if _YEAR.match(text):
        return int(text), None, None
    numeric = re.match(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$", text)
    if numeric:
        year, month, day = map(int, numeric.groups())
        return (year, month, day) if _valid(year, month, day) else None
    data = _parser().get_date_data(text)
    if data is None or data.date_obj is None:
        return None
    parts = set(data.__dict__.get("parts") or ())
    date = data.date_obj
    has_year = "year" in parts or bool(re.search(r"\b\d{4}\b", text))
    year = date.year if has_year else base_year
    if year is None:
        return None
    if data.period == "year":
        return year, None, None
    if data.period == "month":
        return year, date.month, None
    return year, date.month, date.day


def _valid(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def _partial(a: tuple[int, int | None, int | None], b: tuple[int, int | None, int | None],
             precision: str) -> PartialDate | None:
    """The interval from ``a`` to ``b``; None when it runs backwards ("2019-1850" is no time the text gives)."""
    start_date, _ = _first_last(*a)
    _, end_date = _first_last(*b)
    if end_date < start_date:
        return None
    return PartialDate(_iso(*a), _iso(*b), start_date, end_date, precision)


def _precision(point: tuple[int, int | None, int | None]) -> str:
    return "year" if point[1] is None else "month" if point[2] is None else "day"


@lru_cache(maxsize=4096)
def normalize_date(text: str, base: dt.date | None = None) -> PartialDate | None:
    """Interval for a temporal expression, at the precision the text gives; None if it is not a calendar time.

    ``base`` (the article's published date) supplies the year of "30 September" or "from 4 to 9 March".
    """
    clean = " ".join(text.replace("\u2013", "–").split())
    if not _CALENDAR_WORD.search(clean):
        return None  # "six months", "15 to 24": durations and counts are not calendar times
    base_year = base.year if base else None
    lower = clean.lower()
    if (m := re.match(r"^the (\w+) quarter of (\d{4})$", lower)) or (m := re.match(r"^q([1-4]) (\d{4})$", lower)):
        quarter = _QUARTERS.get(m.group(1)) or int(m.group(1))
        year = int(m.group(2))
        return _partial((year, quarter * 3 - 2, None), (year, quarter * 3, None), "quarter")
    if m := re.match(r"^the (first|second|latter) half of (\d{4})$", lower):
        year = int(m.group(2))
        first = m.group(1) == "first"
        return _partial((year, 1 if first else 7, None), (year, 6 if first else 12, None), "half")
    if m := re.match(r"^(?:the )?(beginning|start|middle|end|turn|early|mid|late)(?: of|-| )\s*(\d{4})$", lower):
        year = int(m.group(2))
        return _partial((year, None, None), (year, None, None), "year")
    if m := re.match(r"^(?:the )?(?:beginning|start|middle|end|early|mid|late)(?: of|-| )\s*([a-z]{3,9}\.?),?( \d{4})?$", lower):
        point = _endpoint(m.group(1) + (m.group(2) or ""), base_year)
        if point and point[1]:
            return _partial((point[0], point[1], None), (point[0], point[1], None), "month")
    if m := re.match(r"^the (\d{3})0s$", lower):
        decade = int(m.group(1)) * 10
        return _partial((decade, None, None), (decade + 9, None, None), "decade")
    if m := _DAYS_IN_MONTH.match(clean) or _MONTH_DAYS.match(clean):
        month_point = _endpoint(f"{m.group('month')} {m.group('year') or ''}".strip(), base_year)
        if month_point is None or month_point[1] is None:
            return None
        year, month = month_point[0], month_point[1]
        d1, d2 = int(m.group("d1")), int(m.group("d2"))
        if not (_valid(year, month, d1) and _valid(year, month, d2)):
            return None
        return _partial((year, month, d1), (year, month, d2), "day")
    if m := _YEAR_SLASH.match(clean):
        a, b = int(m.group("a")), m.group("b")
        end = (a // 100 * 100 + int(b) + (100 if int(b) < a % 100 else 0)) if len(b) == 2 else int(b)
        return _partial((a, None, None), (end, None, None), "year")
    if not re.match(r"^\d{4}-\d{2}-\d{2}$", clean) and (m := _RANGE_SPLIT.match(clean)):
        b = _endpoint(m.group("b"), base_year)
        a = _endpoint(m.group("a"), b[0]) if b else None
        if a and b:
            if not re.search(r"\d{4}", m.group("a")):
                a = (b[0], a[1], a[2])
                if _first_last(*a)[0] > _first_last(*b)[0]:  # "from December to February 2020" starts the year before
                    a = (b[0] - 1, a[1], a[2])
            precision = _precision(a) if _precision(a) == _precision(b) else "mixed"
            return _partial(a, b, precision)
    single = _endpoint(clean, base_year)
    return _partial(single, single, _precision(single)) if single else None
