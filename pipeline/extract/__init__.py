"""extract: spans from the spaCy pipeline → linked facts (who holds which title where, since when; countries;
batches; dates), each with its character span and the rule or model that produced it.

Linking works on tokens and sentences only (no dependency parse): a title belongs to the person it
directly precedes or follows (appositive), to the nearest person or pronoun before it when a verb cue
("is", "was promoted to", "served as") sits within a few tokens, or, as "the Rector", to the person the
section is about. Short names ("Novak", "Prof. Lind", "Mr. Tanaka") resolve to the full name in the article.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict

from spacy.tokens import Doc, Span, Token

from ..normalize import (batch_number, country_iso3, country_name, demonym_iso3, fold,
                        normalize_date)
from ..patterns import lexicon
from ..records import Article, BatchFact, CountryFact, Extraction, Mention, Profile, Role
from ..segment import BATCH_PAREN, split_fields
from .context import (CONNECTORS, MODEL, PRONOUNS, Chain, Context, PersonMention, ents_of, full_title, profile_id_at,
                      sent_of, span_source, word_set)
from .coreference import focus_person, resolve_people
from .dates import date_facts, end_previous_in_sentence, keep_date, term_dates, took_office_today
from .organisations import _portfolio_in_title, capitalised_chain, of_organisation_affiliations
from .people import find_person_mentions
from .roles import RoleDraft, link_roles, merge_roles

# The entry point, and what the tests check directly.
__all__ = ["extract_article", "Chain", "_portfolio_in_title"]


def header_roles(ctx: Context) -> tuple[list[RoleDraft], list[CountryFact], list[BatchFact], list[Mention]]:
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
            elif title_field is None and not org_parts and _title_at(ctx, base + start):
                title_field = (value, start, end)
            else:
                org_parts.append((value, start, end))
        if not any(c.person_key == holder for c in countries):
            for _, start, _end in org_parts:
                span = ctx.countries_at(_token_at(ctx, base + start))
                if span is not None and span.label_ == "COUNTRY" and span.start_char == base + start:
                    countries.append(_country_fact(ctx, holder, span, "rule:country/profile-heading-organisation"))
                    break
        if title_field:
            value, start, end = title_field
            title = _title_at(ctx, base + start)
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


CARD_FIELD = re.compile(r"^(?P<label>[A-Z][A-Za-z ,/&'’-]{1,50}?)\s*[:：]\s*(?P<value>\S.*)$")


def _card_fields(ctx: Context, profile: Profile, holder: str) -> tuple[list[RoleDraft], list[CountryFact], list[BatchFact]]:
    """"Affiliation and country of origin: X, Country" / "Position: ..." / "Period: 2021/4/1 – 2023/3/31" lines of a card."""
    roles, countries, batches = [], [], []
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
                countries.append(_country_fact(ctx, holder, span, "rule:country/card"))
        if re.search(r"period|duration|dates?|batch|cohort|year", label):
            years = [int(y) for y in re.findall(r"\b(1[89]\d\d|20\d\d)\b", value)]
            number = batch_number(value) if re.search(r"batch|cohort", label) else None
            if years or number is not None:
                batches.append(BatchFact(holder, aid, None, number, min(years) if years else None, max(years) if years else None,
                                         start, end, "rule:batch/card"))
    return roles, countries, batches


def _title_within(ctx: Context, start: int, end: int) -> Span | None:
    return next((t for t in ctx.titles if start <= t.start_char and t.end_char <= end), None)


def _token_at(ctx: Context, char: int) -> int:
    span = ctx.doc.char_span(char, char + 1, alignment_mode="expand")
    return span.start if span is not None else -1


def _title_at(ctx: Context, char: int) -> Span | None:
    return ctx.title_starting_at(char)


def _heading_batch(ctx: Context, holder: str, value: str, start: int) -> BatchFact:
    paren = BATCH_PAREN.search(value)
    programme = value[: paren.start()].strip() or None
    years = re.findall(r"\b(1[89]\d\d|20\d\d)\b", paren.group(0))
    return BatchFact(holder, ctx.article.article_id, programme, batch_number(paren.group(0)),
                     int(years[0]) if years else None, int(years[-1]) if years else None,
                     start, start + len(value), "rule:batch/profile-heading")


def participant_titles_former(roles: list[Role], batches: list[BatchFact], published) -> None:
    """A title named after a programme the person finished before publication ("Exchange Fellow" after the Exchange) is former."""
    if published is None:
        return
    batches_of: dict[str | None, list[BatchFact]] = defaultdict(list)
    for batch in batches:
        batches_of[batch.person_key].append(batch)
    for role in roles:
        if role.status == "former" or role.title is None:
            continue
        words = {w for w in fold(role.title).split() if len(w) > 3} - {"officer", "officers", "member"}
        for batch in batches_of.get(role.person_key, ()):
            if batch.programme and batch.end_year and batch.end_year < published.year \
                    and words & set(fold(batch.programme).split()):
                role.status = "former"


# ------------------------------------------------------------------------------------------------ countries, batches, dates


def person_countries(ctx: Context, roles: list[Role]) -> list[CountryFact]:
    """Countries a person comes from or represents, only where the text ties them to the person.

    "Name from (Place,) Thailand", "Name (Cambodia)", "Name of Indonesia", "a Thai official Name",
    "Name, a Myanmar midwife", "the Japanese expert said" (the person the passage is about), and
    a government body of a country in the person's role ("Ministry of Health, Viet Nam").
    """
    doc, facts = ctx.doc, []
    for mention in ctx.mentions:
        end = mention.tok_end
        sent = sent_of(doc[mention.tok_start])
        if (span := _parenthesised_country(ctx, mention, sent)) is not None:
            facts.append(_country_fact(ctx, mention.key, span, "rule:country/parenthesis"))
        if end + 1 < sent.end and doc[end].lower_ == "of" and (span := ctx.countries_at(end + 1)) is not None and span.label_ == "COUNTRY" \
                and not (span.end < sent.end and doc[span.end].is_title and doc[span.end].is_alpha):  # not "of Thailand Rice Exporters Ltd."
            facts.append(_country_fact(ctx, mention.key, span, "rule:country/of"))
        if (span := _from_country(ctx, mention, sent)) is not None:
            facts.append(_country_fact(ctx, mention.key, span, "rule:country/from"))
        if (span := _represented_country(ctx, mention, sent)) is not None:
            facts.append(_country_fact(ctx, mention.key, span, "rule:country/represents"))
        for i in range(max(mention.tok_start - 6, sent.start), mention.tok_start):
            span = ctx.countries_at(i)
            possessive = span is not None and span.label_ == "COUNTRY" and span.end + 1 < mention.tok_start \
                and doc[span.end].text in {"'s", "’s"} and span.end + 1 in ctx.title_tokens  # "Japan's Foreign Minister Name"
            if possessive and all(j in ctx.title_tokens or j in ctx.honorific_tokens for j in range(span.end + 1, mention.tok_start)):
                facts.append(_country_fact(ctx, mention.key, span, "rule:country/possessive-title"))
                break
            if span is not None and span.label_ == "DEMONYM" and span.end <= mention.tok_start \
                    and all(j in ctx.title_tokens or j in ctx.honorific_tokens or doc[j].is_lower for j in range(span.end, mention.tok_start)):
                facts.append(_country_fact(ctx, mention.key, span, "rule:country/demonym"))
                break
        if end + 2 < sent.end and doc[end].text == "," and doc[end + 1].lower_ in {"a", "an", "the", "former"}:
            for i in range(end + 2, min(end + 5, sent.end)):
                span = ctx.countries_at(i)
                if span is not None and span.end < sent.end and (_person_noun(doc[span.end]) or span.end in ctx.title_tokens):
                    facts.append(_country_fact(ctx, mention.key, span, "rule:country/demonym"))
                    break
    government = word_set("government_words")
    for role in roles:
        words = set(fold(f"{role.org or ''} {role.title or ''}").split())
        if not words & (government | {"ambassador", "representative", "minister"}):
            continue
        after = ctx.doc.char_span(role.char_end, role.char_end + 1, alignment_mode="expand")
        if after is not None and after.start + 1 < len(doc) and doc[after.start].lower_ in {"of", ","}:
            following = ctx.countries_at(after.start + 1) or (ctx.countries_at(after.start + 2) if doc[after.start + 1].lower_ == "the" else None)
            if following is not None and following.label_ == "COUNTRY" and sent_of(following) == sent_of(after):
                facts.append(_country_fact(ctx, role.person_key, following, "rule:country/role-of-country"))
                continue
        first = ctx.doc.char_span(role.char_start, role.char_end, alignment_mode="expand")
        if first is not None and (before := _country_before_title(ctx, first.start)) is not None:
            facts.append(_country_fact(ctx, role.person_key, before, "rule:country/before-title"))
            continue
        inside = [s for s in _countries_starting_within(ctx, role.char_start, role.char_end)
                  if s.end_char <= role.char_end and s.label_ == "COUNTRY"]
        stated = [s for s in inside if doc[s.start - 1].lower_ in {"of", ","} or (s.end < len(doc) and doc[s.end].text in {"’s", "'s"})
                  or (doc[s.start - 1].lower_ == "the" and doc[s.start - 2].lower_ == "of") or _country_of_government(ctx, s)]
        for span in stated[:1]:
            facts.append(_country_fact(ctx, role.person_key, span, "rule:country/role-organisation"))
    facts += _government_service_countries(ctx)
    return facts + _demonym_references(ctx, facts)


# Bodies that speak for a country; "Japan Customs Training Institute" or "Thailand Research Fund" do not.
GOVERNMENT_BODY_HEADS = {"ministry", "mission", "embassy", "consulate", "government", "parliament"}


def _country_before_title(ctx: Context, start: int) -> Span | None:
    """"Indonesia's Minister of Finance, Name", "The Philippine Ambassador to Japan, Name": whose government it is."""
    doc = ctx.doc
    if start >= 2 and doc[start - 1].text in {"'s", "’s"}:
        span = ctx.countries_at(start - 2)
        return span if span is not None and span.label_ == "COUNTRY" else None
    span = ctx.countries_at(start - 1) if start >= 1 else None
    return span if span is not None and span.label_ == "DEMONYM" else None


REPRESENT_VERBS = {"represents", "represented", "representing"}


def _represented_country(ctx: Context, mention: PersonMention, sent: Span) -> Span | None:
    """"Name, who represents Myanmar in the council", "Name, representing Thailand,": the country represented."""
    doc = ctx.doc
    i = mention.tok_end
    while i < sent.end and doc[i].lower_ in {",", "who", "also", "currently", "now"}:
        i += 1
    if i + 1 < sent.end and doc[i].lower_ in REPRESENT_VERBS:
        span = ctx.countries_at(i + 1 + (doc[i + 1].lower_ == "the"))
        if span is not None and span.label_ == "COUNTRY":
            return span
    return None


def _country_of_government(ctx: Context, span: Span) -> Token | None:
    """The government body a country names: "the Viet Nam Ministry of ...", "Indonesia's Ministry", "Japan Mission"."""
    doc = ctx.doc
    head = span.end + (1 if span.end < len(doc) and doc[span.end].text in {"'s", "’s"} else 0)
    if head < len(doc) and doc[head].text[:1].isupper() and doc[head].lower_ in GOVERNMENT_BODY_HEADS:
        return doc[head]
    return None


def _government_service_countries(ctx: Context) -> list[CountryFact]:
    """"He previously served various roles at Indonesia's Ministry of Foreign Affairs", "Name served numerous
    appointments at the Viet Nam Ministry of ...": where the sentence's subject served (at, in, for) a country's
    government body, that is the person's country. Working *with* a ministry says nothing."""
    doc, facts = ctx.doc, []
    for span in ctx.countries:
        if span.label_ != "COUNTRY" or _country_of_government(ctx, span) is None:
            continue
        before = span.start - 1 - (doc[span.start - 1].lower_ == "the")
        if before < 0 or doc[before].lower_ not in {"at", "in", "for"}:
            continue
        sent = sent_of(span)
        verb = next((t.i for t in doc[sent.start:before] if t.lower_ in word_set("service_verbs")), None)
        if verb is None:
            continue
        subject = next((ctx.mention_at[i].key for i in range(sent.start, verb) if i in ctx.mention_at), None)
        pronoun = next((t for t in doc[sent.start:verb] if t.lower_ in {"he", "she"}), None)
        if subject is None and pronoun is not None:
            subject = focus_person(ctx, pronoun.idx, pronoun.text)
        if subject:
            facts.append(_country_fact(ctx, subject, span, "rule:country/served-government"))
    return facts


