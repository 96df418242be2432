"""Organisations: the capitalised phrase a title is of, for or at, and where it stops.

An organisation is read as a chain of capitalised words joined by connectors ("Ministry of Health",
"Institute for Peace (IP)"), ended by a title, a person, a date or a clause. Around a title it can come
after a preposition ("Director of X"), before the title as an acronym ("Name, HLO Director"), between a
title and its holder ("Director-General of RFT Name"), or from a list's introduction ("the delegates
from X: ..."). A field of responsibility ("for Trade") is part of the title, not the organisation.
"""
from __future__ import annotations

import re

from spacy.tokens import Doc, Span

from ..normalize import country_iso3
from ..patterns import lexicon
from ..records import Role
from .acronyms import ACRONYM_PORTFOLIO, bracketed_abbreviation_at, spelled_out
from .context import CONNECTORS, Chain, Context, entities_over, ents_of, full_title, sent_of, word_set


def capitalised_chain(ctx: Context, start: int, allow_comma: bool = True, skip_lower: int = 0,
                      stop_words: frozenset[str] | set[str] = frozenset(), stop_at_titles: bool = True) -> Chain | None:
    """The organisation-like phrase starting at token ``start``: capitalised words joined by connectors.

    Stops at a new title, a person, an honorific, a date, a clause ("and also", ", who") or the sentence end.
    """
    doc = ctx.doc
    if start >= len(doc):
        return None
    sentence_end = sent_of(doc[start]).end
    i = start
    while i < sentence_end and doc[i].lower_ in {"the", "a", "an"}:
        i += 1
    skipped = 0
    while skip_lower and i < sentence_end and doc[i].is_lower and doc[i].is_alpha and skipped < skip_lower \
            and doc[i].lower_ not in CONNECTORS:
        i += 1
        skipped += 1
    first = i
    if (stop_at_titles and first in ctx.title_tokens) or first in ctx.stop_tokens:
        return None
    last = None
    while i < sentence_end:
        token = doc[i]
        if i in ctx.stop_tokens or (stop_at_titles and i in ctx.title_tokens and i != first and ctx.title_tokens[i].start == i) \
                or i in ctx.date_tokens:
            break
        if token.text == "(":
            close = next((j for j in range(i + 1, min(i + MAX_EXPANSION_TOKENS + 2, sentence_end)) if doc[j].text == ")"), None)
            inner = doc[i + 1:close] if close else None
            if inner is not None and last is not None and (
                    (len(inner) <= MAX_BRACKETED_ABBREVIATION and any(t.is_upper or t.text[:1].isupper() for t in inner))
                    or (doc[last].is_upper and len(doc[last].text) > 1 and _expansion(inner))):
                last = close
                i = close + 1
                continue
            break
        if token.text[:1].isupper() or token.is_upper or (token.like_num and last is not None and not token.text.isdigit()):
            last = i
            i += 1
            continue
        if token.lower_ in stop_words:
            break
        if token.lower_ in CONNECTORS and last is not None:
            nxt = _next_content(doc, i, sentence_end)
            if nxt is None or not (doc[nxt].text[:1].isupper()) or nxt in ctx.stop_tokens or (nxt in ctx.title_tokens and token.lower_ == "and"):
                break
            i += 1
            continue
        if token.text == "," and allow_comma and last is not None:
            nxt = i + 1
            if nxt < sentence_end and doc[nxt].text[:1].isupper() and nxt not in ctx.stop_tokens \
                    and nxt not in ctx.title_tokens and nxt not in ctx.date_tokens:
                i += 1
                continue
            break
        break
    if last is None or (skip_lower and skipped and not org_like(doc[first:last + 1].text)):
        return None
    span = doc[first:last + 1]
    return Chain(span.text, span.start_char, span.end_char)


MAX_BRACKETED_ABBREVIATION = 3  # "Institute for Peace (IP)", "(UNDP Asia)": a short bracket after a name
MAX_EXPANSION_TOKENS = 10  # "KDN (Kinabalu Development Network for Rivers)": an acronym spelled out after it


def _expansion(inner: Span) -> bool:
    """A bracket spelling out the acronym before it: starts with a capital, and its words are capitalised
    or connectors ("Regional Network for Coastal Towns"), never a clause or a date."""
    words = [t for t in inner if not t.is_punct]
    return bool(words) and words[0].text[:1].isupper() and all(
        t.text[:1].isupper() or t.lower_ in CONNECTORS or t.text in {"’s", "'s"} for t in words)


def _next_content(doc: Doc, i: int, end: int) -> int | None:
    """The first token after ``i`` that is not an article, before ``end``."""
    j = i + 1
    while j < end and doc[j].lower_ in {"the", "a", "an"}:
        j += 1
    return j if j < end else None


