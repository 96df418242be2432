"""parse, blocks: the layer around trafilatura. Before it: page marks (captions, credits, footnotes), related
stories, taxonomy, footnote markers, the page's leaf blocks. After it: its XML as (kind, text) blocks, the
story's dropped prose put back, teaser sections left out, credits and metadata lines taken out, split words
joined."""
from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree
from lxml.html import HtmlElement

from ..schema import HTTP_URL
from .metadata import MAX_BYLINE_CHARS, RELATED_HEADING, day_date, classes_of, clean_text, text_of

# Below this many characters of story text a related-block item is a teaser, not a story of its own.
MIN_RELATED_STORY_CHARS = 200
MAX_BOLD_HEADING_CHARS = 300
BOLD_HEADING_SHARE = 0.9  # a paragraph this much in bold, not ending a sentence, is a (per-person) heading
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
LINE_BREAK = "\u2028"
LOOSE_TEXT_PARENTS = ("body", "div", "main", "section", "quote")  # where trafilatura leaves text outside <p>
BLOCK_TAGS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "figcaption", "blockquote", "pre", "dd", "dt", "td", "th")
HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
SCRIPT_TAGS = ("script", "style", "noscript", "template")  # their text is code, never a block's words
IMAGE_FILE = re.compile(r"(?:^|(?<=\s))[\w\-.~%]+?\.(?:jpe?g|png|gif|webp|tiff?|bmp)", re.I)
# "Photo: X", "Fotos: X", "Bild: X", "Crédit photo : X", "Image: X/Shutterstock" (a line that is only a credit)
_CREDIT_WORD = r"(?:photos?|fotos?|bild(?:er)?|images?|pictures?|pics?|credits?|crédits?|photo\s+credits?|crédit\s+photo|foto\s*credits?)"
CREDIT_START = re.compile(rf"^\(?(?:©|\(c\)|{_CREDIT_WORD}\s*[:：])", re.I)
TRAILING_CREDIT = re.compile(rf"\s+(©\s?[^©]{{2,160}}|\(?{_CREDIT_WORD}\s*[:：]\s*[^:：]{{2,80}}?\)?)$", re.I)
# A caption ends in its picture's credit in more ways than prose could: a source word ("Quelle:", "Fuente:",
# "Kuva:" ... after the caption's sentence), the "(c)" sign, a parenthesis naming photographer and agency with a
# slash ("(Agency/Name)", "(name / stock site)"; no digits: "(2019/2020)" and "(40 km/h)" are not credits), or a
# last fragment after the caption's sentence that does ("... harbour. Name/Agency").
_CAPTION_SOURCE_WORD = r"(?:quelle|source|fuente|fonte|kuva|fot\.?|zdjęcie|foto|photo)"
CAPTION_TRAILING_CREDIT = re.compile(
    rf"(?:^|\s+|\s*/\s*)("
    rf"\(\s*{_CAPTION_SOURCE_WORD}\s*[:：][^()]{{2,80}}\)"
    rf"|(?<=[.!?] ){_CAPTION_SOURCE_WORD}\s*[:：]\s*[^:：()]{{2,80}}"
    rf"|\((?=[^()]*[^\W\d_]\s?/\s?[^\W\d_])[^()\d]{{3,80}}\)"
    rf"|\(c\)\s*[^()/]{{2,60}}"
    rf"|(?<=[.!?] )[^.!?/()\d]{{2,40}}/[^.!?/()\d]{{2,40}}"
    rf")\s*$", re.I)
FOOTNOTE_MARKER = re.compile(r"\[?\d{1,2}\]?|[*†‡]")
TAXONOMY_LABELS = {"sectors": "sectors", "sector": "sectors", "funding framework": "funding_framework"}
# A page whose lower-cased HTML lacks all of these words has no such mark or label, and is not walked for them
# (each walk visits every paragraph, div and span of the page).
TAXONOMY_CUES = ("sector", "funding")
MARK_CUES = ("caption", "credit", "footnote")  # in the tag (figcaption) or the class of every mark PageMarks reads
CAPTION_CLASS = re.compile(r"caption", re.I)
CREDIT_CLASS = re.compile(r"credit", re.I)
FOOTNOTE_CLASS = re.compile(r"footnote", re.I)
# A short block that is mostly link text is a share bar or a link list, not prose.
LINK_LIST_MAX_CHARS = 200
LINK_LIST_SHARE = 0.6


