"""Countries: the country a person comes from or represents, only where the text ties it to the person.

"Name from (Place,) Thailand", "Name (Cambodia)", "Name of Indonesia", "Name, who represents Myanmar",
"a Thai official Name", "Japan's Foreign Minister Name", "the Japanese expert said" (the person the passage
is about), and a government body of a country in the person's role or service ("Ministry of Health, Viet
Nam", "worked at Thailand's Ministry of Transport"). A country merely named near a person is not theirs.
"""
from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict

from spacy.tokens import Span, Token

from ..normalize import country_iso3, country_name, demonym_iso3, fold
from ..records import CountryFact, Role
from .context import CONNECTORS, Context, PersonMention, sent_of, word_set
from .coreference import focus_person
from .acronyms import acronym_definition


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
            facts.append(country_fact(ctx, mention.key, span, "rule:country/parenthesis"))
        if end + 1 < sent.end and doc[end].lower_ == "of" and (span := ctx.countries_at(end + 1)) is not None and span.label_ == "COUNTRY" \
                and not (span.end < sent.end and doc[span.end].is_title and doc[span.end].is_alpha):  # not "of Thailand Rice Exporters Ltd."
            facts.append(country_fact(ctx, mention.key, span, "rule:country/of"))
        if (span := _from_country(ctx, mention, sent)) is not None:
            facts.append(country_fact(ctx, mention.key, span, "rule:country/from"))
        if (span := _represented_country(ctx, mention, sent)) is not None:
            facts.append(country_fact(ctx, mention.key, span, "rule:country/represents"))
        for i in range(max(mention.tok_start - 6, sent.start), mention.tok_start):
            span = ctx.countries_at(i)
            possessive = span is not None and span.label_ == "COUNTRY" and span.end + 1 < mention.tok_start \
                and doc[span.end].text in {"'s", "’s"} and span.end + 1 in ctx.title_tokens  # "Japan's Foreign Minister Name"
            if possessive and all(j in ctx.title_tokens or j in ctx.honorific_tokens for j in range(span.end + 1, mention.tok_start)):
                facts.append(country_fact(ctx, mention.key, span, "rule:country/possessive-title"))
                break
            if span is not None and span.label_ == "DEMONYM" and span.end <= mention.tok_start \
                    and all(j in ctx.title_tokens or j in ctx.honorific_tokens or doc[j].is_lower for j in range(span.end, mention.tok_start)):
                facts.append(country_fact(ctx, mention.key, span, "rule:country/demonym"))
                break
        if end + 2 < sent.end and doc[end].text == "," and doc[end + 1].lower_ in {"a", "an", "the", "former"}:
            for i in range(end + 2, min(end + 5, sent.end)):
                span = ctx.countries_at(i)
                if span is not None and span.end < sent.end and (_person_noun(doc[span.end]) or span.end in ctx.title_tokens):
                    facts.append(country_fact(ctx, mention.key, span, "rule:country/demonym"))
                    break
    government = word_set("government_words")
    for role in roles:
        definition = acronym_definition(ctx, role.org) if role.org else None  # "MNC": "the Mission of Norway to ..."
        words = set(fold(f"{role.org or ''} {role.title or ''} {definition.text if definition else ''}").split())
        if not words & (government | {"ambassador", "representative", "minister"}):
            continue
        after = ctx.doc.char_span(role.char_end, role.char_end + 1, alignment_mode="expand")
        if after is not None and after.start + 1 < len(doc) and doc[after.start].lower_ in {"of", ","}:
            following = ctx.countries_at(after.start + 1) or (ctx.countries_at(after.start + 2) if doc[after.start + 1].lower_ == "the" else None)
            if following is not None and following.label_ == "COUNTRY" and sent_of(following) == sent_of(after):
                facts.append(country_fact(ctx, role.person_key, following, "rule:country/role-of-country"))
                continue
        first = ctx.doc.char_span(role.char_start, role.char_end, alignment_mode="expand")
        if first is not None and (before := _country_before_title(ctx, first.start)) is not None:
            facts.append(country_fact(ctx, role.person_key, before, "rule:country/before-title"))
            continue
        stated = _stated_countries(ctx, role.char_start, role.char_end)
        source = "rule:country/role-organisation"
        if not stated and definition is not None and set(fold(definition.text).split()) & government:
            # "Minister of MOJ", where the text defined "the Mission of Japan to the Council (MOJ)" earlier
            stated, source = _stated_countries(ctx, definition.start, definition.end), "rule:country/role-acronym"
        for span in stated[:1]:
            facts.append(country_fact(ctx, role.person_key, span, source))
    facts += _government_service_countries(ctx)
    return facts + _demonym_references(ctx, facts)


def _stated_countries(ctx: Context, start: int, end: int) -> list[Span]:
    """Countries in characters ``start``..``end`` that the words around them make the body's own: "of X",
    ", X", "X's", "the X Ministry"."""
    doc = ctx.doc
    inside = [s for s in _countries_starting_within(ctx, start, end) if s.end_char <= end and s.label_ == "COUNTRY"]
    return [s for s in inside if doc[s.start - 1].lower_ in {"of", ","} or (s.end < len(doc) and doc[s.end].text in {"’s", "'s"})
            or (doc[s.start - 1].lower_ == "the" and doc[s.start - 2].lower_ == "of") or _country_of_government(ctx, s)
            or (s.end_char == end and _acronym(doc[s.start - 1]))]  # "..., MOFA Norway": the country's own body


def _acronym(token: Token) -> bool:
    """An organisation's initials: two or more capital letters."""
    return token.is_alpha and token.is_upper and len(token) > 1


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
    """The government body a country names: "the Cambodia Ministry of ...", "Thailand's Ministry", "Norway Mission"."""
    doc = ctx.doc
    head = span.end + (1 if span.end < len(doc) and doc[span.end].text in {"'s", "’s"} else 0)
    if head < len(doc) and doc[head].text[:1].isupper() and doc[head].lower_ in GOVERNMENT_BODY_HEADS:
        return doc[head]
    return None


def _government_service_countries(ctx: Context) -> list[CountryFact]:
    """"She earlier held several posts at Thailand's Ministry of Transport", "Name held many
    appointments at the Cambodia Ministry of ...": where the sentence's subject served (at, in, for) a country's
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
            facts.append(country_fact(ctx, subject, span, "rule:country/served-government"))
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
    """The token after the title starting at ``index``, else the next token."""
    span = ctx.title_tokens.get(index)
    return span.end if span is not None and span.start == index else index + 1


def _person_noun(token: Token) -> bool:
    """A noun for a person ("expert", "official", "midwife")."""
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


def country_fact(ctx: Context, key: str, span: Span, source: str) -> CountryFact:
    """The fact that person ``key`` is of the country (or demonym) ``span``, found by rule ``source``."""
    iso = (country_iso3(span.text) if span.label_ == "COUNTRY" else None) or demonym_iso3(span.text) or country_iso3(span.text)
    return CountryFact(key, ctx.article.article_id, iso, country_name(iso), span.start_char, span.end_char, source)


def dedupe_countries(facts: list[CountryFact]) -> list[CountryFact]:
    """One fact per person and country, the first found; facts without a known country are dropped."""
    seen, kept = set(), []
    for fact in facts:
        if (fact.person_key, fact.iso3) not in seen and fact.iso3:
            seen.add((fact.person_key, fact.iso3))
            kept.append(fact)
    return kept
