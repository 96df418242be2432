"""parse: raw HTML → Article records (metadata, clean text in blocks, related stories as child articles).

Site-agnostic first: the main content is the container with the most paragraph text; WordPress-style
selectors (entry-content, wp-caption, related posts) only sharpen the result when present.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup, Tag
from bs4.dammit import UnicodeDammit

from .normalize import normalize_date, stable_id
from .records import Article, Block


class ParseError(ValueError):
    """A page that cannot become an article; the message says why."""


BLOCK_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "figcaption", "blockquote", "pre", "dd", "dt", "td", "th"}
BOILERPLATE_TAGS = ["script", "style", "noscript", "template", "iframe", "svg", "form", "button", "nav", "aside", "select"]
LINE_BREAK = "\u2028"
IMAGE_FILE = re.compile(r"(?:^|(?<=\s))[\w\-.~%]+?\.(?:jpe?g|png|gif|webp|tiff?|bmp)", re.I)
CREDIT_START = re.compile(r"^(?:©|\(c\)|photo(?:\s+credit)?s?\s*[:：]|credit\s*[:：])", re.I)
TRAILING_CREDIT = re.compile(r"\s+(©\s?[^©]{2,160})$")
TAXONOMY_LABELS = {"sectors": "sectors", "sector": "sectors", "funding framework": "funding_framework"}
CONTENT_HINT = re.compile(r"entry-content|post-content|article-body|article-content|story-body|post-body|td-post-content|content-area", re.I)
RELATED_HEADING = re.compile(r"^(related|more|other|you may also|see also|read more)\b", re.I)
DATE_LINE = re.compile(r"^(?:posted|published|updated)?\s*(?:on|:)?\s*(?P<date>[\w ,./-]{6,40}?)\s*$", re.I)
_MONTHS = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
DATE_IN_LINE = re.compile(rf"\b(\d{{1,2}} {_MONTHS},? \d{{4}}|{_MONTHS} \d{{1,2}},? \d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}/\d{{1,2}}/\d{{4}}|\d{{4}}/\d{{1,2}}/\d{{1,2}})\b")
DATELINE_PREFIX = re.compile(r"^(?P<place>[A-Z][A-Z .'-]{2,40}),\s+(?P<date>\d{1,2} [A-Z][a-z]+ \d{4}|[A-Z][a-z]+ \d{1,2},? \d{4})\s*[-–—:]\s")


@dataclass(frozen=True)
class RawPage:
    """A page on disk and, when the fetch manifest knows it, the URL it came from."""

    path: Path
    url: str | None = None
    relative_path: str | None = None


def decode_html(data: bytes, path: Path) -> str:
    """Bytes → text, honouring the page's declared charset and falling back to Windows-1252."""
    if not data.strip():
        raise ParseError(f"{path}: empty file")
    head = data[:4096]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ParseError(f"{path}: binary content, not HTML")
    dammit = UnicodeDammit(data, known_definite_encodings=["utf-8"], user_encodings=["windows-1252"], is_html=True)
    if dammit.unicode_markup is None:
        raise ParseError(f"{path}: cannot decode text")
    text = dammit.unicode_markup
    if not re.search(r"<\s*(html|body|p|div|h1|article|title)\b", text[:20000], re.I):
        raise ParseError(f"{path}: no HTML markup found")
    return text


def parse_page(page: RawPage) -> list[Article]:
    """One HTML page → its article plus one child article per related story that carries story text."""
    data = page.path.read_bytes()
    html = decode_html(data, page.path)
    soup = BeautifulSoup(html, "lxml")
    url = page.url or canonical_url(soup)
    source_path = page.relative_path or str(page.path)
    article_id = stable_id("art", url or f"file:{source_path}")
    title = find_title(soup)
    published, date_text = find_published(soup)
    related = extract_related(soup)
    root = main_container(soup)
    if root is None:
        raise ParseError(f"{page.path}: no body content found")
    taxonomy = extract_taxonomy(root) or extract_taxonomy(soup)
    byline = find_byline(root)
    blocks, credits = collect_blocks(root, title, date_text, byline)
    if published is None:
        published = published_from_blocks(blocks)
    if not blocks and not title:
        raise ParseError(f"{page.path}: no title and no text")
    main = assemble(article_id, url, source_path, None, title, published, date_text, byline, taxonomy, blocks, credits)
    children = [
        assemble(stable_id("art", r_url or f"{article_id}#related-{i}"), r_url, source_path, article_id, r_title,
                 r_date, r_date_text, None, {}, r_blocks, r_credits)
        for i, (r_url, r_title, r_date, r_date_text, r_blocks, r_credits) in enumerate(related)
    ]
    return [main, *children]


