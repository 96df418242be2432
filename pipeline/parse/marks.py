"""parse, marks: what the page's markup says a block is (captions, photo credits, footnotes), read before
trafilatura drops the classes that say it; footnote markers and image file names kept out of the prose."""
from __future__ import annotations

import re
from dataclasses import dataclass

from lxml.html import HtmlElement

from .text import classes_of, text_of

# An image file name, alone or glued to the caption's first word ("nets-2020.jpgA fisher ..."); never the start of a
# word that goes on in lower case ("St.Tiffany", "Mr.Gifford").
IMAGE_FILE = re.compile(r"(?:^|(?<=\s))[\w\-.~%]+?\.(?:jpe?g|png|gif|webp|tiff?|bmp)(?!(?-i:[a-z0-9_]))", re.I)
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
_FOOTNOTE_NUMBER = r"\[?\d{1,2}\]?"  # "1", "[12]": a note's number, as a marker in the text and at a note's start
FOOTNOTE_MARKER = re.compile(rf"{_FOOTNOTE_NUMBER}|[*†‡]")
FOOTNOTE_LEAD = re.compile(rf"^{_FOOTNOTE_NUMBER}\s*")
MARK_CUES = ("caption", "credit", "footnote")  # in the tag (figcaption) or the class of every mark PageMarks reads
CAPTION_CLASS = re.compile(r"caption", re.I)
CREDIT_CLASS = re.compile(r"credit", re.I)
FOOTNOTE_CLASS = re.compile(r"footnote", re.I)


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
                marks.captions.add(strip_image_files(text_of(element)))
            elif CREDIT_CLASS.search(names):
                marks.credits.add(text_of(element))
            if FOOTNOTE_CLASS.search(names):
                for item in element.iter("li", "p"):
                    marks.footnotes.add(footnote_text(text_of(item)))
        marks.captions.discard("")
        marks.footnotes.discard("")  # a list item that was only its number: no paragraph is that footnote
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


def strip_image_files(text: str) -> str:
    return IMAGE_FILE.sub("", text).strip()


def footnote_text(text: str) -> str:
    """A footnote without its number and its back-link arrow."""
    return FOOTNOTE_LEAD.sub("", text).rstrip("↩ ").strip()
