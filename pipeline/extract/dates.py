"""Dates: which date spans are dates, their values, and the start and end they give a person's role.

Years that are part of a name ("Vision 2040") or a count ("2000 participants") are dropped. A role's dates
come from its sentence ("since D", "from D1 to D2", "until D", "in D" with a change verb), from a term
("will each hold a two-year mandate from 2022 to 2023"), from taking office "today" (the article's date), and
from the career's order: a post ends when the person's next one begins.
"""
from __future__ import annotations

import re
from collections import defaultdict
from typing import TYPE_CHECKING

from spacy.tokens import Span

from ..normalize import _first_last, _iso, normalize_date  # _first_last, _iso: the shared calendar helpers
from ..records import DateFact, PartialDate, Role
from .context import Context, profile_id_at, sent_of, span_source, status_cue, without_positions, word_set
from .coreference import focus_person

if TYPE_CHECKING:
    from .roles import RoleDraft


def keep_date(ctx: Context, span: Span) -> bool:
    """Drop years that are part of a name ("Blueprint 2030", "Vision 2040") or a count ("2000 participants")."""
    doc = ctx.doc
    if span.id_ == "date-month-alone":
        return span.start > 0 and doc[span.start - 1].lower_ in _MONTH_LEADS
    if span.id_ not in {"date-year", "date-year-range", "date-year-range-token"}:
        return True
    prev = doc[span.start - 1] if span.start > 0 else None
    nxt = doc[span.end] if span.end < len(doc) else None
    if prev is not None and not prev.is_sent_start and prev.text[:1].isupper() and prev.lower_ not in _DATE_LEADS \
            and sent_of(prev) == sent_of(span) and not ctx.countries_at(prev.i):
        return False
    if nxt is not None and (nxt.text in {"%", "-year", "km"} or nxt.lower_ in {"participants", "people", "students", "members", "delegates", "units", "persons", "km", "hectares"}):
        return False
    return True


_MONTH_LEADS = {"in", "since", "until", "till", "by", "during", "from", "last", "next", "this", "early", "late", "before",
                "after", "of", "to", "and", "through"}
_DATE_LEADS = {"in", "since", "from", "by", "until", "during", "the", "of", "early", "late", "mid", "before", "after",
               "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
               "november", "december"}


def date_facts(ctx: Context) -> list[DateFact]:
    """A row for every kept date whose value can be read, with the profile it falls in."""
    article = ctx.article
    return [DateFact(article.article_id, profile_id_at(ctx, d.start_char), d.text, d.start_char, d.end_char, value,
                     span_source(d))
            for d in ctx.dates if (value := normalize_date(d.text, article.published))]


def partial_date(iso: str) -> PartialDate:
    """The ``PartialDate`` of an ISO date of any precision ("2019", "2019-06", "2019-06-30")."""
    parts = [int(p) for p in iso.split("-")]
    year, month, day = (parts + [None, None])[:3]
    first, last = _first_last(year, month, day)
    precision = "year" if month is None else "month" if day is None else "day"
    return PartialDate(_iso(year, month, day), _iso(year, month, day), first, last, precision)


CHANGE_VERBS = {"promoted", "appointed", "named", "elected", "designated", "started", "assumed", "joined", "became",
                "become", "began", "took", "moved", "transferred", "hired", "recruited", "seconded"}
DATE_REACH = 12  # tokens between a title and a date that can still belong to it