def canonical_url(soup: BeautifulSoup) -> str | None:
    """The page's canonical (or og:url) address, the basis of a stable article id."""
    link = soup.find("link", rel="canonical", href=True)
    if link:
        return link["href"].strip()
    meta = soup.find("meta", property="og:url", content=True)
    return meta["content"].strip() if meta else None


def find_title(soup: BeautifulSoup) -> str | None:
    """Headline: the article's h1, else og:title, else <title> without the site suffix."""
    for candidate in (soup.select_one("article h1"), soup.select_one("main h1"), soup.find("h1")):
        if candidate and clean_text(candidate.get_text(" ")):
            return clean_text(candidate.get_text(" "))
    meta = soup.find("meta", property="og:title", content=True)
    if meta and meta["content"].strip():
        return clean_text(meta["content"])
    if soup.title and soup.title.string:
        return re.split(r"\s+[|–—-]\s+", clean_text(soup.title.string))[0] or None
    return None


def find_published(soup: BeautifulSoup) -> tuple[dt.date | None, str | None]:
    """Publication date from <time>, article meta tags or a short date line; also the text as shown."""
    for time in soup.find_all("time"):
        shown = clean_text(time.get_text(" "))
        value = time.get("datetime") or shown
        parsed = _iso_or_text_date(value)
        if parsed:
            return parsed, shown or None
    for attrs in ({"property": "article:published_time"}, {"name": "date"}, {"itemprop": "datePublished"},
                  {"name": "dc.date"}, {"name": "publish-date"}):
        meta = soup.find("meta", attrs=attrs)
        if meta and meta.get("content") and (parsed := _iso_or_text_date(meta["content"])):
            return parsed, None
    for element in soup.find_all(class_=re.compile(r"(^|[-_ ])(date|posted-on|published|entry-date|meta|post-meta|byline)([-_ ]|$)")):
        if element.find_parent(class_=re.compile("related")):
            continue
        shown = clean_text(element.get_text(" "))
        if len(shown) <= 120 and (parsed := date_in_line(shown)):
            return parsed, shown if DATE_LINE.match(shown) else None
    return None, None


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
    parsed = normalize_date(value) if len(value) <= 40 else None
    return parsed.start_date if parsed and parsed.precision == "day" else None


def published_from_blocks(blocks: list[tuple[str, str]]) -> dt.date | None:
    """Fallback: a dateline ("BANGKOK, 3 May 2021 –") or a short date line among the first blocks."""
    for _, text in blocks[:4]:
        if (m := DATELINE_PREFIX.match(text)) and (parsed := normalize_date(m.group("date"))):
            return parsed.start_date
        if len(text) <= 120 and (parsed := date_in_line(text)):
            return parsed
    return None


def find_byline(root: Tag) -> str | None:
    """Author or team, from a byline/author element or a short "By ..." line."""
    for element in root.find_all(class_=re.compile(r"byline|author", re.I)):
        text = clean_text(element.get_text(" "))
        if text:
            return re.sub(r"^by\s+", "", text, flags=re.I)
    for element in root.find_all(["p", "div", "span"], limit=60):
        text = clean_text(element.get_text(" "))
        if re.match(r"^by\s+\S", text, re.I) and len(text) <= 80:
            return re.sub(r"^by\s+", "", text, flags=re.I)
    return None


def extract_taxonomy(root: Tag) -> dict:
    """"Sectors" and "Funding Framework" term lists, removed from the tree so they stay out of the prose."""
    found: dict = {}
    for label in root.find_all(["h2", "h3", "h4", "h5", "h6", "dt", "strong", "span", "p"]):
        if label.decomposed:
            continue
        key = TAXONOMY_LABELS.get(clean_text(label.get_text(" ")).rstrip(":").lower())
        if not key:
            continue
        holder = label.find_next_sibling()
        terms = [clean_text(li.get_text(" ")) for li in holder.find_all("li")] if holder else []
        if holder and not terms:
            terms = [clean_text(holder.get_text(" "))]
        terms = [t for t in terms if t]
        found[key] = terms if key == "sectors" else (", ".join(terms) or None)
        if holder:
            holder.decompose()
        label.decompose()
    return found