def _countries_starting_within(ctx: Context, start: int, end: int) -> list[Span]:
    """Country and demonym spans starting in characters ``start``..``end``, in the order of ``ctx.countries``
    (by binary search over their starts, not a scan per role)."""
    cached = ctx.doc.user_data.get("countries_by_start")
    if cached is None or cached[0] is not ctx.countries:
        order = sorted(range(len(ctx.countries)), key=lambda i: ctx.countries[i].start_char)
        cached = (ctx.countries, [ctx.countries[i].start_char for i in order], order)
        ctx.doc.user_data["countries_by_start"] = cached
    _, starts, order = cached
    found = sorted(order[bisect_left(starts, start):bisect_left(starts, end)])
    return [ctx.countries[i] for i in found]


def _parenthesised_country(ctx: Context, mention: PersonMention, sent: Span) -> Span | None:
    """"Name (Cambodia)" or "Name, Title, Organisation (Thailand)": the first bracketed country of the appositive."""
    doc = ctx.doc
    for i in range(mention.tok_end, min(mention.tok_end + 25, sent.end - 2)):
        if i in ctx.mention_at and ctx.mention_at[i].key != mention.key:
            return None
        if doc[i].text == "(" and doc[i + 2].text == ")" or (doc[i].text == "(" and i + 3 < sent.end and doc[i + 3].text == ")"):
            span = ctx.countries_at(i + 1)
            if span is not None and span.label_ == "COUNTRY" and doc[span.end].text == ")":
                return span
        if doc[i].is_lower and doc[i].is_alpha and doc[i].lower_ not in CONNECTORS:
            return None  # the appositive has ended: "... (Thailand), attended" is fine, "... said (Thailand)" is not
    return None