# ---------------------------------------------------------------- the layer before trafilatura


@dataclass
class PageMarks:
    """Texts whose kind the page's markup tells (captions, credits, footnotes): trafilatura's output keeps the
    text but not the class, so blocks are matched back to these by text."""

    captions: set[str]
    credits: set[str]
    footnotes: set[str]

    @classmethod
    def of_page(cls, tree: HtmlElement, html_lowered: str) -> "PageMarks":
        """The page's marks; none without looking when its HTML has none of MARK_CUES."""
        if any(cue in html_lowered for cue in MARK_CUES):
            return cls.collect(tree)
        return cls(set(), set(), set())

    @classmethod
    def collect(cls, tree: HtmlElement) -> "PageMarks":
        marks = cls(set(), set(), set())
        for element in tree.iter("figcaption", "p", "div", "span", "li", "td", "dd"):
            if not isinstance(element.tag, str):
                continue
            names = classes_of(element)
            if element.tag == "figcaption" or CAPTION_CLASS.search(names):
                marks.captions.add(_strip_image_files(text_of(element)))
            elif CREDIT_CLASS.search(names):
                marks.credits.add(text_of(element))
            if FOOTNOTE_CLASS.search(names):
                for item in element.iter("li", "p"):
                    marks.footnotes.add(_footnote_text(text_of(item)))
        marks.captions.discard("")
        return marks


def prepare_for_extraction(tree: HtmlElement) -> None:
    """Drop footnote markers; captions become plain paragraphs after their figure so trafilatura keeps them."""
    for marker in list(tree.iter("sup")):
        if FOOTNOTE_MARKER.fullmatch(text_of(marker)):
            marker.drop_tree()
    for element in list(tree.iter("figcaption", "div", "p", "span", "figure")):
        if CAPTION_CLASS.search(classes_of(element)):  # trafilatura discards elements classed as captions
            element.attrib.pop("class", None)
            element.attrib.pop("id", None)
    for caption in list(tree.iter("figcaption")):
        figure = caption.getparent()
        caption.tag = "p"
        if figure is not None and figure.tag == "figure":
            caption.tail = None
            figure.addnext(caption)


def extract_taxonomy(tree: HtmlElement, html_lowered: str) -> dict:
    """"Sectors" and "Funding Framework" term lists, removed from the tree so they stay out of the prose."""
    found: dict = {}
    if not any(cue in html_lowered for cue in TAXONOMY_CUES):
        return found
    for label in list(tree.iter("h2", "h3", "h4", "h5", "h6", "dt", "strong", "span", "p")):
        key = TAXONOMY_LABELS.get(text_of(label).rstrip(":").lower())
        if not key or label.getparent() is None:
            continue
        holder = label.getnext()
        terms = [text_of(li) for li in holder.iter("li")] if holder is not None else []
        if holder is not None and not terms:
            terms = [text_of(holder)]
        terms = [t for t in terms if t]
        found[key] = terms if key == "sectors" else (", ".join(terms) or None)
        if holder is not None:
            holder.drop_tree()
        label.drop_tree()
    return found


