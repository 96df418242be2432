"""Syntax: links between people, titles and organisations read from the dependency parse.

The token rules of ``roles`` and ``organisations`` look at the words next to a title; a sentence with a long
clause or another person between a name and its title defeats them ("Mr. X, whose team worked with Ms. Y,
is now the Director"). The parse ties them through the words' heads instead. The patterns are spaCy
``DependencyMatcher`` patterns kept as data (``patterns/links.jsonl``), each with an id that reaches the
``source`` column ("...+dep:holder-copula") and examples that must and must not match
(``tests/test_patterns.py``).

Before matching, the root token of each title span is labelled TITLE, of each person mention PERSON, and of
each organisation entity ORG, so a pattern names what it links, not how it is spelled. The label is put in
the token's NORM for the match and the NORM restored after it (patterns say ``{"NORM": "@TITLE"}``): spaCy
3.8's DependencyMatcher fails on custom ``_`` attributes ("an integer is required"). Only the sentences that
hold a title are parsed (``nlp.parse_title_sentences``); a Doc without a parse (the blank model) has no links.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from spacy.matcher import DependencyMatcher
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from ..nlp import SENTENCE_PARSES
from ..patterns import load_jsonl
from .context import ents_of

LINK_PATTERNS = "links"
LABEL_PREFIX = "@"  # "@TITLE": no real word's NORM starts with it


@dataclass(frozen=True)
class Link:
    """A title tied by the parse to a person (``holder``) or an organisation (``organisation``); ``cue`` is the
    token of the verb that ties them ("appointed", "joined ... as"), else the title's first token."""

    relation: str
    pattern_id: str
    title: Span
    other: Span
    cue: int


@lru_cache(maxsize=None)
def link_patterns() -> tuple[dict, ...]:
    """The patterns of ``links.jsonl``, with their relation, examples and id."""
    return tuple(load_jsonl(LINK_PATTERNS))


@lru_cache(maxsize=4)
def _matcher(vocab: Vocab) -> DependencyMatcher:
    matcher = DependencyMatcher(vocab, validate=True)
    for pattern in link_patterns():
        matcher.add(pattern["id"], [pattern["pattern"]])
    return matcher


def parse_links(doc: Doc, titles: list[Span], people: list[Span], organisations: list[Span]) -> list[Link]:
    """Every link the patterns find between ``titles`` and ``people`` or ``organisations`` (spans of ``doc``),
    in the parsed sentences ``nlp.process_text`` keeps (or the whole Doc, where the model parsed it all); by
    title, then in the order of the pattern file."""
    parsed = _parsed_sentences(doc)
    grouped: list[tuple[list[Span], list[Span], list[Span]]] = [([], [], []) for _ in parsed]
    for kind, spans in enumerate((titles, people, organisations)):
        for span in spans:
            if (at := _sentence_index(doc, span)) is not None:
                grouped[at][kind].append(span)
    links: list[Link] = []
    for (offset, sentence), (in_titles, in_people, in_organisations) in zip(parsed, grouped):
        if not in_titles:
            continue
        local = lambda spans: [sentence[s.start - offset:s.end - offset] for s in spans]  # noqa: E731
        for link in _sentence_links(sentence, local(in_titles), local(in_people), local(in_organisations)):
            links.append(Link(link.relation, link.pattern_id, doc[link.title.start + offset:link.title.end + offset],
                              doc[link.other.start + offset:link.other.end + offset], link.cue + offset))
    order = _pattern_order()
    return sorted(links, key=lambda link: (link.title.start, order[link.pattern_id], link.other.start))


def _parsed_sentences(doc: Doc) -> list[tuple[int, Doc]]:
    """(first token, parsed Doc) of the parsed sentences of ``doc``, in order."""
    parses = doc.user_data.get(SENTENCE_PARSES)
    if parses is not None:  # an empty list too: has_annotation reads every token, so not once per lookup
        return parses
    return [(0, doc)] if doc.has_annotation("DEP") else []


