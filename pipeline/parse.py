"""parse: a page on disk → Article records (metadata, clean text in blocks, related stories as child articles).

The main content is found by trafilatura (main-text extraction with its own fallbacks, evaluated on pages
from many sites; see docs/benchmark.md), and its block structure (headings, paragraphs, list items, table
rows, quotes, line breaks) becomes the article's blocks. This module adds what the story pipeline needs on
top, as a thin layer on the lxml tree before and after: related-story blocks become child articles,
WordPress taxonomy (sectors, funding framework) is read off the page, footnote markers are dropped,
captions, photo credits and footnotes keep their own kind, glued image file names are cut off, a word split
across two paragraphs is joined, and the published date and byline are looked for where story sites print
them before trafilatura's (htmldate's) guess is taken.
"""
from __future__ import annotations

import codecs
import datetime as dt
import gzip
import hashlib
import io
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer
import trafilatura
from lxml import etree
from lxml.html import HtmlElement

from .normalize import normalize_date, stable_id
from .records import Article, Block


log = logging.getLogger(__name__)


class ParseError(ValueError):
    """A page that cannot become an article; the message names the file and says why."""


PAGE_SUFFIXES = (".html", ".htm", ".xhtml")
GZIP_SUFFIX = ".gz"
GZIP_MAGIC = b"\x1f\x8b"
# Real article pages are well under a few MB; a compressed page that inflates beyond this is a
# compression bomb or not a page, and is refused rather than read into memory.
MAX_DECOMPRESSED_BYTES = 32 * 1024 * 1024
PARSER_DEPTH_LIMIT = 255  # libxml2 stops nesting there (its guard against stack exhaustion); deeper text is cut
SNIFF_BYTES = 4096  # the head of the file where a BOM, NUL bytes or a declared charset are looked for
MARKUP_SNIFF_CHARS = 20000
# Below this many characters of story text a related-block item is a teaser, not a story of its own.
MIN_RELATED_STORY_CHARS = 200
MAX_DATE_LINE_CHARS = 120  # a date/byline line is short; longer text is prose that happens to hold a date
MAX_BYLINE_CHARS = 80
MAX_BOLD_HEADING_CHARS = 300
BOLD_HEADING_SHARE = 0.9  # a paragraph this much in bold, not ending a sentence, is a (per-person) heading
DATELINE_SEARCH_BLOCKS = 4

# The recall pass: prose that trafilatura left out of the story's own container (the headline's nearest
# ancestor that holds most of what trafilatura kept) is put back when it reads like a sentence of this length.
MIN_RECOVERED_PROSE_CHARS = 60
STORY_COVERAGE = 0.8
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
IMAGE_FILE = re.compile(r"(?:^|(?<=\s))[\w\-.~%]+?\.(?:jpe?g|png|gif|webp|tiff?|bmp)", re.I)
# "Photo: X", "Fotos: X", "Bild: X", "Crédit photo : X", "Image: X/Shutterstock" (a line that is only a credit)
_CREDIT_WORD = r"(?:photos?|fotos?|bild(?:er)?|images?|pictures?|pics?|credits?|crédits?|photo\s+credits?|crédit\s+photo|foto\s*credits?)"
CREDIT_START = re.compile(rf"^(?:©|\(c\)|{_CREDIT_WORD}\s*[:：])", re.I)
TRAILING_CREDIT = re.compile(rf"\s+(©\s?[^©]{{2,160}}|\(?{_CREDIT_WORD}\s*[:：]\s*[^:：]{{2,80}}?\)?)$", re.I)
FOOTNOTE_MARKER = re.compile(r"\[?\d{1,2}\]?|[*†‡]")
TAXONOMY_LABELS = {"sectors": "sectors", "sector": "sectors", "funding framework": "funding_framework"}
RELATED_HEADING = re.compile(r"^(related|more|other|you may also|see also|read more)\b", re.I)
CAPTION_CLASS = re.compile(r"caption", re.I)
CREDIT_CLASS = re.compile(r"credit", re.I)
FOOTNOTE_CLASS = re.compile(r"footnote", re.I)
DATE_CLASS = re.compile(r"(^|[-_ ])(date|posted-on|published|entry-date|meta|post-meta|byline)([-_ ]|$)")
DATE_LINE = re.compile(r"^(?:posted|published|updated)?\s*(?:on|:)?\s*(?P<date>[\w ,./-]{6,40}?)\s*$", re.I)
_MONTHS = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
DATE_IN_LINE = re.compile(rf"\b(\d{{1,2}} {_MONTHS},? \d{{4}}|{_MONTHS} \d{{1,2}},? \d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|"
                          rf"\d{{1,2}}/\d{{1,2}}/\d{{4}}|\d{{4}}/\d{{1,2}}/\d{{1,2}})\b")
