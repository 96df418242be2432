"""Roles: who holds which title, at which organisation, with what status (current, former, unknown).

Linking works first on tokens and sentences: a title belongs to the person it directly precedes ("Ambassador
Name") or follows as an appositive ("Name, Title of Org"), to the nearest person or pronoun before it when a
verb cue ("is", "was promoted to", "served as") sits within a few tokens, or, as "the Rector", to the person
the section is about. Where those find no holder (or no organisation), the dependency parse may
(``syntax``: "Name, whose team worked with Ms. Y, was appointed Director"). A title joined to the previous one by "and" shares its
holder. Drafts of the same post merge into one role per person, title and organisation.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from spacy.tokens import Span

from ..nlp import MAX_PARSED_SENTENCE_TOKENS
from ..normalize import fold, normalize_date
from ..patterns import lexicon
from ..records import Role
from .acronyms import bracketed_abbreviation_at
from .context import PRONOUNS, Context, defined_acronyms, printed_end, sent_of, span_source, status_cue, without_positions, word_set
from .coreference import focus_person
from .dates import CHANGE_VERBS, DATE_REACH, dates_for_role, partial_date, sequence_career
from .organisations import (after_portfolio, capitalised_chain, org_like,
                            organisation_before_title, organisation_chain, organisation_then_portfolio,
                            title_and_organisation)
from .syntax import links_by_title, parsed_dep


CUE_WORDS = {"is", "was", "are", "were", "be", "been", "being", "became", "become", "becomes", "as", "to", "from",
             "promoted", "appointed", "named", "elected", "designated", "serves", "served", "serving", "works",
             "worked", "working", "holds", "held", "joined", "now", "currently", "also", "again", "started", "starts",
             "assumed", "took", "up", "remains", "remained", "into", "continues", "then", "presently"}
BLOCKING_PREPOSITIONS = {"by", "with", "among", "including", "like", "than", "through", "via", "under", "between"}
# tokens back from a title to its verbal holder: as far as a sentence the parser reads (the longest title sentence of
# the gold sets has 134), so an unpunctuated run of thousands of titles is not searched whole from each of them
VERBAL_REACH = MAX_PARSED_SENTENCE_TOKENS
CUE_WINDOW = 7  # tokens before a title in which a verb cue ("was promoted to") ties it to the person before
AFFILIATION = re.compile(r"\b(?:working|worked|works|work)\s+(?:for|at|with|in)\s+$", re.I)


@dataclass
class RoleDraft:
    """A role as one rule read it, before the drafts of the same post are merged."""

    role: Role
    strength: int  # how explicit the status is: 2 stated, 1 default, 0 unknown
    promotion: bool = False
    stint: bool = False  # start and end given together ("seconded from October 2018 to September 2019")


def link_roles(ctx: Context) -> list[RoleDraft]:
    """Attach every title span to its holder; organisation, status and dates from the same sentence."""
    drafts: list[RoleDraft] = []
    previous: RoleDraft | None = None
    parse_holders, parse_organisations = links_by_title(ctx)
    for title in sorted(ctx.titles, key=lambda t: t.start):
        link = _holder(ctx, title)
        parsed = parse_holders.get(title.start)
        if parsed and (link is None or (link[1] == "verbal" and link[0] != parsed[0] and _same_verb(ctx, link[2], parsed[2])
                                        and not _coordinated_subject(ctx, title))):
            # what the words around a title miss, the parse may tie; and where the nearest person before the verb
            # is not its subject ("X, with Y and Z, joined ... as"), the parse knows better, if it read that verb
            key, pattern_id, cue = parsed
            link = key, f"dep:{pattern_id}", cue
        coordinated = link is None and _coordinated(ctx, previous, title)
        if link is None and not coordinated:
            continue
        holder, how, cue_start = link or (previous.role.person_key, "coordinated", title.start)
        if title.text.lower() in {"professor"} and how == "title-before-name":
            continue
        if _at_an_event(ctx, title):
            continue
        title_text, org = title_and_organisation(ctx, title, how)
        org_how = ""
        if org is None and title.start in parse_organisations:
            org, org_how = organisation_chain(ctx, parse_organisations[title.start]), "+dep:organisation-of"
        status, strength = (previous.role.status, previous.strength) if coordinated else _status(ctx, title, how, cue_start)
        draft = RoleDraft(Role(
            person_key=holder, article_id=ctx.article.article_id, title=title_text, org=org.text if org else None,
            status=status, start=None, end=None, char_start=min(title.start_char, org.start if org else title.start_char),
            char_end=max(printed_end(ctx.article.text, title_text, title.start_char, title.end_char),
                         org.end if org else title.end_char), source=f"{span_source(title)}+{how}{org_how}",
            trigger=_cue_text(ctx, cue_start, title.start)), strength)
        dates_for_role(ctx, title, draft, cue_start)
        drafts.append(draft)
        previous = draft
        ctx.linked_titles.append((title, holder, draft.role.source))
    drafts.extend(_affiliations(ctx))
    return drafts


EVENT_OBJECT_REACH = 3  # words between "of/at the" and the event noun ("of the joint technical session")


def _at_an_event(ctx: Context, title: Span) -> bool:
    """"was the facilitator of the joint session", "moderator of the panel": a part played at one event (a
    lower-case event noun after "of/at/for the"), not a post the person holds."""
    doc, i = ctx.doc, title.end
    if i + 1 >= len(doc) or doc[i].lower_ not in {"of", "at", "for"} or doc[i + 1].lower_ not in {"the", "a", "this", "that"}:
        return False
    events = word_set("event_nouns")
    for token in doc[i + 2:min(len(doc), i + 2 + EVENT_OBJECT_REACH)]:
        if not token.is_lower:
            return False  # a capitalised name follows: an organisation or a named body, not an event
        if token.lemma_ in events or token.lower_ in events:
            # the event noun must end the phrase: "the training institute", "the panel of experts" are bodies
            after = doc[token.i + 1] if token.i + 1 < len(doc) else None
            return after is None or not (after.is_alpha and (after.pos_ in {"NOUN", "PROPN"} or after.lower_ == "of"))
    return False


def _coordinated_subject(ctx: Context, title: Span) -> bool:
    """The nearest person before ``title`` is coordinated with another ("X, ..., and Y, ..., served as"): the
    verb is both people's, and the nearest one is the verbal rule's reading."""
    for i in range(title.start - 1, sent_of(title).start - 1, -1):
        if i in ctx.mention_at:
            mention = ctx.mention_at[i]
            return parsed_dep(ctx.doc, ctx.doc[mention.tok_start:mention.tok_end]) == "conj"
    return False


def _same_verb(ctx: Context, cue: int, parsed_verb: int) -> bool:
    """The verbal rule's cue ("joined ... as", "was appointed") contains the verb the parse tied the title
    through: both read the same clause. Where the parse took another clause's verb, it is not trusted."""
    end = next((i for i in range(cue, sent_of(ctx.doc[cue]).end) if i in ctx.title_tokens), cue + 1)
    return cue <= parsed_verb < end


