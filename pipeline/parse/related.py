"""parse, related: related-story blocks, lifted out of the page before trafilatura, each item with a story of
its own becoming a child article."""
from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from lxml.html import HtmlElement

from .blocks import finish_blocks, html_blocks
from .marks import PageMarks, prepare_for_extraction
from .metadata import DATE_CLASS, RELATED_HEADING, day_date, is_http_url
from .recall import is_prose
from .text import clean_text, text_of

# Below this many characters of story text a related-block item is a teaser, not a story of its own.
MIN_RELATED_STORY_CHARS = 200


class RelatedStory(NamedTuple):
    """One item of a related-story block that carries a story of its own: a child article's makings."""

    url: str | None
    title: str | None
    published: dt.date | None
    date_text: str | None
    blocks: list[tuple[str, str]]
    credits: list[str]


def extract_related(tree: HtmlElement) -> list[RelatedStory]:
    """Related-story blocks: each item with its own text becomes a ``RelatedStory``.

    The block is removed from the tree either way, so teasers never leak into the parent's text.
    """
    stories: list[RelatedStory] = []
    for heading in list(tree.iter("h2", "h3", "h4", "h5")):
        section = heading.getparent()
        if section is None or section.tag in ("body", "html", "article", "main") or not RELATED_HEADING.match(text_of(heading)):
            continue
        first = next((child for child in section if isinstance(child.tag, str)), None)
        if first is not heading or next(section.iter("h1"), None) is not None:
            continue  # a "See also" heading inside the story's own flow, not a block of related stories
        if section.getparent() is None:  # already removed with an enclosing related block
            continue
        items = [child for child in section if isinstance(child.tag, str) and child is not heading]
        teasers = [item for item in items if item.xpath(".//a[@href]|.//h4|.//h5")]
        if any(_is_story_paragraph(item) for item in items):
            continue  # a section of the story that opens "More ..." or "Other ...", not a block of links to stories
        for item in teasers:
            link = next(iter(item.xpath(".//a[@href]")), None)
            href = link.get("href").strip() if link is not None else ""
            url = href if is_http_url(href) else None  # a relative or mangled link is no article's address
            title_el = next(iter(item.xpath(".//h2|.//h3|.//h4|.//h5|.//h6")), link)
            title = text_of(title_el) if title_el is not None else None
            date_el = next((e for e in item.xpath(".//*[contains(@class, 'date')] | .//time")
                            if e.tag == "time" or DATE_CLASS.search(e.get("class"))), None)  # not "candidate", "update"
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
                stories.append(RelatedStory(url, title, date, date_text, blocks, credits))
        section.drop_tree()
    return stories


def _is_story_paragraph(item: HtmlElement) -> bool:
    """A paragraph of prose with no link in it: the story's own text (a teaser's excerpt sits beside its link)."""
    return item.tag == "p" and is_prose(clean_text(text_of(item))) and next(item.iter("a"), None) is None
