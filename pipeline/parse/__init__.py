"""parse: a page on disk → Article records (metadata, clean text in blocks, related stories as child articles).

The main content is found by trafilatura (main-text extraction with its own fallbacks, evaluated on pages
from many sites; see docs/benchmark.md), and its block structure (headings, paragraphs, list items, table
rows, quotes, line breaks) becomes the article's blocks. This module adds what the story pipeline needs on
top, as a thin layer on the lxml tree before and after: related-story blocks become child articles,
WordPress taxonomy (sectors, funding framework) is read off the page, footnote markers are dropped,
captions, photo credits and footnotes keep their own kind, glued image file names are cut off, a word split
across two paragraphs is joined, and the published date and byline are looked for where story sites print
them before trafilatura's (htmldate's) guess is taken.

Modules: ``reading`` (file → text → tree), ``text`` (the shared text helpers), ``metadata`` (URL, headline, date,
byline, taxonomy; trafilatura's metadata where the page says nothing), ``marks``
(captions, credits, footnotes as the markup says), ``related`` (related-story blocks → child articles),
``recall`` (the story's extent around trafilatura's choice: dropped prose back, chrome and teasers out),
``blocks`` (trafilatura's XML → kinds of blocks, finished); this one wires them into Article records.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import trafilatura

from ..normalize import stable_id
from .blocks import finish_blocks, xml_blocks
from .marks import PageMarks, prepare_for_extraction
from .metadata import (MAX_BYLINE_CHARS, LibraryMetadata, canonical_url, compact_url_date, day_date, extract_taxonomy,
                       find_byline, find_published, find_title, published_from_blocks, split_byline)
from .reading import ParseError, decode_html, load_tree, read_page_bytes
from .recall import StoryCandidates, drop_teaser_sections
from .related import extract_related
from ..records import Article, Block

# trafilatura and htmldate log what they discard on bad markup as warnings without naming the file; a page the
# stage cannot use is reported as a failure line instead, so their chatter stays out of the run's output.
for _library in ("trafilatura", "htmldate", "courlan", "justext"):
    logging.getLogger(_library).setLevel(logging.ERROR)

__all__ = ["ParseError", "RawPage", "assemble", "parse_page"]

# The metadata trafilatura would find is looked up apart (LibraryMetadata), only where the page's own markup
# says nothing, so bare_extraction is asked for the main content alone, without the page's URL: links are kept
# for their share of a block's text, and resolving their targets against the URL was time spent for nothing.
TRAFILATURA_OPTIONS = dict(output_format="xml", include_tables=True, include_formatting=True, include_links=True, include_comments=False)


@dataclass(frozen=True)
class RawPage:
    """A page on disk and, when the fetch manifest knows it, the URL it came from."""

    path: Path
    url: str | None = None
    relative_path: str | None = None


def parse_page(page: RawPage) -> list[Article]:
    """One page → its article plus one child article per related story that carries story text."""
    html = decode_html(read_page_bytes(page.path), page.path)
    tree = load_tree(html, page.path)
    url = page.url or canonical_url(tree)
    source_path = page.relative_path or str(page.path)
    article_id = stable_id("art", url or f"file:{source_path}")
    title = find_title(tree)
    published, date_text = find_published(tree)
    html_lowered = html.lower()  # for quick checks of whether a search can find anything at all
    marks = PageMarks.of_page(tree, html_lowered)
    related = extract_related(tree)
    taxonomy = extract_taxonomy(tree, html_lowered)
    found_byline, byline_line = find_byline(tree)
    prepare_for_extraction(tree)
    library = LibraryMetadata(tree, html_lowered, url)
    story = StoryCandidates.collect(tree)
    document = trafilatura.bare_extraction(tree, **TRAFILATURA_OPTIONS)
    body = document.body if document is not None else None
    title = title or library.title()
    byline, byline_date = split_byline(found_byline)
    pieces = drop_teaser_sections(story.recover(xml_blocks(body) if body is not None and len(body) else []))
    names_a_role = bool(byline_line) and (len(byline_line) > MAX_BYLINE_CHARS or "," in (byline or ""))
    if names_a_role and byline_line not in (date_text or "") and not any(byline_line in text for _, text in pieces):
        pieces.insert(0, ("paragraph", byline_line))  # "By Dr. X, Senior Fellow at Y": more than a name
    blocks, credits = finish_blocks(pieces, marks, title, date_text, None if names_a_role else found_byline)
    if not blocks and not title:
        raise ParseError(f"{page.path}: no body content found (no title and no text)")
    from_blocks = published_from_blocks(blocks)
    guessed = library.date() if not (published or byline_date or from_blocks) else None  # before the tree is pruned
    if not found_byline:  # then there is no byline line either, and nothing above looked at the library's author
        byline, byline_date = split_byline(library.author_last())
    published = published or byline_date or from_blocks or day_date(guessed or "") or compact_url_date(url)
    main = assemble(article_id, url, source_path, None, title, published, date_text, byline, taxonomy, blocks, credits)
    main.site_name, main.categories, main.tags = library.site_name, list(library.categories), list(library.tags)
    children = [
        assemble(stable_id("art", story.url or f"{article_id}#related-{i}"), story.url, source_path, article_id,
                 story.title, story.published, story.date_text, None, {}, story.blocks, story.credits)
        for i, story in enumerate(related)
    ]
    return [main, *children]


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
