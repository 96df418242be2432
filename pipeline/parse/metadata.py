"""parse, metadata: canonical URL, headline, published date, byline and taxonomy term lists, read off the page's own
markup first; trafilatura's metadata (``LibraryMetadata``: declared fields, then its costly author, title and
htmldate searches) only where the page says nothing."""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
from urllib.parse import urlsplit

from lxml import etree
from lxml.html import HtmlElement
from htmldate.settings import MIN_DATE as EARLIEST_WEB_DATE
from trafilatura import metadata as library
from trafilatura.settings import Document

from ..normalize import normalize_date
from ..schema import HTTP_URL
from .text import classes_of, clean_text, text_of

log = logging.getLogger("pipeline.parse")

TITLE_WORD_SHARE = 0.5  # an h1 whose words are mostly in the declared title is the headline, abbreviated or not
MAX_DATE_LINE_CHARS = 120  # a date/byline line is short; longer text is prose that happens to hold a date
MAX_BYLINE_CHARS = 80
MAX_DATE_TEXT_CHARS = 40  # "Wednesday, 15 September 2021, 10:30 am": longer is text around a date, not a date
DATELINE_SEARCH_BLOCKS = 4
RELATED_HEADING = re.compile(r"^(related|more|other|you may also|see also|read more)\b", re.I)
DATE_CLASS = re.compile(r"(^|[-_ ])(date|posted-on|published|entry-date|meta|post-meta|byline)([-_ ]|$)")
_MONTHS = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
DATE_IN_LINE = re.compile(rf"\b(\d{{1,2}} {_MONTHS},? \d{{4}}|{_MONTHS} \d{{1,2}},? \d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|"
                          rf"\d{{1,2}}/\d{{1,2}}/\d{{4}}|\d{{4}}/\d{{1,2}}/\d{{1,2}})\b")
DATELINE_PREFIX = re.compile(r"^(?P<place>[A-Z][A-Z .'-]{2,40}),\s+(?P<date>\d{1,2} [A-Z][a-z]+ \d{4}|[A-Z][a-z]+ \d{1,2},? \d{4})"
                             r"\s*[-–—:]\s")
DATE_META_TAGS = (("property", "article:published_time"), ("name", "date"), ("itemprop", "datePublished"),
                  ("name", "dc.date"), ("name", "DC.date.issued"), ("name", "publish-date"),
                  ("property", "og:published_time"), ("name", "pubdate"))
# Elements whose class holds one of DATE_CLASS's words (a superset, tested in libxml2; DATE_CLASS decides). Testing
# the attribute nodes, not every element, halves the time of such a search on a large page.
DATE_CLASS_CANDIDATES = etree.XPath("//@class[contains(., 'date') or contains(., 'posted-on') or contains(., 'published')"
                                    " or contains(., 'meta') or contains(., 'byline')]/..")
BYLINE_ELEMENTS = etree.XPath("descendant::*/@class[contains(., 'author') or contains(., 'byline') or contains(., 'Author')"
                              " or contains(., 'Byline')]/.. | descendant::*/@id[contains(., 'author') or contains(., 'byline')]/..")
BY_LINE_XPATH = ".//*[self::p or self::div or self::span][starts-with(translate(normalize-space(text()), 'BY', 'by'), 'by ')]"
BYLINE_LEAD = re.compile(r"^(?:[\w ]{0,30}?\s)?by\s+", re.I)  # "By", "Posted by", "Text and photos by"
# A day written as eight digits in a URL's path ("/2020/20201201_01.html", "/news/20240318-quay.html"): htmldate
# reads dates in a URL only with separators ("/2020/12/01/"). Digits on either side make it an id, not a day.
COMPACT_URL_DAY = re.compile(r"(?<!\d)((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?!\d)")
BY_PREFIX = re.compile(r"^by\s+", re.I)  # "By Jane Doe" names Jane Doe
BYLINE_SEPARATOR = re.compile(r"\s+[|·•—–]\s+|\s*\|\s*")