def extract_related(soup: BeautifulSoup) -> list[tuple]:
    """Related-story blocks: each item with its own text becomes (url, title, date, date_text, blocks, credits).

    The block is removed from the tree either way, so teasers never leak into the parent's text.
    """
    stories = []
    for heading in soup.find_all(["h2", "h3", "h4", "h5"]):
        if heading.decomposed or not RELATED_HEADING.match(clean_text(heading.get_text(" "))):
            continue
        section = heading.parent
        if section is None or section.name in ("body", "html", "article", "main"):
            continue
        for item in _related_items(section, heading):
            link = item.find("a", href=True)
            url = link["href"].strip() if link else None
            title_el = item.find(["h2", "h3", "h4", "h5", "h6"]) or link
            title = clean_text(title_el.get_text(" ")) if title_el else None
            date_el = item.find(class_=re.compile("date")) or item.find("time")
            date_text = clean_text(date_el.get_text(" ")) if date_el else None
            date = _iso_or_text_date((date_el.get("datetime") if date_el else None) or date_text or "")
            if date_el:
                date_el.decompose()
            for duplicate in item.find_all(["h2", "h3", "h4", "h5", "h6"]):
                if clean_text(duplicate.get_text(" ")) == title:
                    duplicate.decompose()
            blocks, credits = collect_blocks(item, title, None, None)
            if sum(len(text) for _, text in blocks) >= 200:
                stories.append((url, title, date, date_text, blocks, credits))
        section.decompose()
    return stories


def _related_items(section: Tag, heading: Tag) -> list[Tag]:
    items = [child for child in section.find_all(recursive=False) if isinstance(child, Tag) and child is not heading]
    return [item for item in items if item.find("a", href=True) or item.find(["h4", "h5"])]


def main_container(soup: BeautifulSoup) -> Tag | None:
    """The element holding the story: the most specific container with (nearly) the most paragraph text."""
    body = soup.body or soup
    for tag in body.find_all(BOILERPLATE_TAGS):
        tag.decompose()
    for tag in body.find_all(["header", "footer"]):
        if tag.find_parent(["article", "main"]) is None and not tag.find("h1"):
            tag.decompose()
    candidates = [body, *body.find_all(["article", "main", "section", "div"])]
    scored = [(paragraph_chars(c), c) for c in candidates]
    best = max((score for score, _ in scored), default=0)
    if best == 0:
        return body if clean_text(body.get_text(" ")) else None
    good = [c for score, c in scored if score >= 0.85 * best]
    hinted = [c for c in good if CONTENT_HINT.search(" ".join(c.get("class", [])) + " " + (c.get("id") or ""))]
    pick = min(hinted or good, key=lambda c: len(list(c.descendants)))
    article = pick.find_parent("article")
    return article if article is not None and paragraph_chars(article) <= 1.3 * paragraph_chars(pick) else pick


def paragraph_chars(element: Tag) -> int:
    return sum(len(p.get_text()) for p in element.find_all("p"))


