"""Cohorts: the batches and programmes people took part in ("the 9th Batch", "Cohort 3", "participants in
the 2019 Regional Dialogue"), with their years.

A batch belongs to the person named as its member ("the Batch 8 alumnus Name"), before it with words of
taking part ("she joined the 2nd Batch"), or in brackets after the one person of the sentence. An article
whose headline names a programme or batch links its profiled people and self-described participants to it.
A batch's years come from a heading, a card or a date range right after the batch. A title named after a
programme the person finished before publication ("Exchange Fellow") is then a former one.
"""
from __future__ import annotations

import re
from collections import defaultdict
from itertools import takewhile

from spacy.tokens import Span, Token

from ..normalize import batch_number, fold, normalize_date
from ..patterns import lexicon
from ..records import BatchFact, Role
from .context import PRONOUNS, Chain, Context, sent_of, span_source, word_set
from .coreference import focus_person
from .organisations import capitalised_chain


def cohort_facts(ctx: Context, heading_batches: list[BatchFact], batch_spans: list[Span]) -> tuple[list[BatchFact], list[Chain]]:
    """(every batch and programme a person took part in, the programmes named) of the article.

    Batches from headings and prose first; then programmes without a batch that a person's batch does not
    already name; a card's years go to the person's batch; the article's own cohort; missing years last.
    """
    programme_names = programme_mentions_in(ctx)
    numbered = heading_batches + prose_batches(ctx, heading_batches, batch_spans, programme_names)
    numbered_of: dict[str | None, list[BatchFact]] = defaultdict(list)
    for fact in numbered:
        numbered_of[fact.person_key].append(fact)
    batches = numbered + [p for p in programme_participation(ctx) if not _already_in_batch(p, numbered_of[p.person_key])]
    batches = _merge_card_batches(batches)
    batches += link_programmes(ctx, batches, batch_spans, programme_names)
    fill_batch_years(ctx, batches, batch_spans)
    return batches, programme_names


def prose_batches(ctx: Context, heading_batches: list[BatchFact], batch_spans: list[Span],
                  programme_names: list[Chain]) -> list[BatchFact]:
    """Batches named in running text: "the 9th Batch for Young Planners", "she was in Cohort 3 of X"."""
    facts = []
    known = [b.programme for b in heading_batches if b.programme]
    title_block = next((b for b in ctx.article.blocks if b.kind == "title"), None)
    body_names = [c for c in programme_names if title_block is None or c.start >= title_block.end]  # a headline's run on
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
                programme = _programme_name(chain.text, doc[span.end].lower_, body_names)
        holder = _member_after(ctx, span) or _batch_holder_before(ctx, span) or _bracketed_batch_holder(ctx, span)
        start_year, end_year = _years_after(ctx, span)
        facts.append(BatchFact(holder, ctx.article.article_id, programme, batch_number(span.text), start_year, end_year,
                               span.start_char, span.end_char, span_source(span)))
    return facts


def _programme_name(phrase: str, preposition: str, names: list[Chain]) -> str | None:
    """The programme a capitalised phrase after a batch names, or None when it names none.

    A programme the article names elsewhere that begins the phrase is the name ("the 4th Batch of X Programme
    Welcomed in Y", a headline's words run on); a phrase of generic words alone ("of the Programme") names
    none; after "in", a phrase without a programme word is a place ("the 5th Batch in Osaka")."""
    folded = fold(phrase)
    words = folded.split()
    if not set(words) - PROGRAMME_HEADS - {"the", "of", "for", "on", "and"}:
        return None
    starting = [c.text for c in names if fold(c.text) != folded and (folded + " ").startswith(fold(c.text) + " ")]
    if starting:
        return max(starting, key=len)
    if preposition == "in" and not set(words) & PROGRAMME_HEADS and not phrase.isupper():
        return None
    return phrase


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
    """The known programme sharing the most words (at least two) with the words after a batch."""
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
            trigger_start = sent.start_char + at
            for i in range(sent.start, start):
                if i in ctx.mention_at and ctx.mention_at[i].key not in holders and ctx.doc[i].idx < char \
                        and (not trigger.startswith(MEMBER_TRIGGERS) or _said_to_be_member(ctx, i, trigger_start)):
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


