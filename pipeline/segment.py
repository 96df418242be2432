"""segment: article → person-centred profiles.

A profile starts at a heading line that introduces a person ("Name, Country, Programme (4th Batch, 2016-2017)",
"Name, Title, Organisation, Country", "Name (Country) – Tagline", a "Name: ..." card, or a heading that is just
a name the next paragraph talks about) or at such a header run into a paragraph ("Prof. Name, Rector,
X University, Country Prof. Name of ..."). It ends where the next one starts or at the footnotes.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from .normalize import country_iso3, country_phrases, fold, stable_id
from .patterns import lexicon, load_jsonl
from .records import Article, Profile

NAME_CONNECTORS = {"bin", "binti", "bte", "van", "von", "de", "da", "di", "del", "dos", "la", "le", "al", "el", "ibn", "y"}
CARD_NAME = re.compile(r"^(?:full\s+)?name\s*[:：]\s*(?P<name>\S.{1,80})$", re.I)
TESTIMONIAL = re.compile(r"^(?P<name>[^()–—:]{3,80}?)\s*\((?P<country>[^)]{2,40})\)\s*(?:[–—-]\s*(?P<tagline>.+))?$")
BATCH_PAREN = re.compile(r"\(\s*(?:\d{1,3}(?:st|nd|rd|th)|[A-Za-z]+)\s+(?:batch|cohort|intake|class|generation)\b[^)]*\)", re.I)


@dataclass(frozen=True)
class Header:
    """A recognised profile heading: where it is and where the person's name sits in it."""

    start: int
    end: int
    name_start: int
    name_end: int


@lru_cache(maxsize=1)
def _honorific_words() -> set[str]:
    words: set[str] = set()
    for row in load_jsonl("honorifics"):
        for token in row["pattern"]:
            for spec in token.values():
                if isinstance(spec, dict) and "IN" in spec:
                    words.update(w.lower() for w in spec["IN"])
    return words


@lru_cache(maxsize=1)
def _title_heads() -> set[str]:
    heads: set[str] = set()
    for row in load_jsonl("titles"):
        if row["id"] == "title-head":
            heads.update(row["pattern"][1]["LOWER"]["IN"])
    return heads


@lru_cache(maxsize=1)
def _non_name_words() -> set[str]:
    lex = lexicon()
    return {w.lower() for w in lex["not_name_words"] + lex["org_keywords"] + lex["programme_keywords"]} | _title_heads()


@lru_cache(maxsize=1)
def _country_alternation() -> re.Pattern:
    phrases = sorted(country_phrases(), key=len, reverse=True)
    return re.compile("|".join(re.escape(p) for p in phrases))


def strip_leading_honorifics(text: str) -> tuple[str, int]:
    """Drop honorifics and leading title words ("H.E. Mr.", "Prof.", "Ambassador"); return rest and offset."""
    offset = 0
    while True:
        match = re.match(r"([\w.'’]+(?:\s+(?:Sri|Seri))?)\s+", text[offset:])
        if not match:
            return text[offset:], offset
        word = match.group(1).lower()
        if word in _honorific_words() or word.rstrip(".") in _honorific_words() or word in _title_heads() \
                or word in {"deputy", "vice", "assistant", "his", "her", "excellency", "senior", "dsg", "sg"}:
            offset += match.end()
            continue
        return text[offset:], offset


def looks_like_name(text: str) -> bool:
    """A personal name: 1-5 capitalised words (SURNAME in capitals allowed), none a country or an org word."""
    tokens = text.split()
    if not 1 <= len(tokens) <= 5 or country_iso3(text):
        return False
    for token in tokens:
        bare = token.strip(".,'’()")
        if not bare:
            return False
        if bare.lower() in NAME_CONNECTORS:
            continue
        if not (bare[0].isupper() and re.fullmatch(r"[^\W\d_][\w'’.-]*", bare)):
            return False
        if bare.lower() in _non_name_words() or country_iso3(bare):
            return False
    return any(t.strip(".,")[0].isupper() for t in tokens)