# What may stand between two coordinated titles: a comma, "and", "as well as", an article, and one capitalised
# word in brackets: the first title's abbreviation ("Deputy Director-General (DDG) and Programme Manager") or what
# a name printed with it adds ("Director of the Harbour Trust (Singapore) and the Secretary of ...").
COORDINATION_GAP = re.compile(r"\s*(?:\(\s*[A-Z][\w.&-]*\s*\)\s*)?(?:,|,?\s*and|,?\s*as well as)\s*(?:(?:the|a|an|also)\s+)*")


def _coordinated(ctx: Context, previous: RoleDraft | None, title: Span) -> bool:
    """"Advisor to X and the Chair of Y": a title joined by "and"/"," to the previous linked one shares its holder."""
    if previous is None or previous.role.char_end > title.start_char:
        return False
    if sent_of(ctx.doc.char_span(previous.role.char_start, previous.role.char_end, alignment_mode="expand")) != sent_of(title):
        return False
    between = ctx.article.text[previous.role.char_end:title.start_char]
    return bool(COORDINATION_GAP.fullmatch(between))


def _holder(ctx: Context, title: Span) -> tuple[str, str, int] | None:
    """(person key, how linked, first token of the cue) of the person holding ``title``, tried in this order:
    title before a name, appositive, reversed appositive, reference ("the Rector"), a verb cue after a person."""
    doc = ctx.doc
    sent = sent_of(title)
    # title before a name: "Ambassador Lind", "DSG Tanaka", "Deputy Secretary-General Name",
    # "Director-General of RFT Name", "Deputy Director-General of RFT for the Coastal Affairs Division Name"
    split = organisation_then_portfolio(ctx, title)
    nxt = split[2] if split else after_portfolio(ctx, title)
    while nxt < sent.end and nxt in ctx.honorific_tokens:
        nxt += 1
    if nxt < sent.end and nxt in ctx.mention_at and title.text[:1].isupper() and nxt == ctx.mention_at[nxt].tok_start:
        return ctx.mention_at[nxt].key, "title-before-name", title.start
    # appositive: "Name, Title of Org" / "Name, the Title" / "Name, Org Title" (the organisation before the title)
    prefix_start, _ = organisation_before_title(ctx, title)
    prev = prefix_start - 1
    while prev > sent.start and (doc[prev].lower_ in APPOSITIVE_FILLERS or _demonym_at(ctx, prev)):
        prev -= 1  # "Name, a former Philippine Minister of Trade"
    if prev > sent.start and doc[prev].text == ",":
        named = _name_before_comma(ctx, prev)
        if named is not None:
            return named, "appositive", title.start
    # reversed appositive: "the first Executive Director, the late Mr. X" (not "her supervisor, Mr. X": a relation),
    # also past what the title is of: "Indonesia's Minister of Finance, Name, said"
    after = _after_title_object(ctx, title)
    if after < sent.end and doc[after].text == "," and not (title.start > sent.start and doc[title.start - 1].lower_ in POSSESSIVES):
        after += 1
        while after < sent.end and (doc[after].lower_ in {"the", "late"} or after in ctx.honorific_tokens):
            after += 1
        if after in ctx.mention_at and ctx.mention_at[after].tok_start == after and \
                (after + len(doc[ctx.mention_at[after].tok_start:ctx.mention_at[after].tok_end]) >= sent.end
                 or doc[ctx.mention_at[after].tok_end].text in {".", ",", ";", "("}
                 or (_verb_after_name(doc[ctx.mention_at[after].tok_end]) and _opens_clause(ctx, title))):
            return ctx.mention_at[after].key, "appositive", title.start
    # reference: "the Rector said", "the former Exchange Fellow added", "the HLO Director said"
    before = doc[prefix_start - 1].lower_ if prefix_start > sent.start else ""
    before2 = doc[prefix_start - 2].lower_ if prefix_start - 1 > sent.start else ""
    after_i = title.end + 3 if bracketed_abbreviation_at(doc, title.end) else title.end  # "the Secretary-General (SG) of X"
    after = doc[after_i] if after_i < sent.end else None
    if (before == "the" or (before == "former" and before2 == "the")) and not (after is not None and after.lower_ in {"of", "at", "for", "to", "in"}):
        holder = _reference_holder(ctx, title)
        if holder:
            return holder, "reference", title.start
        return None
    # verbal: nearest person or pronoun before, with a cue word between it and the title, close to the title
    if before in BLOCKING_PREPOSITIONS or (before in {"a", "an", "former"} and before2 in BLOCKING_PREPOSITIONS):
        return None
    reach = max(sent.start, title.start - VERBAL_REACH)
    for i in range(title.start - 1, reach - 1, -1):
        possessive = doc[i].lower_ in {"his", "her"} and any(j in ctx.mention_at or doc[j].lower_ in {"he", "she"}
                                                             for j in range(reach, i))
        if i in ctx.mention_at or (doc[i].lower_ in PRONOUNS and not possessive):
            window_start = max(i + 1, title.start - CUE_WINDOW)
            cues = [t.i for t in doc[window_start:title.start] if t.lower_ in CUE_WORDS and not
                    (t.lower_ in {"to", "from"} and not any(v.lower_ in CHANGE_VERBS for v in doc[i + 1:t.i]))]
            if not cues:
                return None
            holder = ctx.mention_at[i].key if i in ctx.mention_at else focus_person(ctx, doc[i].idx, doc[i].text)
            return (holder, "verbal", cues[0]) if holder else None
    return None


