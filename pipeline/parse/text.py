"""parse, text: the few text helpers every module of the stage compares blocks with."""
from __future__ import annotations


def clean_text(text: str) -> str:
    """Whitespace collapsed to single spaces (no-break spaces and the blocks' line breaks, U+2028, included)."""
    return " ".join(text.replace("\xa0", " ").split())


def text_of(element) -> str:
    """An element's whole text, its children's included, cleaned."""
    return clean_text(" ".join(element.itertext()))


def classes_of(element) -> str:
    """An element's class and id together: the words page templates name their parts with."""
    return f"{element.get('class') or ''} {element.get('id') or ''}"