def extract_related(tree: HtmlElement) -> list[tuple]:
    """Related-story blocks: each item with its own text becomes (url, title, date, date_text, blocks, credits).

    The block is removed from the tree either way, so teasers never leak into the parent's text.
    """
    stories = []
    for heading in list(tree.iter("h2", "h3", "h4", "h5")):
        section = heading.getparent()
        if section is None or section.tag in ("body", "html", "article", "main") or not RELATED_HEADING.match(text_of(heading)):
            continue
        first = next((child for child in section if isinstance(child.tag, str)), None)
        if first is not heading or next(section.iter("h1"), None) is not None:
            continue  # a "See also" heading inside the story's own flow, not a block of related stories
        if section.getparent() is None:  # already removed with an enclosing related block
            continue
        for item in [child for child in section if isinstance(child.tag, str) and child is not heading]:
            link = next(iter(item.xpath(".//a[@href]")), None)
            if link is None and not item.xpath(".//h4|.//h5"):
                continue
            href = link.get("href").strip() if link is not None else ""
            url = href if re.match(HTTP_URL, href) else None  # a relative or mangled link is no article's address
            title_el = next(iter(item.xpath(".//h2|.//h3|.//h4|.//h5|.//h6")), link)
            title = text_of(title_el) if title_el is not None else None
            date_el = next(iter(item.xpath(".//*[contains(@class, 'date')] | .//time")), None)
            date_text = text_of(date_el) if date_el is not None else None
            date = day_date((date_el.get("datetime") if date_el is not None else None) or date_text or "")
            if date_el is not None:
                date_el.drop_tree()
            for duplicate in item.xpath(".//h2|.//h3|.//h4|.//h5|.//h6"):
                if text_of(duplicate) == title:
                    duplicate.drop_tree()
            marks = PageMarks.collect(item)
            prepare_for_extraction(item)
            blocks, credits = finish_blocks(html_blocks(item), marks, title, None, None)
            if sum(len(text) for _, text in blocks) >= MIN_RELATED_STORY_CHARS:
                stories.append((url, title, date, date_text, blocks, credits))
        section.drop_tree()
    return stories


def html_blocks(root: HtmlElement) -> list[tuple[str, str]]:
    """(kind, text) of the innermost block elements under ``root`` (used for related-story items)."""
    pieces = []
    for element in root.iter(*BLOCK_TAGS):
        if any(True for _ in element.iterdescendants(*BLOCK_TAGS)):
            continue
        kind = "heading" if element.tag in HEADING_TAGS else "paragraph"
        pieces.append((kind, _text_with_breaks(element, "br")))
    return pieces


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
                if any(True for _ in element.iterdescendants(*BLOCK_TAGS, "div")):
                    continue
                text = _text_with_breaks(element, "br", skip=SCRIPT_TAGS)
                if not _is_prose(plain := clean_text(text)):
                    continue
            elif any(True for _ in element.iterdescendants(*BLOCK_TAGS)):
                continue
            else:
                text = _text_with_breaks(element, "br")
                plain = clean_text(text)
                if not plain:  # nothing to put back, and "found" in any text: it would pass for a block trafilatura kept
                    continue
            ancestors = list(element.iterancestors())
            if _mostly_links(element, plain):
                chrome.add(plain)
                continue
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
        pieces = [(kind, text) for kind, text in pieces if clean_text(text.replace(LINE_BREAK, " ")) not in self.chrome]
        if not pieces or not self.leaves:
            return pieces
        found = self._found(pieces)
        furniture = self._trailing_furniture(found)
        if furniture:
            pieces = [(kind, text) for kind, text in pieces if clean_text(text.replace(LINE_BREAK, " ")) not in furniture]
            found = self._found(pieces)
        story = self._story(found)
        last_hit = max((i for i, hit in enumerate(found) if hit), default=-1)
        first_hit = found.index(True) if last_hit >= 0 else -1
        closing = self._section(self.leaves[last_hit][0], story) if story is not None and last_hit >= 0 else None
        merged: list[tuple[str, str]] = []
        position = 0
        heading, under = None, []  # a dropped heading comes back only with a section of prose under it
        for index, ((element, kind, text, within), plain, hit) in enumerate(zip(self.leaves, self.plain, found)):
            if kind == "heading" and _is_prose(plain):
                kind = "paragraph"  # a lead or a paragraph set in a heading tag is prose, and comes back as such
            if plain in furniture:
                continue  # left out above; not put back as a line between kept blocks either
            if hit:
                merged.extend(under if heading else [])  # a lone paragraph under a dropped heading: kept, headless
                heading, under = None, []
                while position < len(pieces):  # trafilatura's blocks up to the one holding this leaf
                    merged.append(pieces[position])
                    position += 1
                    if plain in clean_text(merged[-1][1].replace(LINE_BREAK, " ")):
                        break
            elif kind == "heading" and plain and self._between_kept_sentences(index, found):
                merged.append((kind, text))
            elif story is None or id(story) not in within:
                continue
            elif kind == "heading" and plain:
                merged.extend(under if heading else [])
                heading, under = (kind, text), []
            elif (_is_prose(plain) and (index < last_hit or (element.tag != "div" and self._continues(element, story, closing)))) \
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
                if hit and body not in within and not _is_prose(plain)
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