def _after_title_object(ctx: Context, title: Span) -> int:
    """Token after "of/to/for X" following a title ("Minister of Finance", "Ambassador to Japan"), else after the title."""
    doc, end = ctx.doc, title.end
    if end + 1 < sent_of(title).end and doc[end].lower_ in {"of", "to", "for"}:
        start = end + 1 + (doc[end + 1].lower_ == "the")
        chain = capitalised_chain(ctx, start, allow_comma=False) if start < len(doc) else None
        if chain is not None:
            return doc.char_span(chain.start, chain.end, alignment_mode="expand").end
    return end


def _verb_after_name(token) -> bool:
    """"the Director, Name said / announced": a lower-case word after the name, not one joining another name."""
    return token.is_lower and token.is_alpha and token.lower_ not in {"and", "or", "of", "from", "with", "in", "at"}


def _opens_clause(ctx: Context, title: Span) -> bool:
    """The title (with "the", "former") starts its sentence or follows a comma: the subject of what the name
    after it does ("At the summit, the former Minister of X, Name announced"), not the object of a preposition
    ("her meeting with the Secretary-General, Name also ...")."""
    doc, i = ctx.doc, title.start
    while i > sent_of(title).start and doc[i - 1].lower_ in {"the", "former", "then", "late"}:
        i -= 1
    return i == sent_of(title).start or doc[i - 1].text == ","