def org_like(text: str) -> bool:
    """The phrase has an organisation word ("Ministry", "Institute") or a bracketed acronym."""
    words = {w.lower() for w in re.findall(r"[\w-]+", text)}
    return bool(words & word_set("org_keywords")) or bool(re.search(r"\([A-Z]{2,}\)", text))


def title_and_organisation(ctx: Context, title: Span, how: str) -> tuple[str, Chain | None]:
    """(title, organisation). The title is the job title alone; what follows "of", "for", "at" is the
    organisation as printed, a field of responsibility included ("Bureau Chief" of "Women and ASEAN Affairs",
    "Minister" of "Health of Cambodia"), as the reference annotations do. A portfolio given by its acronym
    ("Deputy Director-General for CRM") is spelled out where the text spells it out."""
    title_text, org = _title_and_organisation(ctx, title, how)
    if (match := ACRONYM_PORTFOLIO.match(title_text)) and (long_form := spelled_out(ctx, match["acronym"])):
        title_text = match["title"] + long_form
    return title_text, org


def _title_and_organisation(ctx: Context, title: Span, how: str) -> tuple[str, Chain | None]:
    doc = ctx.doc
    sent_end = sent_of(title).end
    title_text = full_title(title)
    start = title.end
    if how == "title-before-name":
        if split := organisation_then_portfolio(ctx, title):
            org, portfolio, _ = split
            return (f"{title_text} for {portfolio.text}" if portfolio else title_text), org
        portfolio_end = after_portfolio(ctx, title)
        if portfolio_end != title.end:  # "Deputy Director-General for the Coastal Affairs Division Dato' Dr Name"
            return title_text, capitalised_chain(ctx, title.end + 1, allow_comma=False)
        while start < sent_end and start in ctx.honorific_tokens:
            start += 1
        if start in ctx.mention_at:
            start = ctx.mention_at[start].tok_end
        if start < sent_end and doc[start].lower_ in {"of", "at"} and (after := _org_after(ctx, start)):
            return title_text, after
        return title_text, organisation_before_title(ctx, title)[1] or _org_of_list(ctx, title)
    if start < sent_end and doc[start].lower_ in {"of", "at", "to", "for", "in", "with"}:
        chain = _org_after(ctx, start)
        if chain:
            return _portfolio_in_title(title_text, doc[start].lower_, chain)
    if start + 1 < sent_end and doc[start].text == "," and how in {"appositive", "coordinated"}:
        chain = capitalised_chain(ctx, start + 1, allow_comma=True)
        if chain and org_like(chain.text):
            return title_text, chain
    # "at the Harbour Authority as a Pilot Trainee"
    i = title.start - 1
    while i > sent_of(title).start and doc[i].lower_ in {"a", "an", "the"}:
        i -= 1
    if doc[i].lower_ == "as":
        window = range(i - 1, max(sent_of(title).start, i - 24) - 1, -1)
        joined = [j for j in window if doc[j].lower_ in {"joined", "joining", "join", "joins"}]
        for j in joined or [j for j in window if doc[j].lower_ in {"at", "in", "with", "for", "to"}]:
            chain = capitalised_chain(ctx, j + 1, allow_comma=False)
            if chain and org_like(chain.text) and chain.end <= doc[i].idx:
                return title_text, chain  # "joined X at Y as T": X; else the nearest organisation before "as"
    return title_text, organisation_before_title(ctx, title)[1] or _org_of_list(ctx, title)


LIST_INTRO_WINDOW = 8  # tokens between "from" and the colon: "the delegates from the Regional Fisheries Trust:"


def _org_of_list(ctx: Context, title: Span) -> Chain | None:
    """"received the visitors from RFT: DDG Name, Project Officer Name, and ...": every title of a
    list introduced by "from/of ORG:" belongs to that organisation."""
    doc = ctx.doc
    sent = sent_of(title)
    colon = next((i for i in range(title.start - 1, sent.start - 1, -1) if doc[i].text == ":"), None)
    if colon is None or any(doc[i].text in {".", ";"} or (doc[i].is_lower and doc[i].lower_ != "and")
                            for i in range(colon + 1, title.start) if i not in ctx.title_tokens):
        return None
    for i in range(colon - 1, max(sent.start, colon - LIST_INTRO_WINDOW) - 1, -1):
        if doc[i].lower_ in {"from", "of"}:
            start = i + 1 + (doc[i + 1].lower_ == "the")
            chain = capitalised_chain(ctx, start, allow_comma=False)
            if chain and chain.end == doc[colon].idx:
                return chain
            return None
    return None