def clean_text(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").split())


def block_kind(element: Tag) -> str:
    """heading, caption, footnote or paragraph, from the element and its ancestors."""
    classes = " ".join(" ".join(a.get("class", [])) + " " + (a.get("id") or "") for a in [element, *element.parents] if isinstance(a, Tag))
    if element.name == "figcaption" or re.search(r"caption", classes, re.I):
        return "caption"
    if re.search(r"footnote", classes, re.I):
        return "footnote"
    if element.name in ("h1", "h2", "h3", "h4", "h5", "h6", "dt"):
        return "heading"
    if "table-row" in element.get("class", []):
        return "row"
    text = clean_text(element.get_text(" "))
    bold = "".join(clean_text(b.get_text(" ")) for b in element.find_all(["strong", "b"]))
    if bold and len(bold) >= 0.9 * len(text.replace(" ", "")) and len(text) <= 300 and not text.endswith("."):
        return "heading"
    return "paragraph"


def flatten_tables(root: Tag) -> None:
    """A table row becomes one line, its cells joined by commas ("Name, Position, Organisation, Country"),
    so a speaker or recipient table reads like the profile headings segment already knows."""
    for table in root.find_all("table"):
        lines = []
        for row in table.find_all("tr"):
            if row.find("th") is not None and row.find("td") is None:
                continue  # the header row names the columns, not a person
            cells = [clean_text(cell.get_text(" ")) for cell in row.find_all(["td", "th"])]
            if any(cells):
                lines.append(", ".join(cell for cell in cells if cell))
        replacement = root.new_tag("div", attrs={"class": "table-rows"})
        for line in lines:
            paragraph = root.new_tag("p", attrs={"class": "table-row"})
            paragraph.string = line
            replacement.append(paragraph)
        table.replace_with(replacement)


def collect_blocks(root: Tag, title: str | None, date_text: str | None, byline: str | None) -> tuple[list[tuple[str, str]], list[str]]:
    """(kind, text) blocks in document order, plus photo credits kept out of the prose."""
    flatten_tables(root)
    for marker in root.find_all("sup"):
        if re.fullmatch(r"\[?\d{1,2}\]?|[*†‡]", clean_text(marker.get_text())):
            marker.decompose()
    for element in root.find_all(True):
        if element.name in ("br",):
            element.replace_with(LINE_BREAK)
    blocks: list[tuple[str, str]] = []
    credits: list[str] = []
    for element in _leaf_blocks(root):
        if _is_boilerplate(element, root):
            continue
        kind = block_kind(element)
        for piece in element.get_text("").split(LINE_BREAK):
            text = clean_text(piece)
            if not text:
                continue
            text = IMAGE_FILE.sub("", text).strip() if kind == "caption" or IMAGE_FILE.match(text) else text
            if not text:
                continue
            if CREDIT_START.match(text) or "credit" in " ".join(element.get("class", [])).lower():
                credits.append(text)
                continue
            if m := TRAILING_CREDIT.search(text):
                credits.append(m.group(1).strip())
                text = text[: m.start()].strip()
            if kind == "footnote":
                text = re.sub(r"^\[?\d{1,2}\]?\s*", "", text).rstrip("↩ ").strip()
            if _is_metadata(text, title, date_text, byline):
                continue
            blocks.append((kind, text))
    return repair_split_words(blocks), credits


def _leaf_blocks(root: Tag) -> list[Tag]:
    """Innermost block elements in document order (a <p> inside an <li> wins over the <li>)."""
    leaves: list[Tag] = []
    taken: set[int] = set()
    for element in root.find_all(True):
        is_block = element.name in BLOCK_TAGS or (element.name in ("div", "section", "span") and _has_own_text(element))
        if not is_block or element.find(list(BLOCK_TAGS)) is not None:
            continue
        if any(id(parent) in taken for parent in element.parents):
            continue
        taken.add(id(element))
        leaves.append(element)
    return leaves


BOILERPLATE_CLASS = re.compile(r"(^|[-_ ])(menu|nav|navbar|navigation|breadcrumbs?|footer|site-footer|share|sharing|social|"
                               r"sidebar|widget|comments?|cookie|subscribe|newsletter|pagination|tags?|site-name|site-title|"
                               r"skip-link)([-_ ]|$)", re.I)


def _is_boilerplate(element: Tag, root: Tag) -> bool:
    """Menus, footers, share bars and link lists: by class or id, or because the text is mostly links."""
    for node in [element, *element.parents]:
        if node is root or not isinstance(node, Tag):
            break
        if BOILERPLATE_CLASS.search(" ".join(node.get("class", [])) + " " + (node.get("id") or "")):
            return True
    text = clean_text(element.get_text(" "))
    linked = sum(len(clean_text(a.get_text(" "))) for a in element.find_all("a"))
    return bool(text) and len(text) < 200 and linked >= 0.6 * len(text)


def _has_own_text(element: Tag) -> bool:
    return any(isinstance(child, str) and child.strip() for child in element.children)


def _is_metadata(text: str, title: str | None, date_text: str | None, byline: str | None) -> bool:
    if title and text == title:
        return True
    if date_text and text == date_text:
        return True
    if byline and re.sub(r"^by\s+", "", text, flags=re.I) == byline and len(text) <= 80:
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
