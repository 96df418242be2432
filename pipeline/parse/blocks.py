"""parse, blocks: the story as (kind, text) blocks. trafilatura's XML body (or a related item's HTML) to blocks:
headings, bold per-person headings, table rows as lines, link lists left out; then captions and footnotes given
their kind, credits and metadata lines taken out, split words joined."""
from __future__ import annotations

import re

from lxml import etree
from lxml.html import HtmlElement

from .marks import (CAPTION_TRAILING_CREDIT, CREDIT_START, IMAGE_FILE, TRAILING_CREDIT, PageMarks, footnote_text,
                    strip_image_files)
from .metadata import BY_PREFIX, MAX_BYLINE_CHARS
from .text import clean_text

MAX_BOLD_HEADING_CHARS = 300
BOLD_HEADING_SHARE = 0.9  # a paragraph this much in bold, not ending a sentence, is a (per-person) heading
LINE_BREAK = "\u2028"
LOOSE_TEXT_PARENTS = ("body", "div", "main", "section", "quote")  # where trafilatura leaves text outside <p>
BLOCK_TAGS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "figcaption", "blockquote", "pre", "dd", "dt", "td", "th")
HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# A short block that is mostly link text is a share bar or a link list, not prose.
LINK_LIST_MAX_CHARS = 200
LINK_LIST_SHARE = 0.6


def html_blocks(root: HtmlElement) -> list[tuple[str, str]]:
    """(kind, text) of the innermost block elements under ``root`` (used for related-story items)."""
    pieces = []
    for element in root.iter(*BLOCK_TAGS):
        if next(element.iterdescendants(*BLOCK_TAGS), None) is not None:
            continue
        kind = "heading" if element.tag in HEADING_TAGS else "paragraph"
        pieces.append((kind, text_with_breaks(element, "br")))
    return pieces


def mostly_links(element, plain: str) -> bool:
    """A short block that is mostly link text (in the page's <a> or trafilatura's <ref>): a share bar or link list."""
    linked = sum(len(clean_text(" ".join(a.itertext()))) for a in element.iter("a", "ref"))
    return bool(plain) and len(plain) < LINK_LIST_MAX_CHARS and linked >= LINK_LIST_SHARE * len(plain)


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
            text = text_with_breaks(element, "lb", skip=("list",) if element.tag == "item" else ())
            if not mostly_links(element, clean_text(text)):
                heading = element.tag == "head" or (element.tag == "p" and _mostly_bold(element, text))
                pieces.append(("heading" if heading else "paragraph", text))
            if element.tag == "item":
                for nested in element.findall("list"):
                    _walk_blocks(nested, pieces)
        elif element.tag not in ("graphic", "lb", "ref", "hi"):
            _walk_blocks(element, pieces)  # list, table, quote or item holding paragraphs, div
        if element.tail and element.tail.strip() and container.tag in LOOSE_TEXT_PARENTS:
            pieces.append(("paragraph", element.tail))  # text straight in the body, after a heading or a list


def text_with_breaks(element, break_tag: str, skip: tuple[str, ...] = ()) -> str:
    """The element's text with each line break as LINE_BREAK (nested ``skip`` elements left out)."""
    parts = [element.text or ""]
    for child in element:
        if not isinstance(child.tag, str):
            parts.append(child.tail or "")
            continue
        if child.tag == break_tag:
            parts.append(LINE_BREAK)
        elif child.tag not in skip:
            parts.append(text_with_breaks(child, break_tag, skip))
        parts.append(child.tail or "")
    return "".join(parts)


def _mostly_bold(element, text: str) -> bool:
    plain = clean_text(text)
    bold = "".join(clean_text(" ".join(h.itertext())) for h in element.iter("hi") if h.get("rend") in ("#b", "#strong"))
    return bool(bold) and len(bold) >= BOLD_HEADING_SHARE * len(plain.replace(" ", "")) \
        and len(plain) <= MAX_BOLD_HEADING_CHARS and not plain.endswith(".")


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
            stripped = strip_image_files(text)
            if kind == "paragraph" and stripped in marks.captions:
                kind_here = "caption"
            elif kind == "paragraph" and footnote_text(text) in marks.footnotes:
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
                text = footnote_text(text)
            if text and not _is_metadata(text, title, date_text, byline):
                blocks.append((kind_here, text))
    return repair_split_words(blocks), credits


def _is_metadata(text: str, title: str | None, date_text: str | None, byline: str | None) -> bool:
    if title and text == title:
        return True
    if date_text and text == date_text:
        return True
    if byline and BY_PREFIX.sub("", text) == byline and len(text) <= MAX_BYLINE_CHARS:
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