def _from_country(ctx: Context, mention: PersonMention, sent: Span) -> Span | None:
    """"Name from the Philippines", "Name, a weaver from Luang Prabang, Lao PDR", "Name, who comes from X in Indonesia"."""
    doc = ctx.doc
    for i in range(mention.tok_end, min(mention.tok_end + 10, sent.end)):
        if i in ctx.mention_at and ctx.mention_at[i].key != mention.key:
            return None
        if doc[i].lower_ == "from":
            for j in range(i + 1, min(i + 7, sent.end)):
                span = ctx.countries_at(j)
                if span is not None and span.label_ == "COUNTRY":
                    return span
                if doc[j].text in {";", "."} or doc[j].lower_ in {"to", "and", "who", "which"}:
                    break
            return None
        if doc[i].text in {";"} or (doc[i].is_lower and doc[i].lower_ in word_set("speech_verbs")):
            return None
    return None


def _after_title(ctx: Context, index: int) -> int:
    span = ctx.title_tokens.get(index)
    return span.end if span is not None and span.start == index else index + 1


def _person_noun(token: Token) -> bool:
    return token.lower_ in word_set("person_nouns")


def _demonym_references(ctx: Context, known: list[CountryFact]) -> list[CountryFact]:
    """"The Japanese expert added ...": the demonym belongs to the person the passage is about.

    That is the section's person, else the last person named, unless that person is already known to be
    from another country (then the phrase refers to someone else and nothing is concluded).
    """
    doc, facts = ctx.doc, []
    countries_of: dict[str, set[str]] = defaultdict(set)
    for fact in known:
        countries_of[fact.person_key].add(fact.iso3)
    for span in ctx.countries:
        if span.label_ != "DEMONYM" and not demonym_iso3(span.text):
            continue
        if span.start == 0 or doc[span.start - 1].lower_ not in {"the", "a", "an"} or span.end >= len(doc):
            continue
        noun = doc[span.end]
        as_noun = doc[span.start - 1].lower_ in {"a", "an"} and doc[span.start - 1].is_sent_start and noun.lower_ in {"who", ","}
        if not (as_noun or (doc[span.start - 1].lower_ == "the" and
                            (noun.lower_ in word_set("person_nouns") or span.end in ctx.title_tokens))):
            continue
        after = _after_title(ctx, span.end)
        if after < len(doc) and (doc[after].lower_ in {"of", "for"} or after in ctx.mention_at or after in ctx.honorific_tokens):
            continue
        holder = focus_person(ctx, span.start_char)
        iso = demonym_iso3(span.text)
        if holder and (not countries_of[holder] or iso in countries_of[holder]):
            facts.append(CountryFact(holder, ctx.article.article_id, iso, country_name(iso), span.start_char, span.end_char,
                                     "rule:country/demonym-reference"))
    return facts