MAX_PREFIX_ACRONYMS = 2  # "HLO Director", "RFT LCU Chief": longer runs of capitals are headlines


def organisation_before_title(ctx: Context, title: Span) -> tuple[int, Chain | None]:
    """(first token, organisation) of an acronym written just before a title: "Name, HLO Director",
    "RFT Deputy Director Name". Not a title abbreviation ("DSG"), a country, an honorific or part of a name;
    without one, (title start, None)."""
    doc = ctx.doc
    sent_start = sent_of(title).start
    start = title.start
    while start > sent_start and title.start - start < MAX_PREFIX_ACRONYMS and prefix_acronym(ctx, start - 1):
        start -= 1
    if start == title.start:
        return title.start, None
    span = doc[start:title.start]
    return start, Chain(span.text, span.start_char, span.end_char)


def prefix_acronym(ctx: Context, i: int) -> bool:
    """Token ``i`` is an organisation's acronym: capitals, and no title abbreviation, honorific, name or country."""
    token = ctx.doc[i]
    return (len(token.text) >= 2 and token.text.isupper() and token.text.isalpha()
            and token.text not in lexicon()["title_abbreviations"] and i not in ctx.honorific_tokens
            and i not in ctx.mention_at and i not in ctx.title_tokens and ctx.countries_at(i) is None
            and country_iso3(token.text) is None)


def after_portfolio(ctx: Context, title: Span) -> int:
    """Token after the field a title names before its holder ("Deputy Director-General for the Coastal Affairs
    Division Dato' Dr Name"), else after the title; it tells where to look for the holder's name."""
    doc = ctx.doc
    if title.end >= sent_of(title).end:
        return title.end
    preposition = doc[title.end].lower_
    head_word = title[-1].lower_
    if preposition == "for" or (preposition == "of" and (head_word in word_set("portfolio_titles") or title.text.lower().replace(" ", "").endswith("-general"))):
        chain = capitalised_chain(ctx, title.end + 1, allow_comma=False, stop_words={"at", "in", "of"})
        if chain and _is_portfolio(chain.text):
            chain_span = doc.char_span(chain.start, chain.end, alignment_mode="expand")
            if not any(e.label_ in {"GPE", "LOC", "FAC"} for e in entities_over(doc, chain_span.start, chain_span.end)):
                return chain_span.end
    return title.end


MAX_SPLIT_ORG_WORDS = 3  # "ASEAN", "the Council": a longer phrase before "for" is an organisation's own name


def _portfolio_in_title(title_text: str, preposition: str, chain: Chain) -> tuple[str, Chain]:
    """(title, organisation) when the organisation and a portfolio are both stated: "Deputy Director-General of
    RFT for the Coastal Affairs Division" is the title "... for the Coastal Affairs Division" at RFT, and "Minister for
    Trade of Ruritania" the title "Minister for Trade" of Ruritania. Without the second part the portfolio
    stays the organisation, and "Director of the Institute for Peace" names one organisation."""
    text = chain.text
    if preposition == "of" and " for " in text:
        org, portfolio = text.split(" for ", 1)
        if len(org.split()) <= MAX_SPLIT_ORG_WORDS and not org_like(org) and portfolio and not org_like(portfolio):
            return f"{title_text} for {portfolio}", Chain(org, chain.start, chain.start + len(org))
    if preposition == "for" and " of " in text:
        portfolio, org = text.rsplit(" of ", 1)
        if country_iso3(org) and not org_like(portfolio):
            return f"{title_text} for {portfolio}", Chain(org, chain.end - len(org), chain.end)
    return title_text, chain


def organisation_then_portfolio(ctx: Context, title: Span) -> tuple[Chain, Chain | None, int] | None:
    """(organisation, portfolio, token after them) of a title written before its holder with its organisation:
    "Director-General of RFT Dato Name", "Deputy Director-General of RFT for the Coastal Affairs Division Name".
    The organisation is an acronym or a country; None unless a person's name follows."""
    doc = ctx.doc
    sent_end = sent_of(title).end
    i = title.end
    if i + 1 < sent_end and doc[i].lower_ == "for" and (named := _org_before_name(ctx, i + 1)):
        return named
    if i + 1 >= sent_end or doc[i].lower_ != "of":
        return None
    j = i + 1
    while j < sent_end and j - i <= MAX_PREFIX_ACRONYMS and (prefix_acronym(ctx, j) or ctx.countries_at(j)):
        j += 1
    if j == i + 1:
        return None
    org = Chain(doc[i + 1:j].text, doc[i + 1].idx, doc[j - 1].idx + len(doc[j - 1].text))
    portfolio = None
    if j < sent_end and doc[j].lower_ == "for":
        portfolio = capitalised_chain(ctx, j + 1, allow_comma=False)
        if portfolio is None:
            return None
        j = doc.char_span(portfolio.start, portfolio.end, alignment_mode="expand").end
    k = j
    while k < sent_end and k in ctx.honorific_tokens:
        k += 1
    if k in ctx.mention_at and ctx.mention_at[k].tok_start == k:
        return org, portfolio, j
    return None