def dates_for_role(ctx: Context, title: Span, draft: RoleDraft, cue_start: int) -> None:
    """Start/end from the same sentence: "since D", "from D1 to D2", "until D", or "in D" with a change verb.

    Of the dates in reach, the one nearest the title wins ("has worked at X since 2015 and previously
    served as Y from 2010 to 2015": Y gets 2010-2015).
    """
    doc = ctx.doc
    sent = sent_of(title)
    window = doc[cue_start:title.start].text.lower()
    clause = without_positions(doc[max(sent.start, title.start - DATE_REACH):title.start].text.lower())
    ending = bool(status_cue("ending_verbs").search(clause))  # "retired on 30 June 2021 as Director"
    change = ending or any(verb in clause.split() for verb in CHANGE_VERBS)
    promoted_from = bool(re.search(r"\b(promoted|moved|transferred)\s+from\b", window) and not re.search(r"\bto\b", window)) \
        or ending
    draft.promotion = bool(re.search(r"\b(promoted|appointed|elected|named)\b", window))

    def distance(date: Span) -> int:
        return title.start - date.end if date.end <= title.start else date.start - title.end

    if (labelled := _labelled_start(ctx, title, sent)) is not None:
        draft.role.start = labelled  # "Name (date of commencement: 15 February 2015)": the post's start, said so
        return
    reach = len(sent) if draft.promotion or promoted_from else DATE_REACH  # "promoted from X to Y in 2022"
    # a date that opens the sentence ("From October 2018 to September 2019 she was ...") covers all of it
    opening = sent.start + 2
    near = [d for d in ctx.dates_in_sentence(sent) if (distance(d) <= reach or d.start <= opening)
            and not _quote_between(ctx, title, d)]
    if any(d.start <= opening for d in near):
        change = change or any(t.lower_ in CHANGE_VERBS for t in doc[sent.start:title.start])
    for date in sorted(near, key=distance):
        value = normalize_date(date.text, ctx.article.published)
        if value is None:
            continue
        lead = doc[date.start - 1].lower_ if date.start > sent.start else ""
        ranged = date.text.lower().startswith(("from", "between")) or value.start != value.end
        if lead in {"since", "from"} or (ranged and date.text.lower().startswith(("from", "between"))):
            draft.role.start = partial_date(value.start)
            if ranged:
                draft.role.end = partial_date(value.end)
                draft.stint = True
            if lead == "since" and draft.strength < 2:
                draft.role.status = "current"
        elif lead in {"until", "till"}:
            draft.role.end = partial_date(value.end)
        elif change and lead in {"in", "last", "on", "during", "of", ",", "early", "late", "by", ""}:
            if promoted_from:
                draft.role.end = partial_date(value.end)
            else:
                draft.role.start = partial_date(value.start)
        else:
            continue
        return


LABEL_REACH = 4  # words of a label before its colon ("date of commencement:")


def _labelled_start(ctx: Context, title: Span, sent: Span) -> PartialDate | None:
    """The date after a start label and a colon ("date of commencement: D", "assumed office: D") following the
    title in its sentence, as the role's start; None without one."""
    labels = status_cue("start_labels")
    for date in ctx.dates_in_sentence(sent):
        if date.start <= title.end or date.start < 2 or ctx.doc[date.start - 1].text != ":":
            continue
        if any(i in ctx.title_tokens for i in range(title.end, date.start)):
            return None  # another title stands between: the label is that one's
        label = ctx.doc[max(sent.start, date.start - 1 - LABEL_REACH):date.start - 1].text.lower()
        if labels.search(label) and (value := normalize_date(date.text, ctx.article.published)) is not None:
            return partial_date(value.start)
    return None


def _quote_between(ctx: Context, title: Span, date: Span) -> bool:
    """A date inside a quotation is the speaker's topic, not the speaker's appointment."""
    start, end = sorted((title.end_char, date.start_char))
    return any(mark in ctx.article.text[start:end] for mark in ("“", "”", '"'))


