"""parse, reading: a page file on disk → decoded text → lxml tree, or a ParseError naming the file and why."""
from __future__ import annotations

import codecs
import gzip
import io
import logging
import re
from pathlib import Path

import charset_normalizer
import lxml.html
from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HtmlProcessingInstruction
from trafilatura import utils as library

log = logging.getLogger("pipeline.parse")


class ParseError(ValueError):
    """A page that cannot become an article; the message names the file and says why."""


GZIP_MAGIC = b"\x1f\x8b"
# Real article pages are well under a few MB; a compressed page that inflates beyond this is a
# compression bomb or not a page, and is refused rather than read into memory.
MAX_DECOMPRESSED_BYTES = 32 * 1024 * 1024
PARSER_DEPTH_LIMIT = 255  # libxml2 stops nesting there (its guard against stack exhaustion); deeper text is cut
SNIFF_BYTES = 4096  # the head of the file where a BOM, NUL bytes or a declared charset are looked for
MARKUP_SNIFF_CHARS = 20000  # the start of the text where some markup must show for it to be a page
CHARSET_GUESS_BYTES = 4 * MARKUP_SNIFF_CHARS  # what charset-normalizer reads: enough text to tell, bounded on large pages
DECLARED_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""", re.I)
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
# A page that fails strict UTF-8 is still read as UTF-8 when at least this share of its non-ASCII characters
# decode (each invalid byte counts once): one stray byte among thousands of accented letters is an accident.
MOSTLY_UTF8_SHARE = 0.95
NON_ASCII = re.compile(r"[^\x00-\x7f]")
# Browsers read these labels as Windows-1252, a superset that also covers the curly quotes pages mislabel.
WINDOWS_1252_ALIASES = {"latin_1", "iso8859-1", "ascii", "cp1252"}


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
    if _mostly_utf8(data):  # a few stray bytes (a cut character, a pasted Latin-1 word) in a UTF-8 page
        return _check_markup(data.decode("utf-8", errors="replace"), path)
    encoding = _declared_encoding(head) or _guessed_encoding(data)
    return _check_markup(data.decode(encoding, errors="replace"), path)


def _mostly_utf8(data: bytes) -> bool:
    """Whether nearly all of the page's non-ASCII bytes form valid UTF-8 characters.

    Decoding such a page by its declared or guessed single-byte charset would turn every accented letter of
    its names into mojibake ("Ã¶" for "ö") to save the one or two stray bytes; a page in a single-byte
    charset has almost no valid multi-byte sequences, so it fails this test and keeps its charset.
    """
    text = data.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd")
    valid = len(NON_ASCII.findall(text)) - invalid
    return valid >= MOSTLY_UTF8_SHARE * (valid + invalid)


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
    best = charset_normalizer.from_bytes(data[:CHARSET_GUESS_BYTES]).best()
    name = codecs.lookup(best.encoding).name if best else "cp1252"
    return "cp1252" if name in WINDOWS_1252_ALIASES else name


def _check_markup(text: str, path: Path) -> str:
    if not re.search(r"<\s*(html|body|p|div|h1|article|title)\b", text[:MARKUP_SNIFF_CHARS], re.I):
        raise ParseError(f"{path}: no HTML markup found")
    return XML_DECLARATION.sub("", text, count=1)


# trafilatura's HTML parser settings, with one element class for every tag. lxml.html picks each element's class
# (form, input, label ...) in a Python callback, run again whenever the stage or trafilatura meets an element:
# about a twentieth of the parse stage's time. Neither uses those classes' form methods; the default class
# lookup, done in C, gives the same tree.
STORY_PARSER = library.HTML_PARSER.copy()
STORY_PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(
    element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity))
# trafilatura's test of a tree parsed from something that may not be HTML: without "html" in its first
# characters, a page that gives fewer top-level elements than a head and a body is not one.
MIN_TOP_ELEMENTS = 2
DOCUMENT_START_CHARS = 50


def load_tree(html: str, path: Path) -> HtmlElement:
    """The page's lxml tree, parsed as trafilatura's loader parses it (after its repairs of common breakage)."""
    beginning = html[:DOCUMENT_START_CHARS].lower()
    html = library.repair_faulty_html(html, beginning)
    try:
        tree = _parsed(html)
        if len(tree) < 1:  # libxml2 sometimes reads the bytes where it reads nothing of the text
            tree = _parsed(html.encode("utf-8", "surrogatepass"))
    except (etree.ParserError, ValueError) as error:
        raise ParseError(f"{path}: the HTML parser could not read the page ({error})") from None
    if library.is_dubious_html(beginning) and len(tree) < MIN_TOP_ELEMENTS:
        raise ParseError(f"{path}: the HTML parser could not read the page (no document structure)")
    if any(entry.type_name == "ERR_RESOURCE_LIMIT" for entry in STORY_PARSER.error_log):
        log.warning("%s: markup nested deeper than libxml2's limit (%d levels); the text below it is not read",
                    path, PARSER_DEPTH_LIMIT)
    return tree


def _parsed(html: str | bytes) -> HtmlElement:
    try:
        return lxml.html.fromstring(html, parser=STORY_PARSER)
    except ValueError:  # "Unicode strings with encoding declaration are not supported": the bytes are read
        if isinstance(html, bytes):
            raise
        return lxml.html.fromstring(html.encode("utf-8", "surrogatepass"), parser=STORY_PARSER)
