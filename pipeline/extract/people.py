"""People and their names: where the article names a person, as printed, with the honorifics before it.

A name is a run of capitalised name tokens that is not a title, a country or an honorific. Candidates come
from profile headings, an honorific or a title before a name, names the text describes as a person
("Name, who ...", "Name from Country"), lists of given names, and the model's PERSON entities cleaned of
honorifics and titles (a one-word name needs support). Which person each mention means is coreference's job.
"""
from __future__ import annotations

import re

from spacy.tokens import Doc, Span, Token

from ..patterns import lexicon, load_jsonl
from ..segment import looks_like_name, strip_leading_honorifics
from .context import (CONNECTORS, MODEL, Context, PersonMention, defined_acronyms, entities_over, entity_at, ents_of,
                      sent_of, word_set)


def _is_name_token(token: Token) -> bool:
    """A token that can be part of a name: capitalised (or a particle such as "bin", "van"), letters with inner
    apostrophes, dots or hyphens, and no word the lexicon rules out (organisation words, months, title heads)."""
    text = token.text.strip("'’")
    if not text or not (text[0].isupper() or text.lower() in {"bin", "binti", "van", "de", "da", "di", "le"}):
        return False
    return bool(re.fullmatch(r"[^\W\d_][^\W\d_'’.-]*(?:['’.-][^\W\d_]+)*\.?", text)) and text.lower() not in _non_name_words()


def _name_end(doc: Doc, start: int, limit: int, ctx: Context) -> int:
    """End of the run of name tokens from ``start``; "Ji-yeon" (split by the tokenizer at the hyphen) stays whole."""
    end = start
    while end < limit and end - start < 7:
        token = doc[end]
        glued_hyphen = token.text == "-" and end > start and not doc[end - 1].whitespace_ and not token.whitespace_ \
            and end + 1 < limit and doc[end + 1].is_alpha
        if glued_hyphen:
            end += 2
            continue
        if not _is_name_token(token) or end in ctx.title_tokens or ctx.countries_at(end) or end in ctx.honorific_tokens:
            break
        end += 1
    return end


_NON_NAME: set[str] | None = None


def _non_name_words() -> set[str]:
    """Words never part of a name: the lexicon's non-name, organisation and programme words, months, title heads."""
    global _NON_NAME
    if _NON_NAME is None:
        lex = lexicon()
        months = {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
                  "november", "december"}
        heads = {w for row in load_jsonl("titles") if row["id"] == "title-head" for w in row["pattern"][1]["LOWER"]["IN"]}
        _NON_NAME = {w.lower() for w in lex["not_name_words"] + lex["org_keywords"] + lex["programme_keywords"]} | months | heads
    return _NON_NAME


def find_person_mentions(ctx: Context) -> list[PersonMention]:
    """Person candidates from profile headings, honorific + name, title + name and the NER model."""
    doc, found = ctx.doc, []
    for profile in ctx.profiles:
        span = doc.char_span(profile.name_start, profile.name_end, alignment_mode="expand")
        single_word_heading = span is not None and len(span) == 1 and (profile.heading or "").startswith(span.text + ",")
        bare_heading = span is not None and strip_leading_honorifics((profile.heading or "").strip())[0] == span.text
        if bare_heading and not any(e.label_ == "PERSON" for e in entities_over(doc, span.start, span.end)) \
                and span.start - 1 not in ctx.honorific_tokens:
            continue  # a heading that is only a name must be one the model also reads as a person ("Looking Ahead" is not)
        if span is not None and not (single_word_heading and _named_place_or_body(span)):
            found.append(PersonMention(profile.name_start, profile.name_end, ctx.article.text[profile.name_start:profile.name_end],
                                       "rule:person/profile-heading", honorifics_before(ctx, span.start), tok_start=span.start, tok_end=span.end))
    honorific_starts = sorted(ctx.honorific_tokens)
    for index in honorific_starts:
        if index + 1 in ctx.honorific_tokens:
            continue
        mention = _name_after(ctx, index + 1, "rule:person/honorific-name")
        if mention:
            found.append(mention)
    for title in ctx.titles:
        if title.text[:1].isupper() and title.end < len(doc) and title.end not in ctx.honorific_tokens:
            mention = _name_after(ctx, title.end, "rule:person/title-name", require_ner=True)
            if mention:
                found.append(mention)
            elif (mention := _surname_first_after_title(ctx, title)) is not None:
                found.append(mention)
    for ent in ents_of(doc):
        if ent.label_ != "PERSON":
            continue
        mention = _clean_ner_person(ctx, ent)
        if mention:
            found.append(mention)
    found += _appositive_people(ctx)
    found += _listed_with_people(ctx, found)
    found += _titled_list_members(ctx, found)
    return _dedupe_mentions(found)


TITLE_OBJECT_REACH = 8  # tokens of "of the Ministry of X" between a title and the comma before its holder