MEMBER_TRIGGERS = ("participant", "alumn", "graduate")  # what the person is ("alumna of X"), not did ("attended X")


def _said_to_be_member(ctx: Context, token: int, trigger_start: int) -> bool:
    """Whether only linking words stand between the name at ``token`` and the trigger ("X from Y and Z are the
    participants of", "X, one of the alumni of"), not a verb of the person's own ("President X encourages participants of")."""
    between = takewhile(lambda word: word.idx < trigger_start, ctx.doc[token + 1:])
    return not any(w.is_alpha and w.is_lower and w.lower_ not in word_set("participant_links") for w in between)


MAX_NAME_TOKENS = 15  # words of a programme's name before its head ("ASEAN-Japan Youth Leaders Exchange Programme")
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
    ``found`` holds the phrases of earlier sentences, ``current`` those of this one. A name is at most
    ``MAX_NAME_TOKENS`` before its head, so a page of capitalised words costs linear time.
    """
    doc, found, current, sentence_start = ctx.doc, [], [], None
    for token in doc:
        if token.lower_ not in PROGRAMME_HEADS or not token.text[:1].isupper():
            continue
        if sent_of(token).start != sentence_start:
            found += current
            current, sentence_start = [], sent_of(token).start
        start, first = token.i, max(sent_of(token).start, token.i - MAX_NAME_TOKENS)
        while start > first and (_is_chain_word(doc[start - 1]) or (doc[start - 1].text == "-" and not doc[start - 1].whitespace_)):
            start -= 1
        while start < token.i and doc[start].lower_ in {"the", "a", "an"}:
            start += 1
        end = token.i + 1
        if end < sent_of(token).end and doc[end].lower_ in {"for", "of", "on", "in"} and end + 1 < sent_of(token).end and doc[end + 1].text[:1].isupper():
            tail = capitalised_chain(ctx, end + 1, allow_comma=False, stop_at_titles=False, stop_words={"in"})
            if tail:
                end = ctx.doc.char_span(tail.start, tail.end, alignment_mode="expand").end
        if end + 2 < sent_of(token).end and doc[end].text == "(" and doc[end + 2].text == ")" and doc[end + 1].text.upper() == doc[end + 1].text:
            end += 3  # "... Programme (MRYL-TP)"
        span = doc[start:end]
        if len(span) >= 2:
            # heads come in text order, so only the latest phrases can lie inside this one or hold it: checking
            # those alone keeps a sentence of thousands of capitalised heads linear
            while current and span.start_char <= current[-1].start and current[-1].end <= span.end_char:
                current.pop()
            if not (current and current[-1].start <= span.start_char and span.end_char <= current[-1].end):
                current.append(Chain(span.text, span.start_char, span.end_char))
    found += current
    for match in re.finditer(r"\b(?:project|programme|program|initiative) on (?P<name>[A-Z][^.,;()]{5,120}?)(?=[,.;(]| which| that| funded| supported)",
                             ctx.article.text):
        found.append(Chain(match.group("name").strip(), match.start("name"), match.start("name") + len(match.group("name").strip())))
    return found


def _is_chain_word(token: Token) -> bool:
    """A word that can be part of a programme's name before its head word."""
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
        if fact.programme is None and (fact.person_key or len(counts) == 1) and fact.batch is not None:
            fact.programme = main.text  # a batch nobody is tied to, too, when the article names no other programme
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
    for fact in batches:  # an article about a cohort: its batches (and a card's "Period") are of its programme
        if fact.programme is None and (fact.person_key or fact.batch is not None):
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
