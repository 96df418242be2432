"""Acronyms: what the text says an acronym stands for, and where one stands in brackets.

An acronym is defined in brackets after its words ("the Harbour Liaison Office (HLO)"), or spelled out without
brackets by a run of capitalised words whose initials it is (a heading "Coastal Resource Management" above
prose that writes "CRM"). Organisations, titles and countries ask here rather than each reading brackets.
"""
from __future__ import annotations

import re

from spacy.tokens import Doc

from .context import CONNECTORS, Chain, Context, defined_acronyms, sent_of


# "... for CRM": a title whose portfolio is an acronym
# (three letters at least: "HR" or "TA" is spelled by too many runs of capitalised words to be read this way)
ACRONYM_PORTFOLIO = re.compile(r"^(?P<title>.+ for )(?P<acronym>[A-Z]{3,6})$")
# a run of capitalised words and the connectors inside it ("Coastal Resource Management", "Community and Corporate Affairs")
CAPITALISED_RUN = re.compile(r"[A-Z][\w’'-]*(?:\s+(?:(?:of|and|for|the|on|&)\s+)*[A-Z][\w’'-]*)*")
MAX_SPELLED_OUT_WORDS = 8
# Each lookup reads the whole text; a page naming more portfolio acronyms than this (none seen: a story names a
# handful) leaves the rest as printed, so the work stays linear in the page.
MAX_SPELLED_OUT_LOOKUPS = 8


def spelled_out(ctx: Context, acronym: str) -> str | None:
    """The words an acronym stands for, where the text prints them: the first run of capitalised words (and the
    connectors between them) whose initials spell it, a hyphenated word giving one letter per part ("Marine
    Socio-Economic Unit" for MSEU). Headings often spell out what the prose then abbreviates without brackets."""
    cache = ctx.doc.user_data.setdefault("spelled_out", {})
    if acronym in cache:
        return cache[acronym]
    if len(cache) >= MAX_SPELLED_OUT_LOOKUPS:
        return None
    cache[acronym] = _first_spelling(ctx.article.text, acronym)
    return cache[acronym]


def _first_spelling(text: str, acronym: str) -> str | None:
    for run in CAPITALISED_RUN.finditer(text):
        words = run.group().split()
        for i, first in enumerate(words):
            if first[0] != acronym[0] or first == acronym or first.lower() in CONNECTORS:
                continue
            for j in range(i + 1, min(len(words), i + MAX_SPELLED_OUT_WORDS) + 1):
                if words[j - 1].lower() not in CONNECTORS and _initials(words[i:j]) == acronym:
                    return " ".join(words[i:j])
    return None


def _initials(words: list[str]) -> str:
    return "".join(part[0] for word in words if word.lower() not in CONNECTORS for part in word.split("-") if part).upper()


def acronym_definition(ctx: Context, acronym: str) -> Chain | None:
    """The name the text spells out for ``acronym`` where it defines it: "the Harbour Liaison Office (HLO)" for
    "HLO" (the capitalised words and connectors just before its first bracketed use), else None."""
    doc = ctx.doc
    if acronym not in defined_acronyms(doc):
        return None
    cache = doc.user_data.setdefault("acronym_definitions", {})
    if acronym not in cache:
        cache[acronym] = None
        at = next(t.i for t in doc[1:-1] if t.text == acronym and doc[t.i - 1].text == "(" and doc[t.i + 1].text == ")")
        start, bracket = at - 1, at - 1
        while start > sent_of(doc[bracket]).start and (doc[start - 1].text[:1].isupper() or doc[start - 1].lower_ in CONNECTORS):
            start -= 1
        while start < bracket and (doc[start].lower_ in CONNECTORS or not doc[start].text[:1].isupper()):
            start += 1
        if start < bracket:
            span = doc[start:bracket]
            cache[acronym] = Chain(span.text, span.start_char, span.end_char)
    return cache[acronym]


def bracketed_abbreviation_at(doc: Doc, i: int) -> bool:
    """An abbreviation in brackets starts at token ``i``: "(SG)", "(DAI)"."""
    return i + 2 < len(doc) and doc[i].text == "(" and doc[i + 1].text.isupper() and doc[i + 2].text == ")"