def split_fields(text: str) -> list[tuple[str, int, int]]:
    """Comma-separated fields outside parentheses, with their offsets in ``text``."""
    fields, depth, start = [], 0, 0
    for index, char in enumerate(text + ","):
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == "," and depth == 0:
            raw = text[start:index]
            stripped = raw.strip()
            if stripped:
                lead = start + len(raw) - len(raw.lstrip())
                fields.append((stripped, lead, lead + len(stripped)))
            start = index + 1
    return fields


def _field_is_descriptive(field: str) -> bool:
    """Country, title, organisation or programme: what follows a name in a profile heading."""
    words = {w.lower() for w in re.findall(r"[\w-]+", field)}
    if country_iso3(field) or BATCH_PAREN.search(field):
        return True
    return bool(words & (_title_heads() | set(lexicon()["org_keywords"]) | set(lexicon()["programme_keywords"])))


def heading_header(text: str, kind: str) -> Header | None:
    """A whole block that introduces a person, or None."""
    if len(text) > 260 or (kind == "paragraph" and text.rstrip().endswith((".", "!", "?", "”", '"'))):
        return None
    if m := CARD_NAME.match(text):
        name, offset = strip_leading_honorifics(m.group("name").strip())
        if looks_like_name(name):
            start = m.start("name") + offset
            return Header(0, len(text), start, start + len(name))
    if (m := TESTIMONIAL.match(text)) and country_iso3(m.group("country")):
        name, offset = strip_leading_honorifics(m.group("name").strip())
        if looks_like_name(name):
            return Header(0, len(text), offset, offset + len(name))
    fields = split_fields(text)
    if len(fields) < 2:
        return None
    name, offset = strip_leading_honorifics(fields[0][0])
    rest = [f for f, _, _ in fields[1:]]
    if not looks_like_name(name) or not all(_capitalised_phrase(f) for f in rest):
        return None
    descriptive = [f for f in rest if _field_is_descriptive(f)]
    if not descriptive or (kind != "heading" and (len(fields) < 3 or len(descriptive) < len(rest) - 1)):
        return None
    return Header(0, len(text), fields[0][1] + offset, fields[0][1] + offset + len(name))


def inline_headers(text: str) -> list[Header]:
    """Headers run into a paragraph: "Name, Title, Org, Country" right before the next sentence starts."""
    headers = []
    for country in _country_alternation().finditer(text):
        if not re.match(r"\s+[A-Z“\"]", text[country.end():]):
            continue
        window_start = max(0, country.start() - 220)
        window = text[window_start:country.end()]
        for boundary in re.finditer(r"(?:^|(?<=[.!?”\"’)])\s+)(?=[A-Z])", window):
            candidate = window[boundary.end():]
            fields = split_fields(candidate)
            if len(fields) < 3 or fields[-1][0] != country.group(0):
                continue
            name, offset = strip_leading_honorifics(fields[0][0])
            middle = fields[1:-1]
            if not looks_like_name(name) or not all(_field_is_descriptive(f) and _capitalised_phrase(f) for f, _, _ in middle):
                continue
            start = window_start + boundary.end()
            headers.append(Header(start, country.end(), start + fields[0][1] + offset, start + fields[0][1] + offset + len(name)))
            break
    return headers


def _capitalised_phrase(field: str) -> bool:
    words = [w for w in re.findall(r"[\w'’-]+", re.sub(r"\([^)]*\)", " ", field)) if not w[0].isdigit()]
    return bool(words) and all(w[0].isupper() or w.lower() in {"of", "and", "the", "for", "at", "in", "on", "&", "de"} for w in words)


