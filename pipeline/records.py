"""Plain typed records that flow one way through the stages.

raw HTML → Article (parse) → Profile (segment) → Mention/Role/... facts (extract + normalize) → tables (write).
Offsets are always character offsets into ``Article.text``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Block:
    """A paragraph-level piece of the article text; ``kind`` keeps captions and footnotes apart from prose."""

    kind: str  # title | dateline | heading | paragraph | row (of a table) | caption | footnote
    start: int
    end: int


@dataclass
class Article:
    article_id: str
    url: str | None
    source_path: str
    parent_article_id: str | None
    title: str | None
    published: dt.date | None
    byline: str | None
    sectors: list[str]
    funding_framework: str | None
    text: str
    blocks: list[Block]
    photo_credits: list[str] = field(default_factory=list)
    content_sha256: str = ""
    site_name: str | None = None  # from the page's metadata (trafilatura); not yet a column
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Profile:
    """A person-centred section of an article; ``name_start/name_end`` locate the person's name in its heading."""

    profile_id: str
    article_id: str
    seq: int
    heading: str | None
    char_start: int
    char_end: int
    heading_end: int
    name_start: int
    name_end: int


@dataclass(frozen=True)
class PartialDate:
    """An interval at the precision the text gives: ``start``/``end`` are ISO partial dates ("2019", "2019-06")."""

    start: str
    end: str
    start_date: dt.date
    end_date: dt.date
    precision: str  # day | month | quarter | half | year | decade


@dataclass
class Mention:
    article_id: str
    label: str  # PERSON | TITLE | ORG | COUNTRY | PROGRAMME | BATCH | DATE
    text: str
    char_start: int
    char_end: int
    source: str
    normalized: str | None = None
    person_key: str | None = None
    profile_id: str | None = None


@dataclass
class Person:
    """A distinct person within one article (coreference already applied)."""

    key: str
    name: str
    aliases: set[str] = field(default_factory=set)
    honorifics: list[str] = field(default_factory=list)
    first_start: int = 0


@dataclass
class Role:
    person_key: str
    article_id: str
    title: str | None
    org: str | None
    status: str  # current | former | unknown
    start: PartialDate | None
    end: PartialDate | None
    char_start: int
    char_end: int
    source: str
    profile_id: str | None = None
    trigger: str = ""


@dataclass
class CountryFact:
    person_key: str
    article_id: str
    iso3: str
    name: str
    char_start: int
    char_end: int
    source: str


@dataclass
class BatchFact:
    person_key: str | None
    article_id: str
    programme: str | None
    batch: int | None
    start_year: int | None
    end_year: int | None
    char_start: int
    char_end: int
    source: str


@dataclass
class DateFact:
    article_id: str
    profile_id: str | None
    text: str
    char_start: int
    char_end: int
    value: PartialDate
    source: str


@dataclass
class Extraction:
    """Everything extracted from one article."""

    article: Article
    profiles: list[Profile]
    people: dict[str, Person]
    mentions: list[Mention]
    roles: list[Role]
    countries: list[CountryFact]
    batches: list[BatchFact]
    dates: list[DateFact]
    profile_people: dict[str, str] = field(default_factory=dict)  # profile_id → person key
