"""Profile headings and cards: the structured lines that give several facts of one person at once.

"Name, Title, Organisation, Country", "Name (Country)" and "Name, Country, Programme (Nth Batch, Y-Y)"
headings, and a card's "Position: ...", "Affiliation and country of origin: ...", "<Agency> course: ...",
"Period: ...", "Period as <title>: ..." lines.
They are read once the profile's person is known, before the prose is linked.
"""
from __future__ import annotations

import re

from spacy.tokens import Span

from ..normalize import batch_number, country_iso3, country_name, normalize_date
from ..records import BatchFact, CountryFact, Mention, Profile, Role
from ..segment import BATCH_PAREN, split_fields
from .context import Context, full_title
from .countries import country_fact
from .dates import partial_date
from .roles import RoleDraft


def heading_facts(ctx: Context) -> tuple[list[RoleDraft], list[CountryFact], list[BatchFact], list[Mention]]:
    """Facts from profile headings: "Name, Title, Organisation, Country" and "Name, Country, Programme (Nth Batch, Y-Y)"."""
    roles, countries, batches, programmes = [], [], [], []
    for profile in ctx.profiles:
        holder = ctx.profile_person.get(profile.profile_id)
        if holder is None or profile.heading is None:
            continue
        heading = profile.heading
        base = profile.char_start
        fields = split_fields(heading)
        if (m := re.match(r"^(?P<name>[^()]+?)\s*\((?P<country>[^)]+)\)", heading)) and country_iso3(m.group("country")):
            iso = country_iso3(m.group("country"))
            countries.append(CountryFact(holder, ctx.article.article_id, iso, country_name(iso), base + m.start("country"),
                                         base + m.end("country"), "rule:country/profile-heading"))
            continue
        title_field = None
        org_parts: list[tuple[str, int, int]] = []
        for value, start, end in fields[1:]:
            if iso := country_iso3(value):
                countries.append(CountryFact(holder, ctx.article.article_id, iso, country_name(iso), base + start, base + end,
                                             "rule:country/profile-heading"))
            elif BATCH_PAREN.search(value):
                batches.append(_heading_batch(ctx, holder, value, base + start))
                programmes.append(Mention(ctx.article.article_id, "PROGRAMME", batches[-1].programme or value, base + start,
                                          base + start + len(batches[-1].programme or value), "rule:programme/profile-heading"))
            elif title_field is None and not org_parts and ctx.title_starting_at(base + start):
                title_field = (value, start, end)
            else:
                org_parts.append((value, start, end))
        if not any(c.person_key == holder for c in countries):
            for _, start, _end in org_parts:
                span = ctx.countries_at(_token_at(ctx, base + start))
                if span is not None and span.label_ == "COUNTRY" and span.start_char == base + start:
                    countries.append(country_fact(ctx, holder, span, "rule:country/profile-heading-organisation"))
                    break
        if title_field:
            value, start, end = title_field
            title = ctx.title_starting_at(base + start)
            rest = value[len(title.text):].strip()
            rest = re.sub(r"^(of|at|for|to)\s+(the\s+)?", "", rest, flags=re.I)
            org_text = ", ".join([p for p in [rest] if p] + [p[0] for p in org_parts]) or None
            span_end = base + (org_parts[-1][2] if org_parts else end)
            roles.append(RoleDraft(Role(holder, ctx.article.article_id, full_title(title), org_text, "current", None, None,
                                        base + start, span_end, "rule:role/profile-heading"), 1))
        card_roles, card_countries, card_batches = _card_fields(ctx, profile, holder)
        roles += card_roles
        countries += card_countries
        batches += card_batches
    return roles, countries, batches, programmes