def _is_prose(plain: str) -> bool:
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


def _mostly_links(element, plain: str) -> bool:
    """A short block that is mostly link text (in the page's <a> or trafilatura's <ref>): a share bar or link list."""
    linked = sum(len(clean_text(" ".join(a.itertext()))) for a in element.iter("a", "ref"))
    return bool(plain) and len(plain) < LINK_LIST_MAX_CHARS and linked >= LINK_LIST_SHARE * len(plain)


# ---------------------------------------------------------------- trafilatura's XML → blocks


def xml_blocks(body: etree._Element) -> list[tuple[str, str]]:
    """(kind, text) for each block of trafilatura's output, in order: head → heading, table row → row
    ("cell, cell, cell", header rows skipped), a paragraph almost all in bold → heading, others → paragraph."""
    pieces: list[tuple[str, str]] = []
    if body.text and body.text.strip():
        pieces.append(("paragraph", body.text))
    _walk_blocks(body, pieces)
    return pieces


def _walk_blocks(container: etree._Element, pieces: list[tuple[str, str]]) -> None:
    for element in container:
        if not isinstance(element.tag, str):
            pass
        elif element.tag == "row":
            cells = [clean_text(" ".join(cell.itertext())) for cell in element.iter("cell")]
            if any(cells) and not all(cell.get("role") == "head" for cell in element.iter("cell")):
                pieces.append(("row", ", ".join(cell for cell in cells if cell)))  # a header row names columns
        elif element.tag in ("head", "p", "code") or (element.tag in ("item", "quote") and element.find(".//p") is None):
            text = _text_with_breaks(element, "lb", skip=("list",) if element.tag == "item" else ())
            if not _mostly_links(element, clean_text(text.replace(LINE_BREAK, " "))):
                heading = element.tag == "head" or (element.tag == "p" and _mostly_bold(element, text))
                pieces.append(("heading" if heading else "paragraph", text))
            if element.tag == "item":
                for nested in element.findall("list"):
                    _walk_blocks(nested, pieces)
        elif element.tag not in ("graphic", "lb", "ref", "hi"):
            _walk_blocks(element, pieces)  # list, table, quote or item holding paragraphs, div
        if element.tail and element.tail.strip() and container.tag in LOOSE_TEXT_PARENTS:
            pieces.append(("paragraph", element.tail))  # text straight in the body, after a heading or a list


def _text_with_breaks(element, break_tag: str, skip: tuple[str, ...] = ()) -> str:
    """The element's text with each line break as LINE_BREAK (nested ``skip`` elements left out)."""
    parts = [element.text or ""]
    for child in element:
        if not isinstance(child.tag, str):
            parts.append(child.tail or "")
            continue
        if child.tag == break_tag:
            parts.append(LINE_BREAK)
        elif child.tag not in skip:
            parts.append(_text_with_breaks(child, break_tag, skip))
        parts.append(child.tail or "")
    return "".join(parts)


def _mostly_bold(element, text: str) -> bool:
    plain = clean_text(text.replace(LINE_BREAK, " "))
    bold = "".join(clean_text(" ".join(h.itertext())) for h in element.iter("hi") if h.get("rend") in ("#b", "#strong"))
    return bool(bold) and len(bold) >= BOLD_HEADING_SHARE * len(plain.replace(" ", "")) \
        and len(plain) <= MAX_BOLD_HEADING_CHARS and not plain.endswith(".")