def _country_fact(ctx: Context, key: str, span: Span, source: str) -> CountryFact:
    iso = (country_iso3(span.text) if span.label_ == "COUNTRY" else None) or demonym_iso3(span.text) or country_iso3(span.text)
    return CountryFact(key, ctx.article.article_id, iso, country_name(iso), span.start_char, span.end_char, source)


def prose_batches(ctx: Context, heading_batches: list[BatchFact], batch_spans: list[Span]) -> list[BatchFact]:
    """Batches named in running text: "the 9th Batch for Young Planners", "she was in Cohort 3 of X"."""
    facts = []
    known = [b.programme for b in heading_batches if b.programme]
    heading_spans = {(b.char_start, b.char_end) for b in heading_batches}
    for span in batch_spans:
        if any(s <= span.start_char < e for s, e in heading_spans):
            continue
        doc = ctx.doc
        programme = None
        if span.end < len(doc) and doc[span.end].lower_ in {"for", "of", "in"}:
            tail_end = min(sent_of(span).end, span.end + 12)
            tail = doc[span.end + 1:tail_end]
            programme = _closest_programme(tail.text, known)
            if programme is None and (chain := capitalised_chain(ctx, span.end + 1, allow_comma=False)):
                programme = chain.text
        holder = _member_after(ctx, span) or _batch_holder_before(ctx, span) or _bracketed_batch_holder(ctx, span)
        start_year, end_year = _years_after(ctx, span)
        facts.append(BatchFact(holder, ctx.article.article_id, programme, batch_number(span.text), start_year, end_year,
                               span.start_char, span.end_char, span_source(span)))
    return facts