def segment(article: Article) -> list[Profile]:
    """Profiles of one article, in text order; a heading that introduces no one ends the section before it."""
    headers: list[Header] = []
    section_ends: list[int] = []
    stop = len(article.text)
    for block in article.blocks:
        text = article.text[block.start:block.end]
        if block.kind == "footnote":
            stop = min(stop, block.start)
            continue
        if block.kind in ("title", "dateline", "caption"):
            continue
        found = heading_header(text, "heading" if block.kind == "row" else block.kind)
        if found is None and block.kind == "heading":
            found = _bare_name_heading(article, block, text)
        if found and not CARD_NAME.match(text) and not _mentioned_after(article, block.end, text[found.name_start:found.name_end]):
            found = None
        if found is None and block.kind == "paragraph":
            found = _lead_name_with_country(text)
        if found is None and block.kind == "heading":
            section_ends.append(block.start)
        if found:
            headers.append(Header(block.start + found.start, block.start + found.end,
                                  block.start + found.name_start, block.start + found.name_end))
        elif block.kind == "paragraph":
            headers.extend(Header(block.start + h.start, block.start + h.end, block.start + h.name_start,
                                  block.start + h.name_end) for h in inline_headers(text))
    headers.sort(key=lambda h: h.start)
    section_ends.sort()
    profiles = []
    for seq, header in enumerate(headers):
        end = headers[seq + 1].start if seq + 1 < len(headers) else stop
        next_section = bisect_right(section_ends, header.start)  # the first section end after the header
        if next_section < len(section_ends):
            end = min(end, section_ends[next_section])
        end = max(end, header.end)
        profiles.append(Profile(
            profile_id=stable_id("prf", article.article_id, seq), article_id=article.article_id, seq=seq,
            heading=article.text[header.start:header.end], char_start=header.start, char_end=end,
            heading_end=header.end, name_start=header.name_start, name_end=header.name_end,
        ))
    return profiles


LEAD_NAME_COUNTRY = re.compile(r"^(?P<name>[^()]{3,80}?)\s*\((?P<country>[^)]{2,40})\)\s+(?=\S)")


def _lead_name_with_country(text: str) -> Header | None:
    """A paragraph that opens with "Name (Country)" and goes on about that person ("Nilar Win (Myanmar) left ...")."""
    match = LEAD_NAME_COUNTRY.match(text)
    if not match or not country_iso3(match.group("country")):
        return None
    name, offset = strip_leading_honorifics(match.group("name").strip())
    if not looks_like_name(name) or len(name.split()) < 2:
        return None
    return Header(0, match.end("country") + 1, offset, offset + len(name))


def _bare_name_heading(article: Article, block, text: str) -> Header | None:
    """A heading that is only a name counts when the following text mentions that name."""
    name, offset = strip_leading_honorifics(text)
    if not looks_like_name(name) or len(name.split()) < 2 or not _mentioned_after(article, block.end, name):
        return None
    return Header(0, len(text), offset, offset + len(name))


def _mentioned_after(article: Article, offset: int, name: str) -> bool:
    """A heading introduces a person only if the text under it names them again ("Place, Country" does not)."""
    following = article.text[offset:offset + 2500]
    forms = {form for token in name.split() if len(token) > 2 for form in (token, token.title())}
    return any(re.search(rf"\b{re.escape(form)}\b", following) for form in forms)


def profile_at(profiles: list[Profile], offset: int) -> Profile | None:
    """The profile whose range covers ``offset``."""
    for profile in profiles:
        if profile.char_start <= offset < profile.char_end:
            return profile
    return None


class ProfileLocator:
    """``profile_at`` for many offsets of one article: a binary search over the profiles as ``segment`` makes
    them (in order, not overlapping), so a page of thousands of profiles is not scanned once per fact."""

    def __init__(self, profiles: list[Profile]):
        self.profiles = profiles
        self.starts = [profile.char_start for profile in profiles]
        self.ordered = all(p.char_start <= p.char_end for p in profiles) and \
            all(a.char_end <= b.char_start for a, b in zip(profiles, profiles[1:]))

    def at(self, offset: int) -> Profile | None:
        """The profile whose range covers ``offset`` (the same answer as ``profile_at``)."""
        if not self.ordered:
            return profile_at(self.profiles, offset)
        index = bisect_right(self.starts, offset) - 1
        return self.profiles[index] if index >= 0 and offset < self.profiles[index].char_end else None


__all__ = ["Header", "segment", "profile_at", "ProfileLocator", "looks_like_name", "split_fields", "strip_leading_honorifics", "fold"]