def sequence_career(drafts: list[RoleDraft]) -> None:
    """A role is over once a later one began: "joined as X in 2009 ... appointed Y in February 2012".

    Of a person's dated titled roles, each one followed by a later start becomes former and ends when the
    next begins, unless the text says it is still held ("currently", "is", "serves").
    """
    by_person: dict[str, list[RoleDraft]] = defaultdict(list)
    for draft in drafts:
        if draft.role.start is not None:
            by_person[draft.role.person_key].append(draft)
    for items in by_person.values():
        items.sort(key=lambda d: (d.role.start.start_date, d.role.char_start))
        for index, earlier in enumerate(items):
            if earlier.role.title is None or status_cue("present_words").search(earlier.role.trigger.lower()):
                continue  # working for an organisation goes on while its titles change; "is" / "currently" is stated
            # the next post that replaces it: not a bounded stint ("seconded from 2018 to 2019") or an added one ("also")
            later = next((d for d in items[index + 1:] if d.role.start.start_date > earlier.role.start.start_date
                          and not d.stint and not re.search(r"\balso\b", d.role.trigger.lower())), None)
            if later is not None:
                earlier.role.status = "former"
                earlier.role.end = earlier.role.end or later.role.start


def end_previous_in_sentence(ctx: Context, roles: list[Role]) -> None:
    """"previously Deputy Director ..., who became its Director on 1 July 2021": the earlier post ended then."""
    sentence_of = {}
    same_sentence: dict[tuple[str, int | None], list[Role]] = defaultdict(list)  # one person's roles in one sentence
    for role in roles:
        span = ctx.doc.char_span(role.char_start, role.char_start + 1, alignment_mode="expand")
        sentence_of[id(role)] = sent_of(span).start if span is not None else None
        same_sentence[(role.person_key, sentence_of[id(role)])].append(role)
    for earlier in roles:
        if earlier.status != "former" or earlier.end is not None or earlier.start is not None:
            continue
        later = [r for r in same_sentence[(earlier.person_key, sentence_of[id(earlier)])] if r is not earlier
                 and r.start is not None and r.char_start > earlier.char_start]
        if later:
            earlier.end = min(later, key=lambda r: r.char_start).start


def took_office_today(ctx: Context, roles: list[Role]) -> None:
    """"Today, Deputy Secretary-General ... Name took office", "Name assumed the post of X today": the current
    roles named in that sentence begin on the article's date."""
    published = ctx.article.published
    if published is None:
        return
    phrases = word_set("office_taking_phrases")
    for sent in ctx.doc.sents:
        lowered = sent.text.lower()
        if not re.search(r"\btoday\b", lowered) or not any(phrase in lowered for phrase in phrases):
            continue
        for role in roles:
            if role.status == "current" and role.start is None and sent.start_char <= role.char_start < sent.end_char:
                role.start = partial_date(published.isoformat())


TERM_WORDS = {"term", "tenure", "mandate"}


def term_dates(ctx: Context, roles: list[Role]) -> None:
    """"Ms Name's four-year mandate runs from 1 March 2016 to 28 February 2020", "Name and Name will each
    hold a two-year mandate from 2022 to 2023": a term's range dates the current role of each person named before
    it (or of "his"/"her" person), when that role is the person's only undated current one."""
    doc = ctx.doc
    for date in ctx.dates:
        sent = sent_of(date)
        term = next((t.i for t in doc[sent.start:date.start] if t.lower_ in TERM_WORDS), None)
        if term is None:
            continue
        value = normalize_date(date.text, ctx.article.published)
        if value is None or value.start == value.end:
            continue
        # the clause of the term: "Following ... led by Name, Name and Name will each serve a term from ..."
        clause = max((t.i + 1 for t in doc[sent.start:term] if t.text in {",", ";"}), default=sent.start)
        people = {ctx.mention_at[i].key for i in range(clause, date.start) if i in ctx.mention_at}
        pronoun = next((t for t in doc[clause:date.start] if t.lower_ in {"his", "her"}), None)
        if not people and pronoun is not None and (holder := focus_person(ctx, pronoun.idx, pronoun.text)):
            people = {holder}
        for key in people:
            current = [r for r in roles if r.person_key == key and r.status == "current" and r.end is None
                       and (r.start is None or r.start.start[:4] == value.start[:4])]
            if len(current) == 1:
                role = current[0]
                if role.start is None or len(role.start.start) <= len(value.start):  # keep the more precise start
                    role.start = partial_date(value.start)
                role.end = partial_date(value.end)
