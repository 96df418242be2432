"""parse, recall: the story's own extent around trafilatura's choice. The page's leaf blocks are read before it;
after it, story prose it left out is put back, and page chrome, trailing furniture and teaser sections it kept are
taken out."""
from __future__ import annotations

import re

from lxml.html import HtmlElement

from .blocks import BLOCK_TAGS, HEADING_TAGS, mostly_links, text_with_breaks
from .text import classes_of, clean_text

# The recall pass: prose that trafilatura left out of the story's own container (the headline's nearest
# ancestor that holds most of what trafilatura kept) is put back when it reads like a sentence of this length.
MIN_RECOVERED_PROSE_CHARS = 60
STORY_COVERAGE = 0.8
MIN_INLINE_CHARS = 20  # between two kept blocks of the story, a list item or short line is part of it
MIN_SECTION_PARAGRAPHS = 2  # a heading with one paragraph under it is as often a teaser as a section
SENTENCE_END = re.compile(r"[.!?…:;][\"'”’)]*$")
BOILERPLATE_TAGS = ("script", "style", "noscript", "template", "iframe", "svg", "form", "button", "nav", "aside", "select",
                    "footer")
BOILERPLATE_CLASS = re.compile(r"(^|[-_ ])(menu|nav|navbar|navigation|breadcrumbs?|footer|share|sharing|social|sidebar|"
                               r"widget|comments?|cookie|subscribe|newsletter|pagination|tags?|related|promo|ad|ads|"
                               r"advert|banner|popup|modal|skip-link)([-_ ]|$)", re.I)
SCRIPT_TAGS = ("script", "style", "noscript", "template")  # their text is code, never a block's words