def _sentence_index(doc: Doc, span: Span) -> int | None:
    """Which of ``_parsed_sentences(doc)`` holds ``span`` (binary search over their first tokens)."""
    parsed = _parsed_sentences(doc)
    at = bisect_right(parsed, span.start, key=lambda parse: parse[0]) - 1
    return at if at >= 0 and span.end <= parsed[at][0] + len(parsed[at][1]) else None


def parsed_dep(doc: Doc, span: Span) -> str:
    """The dependency label of ``span``'s root in the parse of its sentence ("" where it was not parsed)."""
    at = _sentence_index(doc, span)
    if at is None:
        return ""
    offset, sentence = _parsed_sentences(doc)[at]
    return sentence[span.start - offset:span.end - offset].root.dep_


def _sentence_links(doc: Doc, titles: list[Span], people: list[Span], organisations: list[Span]) -> list[Link]:
    """``parse_links`` over one parsed Doc, with token indices of that Doc."""
    if not titles:
        return []
    by_root: dict[int, tuple[str, Span]] = {}
    for label, spans in (("ORG", organisations), ("PERSON", people), ("TITLE", titles)):  # a title's root wins
        for span in spans:
            by_root[span.root.i] = (label, span)
    norms = {i: doc[i].norm_ for i in by_root}
    for i, (label, _) in by_root.items():
        doc[i].norm_ = LABEL_PREFIX + label
    try:
        matches = _matcher(doc.vocab)(doc)
    finally:
        for i, norm in norms.items():
            doc[i].norm_ = norm
    links = []
    for match_id, token_ids in matches:
        pattern_id = doc.vocab.strings[match_id]
        at = dict(zip(_node_names()[pattern_id], token_ids))
        other = at.get("person", at.get("organisation"))
        title = by_root[at["title"]][1]
        if _relations()[pattern_id] == "holder" and _relation_noun(title):
            continue
        links.append(Link(_relations()[pattern_id], pattern_id, title, by_root[other][1], at.get("verb", title.start)))
    return links


@lru_cache(maxsize=1)
def _node_names() -> dict[str, list[str]]:
    """Pattern id -> the names of its nodes, in the order the matcher returns their tokens."""
    return {p["id"]: [node["RIGHT_ID"] for node in p["pattern"]] for p in link_patterns()}


@lru_cache(maxsize=1)
def _pattern_order() -> dict[str, int]:
    """Pattern id -> its line in the pattern file: where two patterns link one title, the earlier wins."""
    return {p["id"]: n for n, p in enumerate(link_patterns())}


@lru_cache(maxsize=1)
def _relations() -> dict[str, str]:
    return {p["id"]: p["relation"] for p in link_patterns()}


def organisation_entities(doc: Doc) -> list[Span]:
    """The model's ORG entities: what an ``organisation`` link may point at."""
    return [ent for ent in ents_of(doc) if ent.label_ == "ORG"]


def links_by_title(ctx) -> tuple[dict[int, tuple[str, str, int]], dict[int, Span]]:
    """({title start: (person key, pattern id, cue)}, {title start: organisation entity}) of the article's
    titles, from ``parse_links``; the first link of each kind per title wins (the pattern file's order)."""
    doc = ctx.doc
    mentions = [m for m in ctx.mentions if m.key and m.tok_end > m.tok_start]
    key_at = {m.tok_start: m.key for m in mentions}
    holders: dict[int, tuple[str, str, int]] = {}
    organisations: dict[int, Span] = {}
    links = parse_links(doc, ctx.titles, [doc[m.tok_start:m.tok_end] for m in mentions], organisation_entities(doc))
    for link in links:
        if link.relation == "holder" and link.other.start in key_at:
            holders.setdefault(link.title.start, (key_at[link.other.start], link.pattern_id, link.cue))
        elif link.relation == "organisation" and link.other.start >= link.title.end:  # not inside the title itself
            organisations.setdefault(link.title.start, link.other)
    return holders, organisations


def _relation_noun(title: Span) -> bool:
    """"My mentor, Professor X", "her supervisor, Mr. Y": a title owned by someone names a relation to that
    someone, not the post of the person it is set beside."""
    return any(child.dep_ == "poss" for child in title.root.children)