def _surname_first_after_title(ctx: Context, title: Span) -> PersonMention | None:
    """"the former Prime Minister of Norway, BRANDVOLD Kari announced": a name after a title (and what it is of),
    set off by a comma, and printed surname first in capitals, the way the region's official texts print
    names. The capitals must not be an acronym the text defines, a country or a title abbreviation."""
    doc = ctx.doc
    sent_end = sent_of(title).end
    comma = title.end
    if comma < sent_end and doc[comma].lower_ in {"of", "for", "to"}:
        comma = next((i for i in range(comma + 1, min(comma + 1 + TITLE_OBJECT_REACH, sent_end)) if doc[i].text == ","), sent_end)
        if any(not (t.text[:1].isupper() or t.lower_ in CONNECTORS) for t in doc[title.end + 1:comma]):
            return None  # a clause, not the name of what the title is of
    start = comma + 1
    while start < sent_end and start in ctx.honorific_tokens:
        start += 1
    if comma >= sent_end or doc[comma].text != "," or start + 1 >= sent_end:
        return None
    surname, given = doc[start], doc[start + 1]
    if not (surname.is_alpha and surname.is_upper and len(surname) > 1 and given.is_title and given.is_alpha) \
            or surname.text in defined_acronyms(doc) or surname.text in lexicon()["title_abbreviations"] \
            or ctx.countries_at(start) is not None or ctx.countries_at(start + 1) is not None \
            or given.lower_ in _non_name_words():
        return None
    return _name_after(ctx, start, "rule:person/title-comma-surname")


MAX_LISTED_NAME_WORDS = 3  # words of one bare name in a list of names joined by "and"


def _listed_with_people(ctx: Context, found: list[PersonMention]) -> list[PersonMention]:
    """"Lina, Marisol, and Ana Teresa are among the volunteers": a list of bare names joined by "and" that opens a
    sentence, one of which is already a person, names people throughout (the model may read a given name as a
    place). "Currently, Name is ..." is no list."""
    doc, out = ctx.doc, []
    starts = {m.tok_start: m for m in found}
    for sent in {sent_of(doc[m.tok_start]) for m in found}:
        conjuncts, i, joined = [], sent.start, False
        while i < sent.end:
            end = _name_end(doc, i, min(sent.end, i + MAX_LISTED_NAME_WORDS), ctx)
            if end == i or (end < sent.end and _is_name_token(doc[end])):
                break
            conjuncts.append((i, end))
            if end < sent.end and doc[end].text == ",":
                end += 1
            if end < sent.end and doc[end].lower_ == "and":
                end, joined = end + 1, True
            if end == conjuncts[-1][1]:
                break
            i = end
        closed = conjuncts and conjuncts[-1][1] < sent.end and doc[conjuncts[-1][1]].is_lower and doc[conjuncts[-1][1]].is_alpha
        if len(conjuncts) < 2 or not joined or not closed or not any(start in starts for start, _ in conjuncts):
            continue
        for start, end in conjuncts:
            span = doc[start:end]
            if start not in starts and looks_like_name(span.text) and not any(ctx.countries_at(j) for j in range(start, end)):
                out.append(PersonMention(span.start_char, span.end_char, span.text, "rule:person/listed", [],
                                         tok_start=start, tok_end=end))
    return out


LIST_END = {".", ";", ")", "!"}


def _titled_list_members(ctx: Context, found: list[PersonMention]) -> list[PersonMention]:
    """"the delegates: DDG Lindqvist, Assistant Project Manager Okafor, and Project Administrative Assistant Suwanna":
    in a list of title + name items, a name the model does not read as a person (often a one-word name) is one
    all the same when the item before it, across the comma or "and", is a title + person too."""
    doc, out = ctx.doc, []
    ends = {m.tok_end: m for m in found}
    starts = {m.tok_start for m in found}
    for title in sorted(ctx.titles, key=lambda span: span.start):
        if not title.text[:1].isupper() or title.end >= len(doc) or title.end in starts:
            continue
        before = title.start - 1
        if before >= 0 and doc[before].lower_ == "and":
            before -= 1
        if before >= 0 and doc[before].text == ",":
            before -= 1
        previous = ends.get(before + 1) if before + 1 < title.start else None
        if previous is None or previous.tok_start - 1 not in ctx.title_tokens:
            continue
        mention = _name_after(ctx, title.end, "rule:person/titled-list")
        # only the list's last item: a word after a title inside the list may be a portfolio ("Commissioner Trade,")
        if mention is not None and mention.tok_end < len(doc) and doc[mention.tok_end].text in LIST_END:
            out.append(mention)
            ends[mention.tok_end] = mention
            starts.add(mention.tok_start)
    return out