TENURE_LABEL = re.compile(r"^(?:period|term|tenure|time|years?) (?:as|of service as) (?P<title>\S.*)$")
CARD_FIELD = re.compile(r"^(?P<label>[A-Z][A-Za-z ,/&'’-]{1,50}?)\s*[:：]\s*(?P<value>\S.*)$")
# A card field naming the programme its person took part in: "Course: ...", "Scholarship programme: ...", "<Agency>
# course: ..." (the label's last word says so). A field of what was studied ("Course of study", "Degree course")
# names a subject, not a programme.
PROGRAMME_LABEL = re.compile(r"\b(?:programme|program|course|scholarship|fellowship|training|scheme)$")
STUDY_LABEL = re.compile(r"\b(?:study|studies|degree|subject|major|field)\b")
CARD_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def _card_fields(ctx: Context, profile: Profile, holder: str) -> tuple[list[RoleDraft], list[CountryFact], list[BatchFact]]:
    """"Affiliation and country of origin: X, Country" / "Position: ..." / "Training course: X Programme" / "Period:
    2021/4/1 – 2023/3/31" lines of a card."""
    roles, countries, batches, programmes = [], [], [], []
    tenure_years: list[int] = []
    aid = ctx.article.article_id
    for block in ctx.blocks_starting_within(profile.heading_end, profile.char_end):
        if block.start < profile.heading_end or block.start >= profile.char_end:
            continue
        match = CARD_FIELD.match(ctx.article.text[block.start:block.end])
        if not match:
            break
        label, value = match.group("label").lower(), match.group("value").strip()
        start = block.start + match.start("value")
        end = start + len(value)
        if re.search(r"affiliation|organi[sz]ation|institution|employer|workplace", label):
            roles.append(RoleDraft(Role(holder, aid, None, value, "current", None, None, start, end, "rule:role/card-affiliation"), 1))
        if re.search(r"position|title|designation|job", label) and (title := _title_within(ctx, start, end)):
            roles.append(RoleDraft(Role(holder, aid, full_title(title), None, "current", None, None, start, end, "rule:role/card-position"), 1))
        if re.search(r"country|nationality|affiliation", label):
            spans = [s for s in ctx.countries if start <= s.start_char and s.end_char <= end]
            if spans and (span := spans[-1]):
                countries.append(country_fact(ctx, holder, span, "rule:country/card"))
        if PROGRAMME_LABEL.search(label) and not STUDY_LABEL.search(label):
            programmes.append(BatchFact(holder, aid, value, None, None, None, start, end, "rule:programme/card"))
        if tenure := TENURE_LABEL.match(label):  # "Period as Visiting Fellow: 2021/4/1 – 2023/3/31"
            title = match.group("label")[tenure.start("title"):]
            article = re.match(r"(?:a|an|the)\s+", title, flags=re.IGNORECASE)  # "Period as a Visiting Fellow"
            skip = article.end() if article else 0
            title_start = block.start + match.start("label") + tenure.start("title") + skip
            roles.append(_tenure_role(ctx, holder, title[skip:], value, title_start, end))
            tenure_years += [int(y) for y in CARD_YEAR.findall(value)]
        elif re.search(r"period|duration|dates?|batch|cohort|year", label):
            years = [int(y) for y in CARD_YEAR.findall(value)]
            number = batch_number(value) if re.search(r"batch|cohort", label) else None
            if years or number is not None:
                batches.append(BatchFact(holder, aid, None, number, min(years) if years else None, max(years) if years else None,
                                         start, end, "rule:batch/card"))
    for programme in programmes:  # "Period as <Agency> scholar: 2022/10/4 – 2025/9/30": the years in the programme
        if tenure_years:
            programme.start_year, programme.end_year = min(tenure_years), max(tenure_years)
    return roles, countries, batches + programmes


def _tenure_role(ctx: Context, holder: str, title: str, value: str, start: int, end: int) -> RoleDraft:
    """The post a card's "Period as <title>: <dates>" line names (``start``..``end``: from the title to the end of
    the dates), with the dates as its start and end; former once its end is before the article's date."""
    dates = normalize_date(value, ctx.article.published)
    begin = partial_date(dates.start) if dates else None
    finish = partial_date(dates.end) if dates and dates.end != dates.start else None
    published = ctx.article.published
    status = "former" if finish and published and finish.end_date < published else "current"
    stated = 2 if finish and published else 1  # the dates say whether the post is over
    return RoleDraft(Role(holder, ctx.article.article_id, title.strip(), None, status, begin, finish, start, end,
                          "rule:role/card-tenure"), stated)


def _title_within(ctx: Context, start: int, end: int) -> Span | None:
    """The first title lying inside characters ``start``..``end``."""
    return next((t for t in ctx.titles if start <= t.start_char and t.end_char <= end), None)


def _token_at(ctx: Context, char: int) -> int:
    """The token at character ``char`` (-1 if none)."""
    span = ctx.doc.char_span(char, char + 1, alignment_mode="expand")
    return span.start if span is not None else -1


def _heading_batch(ctx: Context, holder: str, value: str, start: int) -> BatchFact:
    """The batch of a heading field "Programme (Nth Batch, Y-Y)" at character ``start``."""
    paren = BATCH_PAREN.search(value)
    programme = value[: paren.start()].strip() or None
    years = re.findall(r"\b(1[89]\d\d|20\d\d)\b", paren.group(0))
    return BatchFact(holder, ctx.article.article_id, programme, batch_number(paren.group(0)),
                     int(years[0]) if years else None, int(years[-1]) if years else None,
                     start, start + len(value), "rule:batch/profile-heading")