def _demonym_at(ctx: Context, index: int) -> bool:
    """Token ``index`` is part of a demonym ("Philippine", "Thai")."""
    span = ctx.countries_at(index)
    return span is not None and span.label_ == "DEMONYM"


POSSESSIVES = {"her", "his", "their", "my", "our", "your", "its"}
APPOSITIVE_FILLERS = {"the", "a", "an", "another", "former", "current", "currently", "newly", "appointed", "then", "previously",
                      "formerly", "now", "also", "recently"}


def _name_before_comma(ctx: Context, comma: int) -> str | None:
    """The person an appositive after ``comma`` describes: "Name, Title", "Name from (the) Country, Title"."""
    doc = ctx.doc
    i = comma - 1
    country = ctx.countries_at(i)
    if country is not None:
        i = country.start - 1
        while i >= 0 and doc[i].lower_ in {"the", "from"}:
            i -= 1
        if i >= 0 and i in ctx.mention_at and doc[country.start - 1].lower_ in {"from", "the"}:
            return ctx.mention_at[i].key
        return None
    return ctx.mention_at[i].key if i in ctx.mention_at else None


def _reference_holder(ctx: Context, title: Span) -> str | None:
    """Who "the Rector" is: the section's person, else the person in focus there."""
    profile = ctx.locate(title.start_char)
    if profile and profile.profile_id in ctx.profile_person:
        return ctx.profile_person[profile.profile_id]
    return focus_person(ctx, title.start_char)


def _cue_text(ctx: Context, cue_start: int, title_start: int) -> str:
    """The words from the cue to the title ("was promoted to"), kept as the role's ``trigger``."""
    return ctx.doc[cue_start:title_start].text if cue_start < title_start else ""


def _status(ctx: Context, title: Span, how: str, cue_start: int) -> tuple[str, int]:
    """(status, strength): strength 2 when the text says it, 1 for the default, 0 for a bare reference."""
    doc = ctx.doc
    if fold(title.text) in {fold(t) for t in lexicon()["timeless_titles"]}:
        return "unknown", 2
    sent = sent_of(title)
    near = without_positions(doc[max(sent.start, title.start - 3):title.start].text.lower())
    if status_cue("former_near").search(near) or status_cue("former_sentence").search(without_positions(doc[sent.start:title.start].text.lower())) \
            or "the late" in doc[title.end:min(sent.end, title.end + 4)].text.lower():
        return "former", 2  # "... Executive Director, the late Mr. X"
    if how == "reference":
        return "unknown", 0
    window = doc[max(sent.start, cue_start - 2):title.start].text.lower() if cue_start < title.start else ""
    if re.search(status_cue("appointment_verbs").pattern + r"\s+from\b", window) and not re.search(r"\bto\b", window):
        return "former", 2  # "promoted from X (to Y)": X is over
    clause = without_positions(doc[max(sent.start, title.start - DATE_REACH):title.start].text.lower())
    if status_cue("ending_verbs").search(clause) and not status_cue("starting_verbs").search(window):
        return "former", 2  # "retired on 30 June 2021 as Director"
    if status_cue("starting_verbs").search(window):
        return "current", 2
    if status_cue("present_words").search(window + " " + near):
        return "current", 2
    if status_cue("unknown_verbs").search(window):
        return "unknown", 1
    if status_cue("past_verbs").search(window):
        return "former", 2
    return "current", 1