def _org_before_name(ctx: Context, start: int) -> tuple[Chain, None, int] | None:
    """"Deputy Director-General for the X Affairs Department Name": an organisation (it has an organisation
    word) between a title and the holder's name."""
    chain = capitalised_chain(ctx, start, allow_comma=False)
    if chain is None or not org_like(chain.text):
        return None
    end = ctx.doc.char_span(chain.start, chain.end, alignment_mode="expand").end
    k = end
    while k in ctx.honorific_tokens:
        k += 1
    if k in ctx.mention_at and ctx.mention_at[k].tok_start == k:
        return chain, None, end
    return None


def organisation_chain(ctx: Context, entity: Span) -> Chain:
    """An organisation the model found, with the boundaries this module gives organisations (the leading "the"
    left out, a bracketed acronym after it kept), else as the model has it."""
    chain = capitalised_chain(ctx, entity.start, stop_at_titles=False)
    if chain is not None and chain.start >= entity.start_char:
        return chain
    return Chain(entity.text, entity.start_char, entity.end_char)


def _org_after(ctx: Context, preposition: int) -> Chain | None:
    """The organisation after a title's ``preposition`` ("of", "at", ...); after "in" only an organisation-like one."""
    chain = capitalised_chain(ctx, preposition + 1, skip_lower=4)
    if chain and (ctx.doc[preposition].lower_ != "in" or org_like(chain.text)):
        return chain
    return None


def _is_portfolio(text: str) -> bool:
    """A field of responsibility, not an organisation: no organisation word, acronym or country."""
    words = re.findall(r"[\w'’-]+", text)
    return 0 < len(words) <= 7 and not org_like(text) and not any(w.isupper() and len(w) > 1 for w in words) \
        and country_iso3(text) is None and not any(country_iso3(w) for w in words)


def of_organisation_affiliations(ctx: Context, roles: list[Role]) -> list[Role]:
    """"Mr. Name of BLJ Trading Inc., who runs ...": a person named with "of" and an organisation (one the model
    recognises, or a phrase with an organisation word) is affiliated with it, unless a role already names an
    organisation for them or the "organisation" is a country ("Name of Japan")."""
    doc, out = ctx.doc, []
    org_at = {e.start: e for e in ents_of(doc) if e.label_ == "ORG"}
    for mention in ctx.mentions:
        i = mention.tok_end
        if i + 1 >= len(doc) or doc[i].lower_ != "of" or mention.key is None:
            continue
        first = i + 2 if doc[i + 1].lower_ == "the" else i + 1
        found = _organisation_at(ctx, first, org_at)
        if found is None:
            continue
        org, end = found
        if bracketed_abbreviation_at(doc, end):  # "the Delta Institute (DAI)"
            org, end = f"{org} ({doc[end + 1].text})", end + 3
        acronym = re.search(r"\(([A-Z]{2,})\)$", org)
        for role in roles:
            if acronym and role.person_key == mention.key and role.org == acronym.group(1):
                role.org = org  # "she has worked at DAI since 2015" is that organisation, now named in full
        if any(r.person_key == mention.key and r.org for r in roles + out):
            continue  # an organisation is already known for the person, in whatever words
        out.append(Role(mention.key, ctx.article.article_id, None, org, "current", None, None, mention.start,
                        doc[end - 1].idx + len(doc[end - 1].text), "rule:role/of-organisation"))
    return out


def _organisation_at(ctx: Context, start: int, org_at: dict[int, Span]) -> tuple[str, int] | None:
    """(text, end token) of the organisation starting at token ``start``: the model's, else an organisation-like
    capitalised phrase in the same sentence; never a country."""
    doc = ctx.doc
    if start >= len(doc) or (ctx.countries_at(start) is not None and ctx.countries_at(start).label_ == "COUNTRY"):
        return None
    if (ent := org_at.get(start)) is not None:
        return ent.text, ent.end
    chain = capitalised_chain(ctx, start, allow_comma=False)
    if chain is None or not org_like(chain.text):
        return None
    return chain.text, doc.char_span(chain.start, chain.end, alignment_mode="expand").end
