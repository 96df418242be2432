"""The single source of truth for the output tables: names, columns, Arrow types, meanings, examples and rules.

The writer casts to these schemas, validation checks against them (``validate`` here: columns, types, nulls,
unique keys; ``pipeline.validate``: the rules below, declared per table), and the data dictionary is generated
from them (``python -m pipeline dictionary``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pyarrow as pa

STR = pa.string()
LIST_STR = pa.list_(pa.string())
HTTP_URL = r"^https?://\S+$"  # what a stored URL must look like (parse ignores canonical links that do not)


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    description: str
    example: str
    nullable: bool = True


# ---------------------------------------------------------------- rules of meaning
# Each rule is data: ``pipeline.validate`` checks it, ``data_dictionary`` prints ``describe()``. Null values are
# never checked by a rule (whether a column may be null is the column's ``nullable``).

Condition = tuple[str, str]  # (column, value): the rule applies only to rows where that column holds that value


def _when(condition: Condition | None) -> str:
    return f" when `{condition[0]}` is `{condition[1]}`" if condition else ""


@dataclass(frozen=True)
class Accepted:
    """Every value (every element, for a list column) is one of ``values``."""

    kind: ClassVar[str] = "accepted values"
    column: str
    values: tuple[str, ...]
    when: Condition | None = None

    def describe(self) -> str:
        return f"`{self.column}` is one of {', '.join(f'`{v}`' for v in self.values)}{_when(self.when)}"


@dataclass(frozen=True)
class CountryCode:
    """Every value (every element, for a list column) is an ISO 3166-1 alpha-3 code known to pycountry."""

    kind: ClassVar[str] = "ISO 3166-1 alpha-3"
    column: str
    when: Condition | None = None

    def describe(self) -> str:
        return f"`{self.column}` holds ISO 3166-1 alpha-3 codes{_when(self.when)}"


@dataclass(frozen=True)
class Format:
    """Every value matches ``regex`` (RE2 syntax, as pyarrow.compute runs it); ``meaning`` says it in words."""

    kind: ClassVar[str] = "format"
    column: str
    regex: str
    meaning: str
    when: Condition | None = None

    def describe(self) -> str:
        return f"`{self.column}` is {self.meaning}{_when(self.when)}"


@dataclass(frozen=True)
class AtLeast:
    """Every value is at least ``minimum``."""

    kind: ClassVar[str] = "range"
    column: str
    minimum: int | float

    def describe(self) -> str:
        return f"`{self.column}` ≥ {self.minimum}"


@dataclass(frozen=True)
class Within:
    """Every value lies in [``minimum``, ``maximum``]."""

    kind: ClassVar[str] = "range"
    column: str
    minimum: int | float
    maximum: int | float

    def describe(self) -> str:
        return f"{self.minimum} ≤ `{self.column}` ≤ {self.maximum}"


@dataclass(frozen=True)
class Ordered:
    """Within a row, ``lower`` ≤ ``upper`` (both non-null)."""

    kind: ClassVar[str] = "order"
    lower: str
    upper: str

    def describe(self) -> str:
        return f"`{self.lower}` ≤ `{self.upper}`"


@dataclass(frozen=True)
class Reference:
    """The values of ``columns`` (elements, for one list column) are found in ``columns_there`` of ``table``.

    Several columns refer to a row together, e.g. (article_id, profile_id): the profile of the same article."""

    kind: ClassVar[str] = "reference"
    columns: tuple[str, ...]
    table: str
    columns_there: tuple[str, ...]

    def describe(self) -> str:
        here, there = (", ".join(f"`{c}`" for c in cols) for cols in (self.columns, self.columns_there))
        if len(self.columns) == 1:
            return f"{here} refers to `{self.table}.{self.columns_there[0]}`"
        return f"({here}) refers to a row of `{self.table}` ({there})"


@dataclass(frozen=True)
class InText:
    """Offsets point into the text of the row's article: 0 ≤ start < end ≤ len(articles.text).

    Without ``end`` (a first mention), the single offset points at a character: 0 ≤ start < len(articles.text)."""

    kind: ClassVar[str] = "offsets in text"
    start: str
    end: str | None = None

    def describe(self) -> str:
        if self.end is None:
            return f"0 ≤ `{self.start}` < length of the article's `articles.text`"
        return f"0 ≤ `{self.start}` < `{self.end}` ≤ length of the article's `articles.text`"


Rule = Accepted | CountryCode | Format | AtLeast | Within | Ordered | Reference | InText


@dataclass(frozen=True)
class Table:
    name: str
    grain: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    rules: tuple[Rule, ...] = ()

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type, nullable=c.nullable) for c in self.columns])

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name, type_, description, example, nullable=True) -> Column:
    return Column(name, type_, description, example, nullable)


_EVIDENCE = (
    _c("char_start", pa.int32(), "Start offset of the evidence span in articles.text.", "1843", False),
    _c("char_end", pa.int32(), "End offset (exclusive) of the evidence span in articles.text.", "1901", False),
    _c("source", STR, "Rule pattern id or model that produced the fact.", "rule:title/title-head+verbal", False),
)
# Every fact row's confidence: what it means and how it was calibrated (pipeline/extract/scorer.py, make train-scorer).
_CONFIDENCE = _c(
    "confidence", pa.float64(),
    "How likely the fact is right, 0–1: the probability a logistic regression (`pipeline/models/scorer.json`, "
    "`make train-scorer`) gives from the rule that proposed the fact, its evidence span, the distance and punctuation "
    "between it and the person's nearest mention, and the shape of its values. Fitted on the fact rows of every gold "
    "set, each labelled right when `make eval` matches it; on a set left out of training it ranks a right row above a "
    "wrong one 66% of the time on the fictional sets and 85% on the real pages (docs/evaluation.md), so read it as a "
    "ranking more than a promise. Rows below the run's `--min-confidence` (default chosen on the dev set) are held back and counted in "
    "the run summary; `--min-confidence 0` keeps them all. Null only in rows written before the scorer existed "
    "and not extracted again since (a page gone from the folder keeps its rows).", "0.93")
_CONFIDENCE_RANGE = Within("confidence", 0, 1)

_INTERVAL = (
    _c("start", STR, "ISO partial date of the start, at the precision the text gives.", "2019-06"),
    _c("end", STR, "ISO partial date of the end, at the precision the text gives. `end` is a reserved word in DuckDB "
                  "SQL: quote it, `\"end\"` (docs/queries.sql).", "2019"),
    _c("start_date", pa.date32(), "First day of `start`.", "2019-06-01"),
    _c("end_date", pa.date32(), "Last day of `end`.", "2019-12-31"),
)

MENTION_LABELS = ("PERSON", "TITLE", "ORG", "COUNTRY", "PROGRAMME", "BATCH", "DATE")
ROLE_STATUSES = ("current", "former", "unknown")
PARTIAL_DATE_PRECISIONS = ("year", "month", "day")  # what an ISO partial date (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`) can say
DATE_PRECISIONS = ("day", "month", "quarter", "half", "year", "decade", "mixed")

_ISO_PARTIAL = r"[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?"
_ISO_PARTIAL_MEANING = "an ISO partial date (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`)"


def _id(column: str, prefix: str) -> Format:
    """Ids come from ``normalize.stable_id``: a prefix naming the table, then hex digits of a hash."""
    return Format(column, rf"^{prefix}_[0-9a-f]+$", f"`{prefix}_` followed by hex digits (a stable id)")


def _interval_rules() -> tuple[Rule, ...]:
    return (Format("start", f"^{_ISO_PARTIAL}$", _ISO_PARTIAL_MEANING),
            Format("end", f"^{_ISO_PARTIAL}$", _ISO_PARTIAL_MEANING),
            Ordered("start_date", "end_date"))


def _evidence_rules() -> tuple[Rule, ...]:
    return (InText("char_start", "char_end"),
            Format("source", r"^(rule|model):\S+$", "`rule:…` or `model:…` followed by the pattern or model name"))


_IN_ARTICLE = Reference(("article_id",), "articles", ("article_id",))
_NAMED_IN_ARTICLE = Reference(("article_id", "person_id"), "article_people", ("article_id", "person_id"))
_IN_PROFILE = Reference(("article_id", "profile_id"), "profiles", ("article_id", "profile_id"))

TABLES: dict[str, Table] = {t.name: t for t in (
    Table("articles", "article (a page, or a story carried in a page's related block)", ("article_id",), (
        _c("article_id", STR, "Stable id: hash of the canonical URL (or of the file path when the page has none).", "art_94a5a9457e127a57", False),
        _c("url", STR, "Canonical URL of the article.", "https://jaif.asean.org/beneficiaries_voice/…/"),
        _c("source_path", STR, "Page file the article was read from, relative to the raw folder.", "jaif-asean-deepens….html", False),
        _c("parent_article_id", STR, "For a story found in a page's related block: the page's article_id.", "art_94a5a9457e127a57"),
        _c("title", STR, "Headline.", "Young Planners Bring Flood Maps Home"),
        _c("published", pa.date32(), "Publication date.", "2019-09-29"),
        _c("byline", STR, "Author or team.", "Regional Desk"),
        _c("sectors", LIST_STR, "Sector terms of the page's taxonomy.", "['Disaster Management']"),
        _c("funding_framework", STR, "Funding framework term of the page's taxonomy.", "Regional Cooperation Fund"),
        _c("text", STR, "Clean text: headline, date line, then body blocks separated by blank lines; all offsets point here.", "ASEAN Deepens…", False),
        _c("photo_credits", LIST_STR, "Photo credit lines, kept out of the text.", "['© Regional Desk']"),
        _c("content_sha256", STR, "SHA-256 of `text`; changes when the story is edited.", "9f2c…", False),
        _c("source_sha256", STR, "SHA-256 of the page file; an unchanged file is not extracted again.", "41d0…", False),
        _c("extracted_at", pa.timestamp("us", tz="UTC"), "When this article's rows were extracted.", "2026-11-28 18:40:00+00:00", False),
        _c("pipeline_version", STR, "Version of the pipeline that extracted it.", "0.1.0", False),
        _c("gone_at", pa.timestamp("us", tz="UTC"), "Set when the page has disappeared from the site (404/410); rows are kept.", "null"),
    ), (
        _id("article_id", "art"),
        Reference(("parent_article_id",), "articles", ("article_id",)),
        Format("url", HTTP_URL, "an http(s) URL"),
        Format("content_sha256", "^[0-9a-f]{64}$", "64 hex digits (SHA-256)"),
        Format("source_sha256", "^[0-9a-f]{64}$", "64 hex digits (SHA-256)"),
    )),
    Table("profiles", "person-centred section of an article", ("profile_id",), (
        _c("profile_id", STR, "Stable id of the section.", "prf_3c…", False),
        _c("article_id", STR, "Article the section belongs to.", "art_94a5…", False),
        _c("person_id", STR, "The person the section is about.", "per_1b…"),
        _c("seq", pa.int32(), "Order of the section within the article, from 0.", "0", False),
        _c("heading", STR, "The heading line that opens the section.", "Marek Novak, Thailand, Exchange Programme for Young Planners (4th Batch, 2016-2017)"),
        _c("char_start", pa.int32(), "Start of the section in articles.text.", "3164", False),
        _c("char_end", pa.int32(), "End (exclusive) of the section in articles.text.", "4797", False),
    ), (
        _id("profile_id", "prf"), _IN_ARTICLE, _NAMED_IN_ARTICLE, AtLeast("seq", 0), InText("char_start", "char_end"),
    )),
    Table("people", "distinct person name in the corpus (order-free, folded; `person_links` says which are one person)", ("person_id",), (
        _c("person_id", STR, "Stable id: hash of the order-free, case- and accent-folded name, so \"TANAKA Hiroshi\" and \"Hiroshi Tanaka\" are one row. Name variants and namesakes across articles are resolved in `person_links.canonical_id`.", "per_1b…", False),
        _c("name", STR, "Fullest form of the name as printed.", "Marek Novak", False),
        _c("aliases", LIST_STR, "Other forms the articles use.", "['Novak']"),
        _c("honorifics", LIST_STR, "Honorifics printed before the name.", "['Mr.']"),
        _c("countries", LIST_STR, "ISO 3166-1 alpha-3 codes of the countries the person comes from or represents.", "['VNM']"),
        _c("article_ids", LIST_STR, "Articles that name the person.", "['art_94a5…']"),
    ), (
        _id("person_id", "per"), CountryCode("countries"), Reference(("article_ids",), "articles", ("article_id",)),
    )),
    Table("article_people", "(person, article): the name as that article prints it", ("person_id", "article_id"), (
        _c("person_id", STR, "The person.", "per_1b…", False),
        _c("article_id", STR, "Article naming the person.", "art_94a5…", False),
        _c("name", STR, "Fullest form of the name in this article.", "Marek Novak", False),
        _c("aliases", LIST_STR, "Short forms this article uses.", "['Novak']"),
        _c("honorifics", LIST_STR, "Honorifics this article prints before the name.", "['Mr.']"),
        _c("char_start", pa.int32(), "First mention of the person in articles.text.", "3164", False),
    ), (
        Reference(("person_id",), "people", ("person_id",)), _IN_ARTICLE, InText("char_start"),
    )),
    Table("mentions", "entity mention in an article", ("mention_id",), (
        _c("mention_id", STR, "Stable id of the mention.", "men_77…", False),
        _c("article_id", STR, "Article of the mention.", "art_94a5…", False),
        _c("profile_id", STR, "Profile section containing the mention, if any.", "prf_3c…"),
        _c("person_id", STR, "Person the mention refers to or belongs to, if linked.", "per_1b…"),
        _c("label", STR, "Kind of entity (accepted values below).", "TITLE", False),
        _c("text", STR, "The mention as printed (TITLE: expanded abbreviations).", "Chief Engineer", False),
        _c("char_start", pa.int32(), "Start offset in articles.text.", "4410", False),
        _c("char_end", pa.int32(), "End offset (exclusive) in articles.text.", "4416", False),
        _c("normalized", STR, "Normalized value: full name, ISO3, batch number, ISO date or interval.", "VNM"),
        _c("source", STR, "Rule pattern id or model that found it.", "model:ner", False),
    ), (
        _id("mention_id", "men"), Accepted("label", MENTION_LABELS), _IN_ARTICLE, _IN_PROFILE, _NAMED_IN_ARTICLE,
        CountryCode("normalized", when=("label", "COUNTRY")),
        Format("normalized", "^[1-9][0-9]*$", "a batch number ≥ 1", when=("label", "BATCH")),
        Format("normalized", f"^{_ISO_PARTIAL}(/{_ISO_PARTIAL})?$", "an ISO partial date or `start/end` interval",
               when=("label", "DATE")),
        *_evidence_rules(),
    )),
    Table("roles", "(person, title, organisation) in an article", ("role_id",), (
        _c("role_id", STR, "Stable id of the role.", "rol_5e…", False),
        _c("person_id", STR, "Holder of the role.", "per_1b…", False),
        _c("article_id", STR, "Article stating it.", "art_94a5…", False),
        _c("profile_id", STR, "Profile section stating it, if any.", "prf_3c…"),
        _c("title", STR, "Job title alone (null for an affiliation without a title).", "Chief Engineer"),
        _c("org", STR, "Organisation as printed.", "Delta Water Board of Thailand"),
        _c("status", STR, "Whether the person holds the role now, as the text states (accepted values below).", "current", False),
        *_INTERVAL,
        *_EVIDENCE,
        _CONFIDENCE,
    ), (
        _id("role_id", "rol"), Accepted("status", ROLE_STATUSES), _IN_ARTICLE, _IN_PROFILE, _NAMED_IN_ARTICLE,
        *_interval_rules(), *_evidence_rules(), _CONFIDENCE_RANGE,
    )),
    Table("countries", "(person, country) in an article", ("person_id", "article_id", "country_iso3"), (
        _c("person_id", STR, "The person.", "per_1b…", False),
        _c("article_id", STR, "Article stating it.", "art_94a5…", False),
        _c("country_iso3", STR, "ISO 3166-1 alpha-3 code.", "VNM", False),
        _c("country_name", STR, "Short English name.", "Viet Nam", False),
        *_EVIDENCE,
        _CONFIDENCE,
    ), (
        CountryCode("country_iso3"), _IN_ARTICLE, _NAMED_IN_ARTICLE, *_evidence_rules(), _CONFIDENCE_RANGE,
    )),
    Table("batches", "(person, programme, batch) in an article; person_id null for a batch no person is tied to", ("batch_row_id",), (
        _c("batch_row_id", STR, "Stable id of the row.", "bat_0d…", False),
        _c("person_id", STR, "Participant, or null.", "per_1b…"),
        _c("article_id", STR, "Article stating it.", "art_94a5…", False),
        _c("programme", STR, "Programme as printed.", "Exchange Programme for Young Planners"),
        _c("programme_key", STR, "Folded programme name for grouping.", "exchange programme for young planners"),
        _c("programme_id", STR, "The programme (`programmes.programme_id`, from `programme_key`); null when no programme is named.", "prg_4f…"),
        _c("batch", pa.int32(), "Batch/cohort number; null when none is given.", "13"),
        _c("start_year", pa.int16(), "First year of the batch.", "2014"),
        _c("end_year", pa.int16(), "Last year of the batch.", "2015"),
        *_EVIDENCE,
        _CONFIDENCE,
    ), (
        _id("batch_row_id", "bat"), Reference(("programme_id",), "programmes", ("programme_id",)), AtLeast("batch", 1),
        Ordered("start_year", "end_year"), _IN_ARTICLE,
        _NAMED_IN_ARTICLE, *_evidence_rules(), _CONFIDENCE_RANGE,
    )),
    Table("dates", "temporal expression in an article", ("date_id",), (
        _c("date_id", STR, "Stable id of the expression.", "dat_a1…", False),
        _c("article_id", STR, "Article of the expression.", "art_94a5…", False),
        _c("profile_id", STR, "Profile section containing it, if any.", "prf_3c…"),
        _c("text", STR, "The expression as printed.", "the third quarter of 2021", False),
        _c("char_start", pa.int32(), "Start offset in articles.text.", "9012", False),
        _c("char_end", pa.int32(), "End offset (exclusive) in articles.text.", "9036", False),
        *_INTERVAL,
        _c("precision", STR, "Precision the text gives; `mixed` when the two ends differ (accepted values below).", "quarter", False),
        _c("source", STR, "Rule pattern id that found it.", "rule:date/date-quarter-of-year", False),
        _CONFIDENCE,
    ), (
        _id("date_id", "dat"), Accepted("precision", DATE_PRECISIONS), _IN_ARTICLE, _IN_PROFILE, *_interval_rules(),
        *_evidence_rules(), _CONFIDENCE_RANGE,
    )),
    Table("careers", "(person, position) merged across articles: the same folded title at matching organisations",
          ("career_id",), (
        _c("career_id", STR, "Stable id: hash of person, `title_key` and `org_key`.", "car_7a…", False),
        _c("person_id", STR, "Holder of the position.", "per_1b…", False),
        _c("title_key", STR, "Folded job title (null for an affiliation without a title).", "chief engineer"),
        _c("org_key", STR, "Folded organisation: the form most articles print (null when none names it).", "delta water board of thailand"),
        _c("titles", LIST_STR, "The title as the articles print it.", "['Chief Engineer']"),
        _c("orgs", LIST_STR, "The organisation as the articles print it.", "['Delta Water Board', 'Delta Water Board of Thailand']"),
        _c("start", STR, "Earliest start the articles give, as an ISO partial date.", "2019-06"),
        _c("start_precision", STR, "What `start` says: `year`, `month` or `day` (null without a start).", "month"),
        _c("end", STR, "Latest end the articles give, as an ISO partial date. A reserved word in DuckDB SQL: quote "
                       "it, `\"end\"`.", "2021"),
        _c("end_precision", STR, "What `end` says: `year`, `month` or `day` (null without an end).", "year"),
        _c("start_date", pa.date32(), "First day of `start`.", "2019-06-01"),
        _c("end_date", pa.date32(), "Last day of `end`.", "2021-12-31"),
        _c("first_seen", pa.date32(), "Publication date of the earliest article stating the position.", "2019-09-29"),
        _c("last_seen", pa.date32(), "Publication date of the latest article stating the position.", "2024-03-12"),
        _c("status", STR, "Whether the person holds it, as the latest article that says so states (accepted values "
                          "below; `unknown` when none does).", "former", False),
        _c("as_of", pa.date32(), "Publication date of the article `status` comes from.", "2024-03-12"),
        _c("article_ids", LIST_STR, "Articles stating the position.", "['art_94a5…', 'art_0c1d…']", False),
        _c("role_ids", LIST_STR, "The `roles` rows merged into this one.", "['rol_5e…', 'rol_9b…']", False),
    ), (
        _id("career_id", "car"), Reference(("person_id",), "people", ("person_id",)),
        Accepted("start_precision", PARTIAL_DATE_PRECISIONS), Accepted("end_precision", PARTIAL_DATE_PRECISIONS),
        Accepted("status", ROLE_STATUSES), *_interval_rules(), Ordered("first_seen", "last_seen"),
        Reference(("article_ids",), "articles", ("article_id",)), Reference(("role_ids",), "roles", ("role_id",)),
    )),
    Table("person_links", "(person, article): the person across articles that this article's person is, as "
          "`pipeline/resolve.py` decides from name variants and the facts the articles give",
          ("person_id", "article_id"), (
        _c("person_id", STR, "The person as this article names them (`article_people.person_id`).", "per_1b…", False),
        _c("article_id", STR, "The article.", "art_94a5…", False),
        _c("canonical_id", STR, "The person across articles: rows with one `canonical_id` are one person. Usually the "
                                "`person_id` most of them carry (so it is a `people` row); one name that is two people "
                                "(the same name with conflicting countries or batches) gets a second id hashed from it.",
           "per_1b…", False),
        _c("name", STR, "The name as this article prints it.", "Ma. Cristina Reyes", False),
        _c("score", pa.int32(), "Score of the row's strongest link to another row of its person (the same name "
                                "scores 4, each agreeing fact 2; links need 4); null when the person is named once.", "6"),
        _c("matched_on", LIST_STR, "What agreed on that link: the name level (`same`, `variant`, `initials`), then "
                                   "`country`, `organisation`, `programme`; empty when alone.", "['variant', 'country']"),
    ), (
        _id("canonical_id", "per"), _IN_ARTICLE, _NAMED_IN_ARTICLE,
        Accepted("matched_on", ("same", "variant", "initials", "country", "organisation", "programme")),
    )),
    Table("programmes", "programme: the batches rows that share a `programme_key`", ("programme_id",), (
        _c("programme_id", STR, "Stable id: hash of `programme_key`.", "prg_4f…", False),
        _c("programme_key", STR, "Folded programme name (`batches.programme_key`).", "exchange programme for young planners", False),
        _c("name", STR, "Canonical name: the form printed most often, the longest on a tie, without a bracketed acronym.",
           "Exchange Programme for Young Planners", False),
        _c("aliases", LIST_STR, "The other forms printed.", "['Exchange Programme for Young Planners (EPYP)']"),
        _c("acronyms", LIST_STR, "Acronyms printed for it: in brackets after the name, or as its only form.", "['EPYP']"),
        _c("batches", pa.list_(pa.int32()), "Distinct batch numbers seen, ascending.", "[3, 4, 5]"),
        _c("people", pa.int32(), "Distinct people tied to one of its batches.", "12", False),
        _c("article_ids", LIST_STR, "Articles naming it with a batch or a participant.", "['art_94a5…']", False),
    ), (
        _id("programme_id", "prg"), AtLeast("batches", 1), AtLeast("people", 0),
        Reference(("article_ids",), "articles", ("article_id",)),
    )),
)}


class SchemaError(ValueError):
    """A table does not match its declared schema."""


def validate(name: str, table: pa.Table) -> None:
    """Columns, types, non-null columns and key uniqueness, as declared above."""
    spec = TABLES[name]
    if table.schema.names != spec.column_names:
        raise SchemaError(f"{name}: columns {table.schema.names} != {spec.column_names}")
    for column in spec.columns:
        field_type = table.schema.field(column.name).type
        if field_type != column.type:
            raise SchemaError(f"{name}.{column.name}: type {field_type} != {column.type}")
        if not column.nullable and table.column(column.name).null_count:
            raise SchemaError(f"{name}.{column.name}: {table.column(column.name).null_count} nulls in a non-null column")
    if table.num_rows:
        keys = table.select(list(spec.key)).to_pylist()
        if len({tuple(k.values()) for k in keys}) != len(keys):
            raise SchemaError(f"{name}: duplicate keys {spec.key}")


def data_dictionary() -> str:
    """Markdown data dictionary of every table and column."""
    lines = ["# Data dictionary", "",
             "Generated from `pipeline/schema.py` by `make dictionary`; do not edit by hand.",
             "Offsets are character offsets into `articles.text`. Ids are stable across runs for the same input.", "",
             "Each table is a folder of Parquet files, `OUT/<table>.parquet/`, that pandas, pyarrow, polars and DuckDB",
             "read with one call (`pd.read_parquet(\"extracted/roles.parquet\")`,",
             "`read_parquet('extracted/roles.parquet/*.parquet')`); see docs/scaling.md.", "",
             "Before every write the tables are validated: columns, types, non-null columns and unique keys, then the",
             "rules listed under each table (accepted values, ISO 3166-1 alpha-3 codes, references between tables,",
             "ranges and formats; null values are not checked by a rule). A violation refuses the write and leaves",
             "the previous tables as they were. `story-extractor validate DIR` checks a folder of tables.", ""]
    for table in TABLES.values():
        lines += [f"## `{table.name}`", "", f"One row per {table.grain}. Key: `{', '.join(table.key)}`.", "",
                  "| column | type | null | meaning | example |", "|---|---|---|---|---|"]
        for c in table.columns:
            lines.append(f"| `{c.name}` | `{c.type}` | {'yes' if c.nullable else 'no'} | {c.description} | {c.example} |")
        if table.rules:
            lines += ["", "Rules:", ""] + [f"- {rule.kind}: {rule.describe()}" for rule in table.rules]
        lines.append("")
    return "\n".join(lines)