MEMBER_NOUNS = {"alumnus", "alumna", "alumni", "graduate", "participant", "fellow", "member", "scholar", "trainee"}
JOINED_BATCH = re.compile(r"\b(joined|attended|completed|accompanied|took part in|participated in|(?:was|were|is|are) (?:in|part of)|"
                          r"member of|alumn\w* of|graduate of|fellow of|scholar of|participants? (?:of|in)|selected for|one of)\b",
                          re.I)


def _bracketed_batch_holder(ctx: Context, span: Span) -> str | None:
    """"Ms. X is Deputy Director of ... (Batch 5, 2012)": a bracketed batch belongs to the one person named
    earlier in the sentence."""
    doc = ctx.doc
    if span.start == 0 or doc[span.start - 1].text != "(":
        return None
    named = {ctx.mention_at[i].key for i in range(sent_of(span).start, span.start) if i in ctx.mention_at}
    return named.pop() if len(named) == 1 else None


def _batch_holder_before(ctx: Context, span: Span) -> str | None:
    """"she took part in the 2nd Batch", "X, who accompanied the 4th Batch": the person named before, if the
    words between say they belonged to it ("... announced that Cohort 2 would begin" does not)."""
    doc = ctx.doc
    for i in range(span.start - 1, max(sent_of(span).start, span.start - 15) - 1, -1):
        if i in ctx.mention_at or doc[i].lower_ in PRONOUNS:
            between = ctx.article.text[doc[i].idx + len(doc[i]):span.start_char]
            if not JOINED_BATCH.search(between):
                return None
            return ctx.mention_at[i].key if i in ctx.mention_at else focus_person(ctx, doc[i].idx, doc[i].text)
    return None


def _member_after(ctx: Context, span: Span) -> str | None:
    """"the Batch 8 alumnus Mr. X", "An alumna of the 3rd Batch of the Exchange (2016-2017), Ms. X was ...":
    the person named right after a batch that a member noun introduces."""
    doc = ctx.doc
    i = span.end
    if i < sent_of(span).end and doc[i].lower_ in MEMBER_NOUNS:
        i += 1
        while i < sent_of(span).end and i in ctx.honorific_tokens:
            i += 1
        if i in ctx.mention_at:
            return ctx.mention_at[i].key
    before = doc[max(sent_of(span).start, span.start - 4):span.start]
    if any(t.lower_ in MEMBER_NOUNS for t in before) and not any(j in ctx.mention_at for j in range(sent_of(span).start, span.start)):
        following = [ctx.mention_at[j] for j in range(span.end, sent_of(span).end) if j in ctx.mention_at]
        return following[0].key if following else None
    return None


def _closest_programme(tail: str, known: list[str]) -> str | None:
    words = set(fold(tail).split()) - {"the", "for", "of", "and", "in", "at", "to", "from"}
    scored = [(len(words & (set(fold(k).split()) - {"the", "for", "of", "and", "in", "at"})), k) for k in known]
    scored = [s for s in scored if s[0] >= 2]
    return max(scored)[1] if scored else None