DATELINE_PREFIX = re.compile(r"^(?P<place>[A-Z][A-Z .'-]{2,40}),\s+(?P<date>\d{1,2} [A-Z][a-z]+ \d{4}|[A-Z][a-z]+ \d{1,2},? \d{4})"
                             r"\s*[-–—:]\s")
BYLINE_LEAD = re.compile(r"^(?:[\w ]{0,30}?\s)?by\s+", re.I)  # "By", "Posted by", "Text and photos by"
BYLINE_SEPARATOR = re.compile(r"\s+[|·•—–]\s+|\s*\|\s*")
DECLARED_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""", re.I)
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
# Browsers read these labels as Windows-1252, a superset that also covers the curly quotes pages mislabel.
WINDOWS_1252_ALIASES = {"latin_1", "iso8859-1", "ascii", "cp1252"}
# htmldate's extensive search parses every date-like string on the page with dateparser in all languages
# (most of the parse time on foreign pages); the page's own date markup and datelines are searched here.
DATE_EXTRACTION = dict(original_date=True, extensive_search=False)
TRAFILATURA_OPTIONS = dict(include_tables=True, include_formatting=True, include_links=True, include_comments=False,
                           with_metadata=True, date_extraction_params=DATE_EXTRACTION)
# A short block that is mostly link text is a share bar or a link list, not prose.
LINK_LIST_MAX_CHARS = 200
LINK_LIST_SHARE = 0.6


@dataclass(frozen=True)
class RawPage:
    """A page on disk and, when the fetch manifest knows it, the URL it came from."""

    path: Path
    url: str | None = None
    relative_path: str | None = None


def is_page_file(path: Path) -> bool:
    """Whether a file name is a page the parse stage reads: .html, .htm, .xhtml in any case, optionally .gz."""
    name = path.name.lower()
    if name.endswith(GZIP_SUFFIX):
        name = name[: -len(GZIP_SUFFIX)]
    return name.endswith(PAGE_SUFFIXES)


# ---------------------------------------------------------------- bytes → text → tree


def read_page_bytes(path: Path) -> bytes:
    """The page's bytes, gunzipped when compressed (refused beyond MAX_DECOMPRESSED_BYTES)."""
    data = path.read_bytes()
    if not data.startswith(GZIP_MAGIC):
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:  # reads in chunks: the cap holds while inflating
            inflated = stream.read(MAX_DECOMPRESSED_BYTES + 1)
    except (OSError, EOFError) as error:
        raise ParseError(f"{path}: corrupt gzip data ({error})") from None
    if len(inflated) > MAX_DECOMPRESSED_BYTES:
        raise ParseError(f"{path}: decompresses to more than {MAX_DECOMPRESSED_BYTES} bytes, refused")
    return inflated


def decode_html(data: bytes, path: Path) -> str:
    """Bytes → text: a BOM, else UTF-8, else the declared charset, else charset-normalizer's guess."""
    if not data.strip():
        raise ParseError(f"{path}: empty file")
    head = data[:SNIFF_BYTES]
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if head.startswith(bom):
            return _check_markup(data.decode(encoding, errors="replace"), path)
    if b"\x00" in head:
        raise ParseError(f"{path}: binary content, not HTML")
    try:
        return _check_markup(data.decode("utf-8"), path)
    except UnicodeDecodeError:
        pass
    encoding = _declared_encoding(head) or _guessed_encoding(data)
    return _check_markup(data.decode(encoding, errors="replace"), path)