def _affiliations(ctx: Context) -> list[RoleDraft]:
    """"Since working for the Ministry of X in 1996": an affiliation without a stated title."""
    drafts = []
    doc = ctx.doc
    for token in doc:
        if token.lower_ not in {"for", "at", "with"} or token.i < 1:
            continue
        prefix = doc[max(sent_of(token).start, token.i - 1):token.i + 1].text
        if not AFFILIATION.search(prefix + " "):
            continue
        if doc[token.i - 1].i > 0 and doc[token.i - 2].lower_ in {"their", "his", "her", "my", "our", "your", "its"}:
            continue
        chain = capitalised_chain(ctx, token.i + 1)
        if chain is None or not (org_like(chain.text) or chain.text in defined_acronyms(doc)) \
                or (len(chain.text.split()) < 2 and not chain.text.isupper()):
            continue
        holder = None
        for i in range(token.i - 1, sent_of(token).start - 1, -1):
            if i in ctx.mention_at:
                holder = ctx.mention_at[i].key
                break
        holder = holder or focus_person(ctx, token.idx)
        if holder is None:
            continue
        sentence = sent_of(token).text.lower()
        since = sentence.startswith("since") or " since " in sentence[: token.idx - sent_of(token).start_char + 5]
        status = "current" if since or re.search(r"\b(works|is working|has worked|has been working)\b", sentence) else "former" if "worked" in sentence else "unknown"
        draft = RoleDraft(Role(holder, ctx.article.article_id, None, chain.text, status, None, None,
                               doc[token.i - 1].idx, chain.end, "rule:role/affiliation", trigger=prefix), 2 if status != "unknown" else 0)
        for date in (d for d in ctx.dates_in_sentence(sent_of(token)) if d.end <= sent_of(token).end):
            value = normalize_date(date.text, ctx.article.published)
            if value and doc[date.start - 1].lower_ in {"in", "since", "from"}:
                draft.role.start = partial_date(value.start)
                break
        drafts.append(draft)
    return drafts


def merge_roles(drafts: list[RoleDraft]) -> list[Role]:
    """One role per (person, title, organisation): a role without organisation joins the one with it."""
    merged: list[RoleDraft] = []
    # the same drafts by person and title (as ``_same_title`` compares them), so each looks only at its own
    merged_of: dict[tuple[str, str | None], list[RoleDraft]] = defaultdict(list)
    for draft in sorted(drafts, key=lambda d: (d.role.org is None, d.role.char_start)):
        role = draft.role
        bucket = (role.person_key, None if role.title is None else fold(role.title))
        same = next((m for m in merged_of[bucket] if _same_title(m.role.title, role.title)
                     and (role.org is None or m.role.org is None or _same_org(m.role.org, role.org))
                     and not (role.title is None and m.role.org is None)), None)
        if same is None and role.org is None and any(m.role.person_key == role.person_key and
                                                     _portfolio_title_of(m.role.title, role.title) for m in merged):
            continue  # a short reference to the portfolio title; its status and dates may be another post's
        if same is None:
            merged.append(draft)
            merged_of[bucket].append(draft)
            continue
        target = same.role
        if target.org is None and role.org:
            target.org = role.org
        if draft.strength > same.strength:
            target.status, same.strength = role.status, draft.strength
        target.start = target.start or role.start
        target.end = target.end or role.end
        same.promotion = same.promotion or draft.promotion
    sequence_career(merged)
    return [d.role for d in merged]


def _same_title(a: str | None, b: str | None) -> bool:
    """Both titles are the same once folded, or both are absent."""
    if a is None or b is None:
        return a is None and b is None
    return fold(a) == fold(b)


def _portfolio_title_of(full: str | None, short: str | None) -> bool:
    """"Minister" later in the text is the "Minister for Trade" named before (see _portfolio_in_title)."""
    return bool(full and short) and fold(full).startswith(fold(short) + " for ")


def _same_org(a: str, b: str) -> bool:
    """One organisation's name, without a leading "the", contains the other's."""
    strip = lambda s: re.sub(r"^the\s+", "", fold(s))  # noqa: E731
    return strip(a) == strip(b) or strip(a) in strip(b) or strip(b) in strip(a)