def canonical_url(tree: HtmlElement) -> str | None:
    """The page's canonical (or og:url) address, the basis of a stable article id; a value that is not an
    http(s) URL (a mangled or relative link) is passed over, so the article falls back to its file path."""
    for value in tree.xpath('//link[@rel="canonical"]/@href | //meta[@property="og:url"]/@content'):
        if is_http_url(value.strip()):
            return value.strip()
    return None


def is_http_url(value: str) -> bool:
    """An http(s) address that can be stored and split: urllib refuses some that look like one ("http://[x/")."""
    if not re.match(HTTP_URL, value):
        return False
    try:
        urlsplit(value)
    except ValueError:
        return False
    return True


def find_title(tree: HtmlElement) -> str | None:
    """Headline: the article's h1, else og:title, else <title> without the site suffix. An h1 outside
    <article>/<main> that shares few words with the page's declared title is often the site's name, and yields."""
    declared = [clean_text(v) for v in tree.xpath('//meta[@property="og:title"]/@content') if v.strip()]
    declared += [re.split(r"\s+[|–—-]\s+", text)[0] for t in tree.xpath("//title") if (text := text_of(t))]
    for path in ("//article//h1", "//main//h1"):
        for candidate in tree.xpath(path):
            if text := text_of(candidate):
                return text
    for candidate in tree.xpath("//h1"):
        if (text := text_of(candidate)) and (not declared or any(_shares_words(text, d) for d in declared)):
            return text
    return next((d for d in declared if d), None)


def _shares_words(headline: str, declared: str) -> bool:
    words = set(re.findall(r"\w+", headline.casefold()))
    return len(words & set(re.findall(r"\w+", declared.casefold()))) >= TITLE_WORD_SHARE * len(words)


def find_published(tree: HtmlElement) -> tuple[dt.date | None, str | None]:
    """Publication date from <time>, meta tags, JSON-LD or a short date line; also the text as shown."""
    for time in tree.iter("time"):
        if _inside_related(time):
            continue
        shown = text_of(time)
        if parsed := day_date(time.get("datetime") or shown):
            line = _meta_line(time) or shown
            # the line as printed becomes the dateline only if it shows the date ("2 months ago" does not)
            return parsed, line if line and (date_in_line(line) or day_date(line)) else None
    metas = tree.xpath("//meta[@content]")  # one walk of the tree, not one per tag name
    for attribute, value in DATE_META_TAGS:
        for meta in metas:
            if meta.get(attribute) == value and (parsed := day_date(meta.get("content"))):
                return parsed, None
    if parsed := json_ld_date(tree):
        return parsed, None
    for element in DATE_CLASS_CANDIDATES(tree):
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
            if (value := _find_key(data, key)) and (parsed := day_date(value)):
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
    return day_date(match.group(1)) if match else None


def day_date(value: str) -> dt.date | None:
    """A calendar day from an ISO timestamp or a short date text; None for a month, a year or no date."""
    value = value.strip()
    if m := re.match(r"^(\d{4})-(\d{2})-(\d{2})", value):
        try:
            return dt.date(*map(int, m.groups()))
        except ValueError:
            return None
    parsed = normalize_date(value) if value and len(value) <= MAX_DATE_TEXT_CHARS else None
    return parsed.start_date if parsed and parsed.precision == "day" else None


def compact_url_date(url: str | None) -> dt.date | None:
    """The last resort: a day written as eight digits in the URL's path (not its query), when it is a real day
    between htmldate's earliest web date and today; the first such day of the path."""
    if not url or not is_http_url(url):
        return None
    for match in COMPACT_URL_DAY.finditer(urlsplit(url).path):
        try:
            day = dt.date(*map(int, match.groups()))
        except ValueError:
            continue
        if EARLIEST_WEB_DATE.date() <= day <= dt.date.today():
            return day
    return None


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
    for element in BYLINE_ELEMENTS(body):
        if not _inside_related(element) and (text := text_of(element)) and len(text) <= MAX_DATE_LINE_CHARS \
                and text.lower() != "by":  # "By" alone: the name is filled in by a script the page did not run
            return BY_PREFIX.sub("", text), text
    for element in body.xpath(BY_LINE_XPATH):  # elements whose own text starts with "By " (tested in libxml2)
        text = text_of(element)
        if re.match(r"^by\s+\S", text, re.I) and len(text) <= MAX_BYLINE_CHARS:
            return BY_PREFIX.sub("", text), text
    return None, None


def split_byline(text: str | None) -> tuple[str | None, dt.date | None]:
    """"Staff | 18 March 2024" → ("Staff", 2024-03-18): a byline with a date glued on gives both apart."""
    if not text:
        return None, None
    names, date = [], None
    for part in BYLINE_SEPARATOR.split(text):
        part = BYLINE_LEAD.sub("", part.strip())
        part_date = day_date(part) or (date_in_line(part) if len(part) <= MAX_DATE_LINE_CHARS else None)
        if part_date:
            date = date or part_date
            part = DATE_IN_LINE.sub("", part).strip(" ,-")
            part = re.sub(r"\s*\b(?:on|posted|published)\s*$", "", part, flags=re.I)
        if part:
            names.append(part)
    return (", ".join(names) or None), date


# ---------------------------------------------------------------- trafilatura's metadata, the costly parts on demand

# htmldate's extensive search parses every date-like string on the page with dateparser in all languages
# (most of the parse time on foreign pages); the page's own date markup and datelines are searched here.
DATE_EXTRACTION = dict(original_date=True, extensive_search=False)
CATEGORY_LINK = "/categor"  # trafilatura's category and tag searches look only at links whose address holds these
TAG_LINK = "/tag"
MAX_LIBRARY_AUTHOR_CHARS = 120  # trafilatura's own limit on an author line
# what bare_extraction catches around its metadata pass, and lxml's assertion when htmldate drops an element that
# has no parent (tag soup whose root is an <svg>: the fuzz run's one internal error); a guess never loses a page
LIBRARY_ERRORS = (TypeError, ValueError, AssertionError)
# Every attribute value trafilatura's author searches (AUTHOR_XPATHS) test for holds one of these words, in any
# letter case; a page whose body has none of them has no author for those searches to find, and the searches
# (regular expressions called back into Python for every element) are skipped.
# (Substring tests of the lower-cased body: one regular expression of them all took 3 ms on a large page.)
LIBRARY_AUTHOR_CUES = ("author", "byl", "bbl", "username", "channel-name", "zuozhe", "bianji", "xiaobian",
                       "submitted-by", "posted-by", "journalist-name", "screenname", "writer", "<rel>", "<rel ")


class LibraryMetadata:
    """trafilatura's metadata of the page, as ``trafilatura.extract_metadata`` finds it, but each costly search
    only when asked for: its author search copies and prunes the whole tree, its title search and htmldate walk it
    again, and the parse stage needs them only where the page's own markup says nothing (about half its time on
    a typical page went to metadata the stage then did not use). Declared fields (meta tags, JSON-LD) are read
    at once; the site name, categories and tags as trafilatura completes them. ``author_last`` prunes the tree."""

    def __init__(self, tree: HtmlElement, html_lowered: str, url: str | None):
        self.tree, self.html_lowered = tree, html_lowered
        self.declared, self.url, self.site_name, self.categories, self.tags = Document(), url, None, [], []
        try:
            self._read_declared(url)
        except LIBRARY_ERRORS as error:  # bare_extraction's own guard: the page keeps its text, without metadata
            log.debug("trafilatura's metadata failed: %s", error)

    def _read_declared(self, url: str | None) -> None:
        tree, html_lowered = self.tree, self.html_lowered
        declared = library.examine_meta(tree)
        if declared.author and " " not in declared.author:
            declared.author = None  # trafilatura's rule: a one-word author tag is a handle or a site, not a name
        try:
            declared = library.extract_meta_json(tree, declared)
        except Exception:  # noqa: BLE001 - trafilatura guards its JSON-LD reader the same way: bad JSON-LD is no metadata
            pass
        self.declared = declared
        self.url = declared.url or library.extract_url(tree, url)
        self.site_name = _site_name(declared.sitename or library.extract_sitename(tree), self.url)
        self.categories = declared.categories or (
            library.extract_catstags("category", tree) if CATEGORY_LINK in html_lowered else _section_meta(tree))
        self.tags = declared.tags or (library.extract_catstags("tag", tree) if TAG_LINK in html_lowered else [])

    def title(self) -> str | None:
        return _trimmed(self.declared.title or _guarded(library.extract_title, self.tree))

    def author_last(self) -> str | None:
        """trafilatura's author search (extract_author) without its copy of the whole tree: the author-less
        parts are pruned from this page's own tree, so this is the last use of the tree."""
        if self.declared.author:
            return _trimmed(self.declared.author)
        body_at = self.html_lowered.find("<body") + 1
        if not any(self.html_lowered.find(cue, body_at) >= 0 for cue in LIBRARY_AUTHOR_CUES):
            return None  # none of the class, id or attribute words its searches test occurs in the page's body
        return _trimmed(_guarded(self._search_author))

    def _search_author(self) -> str | None:
        found = library.extract_metainfo(library.prune_unwanted_nodes(self.tree, library.AUTHOR_DISCARD_XPATHS),
                                         library.AUTHOR_XPATHS, len_limit=MAX_LIBRARY_AUTHOR_CHARS)
        return library.normalize_authors(None, found) if found else None

    def date(self) -> str | None:
        return _guarded(library.find_date, self.tree, url=self.url, **DATE_EXTRACTION)


def _guarded(search, *args, **kwargs):
    """A trafilatura/htmldate search, or None where it fails on odd markup (as bare_extraction would)."""
    try:
        return search(*args, **kwargs)
    except LIBRARY_ERRORS as error:
        log.debug("%s failed: %s", getattr(search, "__name__", search), error)
        return None


def _site_name(name: str | None, url: str | None) -> str | None:
    """trafilatura's site name: no Twitter "@", capitalised unless a domain, else the URL's host."""
    if name:
        name = name.lstrip("@")
        return _trimmed(name.title() if name and "." not in name and not name[0].isupper() else name)
    match = library.META_URL.match(url) if url else None
    return match[1] if match else None


def _section_meta(tree: HtmlElement) -> list[str]:
    """trafilatura's category fallback when no category link exists: the page's article:section/subject meta."""
    values = tree.xpath('.//head//meta[@property="article:section" or contains(@name, "subject")][@content]/@content')
    return [v for v in dict.fromkeys(library.line_processing(x) for x in values if x) if v]


def _trimmed(value: str | None) -> str | None:
    """trafilatura's final clean-up of a metadata string (entities, control characters, spaces)."""
    return (library.line_processing(library.unescape(value)) or None) if value else None


TAXONOMY_LABELS = {"sectors": "sectors", "sector": "sectors", "funding framework": "funding_framework"}
# A page whose lower-cased HTML lacks all of these words has no such label, and is not walked for them (the walk
# visits every heading, paragraph and span of the page).
TAXONOMY_CUES = ("sector", "funding")


def extract_taxonomy(tree: HtmlElement, html_lowered: str) -> dict:
    """"Sectors" and "Funding Framework" term lists, removed from the tree so they stay out of the prose."""
    found: dict = {}
    if not any(cue in html_lowered for cue in TAXONOMY_CUES):
        return found
    for label in list(tree.iter("h2", "h3", "h4", "h5", "h6", "dt", "strong", "span", "p")):
        key = TAXONOMY_LABELS.get(text_of(label).rstrip(":").lower())
        if not key or not any(ancestor is tree for ancestor in label.iterancestors()):
            continue  # not a label, or inside one already read and removed ("<h4><strong>Sectors</strong></h4>")
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