def programme_participation(ctx: Context) -> list[BatchFact]:
    """"X and Y are the participants in the 2019 Regional Dialogue on ...": programme without a batch number."""
    facts = []
    doc = ctx.doc
    triggers = sorted(lexicon()["participation_triggers"], key=len, reverse=True)
    for sent in doc.sents:
        lower = sent.text.lower()
        for trigger in triggers:
            at = lower.find(trigger + " ")
            if at < 0:
                continue
            char = sent.start_char + at + len(trigger) + 1
            span = doc.char_span(char, sent.end_char, alignment_mode="expand")
            if span is None:
                continue
            start = span.start
            year = None
            while start < sent.end and doc[start].lower_ in {"the", "a", "an"}:
                start += 1
            if start < sent.end and re.fullmatch(r"(1[89]|20)\d\d", doc[start].text):
                year = int(doc[start].text)
                start += 1
            chain = capitalised_chain(ctx, start, allow_comma=False, stop_at_titles=False)
            if chain is None or len(chain.text.split()) < 2 or not set(fold(chain.text).split()) & word_set("programme_keywords"):
                continue
            holders = []
            for i in range(sent.start, start):
                if i in ctx.mention_at and ctx.mention_at[i].key not in holders and ctx.doc[i].idx < char:
                    holders.append(ctx.mention_at[i].key)
            if not holders:
                pronoun = next((t for t in doc[sent.start:start] if t.lower_ in PRONOUNS), None)
                if pronoun is not None and (holder := focus_person(ctx, pronoun.idx, pronoun.text)):
                    holders.append(holder)
            for holder in holders:
                facts.append(BatchFact(holder, ctx.article.article_id, chain.text, None, year, year, chain.start, chain.end,
                                       "rule:programme/participation"))
            break
    return facts


PROGRAMME_HEADS = {"programme", "program", "fellowship", "scholarship", "exchange", "course", "training", "forum", "workshop",
                   "workshops", "dialogue", "project", "initiative", "academy", "internship", "camp", "seminar", "school",
                   "grant", "grants", "award", "awards"}
PARTICIPANT_AFTER_NAME = re.compile(
    r"^(?:\s*\([^)]*\))?(?:,\s*(?:a|an|one of the|who (?:is|was|were) (?:a|an|one of the))\s+(?:[\w-]+\s+){0,2}"
    r"(?:graduate|alumn\w*|participant|fellow|scholar|trainee|grantee|beneficiar\w*)s?\b"
    r"|\s+(?:took part|completed|attended|joined|participated|was selected|were selected|graduated)\b)", re.I)


def programme_mentions_in(ctx: Context) -> list[Chain]:
    """Named programmes: capitalised phrases headed by Programme, Fellowship, Course, Exchange, Project ...

    A phrase never leaves its sentence, so it can only contain (or lie inside) phrases of the same sentence:
    ``found`` holds the phrases of earlier sentences, ``current`` those of this one.
    """
    doc, found, current, sentence_start = ctx.doc, [], [], None
    for token in doc:
        if token.lower_ not in PROGRAMME_HEADS or not token.text[:1].isupper():
            continue
        if sent_of(token).start != sentence_start:
            found += current
            current, sentence_start = [], sent_of(token).start
        start = token.i
        while start > sent_of(token).start and (_is_chain_word(doc[start - 1]) or (doc[start - 1].text == "-" and not doc[start - 1].whitespace_)):
            start -= 1
        while start < token.i and doc[start].lower_ in {"the", "a", "an"}:
            start += 1
        end = token.i + 1
        if end < sent_of(token).end and doc[end].lower_ in {"for", "of", "on", "in"} and end + 1 < sent_of(token).end and doc[end + 1].text[:1].isupper():
            tail = capitalised_chain(ctx, end + 1, allow_comma=False, stop_at_titles=False, stop_words={"in"})
            if tail:
                end = ctx.doc.char_span(tail.start, tail.end, alignment_mode="expand").end
        if end + 2 < sent_of(token).end and doc[end].text == "(" and doc[end + 2].text == ")" and doc[end + 1].text.upper() == doc[end + 1].text:
            end += 3  # "... Programme (SEA-TPDP)"
        span = doc[start:end]
        if len(span) >= 2:
            current = [c for c in current if not (span.start_char <= c.start and c.end <= span.end_char)]
            if not any(c.start <= span.start_char and span.end_char <= c.end for c in current):
                current.append(Chain(span.text, span.start_char, span.end_char))
    found += current
    for match in re.finditer(r"\b(?:project|programme|program|initiative) on (?P<name>[A-Z][^.,;()]{5,120}?)(?=[,.;(]| which| that| funded| supported)",
                             ctx.article.text):
        found.append(Chain(match.group("name").strip(), match.start("name"), match.start("name") + len(match.group("name").strip())))
    return found


def _is_chain_word(token: Token) -> bool:
    return (token.text[:1].isupper() and token.is_alpha and not token.is_sent_start and token.lower_ not in {"the"}) or \
        token.text in {"-", "’s", "'s"} or (token.is_upper and len(token) > 1)


