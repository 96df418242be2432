"""Pattern files are data: each spaCy pattern carries an ``id`` that ends up in the ``source`` column."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

PATTERN_DIR = Path(__file__).parent
RULE_FAMILIES = ("dates", "batches", "honorifics", "titles")


def load_jsonl(name: str) -> list[dict]:
    """Read one pattern family (``<name>.jsonl``) as a list of dicts."""
    with open(PATTERN_DIR / f"{name}.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@lru_cache(maxsize=1)
def lexicon() -> dict:
    """Word lists the linking rules consult (organisation heads, status verbs, ...)."""
    with open(PATTERN_DIR / "lexicon.json", encoding="utf-8") as handle:
        return json.load(handle)