class StoryCandidates:
    """The page's leaf text blocks (before trafilatura prunes the tree): to put back prose it left out, and to
    take out page chrome it kept.

    trafilatura takes the first container that looks like the article body; a story split over sibling
    sections ("article-body", "article-body participants") or ending in an author note loses its tail. The
    story's own container is the headline's nearest ancestor whose leaves hold most of what trafilatura kept;
    prose leaves in it (not in menus, share bars, comments, related blocks) that trafilatura dropped are put
    back where they stand in the page. On short pages trafilatura falls back to taking all text; a block that
    is exactly a short link list on the page (a share bar, a menu, a linked site name) is dropped again.
    """

    def __init__(self, headline, leaves: list[tuple[HtmlElement, str, str, frozenset]], chrome: set[str],
                 held: dict | None = None):
        self.headline = headline
        self.leaves = leaves  # (element, kind, text, ids of its ancestors)
        self.plain = [clean_text(text) for _, _, text, _ in leaves]  # each leaf's text as compared (line breaks are spaces)
        self.chrome = chrome - set(self.plain)
        self.held = held or {}  # lxml gives an element nobody holds a new proxy (a new id): the ancestors are held

    @classmethod
    def collect(cls, tree: HtmlElement) -> "StoryCandidates":
        body = tree.find("body")
        if body is None:
            return cls(None, [], set())
        headline = next(iter(tree.xpath("//article//h1|//main//h1") or tree.xpath("//h1")), None)
        above = list(headline.iterancestors()) if headline is not None else [body, *body.iterancestors()]
        story_line = {id(a) for a in above}
        leaves, chrome = [], set()
        held = {id(a): a for a in above}
        verdicts: dict[int, tuple] = {}  # boilerplate or not, per container (many leaves share one)
        for element in body.iter(*BLOCK_TAGS, "div"):
            if element.tag == "div":  # a lead or standfirst printed straight in a <div>, no <p> around it
                if next(element.iterdescendants(*BLOCK_TAGS, "div"), None) is not None:
                    continue
                text = text_with_breaks(element, "br", skip=SCRIPT_TAGS)
                if not is_prose(plain := clean_text(text)):
                    continue
            elif next(element.iterdescendants(*BLOCK_TAGS), None) is not None:
                continue
            else:
                text = text_with_breaks(element, "br")
                plain = clean_text(text)
                if not plain:  # nothing to put back, and "found" in any text: it would pass for a block trafilatura kept
                    continue
            if mostly_links(element, plain):
                chrome.add(plain)
                continue
            ancestors = list(element.iterancestors())
            # a container of the headline ("<body class='has-sidebar'>") says nothing about its blocks
            if any(_is_boilerplate(a, verdicts) for a in [element, *ancestors] if id(a) not in story_line):
                continue
            kind = "heading" if element.tag in HEADING_TAGS else "paragraph"
            leaves.append((element, kind, text, frozenset(map(id, ancestors))))
            held.update((id(a), a) for a in ancestors)
        return cls(headline, leaves, chrome, held)

    def recover(self, pieces: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """trafilatura's blocks without page chrome, with the story's dropped prose put back in page order.

        A heading trafilatura dropped between two blocks it kept ("Marta Kowalska" between two paragraphs)
        is part of the story's flow wherever the story sits, and comes back too.
        """
        pieces = [(kind, text) for kind, text in pieces if clean_text(text) not in self.chrome]
        if not pieces or not self.leaves:
            return pieces
        found = self._found(pieces)
        furniture = self._trailing_furniture(found)
        if furniture:
            pieces = [(kind, text) for kind, text in pieces if clean_text(text) not in furniture]
            found = self._found(pieces)
        story = self._story(found)
        last_hit = max((i for i, hit in enumerate(found) if hit), default=-1)
        first_hit = found.index(True) if last_hit >= 0 else -1
        closing = self._section(self.leaves[last_hit][0], story) if story is not None and last_hit >= 0 else None
        merged: list[tuple[str, str]] = []
        position = 0
        heading, under = None, []  # a dropped heading comes back only with a section of prose under it
        for index, ((element, kind, text, within), plain, hit) in enumerate(zip(self.leaves, self.plain, found)):
            if kind == "heading" and is_prose(plain):
                kind = "paragraph"  # a lead or a paragraph set in a heading tag is prose, and comes back as such
            if plain in furniture:
                continue  # left out above; not put back as a line between kept blocks either
            if hit:
                merged.extend(under if heading else [])  # a lone paragraph under a dropped heading: kept, headless
                heading, under = None, []
                while position < len(pieces):  # trafilatura's blocks up to the one holding this leaf
                    merged.append(pieces[position])
                    position += 1
                    if plain in clean_text(merged[-1][1]):
                        break
            elif kind == "heading" and plain and self._between_kept_sentences(index, found):
                merged.append((kind, text))
            elif story is None or id(story) not in within:
                continue
            elif kind == "heading" and plain:
                merged.extend(under if heading else [])
                heading, under = (kind, text), []
            elif (is_prose(plain) and (index < last_hit or (element.tag != "div" and self._continues(element, story, closing)))) \
                    or (len(plain) >= MIN_INLINE_CHARS and first_hit < index < last_hit):
                if heading is None:
                    merged.append((kind, text))
                    continue
                under.append((kind, text))
                if len(under) == MIN_SECTION_PARAGRAPHS:
                    merged.extend([heading, *under])
                    heading, under = None, []
        return merged + (under if heading else []) + pieces[position:]

    def _found(self, pieces: list[tuple[str, str]]) -> list[bool]:
        """Per leaf, whether trafilatura kept its text."""
        kept = " ".join(clean_text(text) for _, text in pieces)
        return [plain in kept for plain in self.plain]

    def _trailing_furniture(self, found: list[bool]) -> set[str]:
        """Short lines trafilatura kept after the story's body, from outside the body's container: an author
        box, a "share this" or "subscribe" line, a licence note in the page's footer area.

        The body's container is the deepest element whose leaves hold most (STORY_COVERAGE) of the text
        trafilatura kept; past its last kept leaf, a kept leaf outside it that is not a sentence of prose is
        page furniture. Prose there (an author note that names people and their roles) stays, and so does a
        line with a comma (a person's name, title and organisation, a contact line).
        """
        inside: dict[int, int] = {}
        for (_, _, text, within), hit in zip(self.leaves, found):
            if hit:
                for ancestor in within:
                    inside[ancestor] = inside.get(ancestor, 0) + len(text)
        total = sum(len(text) for (_, _, text, _), hit in zip(self.leaves, found) if hit)
        holding = [ancestor for ancestor, count in inside.items() if count >= STORY_COVERAGE * total]
        if not holding:
            return set()
        body = min(holding, key=inside.get)  # those holding most of the text are nested: the deepest holds the least
        last_inside = max(i for i, ((_, _, _, within), hit) in enumerate(zip(self.leaves, found)) if hit and body in within)
        after = slice(last_inside + 1, None)
        return {plain for (_, _, _, within), plain, hit in zip(self.leaves[after], self.plain[after], found[after])
                if hit and body not in within and not is_prose(plain)
                and "," not in plain}  # "Ms. A, Chair, Valley Cooperative": a line of a person's attributes stays

    @staticmethod
    def _section(element, story):
        """The child of ``story`` that holds ``element``."""
        for ancestor in element.iterancestors():
            if ancestor is story:
                return element
            element = ancestor
        return None

    def _continues(self, element, story, closing) -> bool:
        """Whether prose after trafilatura's last block continues the story: in the same section of the story
        container, or in a sibling section of the same class ("article-body" → "article-body participants")."""
        section = self._section(element, story)
        if section is None or closing is None:
            return False
        if section is closing:
            return True
        first_class = (closing.get("class") or "").split()[:1]
        return bool(first_class) and (section.get("class") or "").split()[:1] == first_class

    def _between_kept_sentences(self, index: int, found: list[bool]) -> bool:
        if not 0 < index < len(found) - 1 or not (found[index - 1] and found[index + 1]):
            return False
        neighbours = (self.leaves[index - 1], self.leaves[index + 1])
        return all(kind == "paragraph" and SENTENCE_END.search(clean_text(text)) for _, kind, text, _ in neighbours)

    def _story(self, found: list[bool]):
        """The headline's nearest ancestor (below <body>) whose leaves hold most of what trafilatura kept."""
        kept_chars = sum(len(plain) for plain, hit in zip(self.plain, found) if hit)
        if self.headline is None or not kept_chars:
            return None
        for ancestor in self.headline.iterancestors():
            if ancestor.tag in ("body", "html"):
                return None
            inside = sum(len(plain) for (_, _, _, within), plain, hit in zip(self.leaves, self.plain, found)
                         if hit and id(ancestor) in within)
            if inside >= STORY_COVERAGE * kept_chars:
                return ancestor
        return None


def is_prose(plain: str) -> bool:
    """A sentence of some length: what the recall pass puts back, and what ends a teaser block."""
    return len(plain) >= MIN_RECOVERED_PROSE_CHARS and bool(SENTENCE_END.search(plain))


def _is_boilerplate(element, verdicts: dict[int, tuple]) -> bool:
    """Whether an element is page furniture by tag or class; ``verdicts`` caches (element, verdict) by id,
    holding the element so that its id stays its own."""
    cached = verdicts.get(id(element))
    if cached is None:
        verdict = element.tag in BOILERPLATE_TAGS or bool(BOILERPLATE_CLASS.search(classes_of(element)))
        cached = verdicts[id(element)] = (element, verdict)
    return cached[1]


# A short heading (or a short line ending in a colon) that announces links to other stories, in the languages
# story sites are written in most: it and the teaser lines under it are not the story. trafilatura keeps such
# blocks when they sit inside the article's container.
TEASER_HEADING = re.compile(
    r"^(?:related\b|more (?:stories|news|articles|from|on|about)\b|you (?:may|might) also\b|see also\b|"
    r"read (?:more|also|next)\b|also read\b|further reading\b|recommended (?:for you|stories|articles|reading)\b|"
    r"most (?:read|popular)\b|popular (?:posts|stories|articles)\b|latest (?:news|stories|posts)\b|"
    r"lesen sie (?:auch|mehr)\b|auch interessant\b|mehr (?:zum thema|dazu|themen|artikel|beiträge)\b|"
    r"weitere (?:artikel|beiträge|themen|nachrichten|news|meldungen)\b|das könnte (?:sie|dich) (?:auch )?interessieren\b|"
    r"empfohlene (?:artikel|beiträge)\b|schon gelesen\b|zum weiterlesen\b|(?:die )?meistgelesenen?\b|"
    r"ähnliche (?:artikel|beiträge)\b|passend zum thema\b|"
    r"(?:notas|noticias|artículos|contenidos?) relacionad[oa]s\b|relacionad[oa]s\b|más (?:sobre|noticias)\b|"
    r"te puede interesar\b|(?:lee|leer|lea) (?:también|más)\b|lo más (?:leído|visto)\b|"
    r"(?:à )?lire aussi\b|sur le même sujet\b|articles? (?:similaires|liés)\b|voir aussi\b|les plus lus\b|"
    r"leggi anche\b|articoli correlati\b|potrebbe interessarti\b|"
    r"leia (?:também|mais)\b|veja também\b|(?:notícias|matérias) relacionadas\b|mais lidas\b|"
    r"czytaj (?:także|też|również)\b|zobacz (?:też|także|również)\b|przeczytaj (?:też|także|również)\b)",
    re.I)
MAX_TEASER_HEADING_CHARS = 60


def drop_teaser_sections(pieces: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Leave out a heading that announces other stories ("Read more", "Lesen Sie auch", "Notas relacionadas")
    and the teaser lines under it, up to the next heading or the next sentence of prose."""
    kept: list[tuple[str, str]] = []
    skipping = False
    for kind, text in pieces:
        plain = clean_text(text)
        heading_like = kind == "heading" or plain.endswith(":")
        if heading_like and len(plain) <= MAX_TEASER_HEADING_CHARS and TEASER_HEADING.match(plain):
            skipping = True
            continue
        if kind == "heading" or is_prose(plain):
            skipping = False  # the story goes on after a teaser block set inside it
        if not skipping:
            kept.append((kind, text))
    return kept