def link_programmes(ctx: Context, batches: list[BatchFact], batch_spans: list[Span], mentions: list[Chain]) -> list[BatchFact]:
    """People of an article about one programme cohort belong to it: profiled people and self-described participants.

    The programme is the one the article names most (first on a tie); the batch is the one in the headline,
    else the first one named before the first profile. Only articles whose headline names the programme or a
    batch get this, so a news item that merely mentions a programme links nobody.
    """
    title_block = next((b for b in ctx.article.blocks if b.kind == "title"), None)
    body = [m for m in mentions if title_block is None or m.start >= title_block.end]
    counts: dict[str, int] = defaultdict(int)
    first_seen: dict[str, Chain] = {}
    for chain in body:
        key = fold(chain.text)
        counts[key] += 1
        first_seen.setdefault(key, chain)
    if not counts:
        return []
    main_key = max(counts, key=lambda k: (counts[k], -first_seen[k].start))
    main = first_seen[main_key]
    for fact in batches:  # "took part in the 2nd Batch", "accompanied the 4th Batch": of the article's programme
        if fact.programme is None and fact.person_key and fact.batch is not None:
            fact.programme = main.text
    title_text = ctx.article.title or ""
    title_batch = [s for s in batch_spans if title_block and s.end_char <= title_block.end]
    first_profile = min((p.char_start for p in ctx.profiles), default=len(ctx.article.text))
    body_batch = [s for s in batch_spans if (title_block is None or s.start_char >= title_block.end) and s.start_char < first_profile]
    batch_span = (title_batch or body_batch or [None])[0]
    main_batch = batch_number(batch_span.text) if batch_span is not None else None
    title_words = set(fold(title_text).split())
    if main_batch is None and not set(fold(main.text).split()) - {"the", "of", "for", "on", "and", "asean"} <= title_words:
        return []
    years = _batch_years(ctx, batches, batch_spans, main_batch)
    for fact in batches:  # "took part in the 2nd Batch", a card's "Period": of the article's programme
        if fact.programme is None and fact.person_key:
            fact.programme = main.text
            if fact.batch is None and fact.source == "rule:batch/card":
                fact.batch = main_batch
    linked = {b.person_key for b in batches if b.person_key}
    facts = []
    rows = {b.start for b in ctx.article.blocks if b.kind == "row"}  # a speakers' table lists guests, not the cohort
    profile_start: dict[str, int] = {}
    for profile in ctx.profiles:
        profile_start.setdefault(profile.profile_id, profile.char_start)
    candidates = [key for pid, key in ctx.profile_person.items() if profile_start.get(pid) not in rows]
    for mention in ctx.mentions:
        if PARTICIPANT_AFTER_NAME.match(ctx.article.text[mention.end:mention.end + 120]):
            candidates.append(mention.key)
    for key in dict.fromkeys(candidates):
        if key in linked:
            continue
        linked.add(key)
        facts.append(BatchFact(key, ctx.article.article_id, main.text, main_batch, *years, main.start, main.end,
                               "rule:programme/article-cohort"))
    return facts


BATCH_YEARS_REACH = 15  # "the 3rd Batch of the Youth Leaders Exchange (2016-2017)"


def _years_after(ctx: Context, span: Span) -> tuple[int | None, int | None]:
    """Years of a batch: the first date right after it in the sentence, before any other batch or person."""
    for date in ctx.dates_in_sentence(sent_of(span)):
        if date.start < span.end or date.start - span.end > BATCH_YEARS_REACH:
            continue
        if any(i in ctx.mention_at for i in range(span.end, date.start)):
            return None, None
        value = normalize_date(date.text, ctx.article.published)
        if value:
            return value.start_date.year, value.end_date.year
    return None, None


def _batch_years(ctx: Context, batches: list[BatchFact], batch_spans: list[Span], number: int | None) -> tuple[int | None, int | None]:
    """Years of a batch: from a heading or card that gives them, else a date range right after the batch is named."""
    for fact in batches:
        if fact.batch == number and fact.start_year:
            return fact.start_year, fact.end_year
    for span in batch_spans:
        if batch_number(span.text) == number and (years := _years_after(ctx, span)) != (None, None):
            return years
    return None, None