def _named_place_or_body(span: Span) -> bool:
    """A heading "Bangkok, Thailand" names a place: the model tags it as one and not as a person."""
    labels = {e.label_ for e in entities_over(span.doc, span.start, span.end)}
    return bool(labels & {"GPE", "LOC", "FAC", "ORG", "NORP"}) and "PERSON" not in labels


def honorifics_before(ctx: Context, tok: int) -> list[str]:
    """The honorifics and styles written right before token ``tok`` ("H.E.", "Dato' Sri", "Dr."), in order."""
    out = []
    i = tok - 1
    title = ctx.title_tokens.get(i)
    if title is not None and title.start - 1 in ctx.honorific_tokens:
        i = title.start - 1  # "H.E. Ambassador Name": the style belongs to the name past the title
    while i >= 0 and i in ctx.honorific_tokens:
        out.insert(0, ctx.doc[i].text)
        i -= 1
    # multi-token honorifics ("Dato' Sri") come as several tokens; glue them
    return _join_honorific_tokens(out)


def _join_honorific_tokens(tokens: list[str]) -> list[str]:
    """Glue the tokens of one multi-word honorific back together: "Dato" "'" "Sri" → "Dato' Sri"."""
    joined: list[str] = []
    for token in tokens:
        if joined and (token in {"'", "’", "Sri", "Seri"} or joined[-1] in {"Tan", "Assoc.", "Associate", "Asst.", "Assistant"}):
            joined[-1] = joined[-1] + ("" if token in {"'", "’"} else " ") + token
        else:
            joined.append(token)
    return joined


def _name_after(ctx: Context, start: int, source: str, require_ner: bool = False) -> PersonMention | None:
    """The name starting at token ``start``, with the honorifics before it; with ``require_ner`` only where the
    model's PERSON starts there too."""
    doc = ctx.doc
    if start >= len(doc):
        return None
    end = _name_end(doc, start, sent_of(doc[start]).end, ctx)
    if end == start:
        return None
    span = doc[start:end]
    if require_ner and not ((ent := entity_at(doc, span.start)) is not None and ent.label_ == "PERSON"):
        return None
    if not looks_like_name(span.text) or span.text.lower() in _non_name_words():
        return None
    return PersonMention(span.start_char, span.end_char, span.text, source, honorifics_before(ctx, start),
                         tok_start=span.start, tok_end=span.end)


def _appositive_people(ctx: Context) -> list[PersonMention]:
    """"Widyastuti, a senior researcher at ...", "Suparman, who comes from ...": a name the text describes as a person."""
    doc, found = ctx.doc, []
    nouns = word_set("person_nouns")
    for sent in doc.sents:
        i = sent.start
        while i < sent.end:
            end = _name_end(doc, i, sent.end, ctx) if _is_name_token(doc[i]) and (i == sent.start or not _is_name_token(doc[i - 1])) else i
            if end == i:
                i += 1
                continue
            span = doc[i:end]
            after = doc[end:min(end + 6, sent.end)]
            described = len(after) >= 2 and after[0].text == "," and (
                after[1].lower_ == "who" or (after[1].lower_ in {"a", "an", "the"} and any(t.lower_ in nouns for t in after[2:])))
            described = described or (len(after) >= 2 and after[0].lower_ == "from" and len(span) >= 2 and any(
                ctx.countries_at(t.i) is not None and ctx.countries_at(t.i).label_ == "COUNTRY" for t in after[1:3]))
            described = described or (len(after) >= 3 and after[0].text == "(" and ctx.countries_at(after[1].i) is not None
                                      and after[2].text == ")" and len(span) >= 2)
            inside_other = ((ent := entity_at(doc, i)) is not None and ent.label_ in {"ORG", "FAC"} and ent.start < i) \
                or (i > sent.start and doc[i - 1].lower_ in CONNECTORS)  # "Institute for Urban Mobility (Malaysia)"
            if described and not inside_other and looks_like_name(span.text) and not any(ctx.countries_at(j) for j in range(i, end)) \
                    and not (span[0].is_sent_start and len(span) == 1 and span[0].is_stop):
                found.append(PersonMention(span.start_char, span.end_char, span.text, "rule:person/appositive",
                                           honorifics_before(ctx, i), tok_start=i, tok_end=end))
            i = end
    return found


