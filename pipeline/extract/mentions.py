"""Mentions: every entity the article names (people, titles, organisations, countries, batches,
programmes, dates), one row each, linked to its person where a fact ties it to one.
"""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable

from spacy.tokens import Span

from ..normalize import batch_number, country_iso3, demonym_iso3
from ..records import CountryFact, DateFact, Mention, Role
from .context import MODEL, Chain, Context, ents_of, full_title, printed_end, profile_id_at, span_source


def _overlap_test(spans: list[tuple[int, int]]) -> Callable[[int, int], bool]:
    """A function telling whether a character range overlaps any of ``spans``: sorted starts and the running
    maximum of their ends answer it by binary search, instead of a scan of every span per entity."""
    spans = sorted(spans)
    starts = [start for start, _ in spans]
    reach, furthest = [], -1
    for _, end in spans:
        furthest = max(furthest, end)
        reach.append(furthest)

    def overlaps(start: int, end: int) -> bool:
        before = bisect_left(starts, end)  # spans starting before ``end``
        return before > 0 and reach[before - 1] > start

    return overlaps


def mention_rows(ctx: Context, roles: list[Role], country_facts: list[CountryFact], batch_spans: list[Span],
                 programme_mentions: list[Mention], programme_names: list[Chain], date_facts: list[DateFact]) -> list[Mention]:
    """Every entity mention, linked to its person where a fact ties it to one."""
    aid = ctx.article.article_id
    rows = [Mention(aid, "PERSON", m.text, m.start, m.end, m.source, ctx.people[m.key].name, m.key) for m in ctx.mentions]
    for span, holder, source in ctx.linked_titles:  # every occurrence, "the Rector" references included
        rows.append(Mention(aid, "TITLE", span.text, span.start_char, span.end_char, source, full_title(span), holder))
    for role in roles:
        if role.title:
            # the title as printed where it is ("Director"); else the role's whole evidence span
            end = printed_end(ctx.article.text, role.title, role.char_start, role.char_end)
            rows.append(Mention(aid, "TITLE", role.title, role.char_start, end, role.source, role.title, role.person_key))
        if role.org:
            start = ctx.article.text.find(role.org, role.char_start)
            if start >= 0:
                rows.append(Mention(aid, "ORG", role.org, start, start + len(role.org), role.source, role.org, role.person_key))
    overlaps_org = _overlap_test([(r.char_start, r.char_end) for r in rows if r.label == "ORG"])
    for ent in ents_of(ctx.doc):
        if ent.label_ == "ORG" and not overlaps_org(ent.start_char, ent.end_char):
            rows.append(Mention(aid, "ORG", ent.text, ent.start_char, ent.end_char, MODEL, ent.text))
    holder_of_country = {(f.char_start, f.char_end): f.person_key for f in country_facts}
    for span in ctx.countries:
        iso = country_iso3(span.text) if span.label_ == "COUNTRY" else demonym_iso3(span.text)
        if iso:
            rows.append(Mention(aid, "COUNTRY", span.text, span.start_char, span.end_char, span_source(span), iso,
                                holder_of_country.get((span.start_char, span.end_char))))
    for span in batch_spans:
        number = batch_number(span.text)
        rows.append(Mention(aid, "BATCH", span.text, span.start_char, span.end_char, span_source(span), None if number is None else str(number)))
    rows.extend(programme_mentions)
    for chain in programme_names:
        rows.append(Mention(aid, "PROGRAMME", chain.text, chain.start, chain.end, "rule:programme/name", chain.text))
    for fact in date_facts:
        rows.append(Mention(aid, "DATE", fact.text, fact.char_start, fact.char_end, fact.source,
                            fact.value.start if fact.value.start == fact.value.end else f"{fact.value.start}/{fact.value.end}"))
    unique = {}
    for row in rows:
        row.profile_id = profile_id_at(ctx, row.char_start)
        unique.setdefault((row.label, row.char_start, row.char_end, row.person_key), row)
    return sorted(unique.values(), key=lambda r: (r.char_start, r.label))
