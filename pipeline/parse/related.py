"""parse, related: related-story blocks, lifted out of the page before trafilatura, each item with a story of
its own becoming a child article."""
from __future__ import annotations

from lxml.html import HtmlElement

from .blocks import finish_blocks, html_blocks
from .marks import PageMarks, prepare_for_extraction
from .metadata import RELATED_HEADING, day_date, is_http_url, text_of

# Below this many characters of story text a related-block item is a teaser, not a story of its own.
MIN_RELATED_STORY_CHARS = 200


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
            url = href if is_http_url(href) else None  # a relative or mangled link is no article's address
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
