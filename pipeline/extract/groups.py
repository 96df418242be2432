"""Titles given to a group at once: "three RFT fellows from the region, Ms. A of X University, Mr. B of Y
College, and Ms. C of Z Institute", "the two new Programme Officers, A and B", "Deputy Directors-General (DDG)
A and B". The plural title names each person of the list after it; each gets the title in the singular and
the organisation printed after their own name with "of". The title patterns see singular titles only, so
these lists are read here, from the same head words the patterns use.
"""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from spacy.tokens import Token

from ..patterns import load_jsonl
from ..records import Role
from .context import Chain, Context, PersonMention, sent_of
from .organisations import capitalised_chain, org_like, prefix_acronym
from .roles import RoleDraft

HEAD_PATTERNS = ("title-head", "title-head-ambiguous-modified")  # their required word is a title's head noun
MODIFIED_HEADS = "title-head-ambiguous-modified"  # its heads ("fellow", "head", "owner") are titles only when modified
NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
FORMER_WORDS = {"former", "past", "previous"}
MIN_GROUP = 2  # a plural title before one name is a heading or a typo, not a group
MAX_MODIFIERS = 5  # "Senior Regional Programme Officers": more capitalised words before a plural are a name or a headline
INTRO_REACH = 6  # tokens between the plural title and its list: "from ASEAN", "(DDG)", "of the Trust"
LIST_CLOSERS = {",", ";", ")", ".", "!", "?", "–", "—"}
SOURCE = "rule:role/group-list"


class TitleWords(NamedTuple):
    """The words of the title patterns a plural title is read with."""

    heads: frozenset[str]  # head nouns ("officer", "director")
    modified_heads: frozenset[str]  # heads that are titles only when modified ("fellow")
    modifiers: frozenset[str]  # words that may modify a head ("senior", "programme")


@lru_cache(maxsize=1)
def title_heads() -> TitleWords:
    """The title patterns' words, read from ``titles.jsonl``."""
    heads: set[str] = set()
    modified: set[str] = set()
    modifiers: set[str] = set()
    for pattern in load_jsonl("titles"):
        if pattern.get("id") in HEAD_PATTERNS:
            for token in pattern["pattern"]:
                lower = token.get("LOWER")
                words = lower.get("IN", []) if isinstance(lower, dict) else [lower] if lower else []
                (modifiers if token.get("OP") else heads).update(words)
                if not token.get("OP") and pattern["id"] == MODIFIED_HEADS:
                    modified.update(words)
    return TitleWords(frozenset(heads), frozenset(modified), frozenset(modifiers))


def singular(word: str) -> str | None:
    """The singular of a plural head noun ("Officers", "secretaries", "chairmen"), or None."""
    lower = word.lower()
    for plural, single in (("ies", "y"), ("men", "man"), ("s", "")):
        if lower.endswith(plural) and len(lower) > len(plural) + 2:
            candidate = word[: len(word) - len(plural)] + single
            if candidate.lower() in title_heads().heads:
                return candidate
    return None


def group_roles(ctx: Context) -> list[RoleDraft]:
    """One role per person of each list that follows a plural title, with ``source`` ``rule:role/group-list``.
    The same post read elsewhere (a heading, a card, an appositive) merges with it in ``merge_roles``."""
    doc, roles = ctx.doc, []
    for token in doc:
        head = singular(token.text) if token.is_alpha and token.i not in ctx.title_tokens else None
        if head is None:
            continue
        start, end, title = _title_phrase(ctx, token, head)
        if start == token.i and head.lower() in title_heads().modified_heads:
            continue  # "the fellows, A and B": as in the singular, "fellow" alone is not a title
        members = _members(ctx, end)
        count = next((NUMBERS[t.lower_] for t in doc[max(0, start - 2):start] if t.lower_ in NUMBERS), None)
        if len(members) < MIN_GROUP or (count is not None and count != len(members)):
            continue
        status = "former" if start > 0 and doc[start - 1].lower_ in FORMER_WORDS else "current"
        acronym = doc[start].text if end - start > 1 and prefix_acronym(ctx, start) else None
        for mention, org in members:
            # "two HLO Programme Officers, A and B": HLO is their organisation, as in "HLO Programme Officer A";
            # with an organisation of their own after the name, the acronym stays in the title ("RFT fellow")
            own_title = title[len(acronym) + 1:] if acronym and org is None else title
            org_text = org.text if org else acronym
            roles.append(RoleDraft(Role(mention.key, ctx.article.article_id, own_title, org_text, status,
                                        None, None, doc[start].idx, org.end if org else mention.end, SOURCE), 1))
    return roles