def _declared_encoding(head: bytes) -> str | None:
    match = DECLARED_CHARSET.search(head)
    if not match:
        return None
    try:
        name = codecs.lookup((match.group(1) or match.group(2)).decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None
    return "cp1252" if name in WINDOWS_1252_ALIASES or name == "utf-8" else name  # a UTF-8 label on non-UTF-8 bytes lies


def _guessed_encoding(data: bytes) -> str:
    best = charset_normalizer.from_bytes(data[:MARKUP_SNIFF_CHARS * 4]).best()
    name = codecs.lookup(best.encoding).name if best else "cp1252"
    return "cp1252" if name in WINDOWS_1252_ALIASES else name


def _check_markup(text: str, path: Path) -> str:
    if not re.search(r"<\s*(html|body|p|div|h1|article|title)\b", text[:MARKUP_SNIFF_CHARS], re.I):
        raise ParseError(f"{path}: no HTML markup found")
    return XML_DECLARATION.sub("", text, count=1)


def load_tree(html: str, path: Path) -> HtmlElement:
    """The page's lxml tree (trafilatura's loader, which repairs common breakage)."""
    tree = trafilatura.utils.load_html(html)
    if tree is None:
        raise ParseError(f"{path}: the HTML parser could not read the page")
    if any(entry.type_name == "ERR_RESOURCE_LIMIT" for entry in trafilatura.utils.HTML_PARSER.error_log):
        log.warning("%s: markup nested deeper than libxml2's limit (%d levels); the text below it is not read",
                    path, PARSER_DEPTH_LIMIT)
    return tree


# ---------------------------------------------------------------- the page


def parse_page(page: RawPage) -> list[Article]:
    """One page → its article plus one child article per related story that carries story text."""
    html = decode_html(read_page_bytes(page.path), page.path)
    tree = load_tree(html, page.path)
    url = page.url or canonical_url(tree)
    source_path = page.relative_path or str(page.path)
    article_id = stable_id("art", url or f"file:{source_path}")
    title = find_title(tree)
    published, date_text = find_published(tree)
    marks = PageMarks.collect(tree)
    related = extract_related(tree)
    taxonomy = extract_taxonomy(tree)
    found_byline, byline_line = find_byline(tree)
    prepare_for_extraction(tree)
    story = StoryCandidates.collect(tree)
    document = trafilatura.bare_extraction(tree, url=url, **TRAFILATURA_OPTIONS)
    body = document.body if document is not None else None
    title = title or (document.title if document is not None else None)
    byline, byline_date = split_byline(found_byline or (document.author if document is not None else None))
    pieces = story.recover(xml_blocks(body) if body is not None and len(body) else [])
    if byline_line and (len(byline_line) > MAX_BYLINE_CHARS or "," in (byline or "")) \
            and byline_line not in (date_text or "") and not any(byline_line in text for _, text in pieces):
        pieces.insert(0, ("paragraph", byline_line))  # "By Dr. X, Senior Fellow at Y": more than a name
    blocks, credits = finish_blocks(pieces, marks, title, date_text, found_byline)
    if not blocks and not title:
        raise ParseError(f"{page.path}: no body content found (no title and no text)")
    published = (published or byline_date or published_from_blocks(blocks)
                 or _iso_or_text_date(document.date if document is not None and document.date else ""))
    main = assemble(article_id, url, source_path, None, title, published, date_text, byline, taxonomy, blocks, credits)
    if document is not None:
        main.site_name = document.sitename or None
        main.categories = list(document.categories or [])
        main.tags = list(document.tags or [])
    children = [
        assemble(stable_id("art", r_url or f"{article_id}#related-{i}"), r_url, source_path, article_id, r_title,
                 r_date, r_date_text, None, {}, r_blocks, r_credits)
        for i, (r_url, r_title, r_date, r_date_text, r_blocks, r_credits) in enumerate(related)
    ]
    return [main, *children]


def clean_text(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").split())


def text_of(element) -> str:
    return clean_text(" ".join(element.itertext()))


def classes_of(element) -> str:
    return f"{element.get('class') or ''} {element.get('id') or ''}"


# ---------------------------------------------------------------- metadata


def canonical_url(tree: HtmlElement) -> str | None:
    """The page's canonical (or og:url) address, the basis of a stable article id."""
    for value in tree.xpath('//link[@rel="canonical"]/@href | //meta[@property="og:url"]/@content'):
        if value.strip():
            return value.strip()
    return None


def find_title(tree: HtmlElement) -> str | None:
    """Headline: the article's h1, else og:title, else <title> without the site suffix."""
    for path in ("//article//h1", "//main//h1", "//h1"):
        for candidate in tree.xpath(path):
            if text := text_of(candidate):
                return text
    for value in tree.xpath('//meta[@property="og:title"]/@content'):
        if value.strip():
            return clean_text(value)
    for candidate in tree.xpath("//title"):
        if text := text_of(candidate):
            return re.split(r"\s+[|–—-]\s+", text)[0] or None
    return None


def find_published(tree: HtmlElement) -> tuple[dt.date | None, str | None]:
    """Publication date from <time>, meta tags, JSON-LD or a short date line; also the text as shown."""
    for time in tree.iter("time"):
        if _inside_related(time):
            continue
        shown = text_of(time)
        if parsed := _iso_or_text_date(time.get("datetime") or shown):
            return parsed, _meta_line(time) or shown or None
    for attribute, value in (("property", "article:published_time"), ("name", "date"), ("itemprop", "datePublished"),
                             ("name", "dc.date"), ("name", "DC.date.issued"), ("name", "publish-date"),
                             ("property", "og:published_time"), ("name", "pubdate")):
        for content in tree.xpath(f'//meta[@{attribute}="{value}"]/@content'):
            if parsed := _iso_or_text_date(content):
                return parsed, None
    if parsed := json_ld_date(tree):
        return parsed, None
    for element in tree.xpath("//*[@class]"):
        if not isinstance(element.tag, str) or not DATE_CLASS.search(element.get("class")) or _inside_related(element):
            continue
        shown = text_of(element)
        if len(shown) <= MAX_DATE_LINE_CHARS and (parsed := date_in_line(shown)):
            return parsed, shown  # the line as shown ("7 May 2023 · By Desk") is the article's dateline
    return None, None


def _meta_line(element) -> str | None:
    """The short date/byline line a <time> stands in ("Posted on 14 June 2021", "30 June 2022 · By X")."""
    for ancestor in element.iterancestors():
        if ancestor.tag in ("body", "article", "main", "header") or len(text_of(ancestor)) > MAX_DATE_LINE_CHARS:
            return None
        if DATE_CLASS.search(ancestor.get("class") or "") and ancestor.tag in ("p", "div", "span"):
            return text_of(ancestor)
    return None


def json_ld_date(tree: HtmlElement) -> dt.date | None:
    """datePublished (else dateCreated) of the page's JSON-LD."""
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        for key in ("datePublished", "dateCreated"):
            if (value := _find_key(data, key)) and (parsed := _iso_or_text_date(value)):
                return parsed
    return None


def _find_key(data, key: str) -> str | None:
    if isinstance(data, dict):
        if isinstance(data.get(key), str):
            return data[key]
        data = list(data.values())
    if isinstance(data, list):
        for item in data:
            if found := _find_key(item, key):
                return found
    return None


def _inside_related(element) -> bool:
    return any(RELATED_HEADING.match(classes_of(a).strip()) or "related" in classes_of(a).lower()
               for a in element.iterancestors())


def date_in_line(text: str) -> dt.date | None:
    """The first full calendar date in a short line ("Posted on March 12, 2024 by ...", "30/11/2021 · Stories")."""
    match = DATE_IN_LINE.search(text)
    return _iso_or_text_date(match.group(1)) if match else None


def _iso_or_text_date(value: str) -> dt.date | None:
    value = value.strip()
    if m := re.match(r"^(\d{4})-(\d{2})-(\d{2})", value):
        try:
            return dt.date(*map(int, m.groups()))
        except ValueError:
            return None
    parsed = normalize_date(value) if value and len(value) <= 40 else None
    return parsed.start_date if parsed and parsed.precision == "day" else None


def published_from_blocks(blocks: list[tuple[str, str]]) -> dt.date | None:
    """Fallback: a dateline ("BANGKOK, 3 May 2021 –") or a short date line among the first blocks."""
    for _, text in blocks[:DATELINE_SEARCH_BLOCKS]:
        if (m := DATELINE_PREFIX.match(text)) and (parsed := normalize_date(m.group("date"))):
            return parsed.start_date
        if len(text) <= MAX_DATE_LINE_CHARS and (parsed := date_in_line(text)):
            return parsed
    return None


def find_byline(tree: HtmlElement) -> tuple[str | None, str | None]:
    """Author or team, from a byline/author element or a short "By ..." line (outside related blocks); also
    the line as printed."""
    body = tree.find("body") if tree.find("body") is not None else tree
    for element in body.xpath(".//*[contains(@class, 'author') or contains(@class, 'byline') or contains(@id, 'author')"
                              " or contains(@id, 'byline') or contains(@class, 'Author') or contains(@class, 'Byline')]"):
        if not _inside_related(element) and (text := text_of(element)) and len(text) <= MAX_DATE_LINE_CHARS:
            return re.sub(r"^by\s+", "", text, flags=re.I), text
    for element in body.iter("p", "div", "span"):
        if not re.match(r"\s*by\s", element.text or "", re.I):  # cheap test before reading the subtree
            continue
        text = text_of(element)
        if re.match(r"^by\s+\S", text, re.I) and len(text) <= MAX_BYLINE_CHARS:
            return re.sub(r"^by\s+", "", text, flags=re.I), text
    return None, None


def split_byline(text: str | None) -> tuple[str | None, dt.date | None]:
    """"Staff | 18 March 2024" → ("Staff", 2024-03-18): a byline with a date glued on gives both apart."""
    if not text:
        return None, None
    names, date = [], None
    for part in BYLINE_SEPARATOR.split(text):
        part = BYLINE_LEAD.sub("", part.strip())
        part_date = _iso_or_text_date(part) or (date_in_line(part) if len(part) <= MAX_DATE_LINE_CHARS else None)
        if part_date:
            date = date or part_date
            part = DATE_IN_LINE.sub("", part).strip(" ,-")
            part = re.sub(r"\s*\b(?:on|posted|published)\s*$", "", part, flags=re.I)
        if part:
            names.append(part)
    return (", ".join(names) or None), date


# ---------------------------------------------------------------- the layer before trafilatura


@dataclass
class PageMarks:
    """Texts whose kind the page's markup tells (captions, credits, footnotes): trafilatura's output keeps the
    text but not the class, so blocks are matched back to these by text."""

    captions: set[str]
    credits: set[str]
    footnotes: set[str]

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


def extract_taxonomy(tree: HtmlElement) -> dict:
    """"Sectors" and "Funding Framework" term lists, removed from the tree so they stay out of the prose."""
    found: dict = {}
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
            url = link.get("href").strip() if link is not None else None
            title_el = next(iter(item.xpath(".//h2|.//h3|.//h4|.//h5|.//h6")), link)
            title = text_of(title_el) if title_el is not None else None
            date_el = next(iter(item.xpath(".//*[contains(@class, 'date')] | .//time")), None)
            date_text = text_of(date_el) if date_el is not None else None
            date = _iso_or_text_date((date_el.get("datetime") if date_el is not None else None) or date_text or "")
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

    def __init__(self, headline, leaves: list[tuple[HtmlElement, str, str, frozenset]], chrome: set[str]):
        self.headline = headline
        self.leaves = leaves
        self.chrome = chrome - {clean_text(text) for _, _, text, _ in leaves}
        self.held: dict = {}

    @classmethod
    def collect(cls, tree: HtmlElement) -> "StoryCandidates":
        body = tree.find("body")
        if body is None:
            return cls(None, [], set())
        headline = next(iter(tree.xpath("//article//h1|//main//h1") or tree.xpath("//h1")), None)
        above = list(headline.iterancestors()) if headline is not None else [body, *body.iterancestors()]
        story_line = {id(a) for a in above}
        leaves, chrome = [], set()
        held: dict = {}  # lxml makes a new proxy (a new id) for an element nobody holds: hold the ancestors
        for element in body.iter(*BLOCK_TAGS):
            if any(True for _ in element.iterdescendants(*BLOCK_TAGS)):
                continue
            ancestors = list(element.iterancestors())
            text = _text_with_breaks(element, "br")
            # a container of the headline ("<body class='has-sidebar'>") says nothing about its blocks
            own = [a for a in [element, *ancestors] if id(a) not in story_line]
            if _mostly_links(element, clean_text(text)):
                chrome.add(clean_text(text))
                continue
            if any(a.tag in BOILERPLATE_TAGS or BOILERPLATE_CLASS.search(classes_of(a)) for a in own):
                continue
            kind = "heading" if element.tag in HEADING_TAGS else "paragraph"
            leaves.append((element, kind, text, frozenset(map(id, ancestors))))
            held.update((id(a), a) for a in ancestors)
        story = cls(headline, leaves, chrome)
        story.held = held | {id(a): a for a in above}
        return story

    def recover(self, pieces: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """trafilatura's blocks without page chrome, with the story's dropped prose put back in page order.

        A heading trafilatura dropped between two blocks it kept ("Marta Kowalska" between two paragraphs)
        is part of the story's flow wherever the story sits, and comes back too.
        """
        pieces = [(kind, text) for kind, text in pieces if clean_text(text.replace(LINE_BREAK, " ")) not in self.chrome]
        if not pieces or not self.leaves:
            return pieces
        kept = " ".join(clean_text(text.replace(LINE_BREAK, " ")) for _, text in pieces)
        found = [clean_text(text.replace(LINE_BREAK, " ")) in kept for _, _, text, _ in self.leaves]
        story = self._story(found)
        last_hit = max((i for i, hit in enumerate(found) if hit), default=-1)
        closing = self._section(self.leaves[last_hit][0], story) if story is not None and last_hit >= 0 else None
        merged: list[tuple[str, str]] = []
        position = 0
        heading, under = None, []  # a dropped heading comes back only with a section of prose under it
        for index, ((element, kind, text, within), hit) in enumerate(zip(self.leaves, found)):
            plain = clean_text(text.replace(LINE_BREAK, " "))
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
            elif self._is_prose(plain) and (index < last_hit or self._continues(element, story, closing)):
                if heading is None:
                    merged.append((kind, text))
                    continue
                under.append((kind, text))
                if len(under) == MIN_SECTION_PARAGRAPHS:
                    merged.extend([heading, *under])
                    heading, under = None, []
        return merged + (under if heading else []) + pieces[position:]

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
        kept_chars = sum(len(clean_text(text)) for (_, _, text, _), hit in zip(self.leaves, found) if hit)
        if self.headline is None or not kept_chars:
            return None
        for ancestor in self.headline.iterancestors():
            if ancestor.tag in ("body", "html"):
                return None
            inside = sum(len(clean_text(text)) for (_, _, text, within), hit in zip(self.leaves, found)
                         if hit and id(ancestor) in within)
            if inside >= STORY_COVERAGE * kept_chars:
                return ancestor
        return None

    @staticmethod
    def _is_prose(plain: str) -> bool:
        return len(plain) >= MIN_RECOVERED_PROSE_CHARS and bool(SENTENCE_END.search(plain))


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
            if m := TRAILING_CREDIT.search(text):
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


def repair_split_words(blocks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Join a paragraph that ends mid-sentence with the next one that starts in lower case.

    A word cut in two ("trans" / "formation") is glued back when the glued form occurs elsewhere on the page;
    otherwise the two parts are joined with a space.
    """
    vocabulary = {w.lower() for _, text in blocks for w in re.findall(r"[A-Za-z]+", text)}
    repaired: list[tuple[str, str]] = []
    for kind, text in blocks:
        if repaired and kind == "paragraph" and repaired[-1][0] == "paragraph" and re.match(r"^[a-z]", text) \
                and re.search(r"[A-Za-z,]$", repaired[-1][1]):
            previous = repaired[-1][1]
            tail = re.search(r"([A-Za-z]+)$", previous)
            head = re.match(r"([a-z]+)", text)
            glue = "" if tail and head and (tail.group(1) + head.group(1)).lower() in vocabulary else " "
            repaired[-1] = (kind, previous + glue + text)
            continue
        repaired.append((kind, text))
    return repaired


def assemble(article_id, url, source_path, parent_id, title, published, date_text, byline, taxonomy, blocks, credits) -> Article:
    """Join blocks into the article text; the headline and the date as shown come first so they have spans."""
    pieces: list[tuple[str, str]] = []
    if title:
        pieces.append(("title", title))
    if date_text:
        pieces.append(("dateline", date_text))
    pieces.extend(blocks)
    text_parts, records, offset = [], [], 0
    for kind, text in pieces:
        text_parts.append(text)
        records.append(Block(kind, offset, offset + len(text)))
        offset += len(text) + 2
    text = "\n\n".join(text_parts)
    return Article(
        article_id=article_id, url=url, source_path=source_path, parent_article_id=parent_id, title=title,
        published=published, byline=byline, sectors=list(taxonomy.get("sectors", [])),
        funding_framework=taxonomy.get("funding_framework"), text=text, blocks=records, photo_credits=credits,
        content_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )
