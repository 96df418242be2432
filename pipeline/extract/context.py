"""What every fact family of ``extract`` shares for one article: the ``Context`` (the processed Doc, its
pattern spans indexed by token, the people found so far), the small records the families pass each other
(``Chain``, ``PersonMention``), fast per-doc lookups (sentence, entities) and the lexicon's word lists.

It is kept apart so that each family module depends on this one and on the families before it, never on
the entry point.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from spacy.tokens import Doc, Span, Token

from ..patterns import lexicon
from ..records import Article, Block, Person, Profile
from ..segment import ProfileLocator


# Words that may join the capitalised words of one name or organisation ("Ministry of Health", "bin", "&").
CONNECTORS = {"of", "and", "the", "for", "in", "on", "at", "with", "to", "&", "'s", "’s", "de", "du", "des", "del", "la", "le",
              "et", "y", "/", "-"}
PRONOUNS = {"he", "she", "his", "her", "him", "hers", "himself", "herself", "i"}  # "I": the person quoted or interviewed
MODEL = "model:ner"  # the ``source`` of a fact the NER model proposed rather than a pattern


# "(left)", "(second from right)", "(centre)": where a person stands in a photo, not a verb ("left the ministry")
CAPTION_POSITION = re.compile(r"\([\w\s-]*\b(?:left|right|centre|center|middle|front|back|rear|top|bottom)\b[\w\s-]*\)", re.I)


def without_positions(text: str) -> str:
    """``text`` with photo-caption position markers blanked, for the word cues of status and dates."""
    return CAPTION_POSITION.sub(" ", text)


def sent_of(item: Token | Span) -> Span:
    """The sentence of a token or span, from a per-doc table (spaCy's ``.sent`` rescans the doc on every call)."""
    doc = item.doc
    table = doc.user_data.get("sentence_of_token")
    if table is None:
        table = [None] * len(doc)
        for sentence in doc.sents:
            for i in range(sentence.start, sentence.end):
                table[i] = sentence
        doc.user_data["sentence_of_token"] = table
    return table[item.i if isinstance(item, Token) else item.start]


def ents_of(doc: Doc) -> tuple[Span, ...]:
    """The model's entities, built once per doc (``doc.ents`` makes new spans on every access)."""
    cached = doc.user_data.get("entities")
    if cached is None:
        cached = doc.user_data["entities"] = tuple(doc.ents)
    return cached


def entity_at(doc: Doc, index: int) -> Span | None:
    """The model's entity covering token ``index`` (entities never overlap), from a per-doc table, so a
    check per token or per name does not scan every entity of a long page."""
    table = doc.user_data.get("entity_of_token")
    if table is None:
        table = doc.user_data["entity_of_token"] = {i: ent for ent in ents_of(doc) for i in range(ent.start, ent.end)}
    return table.get(index)


def entities_over(doc: Doc, start: int, end: int) -> list[Span]:
    """The model's entities overlapping tokens ``start``..``end`` (exclusive), in document order."""
    found: list[Span] = []
    for i in range(start, end):
        ent = entity_at(doc, i)
        if ent is not None and (not found or found[-1] is not ent):
            found.append(ent)
    return found


def span_source(span: Span) -> str:
    """The ``source`` column value of a pattern span: its family and the id of the pattern that matched."""
    return f"rule:{span.label_.lower()}/{span.id_}" if span.id_ else f"rule:{span.label_.lower()}"


@lru_cache(maxsize=None)
def word_set(name: str) -> frozenset[str]:
    """One word list of ``lexicon.json`` as a set (built once: the linkers ask for them per token)."""
    return frozenset(lexicon()[name])


@lru_cache(maxsize=None)
def status_cue(name: str) -> re.Pattern:
    """A word-boundary regex of one list of ``lexicon.json``'s ``status_cues``."""
    words = lexicon()["status_cues"][name]
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")\b")


def full_title(title: Span) -> str:
    """A title as the tables spell it: an abbreviation ("DSG") written out."""
    abbreviations = lexicon()["title_abbreviations"]
    return abbreviations.get(title.text, title.text)


def printed_end(text: str, title: str, start: int, otherwise: int) -> int:
    """Where ``title`` ends if the text prints it at ``start``; else ``otherwise``. A title written out longer than
    printed (an abbreviation or acronym spelled out: "DDG", "for CRM") must not send an offset past what is there."""
    return start + len(title) if text.startswith(title, start) else otherwise


def defined_acronyms(doc: Doc) -> frozenset[str]:
    """Acronyms the text defines in brackets ("the Harbour Liaison Office (HLO)"): organisations, never part of a
    name, even where the model reads a headline such as "HLO Hosts a Briefing" as a person."""
    cached = doc.user_data.get("defined_acronyms")
    if cached is None:
        cached = doc.user_data["defined_acronyms"] = frozenset(
            t.text for t in doc[1:-1] if t.text.isupper() and len(t.text) >= 2 and t.is_alpha
            and doc[t.i - 1].text == "(" and doc[t.i + 1].text == ")")
    return cached


@dataclass
class Chain:
    """A capitalised phrase (organisation or programme) with its character span."""

    text: str
    start: int
    end: int


@dataclass
class PersonMention:
    """One place a person is named, with the rule that found it and, once resolved, the person's key."""

    start: int  # char offsets
    end: int
    text: str
    source: str
    honorifics: list[str] = field(default_factory=list)
    key: str | None = None
    tok_start: int = 0
    tok_end: int = 0


@dataclass
class Context:
    """Everything the linkers share for one article."""

    article: Article
    doc: Doc
    profiles: list[Profile]
    titles: list[Span]
    dates: list[Span]
    countries: list[Span]
    honorific_tokens: set[int]
    title_tokens: dict[int, Span]
    date_tokens: dict[int, Span]
    country_tokens: dict[int, Span] = field(default_factory=dict)
    stop_tokens: set[int] = field(default_factory=set)  # token indices that end a chain (people, honorifics)
    people: dict[str, Person] = field(default_factory=dict)
    mentions: list[PersonMention] = field(default_factory=list)
    mention_at: dict[int, PersonMention] = field(default_factory=dict)  # token index → mention
    profile_person: dict[str, str] = field(default_factory=dict)
    linked_titles: list[tuple[Span, str, str]] = field(default_factory=list)  # every title occurrence tied to a person
    locator: ProfileLocator | None = None
    _mention_ends: tuple[int, list[int]] | None = None  # (id of ``mentions``, their end offsets) for focus_person
    _dates_by_sentence: tuple[int, dict[int, list[Span]]] | None = None  # (id of ``dates``, sentence start → dates)
    _titles_by_start: tuple[int, dict[int, Span]] | None = None  # (id of ``titles``, start char → first title there)
    _block_starts: list[int] | None = None  # start of each block of the article, when they are in order

    def countries_at(self, index: int) -> Span | None:
        """The country or demonym span covering token ``index``."""
        return self.country_tokens.get(index)

    def locate(self, char: int) -> Profile | None:
        """The profile covering character ``char``."""
        if self.locator is None or self.locator.profiles is not self.profiles:
            self.locator = ProfileLocator(self.profiles)
        return self.locator.at(char)

    def dates_in_sentence(self, sentence: Span) -> list[Span]:
        """The kept dates whose first token is in ``sentence``, in the order of ``dates`` (looked up, not scanned)."""
        if self._dates_by_sentence is None or self._dates_by_sentence[0] != id(self.dates):
            grouped: dict[int, list[Span]] = defaultdict(list)
            for date in self.dates:
                grouped[sent_of(date).start].append(date)
            self._dates_by_sentence = (id(self.dates), grouped)
        return self._dates_by_sentence[1].get(sentence.start, [])

    def title_starting_at(self, char: int) -> Span | None:
        """The first of ``titles`` that starts at character ``char``."""
        if self._titles_by_start is None or self._titles_by_start[0] != id(self.titles):
            first: dict[int, Span] = {}
            for title in self.titles:
                first.setdefault(title.start_char, title)
            self._titles_by_start = (id(self.titles), first)
        return self._titles_by_start[1].get(char)

    def blocks_starting_within(self, start: int, end: int) -> list[Block]:
        """The article's blocks that start in ``start``..``end`` (exclusive), in order, by binary search (parse
        makes them in text order; if they were not, every block is returned for the caller to filter)."""
        if self._block_starts is None:
            starts = [block.start for block in self.article.blocks]
            self._block_starts = starts if all(a <= b for a, b in zip(starts, starts[1:])) else []
        if not self._block_starts and self.article.blocks:
            return self.article.blocks
        return self.article.blocks[bisect_left(self._block_starts, start):bisect_left(self._block_starts, end)]

    def mentions_ending_by(self, char: int) -> int | None:
        """How many of ``mentions`` end at or before ``char``, by binary search; None when their ends are not
        in order (then the caller scans)."""
        if self._mention_ends is None or self._mention_ends[0] != id(self.mentions):
            ends = [m.end for m in self.mentions]
            self._mention_ends = (id(self.mentions), ends if all(a <= b for a, b in zip(ends, ends[1:])) else None)
        ends = self._mention_ends[1]
        return None if ends is None else bisect_right(ends, char)


def profile_id_at(ctx: Context, char: int) -> str | None:
    """The id of the profile covering character ``char``, if any."""
    profile = ctx.locate(char)
    return profile.profile_id if profile else None