def _title_phrase(ctx: Context, head: Token, singular_head: str) -> tuple[int, int, str]:
    """(first token, token after, singular title) of the plural title ending in ``head``: its modifiers before
    ("Senior Programme", an acronym) and a "-General" after."""
    doc = ctx.doc
    modifiers = title_heads().modifiers
    start = head.i
    first = max(sent_of(head).start, head.i - MAX_MODIFIERS)
    while start > first and _modifier(ctx, doc[start - 1], modifiers):
        start -= 1
    end, tail = head.i + 1, ""
    if end + 1 < len(doc) and doc[end].text == "-" and doc[end + 1].lower_ == "general":
        end, tail = end + 2, "-" + doc[end + 1].text
    return start, end, " ".join([t.text for t in doc[start:head.i]] + [singular_head + tail])


def _modifier(ctx: Context, token: Token, modifiers: frozenset[str]) -> bool:
    """A word of the title before its head: a title modifier ("senior"), or a capitalised word or acronym that is
    not the sentence's first word, a person, a country or a number."""
    if token.lower_ in modifiers:
        return True
    return (token.is_alpha and (token.is_title or token.is_upper) and not token.is_sent_start
            and token.i not in ctx.mention_at and ctx.countries_at(token.i) is None)


def _members(ctx: Context, after: int) -> list[tuple[PersonMention, Chain | None]]:
    """(mention, organisation after "of") of each person listed from token ``after`` on, separated by commas and
    "and", each possibly followed by "of Organisation" and "from Country"; the list ends at anything else, and a
    list set off by a comma must end as an apposition does (else [])."""
    doc = ctx.doc
    sent_end = sent_of(doc[after - 1]).end
    i, shared_org = _after_intro(ctx, after, sent_end)
    set_off = i < sent_end and doc[i].text in {",", ":"}
    i += set_off
    members, list_end = [], i
    while i < sent_end:
        if doc[i].text in {",", ":", "and"} or i in ctx.honorific_tokens:
            i += 1
            continue
        mention = _person_at(ctx, i)
        if mention is None:
            break
        i, org = mention.tok_end, None
        if i < sent_end and doc[i].lower_ == "of":
            chain = capitalised_chain(ctx, i + 1, allow_comma=False, stop_words={"from"})
            if chain is None:
                break
            i = doc.char_span(chain.start, chain.end, alignment_mode="expand").end
            org = chain if org_like(chain.text) else None  # "of Bay Town" is where they are from, not their employer
        if i + 1 < sent_end and doc[i].lower_ == "from":
            country = i + 1 + (doc[i + 1].lower_ == "the")
            if ctx.countries_at(country) is not None:
                i = ctx.countries_at(country).end
        members.append((mention, org or shared_org))
        list_end = i
    # set off by a comma, the list is an apposition and closes like one; "According to the two Officers, A and B
    # will lead ..." names the subject of the next clause, not the officers
    if set_off and list_end < sent_end and doc[list_end].text not in LIST_CLOSERS:
        return []
    return members


def _after_intro(ctx: Context, i: int, sent_end: int) -> tuple[int, Chain | None]:
    """(token after, organisation) of what may stand between a plural title and its list: a bracketed
    abbreviation ("(DDG)"), a short place ("from the region") or an organisation ("of the Delta Trust": the
    organisation of every listed person who names none of their own); ``i`` itself when there is neither."""
    doc = ctx.doc
    if i < sent_end and doc[i].text == "(":
        close = next((j for j in range(i + 1, min(sent_end, i + INTRO_REACH)) if doc[j].text == ")"), None)
        return (close + 1 if close is not None else i), None
    if i + 1 < sent_end and doc[i].lower_ in {"from", "of", "at", "in"}:
        j = i + 1 + (doc[i + 1].lower_ == "the")
        end = min(sent_end, j + INTRO_REACH)
        k = j
        while k < end and (doc[k].text[:1].isupper() or doc[k].lower_ in {"region", "regions", "and"}) \
                and _person_at(ctx, k) is None:
            k += 1
        if k == j:
            return i, None
        phrase = doc[j:k]
        org = Chain(phrase.text, phrase.start_char, phrase.end_char) \
            if doc[i].lower_ in {"of", "at"} and org_like(phrase.text) else None
        return k, org
    return i, None


def _person_at(ctx: Context, i: int) -> PersonMention | None:
    """The person mention that starts at token ``i``, resolved to a person, or None."""
    mention = ctx.mention_at.get(i)
    return mention if mention is not None and mention.tok_start == i and mention.key else None
