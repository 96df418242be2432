"""extract: the processed spaCy Doc of one article → linked facts (who holds which title where, since when;
countries; batches; dates), each with its character span and the rule or model that produced it.

One module per fact family (after textacy's ``extract`` package), listed in the order ``extract_article``
uses them:

- ``context``: the per-article ``Context`` the families share, fast per-doc lookups, the lexicon's word lists;
- ``people``: where a person is named; ``coreference``: which person a short name, pronoun or "the Rector" means;
- ``headings``: facts of profile headings and card lines;
- ``roles``: who holds which title, and its status; ``organisations``: what organisation a title is of;
  ``dates``: which dates are kept, and the start and end of roles;
- ``cohorts``: batches and programmes people took part in; ``countries``: a person's country;
- ``mentions``: one row per entity named.

- ``syntax``: links the dependency parse finds between titles and people or organisations, where the words
  around a title do not tell (``DependencyMatcher`` patterns in ``patterns/links.jsonl``).

Linking works on tokens and sentences first, then on the parse.
"""
from __future__ import annotations

from spacy.tokens import Doc

from ..records import Article, Extraction, Profile
from .cohorts import cohort_facts, participant_titles_former
from .context import Context, profile_id_at
from .coreference import resolve_people
from .countries import dedupe_countries, person_countries
from .dates import date_facts, end_previous_in_sentence, keep_date, term_dates, took_office_today
from .groups import group_roles
from .headings import heading_facts
from .mentions import mention_rows
from .organisations import of_organisation_affiliations
from .people import find_person_mentions
from .roles import link_roles, merge_roles

__all__ = ["extract_article"]


def extract_article(article: Article, profiles: list[Profile], doc: Doc) -> Extraction:
    """All facts of one article, from its processed spaCy ``doc``."""
    titles = list(doc.spans.get("titles", []))
    dates = list(doc.spans.get("dates", []))
    countries = list(doc.spans.get("countries", []))
    honorifics = list(doc.spans.get("honorifics", []))
    batch_spans = list(doc.spans.get("batches", []))
    country_by_token = {i: s for s in countries for i in range(s.start, s.end)}
    ctx = Context(article, doc, profiles, titles, dates, countries,
                  honorific_tokens={i for s in honorifics for i in range(s.start, s.end)},
                  title_tokens={i: s for s in titles for i in range(s.start, s.end)},
                  date_tokens={i: s for s in dates for i in range(s.start, s.end)}, country_tokens=country_by_token)
    ctx.stop_tokens |= ctx.honorific_tokens
    ctx.dates = [d for d in dates if keep_date(ctx, d)]
    ctx.date_tokens = {i: s for s in ctx.dates for i in range(s.start, s.end)}

    mentions = find_person_mentions(ctx)
    heading_mentions = {(m.start, m.end): m for m in mentions if m.source == "rule:person/profile-heading"}
    resolve_people(ctx, mentions)
    for profile in profiles:
        mention = heading_mentions.get((profile.name_start, profile.name_end))
        if mention and mention.key:
            ctx.profile_person[profile.profile_id] = mention.key
    # headings can only be attributed once the profile people are known; then link the prose
    drafts, heading_countries, heading_batches, programme_mentions = heading_facts(ctx)
    heading_title_chars = {d.role.char_start for d in drafts}
    ctx.titles = [t for t in titles if t.start_char not in heading_title_chars]
    drafts += link_roles(ctx) + group_roles(ctx)
    roles = merge_roles(drafts)
    end_previous_in_sentence(ctx, roles)
    took_office_today(ctx, roles)
    term_dates(ctx, roles)
    roles += of_organisation_affiliations(ctx, roles)
    for role in roles:
        role.profile_id = profile_id_at(ctx, role.char_start)
    batches, programme_names = cohort_facts(ctx, heading_batches, batch_spans)
    participant_titles_former(roles, batches, article.published)
    countries_found = dedupe_countries(heading_countries + person_countries(ctx, roles))
    dates_found = date_facts(ctx)
    all_mentions = mention_rows(ctx, roles, countries_found, batch_spans, programme_mentions, programme_names, dates_found)
    return Extraction(article, profiles, ctx.people, all_mentions, roles, countries_found, batches, dates_found,
                      dict(ctx.profile_person))