# ---------------------------------------------------------------- the layer after trafilatura

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
        plain = clean_text(text.replace(LINE_BREAK, " "))
        heading_like = kind == "heading" or plain.endswith(":")
        if heading_like and len(plain) <= MAX_TEASER_HEADING_CHARS and TEASER_HEADING.match(plain):
            skipping = True
            continue
        if kind == "heading" or _is_prose(plain):
            skipping = False  # the story goes on after a teaser block set inside it
        if not skipping:
            kept.append((kind, text))
    return kept


def finish_blocks(pieces: list[tuple[str, str]], marks: PageMarks, title: str | None, date_text: str | None,
                  byline: str | None) -> tuple[list[tuple[str, str]], list[str]]:
    """Split line breaks, give captions and footnotes their kind, take photo credits and metadata lines out."""
    blocks: list[tuple[str, str]] = []
    credits: list[str] = []
    for kind, raw in pieces:
        for line in raw.split(LINE_BREAK):
            text = clean_text(line)
            if not text:
                continue
            stripped = _strip_image_files(text)
            if kind == "paragraph" and stripped in marks.captions:
                kind_here = "caption"
            elif kind == "paragraph" and _footnote_text(text) in marks.footnotes:
                kind_here = "footnote"
            else:
                kind_here = kind
            text = stripped if kind_here == "caption" or IMAGE_FILE.match(text) else text
            if not text:
                continue
            if CREDIT_START.match(text) or text in marks.credits:
                credits.append(text)
                continue
            if (m := TRAILING_CREDIT.search(text)) or (kind_here == "caption" and (m := CAPTION_TRAILING_CREDIT.search(text))):
                credits.append(m.group(1).strip())
                text = text[: m.start()].strip()
            if kind_here == "footnote":
                text = _footnote_text(text)
            if text and not _is_metadata(text, title, date_text, byline):
                blocks.append((kind_here, text))
    return repair_split_words(blocks), credits


def _strip_image_files(text: str) -> str:
    return IMAGE_FILE.sub("", text).strip()


def _footnote_text(text: str) -> str:
    return re.sub(r"^\[?\d{1,2}\]?\s*", "", text).rstrip("↩ ").strip()


def _is_metadata(text: str, title: str | None, date_text: str | None, byline: str | None) -> bool:
    if title and text == title:
        return True
    if date_text and text == date_text:
        return True
    if byline and re.sub(r"^by\s+", "", text, flags=re.I) == byline and len(text) <= MAX_BYLINE_CHARS:
        return True
    return bool(re.fullmatch(r"(posted|published)( on)?\s*[:\-]?\s*", text, re.I))


SPLIT_WORD_REACH = 64  # letters looked at before a paragraph break; no word cut in two is longer


def repair_split_words(blocks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Join a paragraph that ends mid-sentence with the next one that starts in lower case.

    A word cut in two ("trans" / "formation") is glued back when the glued form occurs elsewhere on the page;
    otherwise the two parts are joined with a space.
    """
    vocabulary: set[str] | None = None  # the page's words, gathered the first time a join needs them
    repaired: list[tuple[str, str]] = []
    for kind, text in blocks:
        if repaired and kind == "paragraph" and repaired[-1][0] == "paragraph" and re.match(r"^[a-z]", text) \
                and re.search(r"[A-Za-z,]$", repaired[-1][1][-1:]):
            previous = repaired[-1][1]
            # only the end of the text so far is searched: a page of thousands of joined lines stays linear
            tail = re.search(r"([A-Za-z]+)$", previous[-SPLIT_WORD_REACH:])
            head = re.match(r"([a-z]+)", text)
            if tail and head and vocabulary is None:
                vocabulary = {w.lower() for _, words in blocks for w in re.findall(r"[A-Za-z]+", words)}
            glue = "" if tail and head and (tail.group(1) + head.group(1)).lower() in vocabulary else " "
            repaired[-1] = (kind, previous + glue + text)
            continue
        repaired.append((kind, text))
    return repaired