def _clean_ner_person(ctx: Context, ent: Span) -> PersonMention | None:
    """The model's PERSON span without honorifics, titles or possessive; rejected if anything else is left over.

    A one-word name needs support (an honorific, a title, a speech verb, "who", or an appositive) and a
    name right after "<title> of" is an organisation the model mistook for a person.
    """
    doc = ctx.doc
    start, end = ent.start, ent.end
    while start < end and (start in ctx.honorific_tokens or start in ctx.title_tokens):
        start += 1
    if end > start and doc[end - 1].text in {"'s", "’s"}:
        end -= 1
    cut = next((i + 1 for i in range(start, end) if "\n" in doc[i].whitespace_), end)
    end = min(end, cut)
    if end == start or _name_end(doc, start, end, ctx) != end:
        return None
    while start > 0 and end - start < 4 and _is_name_token(doc[start - 1]) and not doc[start - 1].is_stop \
            and start - 1 not in ctx.honorific_tokens and start - 1 not in ctx.title_tokens and sent_of(doc[start - 1]) == sent_of(ent) \
            and not _ends_portfolio(doc, start):
        start -= 1
    if start > 0 and doc[start - 1].text in word_set("name_abbreviations") and sent_of(doc[start - 1]) == sent_of(ent):
        start -= 1  # "Ma. Cristina ...", "Mohd. ...": an abbreviated given name, part of the name however long
    span = doc[start:end]
    if any(ctx.countries_at(i) for i in range(span.start, span.end)) or not looks_like_name(span.text):
        return None
    if _organisation_position(ctx, start) or any(t.text in defined_acronyms(doc) for t in span):
        return None
    if len(span) == 1 and (span.text.isupper() or not _single_name_supported(ctx, span)):
        return None
    return PersonMention(span.start_char, span.end_char, span.text, MODEL, honorifics_before(ctx, start),
                         tok_start=span.start, tok_end=span.end)


MAX_PORTFOLIO_WORDS = 8  # a portfolio is a few capitalised words ("of Public Works Name"); a longer run is a list
# of names or a headline, and walking it back from each name made a page of such runs quadratic


def _ends_portfolio(doc: Doc, start: int) -> bool:
    """The capitalised words before ``start`` follow "of"/"for": "Minister of Public Works Name" (a portfolio)."""
    i, first = start, max(0, start - MAX_PORTFOLIO_WORDS)
    while i > first and doc[i - 1].is_title and doc[i - 1].is_alpha:
        i -= 1
    return i < start and i >= 1 and doc[i - 1].lower_ in {"of", "for"}


def _organisation_position(ctx: Context, start: int) -> bool:
    """Right after "Officer of", "Director at", "Universitas" or "a foundation," the model's PERSON is an
    organisation; right after "in" or "near" it is a place ("in Luang Namtha")."""
    doc = ctx.doc
    if start >= 1 and (doc[start - 1].lower_ in {"in", "near"} or
                       (doc[start - 1].text[:1].isupper() and doc[start - 1].lower_ in word_set("org_keywords")
                        and not ((ent := entity_at(doc, start - 1)) is not None and ent.label_ == "ORG" and ent.end == start))):
        return True  # unless the model itself closed an organisation there: "... Community Department Name Name"
    if start >= 2 and doc[start - 1].lower_ in {"of", "at"} and (start - 2 in ctx.title_tokens):
        return True
    if start >= 2 and doc[start - 1].lower_ in {"and", "&", "of", "for"} and start - 1 not in ctx.honorific_tokens and \
            (ent := entity_at(doc, start - 2)) is not None and ent.label_ == "ORG" and ent.end == start - 1:
        return True
    return start >= 2 and doc[start - 1].text == "," and doc[start - 2].lower_ in word_set("org_keywords")


def _single_name_supported(ctx: Context, span: Span) -> bool:
    """A one-word name counts only with support: an honorific or title before it, a speech verb next to it,
    or ", who" / ", a" after it."""
    doc = ctx.doc
    if span.start - 1 in ctx.honorific_tokens or span.start - 1 in ctx.title_tokens:
        return True
    after = doc[span.end:min(span.end + 3, len(doc))]
    speech = word_set("speech_verbs")
    if any(t.lower_ in speech for t in after[:2]) or (len(after) >= 2 and after[0].text == "," and after[1].lower_ in {"who", "a", "an", "the"}):
        return True
    before = doc[max(0, span.start - 2):span.start]
    return any(t.lower_ in speech for t in before)


def _dedupe_mentions(found: list[PersonMention]) -> list[PersonMention]:
    """One mention per stretch of text: the longest at a start wins, then the more explicit rule; an equal
    mention with honorifics lends them to the kept one."""
    priority = {"rule:person/profile-heading": 0, "rule:person/honorific-name": 1, "rule:person/title-name": 2,
                "rule:person/appositive": 3, MODEL: 4}
    found.sort(key=lambda m: (m.start, -(m.end - m.start), priority.get(m.source, 9)))
    kept: list[PersonMention] = []
    for mention in found:
        if kept and mention.start < kept[-1].end:
            if mention.end - mention.start > kept[-1].end - kept[-1].start and mention.start == kept[-1].start:
                kept[-1] = mention
            elif not kept[-1].honorifics and mention.honorifics and (mention.start, mention.end) == (kept[-1].start, kept[-1].end):
                kept[-1].honorifics = mention.honorifics
            continue
        kept.append(mention)
    return kept