def fill_batch_years(ctx: Context, batches: list[BatchFact], batch_spans: list[Span]) -> None:
    """A person's batch without years takes the years the article gives for that batch elsewhere.

    Same answer as ``_batch_years`` over the other facts, but facts and spans are grouped by batch number
    first and each span's years are read once, so a page with a thousand members of one batch stays linear.
    """
    facts_of: dict[int, list[BatchFact]] = defaultdict(list)
    for fact in batches:
        if fact.batch is not None:
            facts_of[fact.batch].append(fact)
    spans_of: dict[int | None, list[Span]] = defaultdict(list)
    for span in batch_spans:
        spans_of[batch_number(span.text)].append(span)
    span_years: dict[tuple[int, int], tuple[int | None, int | None]] = {}
    for fact in batches:
        if fact.batch is None or fact.start_year is not None:
            continue
        given = next((other for other in facts_of[fact.batch] if other is not fact and other.start_year), None)
        if given is not None:
            fact.start_year, fact.end_year = given.start_year, given.end_year
            continue
        years = (None, None)
        for span in spans_of.get(fact.batch, ()):
            if (span.start, span.end) not in span_years:
                span_years[(span.start, span.end)] = _years_after(ctx, span)
            if span_years[(span.start, span.end)] != (None, None):
                years = span_years[(span.start, span.end)]
                break
        fact.start_year, fact.end_year = years


# ------------------------------------------------------------------------------------------------ entry point


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
    drafts, heading_countries, heading_batches, programme_mentions = header_roles(ctx)
    heading_title_chars = {d.role.char_start for d in drafts}
    ctx.titles = [t for t in titles if t.start_char not in heading_title_chars]
    drafts += link_roles(ctx)
    roles = merge_roles(drafts)
    end_previous_in_sentence(ctx, roles)
    took_office_today(ctx, roles)
    term_dates(ctx, roles)
    roles += of_organisation_affiliations(ctx, roles)
    for role in roles:
        role.profile_id = profile_id_at(ctx, role.char_start)
    numbered = heading_batches + prose_batches(ctx, heading_batches, batch_spans)
    numbered_of: dict[str | None, list[BatchFact]] = defaultdict(list)
    for fact in numbered:
        numbered_of[fact.person_key].append(fact)
    batches = numbered + [p for p in programme_participation(ctx) if not _already_in_batch(p, numbered_of[p.person_key])]
    batches = _merge_card_batches(batches)
    programme_names = programme_mentions_in(ctx)
    batches += link_programmes(ctx, batches, batch_spans, programme_names)
    fill_batch_years(ctx, batches, batch_spans)
    participant_titles_former(roles, batches, article.published)
    countries_found = _dedupe_countries(heading_countries + person_countries(ctx, roles))
    dates_found = date_facts(ctx)
    mention_rows = _mentions(ctx, roles, countries_found, batch_spans, programme_mentions, programme_names, dates_found)
    return Extraction(article, profiles, ctx.people, mention_rows, roles, countries_found, batches, dates_found,
                      dict(ctx.profile_person))


def _merge_card_batches(batches: list[BatchFact]) -> list[BatchFact]:
    """A card's "Period" gives years to the person's batch found elsewhere in the article."""
    cards = [b for b in batches if b.source == "rule:batch/card"]
    rest = [b for b in batches if b.source != "rule:batch/card"]
    for card in cards:
        target = next((b for b in rest if b.person_key == card.person_key), None)
        if target is None:
            rest.append(card)
        elif target.start_year is None:
            target.start_year, target.end_year = card.start_year, card.end_year
    return rest


def _already_in_batch(participation: BatchFact, batches: list[BatchFact]) -> bool:
    """Whether one of ``batches`` (the person's) already names the programme of ``participation``."""
    words = set(fold(participation.programme or "").split())
    return any(b.person_key == participation.person_key and b.programme and words <= set(fold(b.programme).split())
               for b in batches)


def _dedupe_countries(facts: list[CountryFact]) -> list[CountryFact]:
    seen, kept = set(), []
    for fact in facts:
        if (fact.person_key, fact.iso3) not in seen and fact.iso3:
            seen.add((fact.person_key, fact.iso3))
            kept.append(fact)
    return kept


def _overlap_test(spans: list[tuple[int, int]]):
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


def _mentions(ctx: Context, roles, country_facts, batch_spans, programme_mentions, programme_names, date_facts) -> list[Mention]:
    """Every entity mention, linked to its person where a fact ties it to one."""
    aid = ctx.article.article_id
    rows = [Mention(aid, "PERSON", m.text, m.start, m.end, m.source, ctx.people[m.key].name, m.key) for m in ctx.mentions]
    for span, holder, source in ctx.linked_titles:  # every occurrence, "the Rector" references included
        rows.append(Mention(aid, "TITLE", span.text, span.start_char, span.end_char, source, full_title(span), holder))
    for role in roles:
        if role.title:
            rows.append(Mention(aid, "TITLE", role.title, role.char_start, role.char_start + len(role.title), role.source,
                                role.title, role.person_key))
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
