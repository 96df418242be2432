"""scorer: a confidence (0–1) for every fact row, from a small logistic regression over cheap features.

The rules propose the facts (roles, countries, batches, dates); this module scores each proposal with the
coefficients ``make train-scorer`` fitted on the gold sets (``pipeline/train_scorer.py``) and kept in
``pipeline/models/scorer.json``. Features are read from the rows of one article and its text only — the
rule that proposed the fact, how far its evidence lies from the person's nearest mention and what stands
between them (punctuation, a line break, a sentence end), the shape of the title, organisation or date —
so training (on written tables) and scoring (on the rows about to be written) see the same numbers.
Inference is a dot product and a logistic function: no library beyond the standard one.
"""
from __future__ import annotations

import json
import logging
import math
import re
from bisect import bisect_left
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .. import SCORER_MODEL, code_fingerprint

log = logging.getLogger(__name__)

# Tables whose rows are facts the rules propose and the scorer scores. ``article_people`` and ``mentions`` are
# not: they are the entities and evidence spans the facts are linked through (a fact row refers to its
# person), and holding a person back would orphan every fact of theirs.
FACT_TABLES = ("roles", "countries", "batches", "dates")
MODEL_FORMAT = 1  # bumped when the features or the file's layout change incompatibly
SENTENCE_END = re.compile(r"[.!?][\"”’)]?\s+(?=[A-Z\"“‘(])")
SOURCE_PARTS = re.compile(r"[:/+]")
FAR_CHARS = 2000  # a person mention further than this from the evidence counts as this far (no mention at all)
COMMAS_CAP = 3  # commas counted up to this many: a fourth says nothing a third did not
LOGIT_CAP = 50.0  # |weighted sum| beyond this is 0 or 1 to float precision; capped so exp() cannot overflow


class ScorerModelError(ValueError):
    """The scorer model file is missing, unreadable or of another format."""


@dataclass(frozen=True)
class ScorerModel:
    """Coefficients per fact table, the threshold chosen on dev data, and what they were trained on."""

    weights: dict[str, dict[str, float]]  # table → feature → weight ("bias" included)
    default_threshold: float
    code_fingerprint: str
    trained_on: tuple[str, ...]

    def confidence(self, table: str, features: dict[str, float]) -> float:
        """Logistic function of the weighted features; a table without coefficients is fully trusted."""
        weights = self.weights.get(table)
        if not weights:
            return 1.0
        z = sum(weights.get(name, 0.0) * value for name, value in features.items())
        return 1.0 / (1.0 + math.exp(-max(min(z, LOGIT_CAP), -LOGIT_CAP)))


def read_model(path: Path) -> ScorerModel:
    """The model in ``path``; ``ScorerModelError`` naming the file and the reason when it cannot be used."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ScorerModelError(f"{path}: cannot read the scorer model ({error}); run `make train-scorer`") from None
    if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
        raise ScorerModelError(f"{path}: not a scorer model of format {MODEL_FORMAT}; run `make train-scorer`")
    return ScorerModel({t: dict(w) for t, w in data["weights"].items()}, float(data["default_threshold"]),
                       data["code_fingerprint"], tuple(data["trained_on"]))


@lru_cache(maxsize=1)
def scorer_model() -> ScorerModel:
    """The committed model, loaded once per process; a model trained on other extraction code still scores,
    with one warning, since its features still mean the same but the facts it saw were proposed differently."""
    model = read_model(SCORER_MODEL)
    if model.code_fingerprint != code_fingerprint():
        log.warning("the scorer model was trained on extraction code %s, this is %s: confidences may be off "
                    "until `make train-scorer` is run", model.code_fingerprint, code_fingerprint())
    return model


def default_min_confidence() -> float:
    """The threshold below which fact rows are held back unless told otherwise (chosen on dev data)."""
    return scorer_model().default_threshold


def score_rows(rows: dict[str, list[dict]], model: ScorerModel | None = None) -> None:
    """Set ``confidence`` on every fact row of one article's rows (``write.extraction_rows``)."""
    model = model or scorer_model()
    for table, row, features in article_features(rows):
        row["confidence"] = round(model.confidence(table, features), 4)


def hold_back(rows: dict[str, list[dict]], min_confidence: float) -> Counter[str]:
    """Remove the fact rows whose confidence is below ``min_confidence``; how many, per table."""
    held: Counter[str] = Counter()
    for table in FACT_TABLES:
        kept = [row for row in rows.get(table, []) if row["confidence"] >= min_confidence]
        held[table] = len(rows.get(table, [])) - len(kept)
        if table in rows:
            rows[table] = kept
    return +held


# ---------------------------------------------------------------- features


class _Article:
    """What the features of one article's facts look up: its text, sentence ends, line breaks, people."""

    def __init__(self, rows: dict[str, list[dict]]) -> None:
        article = rows["articles"][0]
        self.text: str = article["text"]
        self.published_year = article["published"].year if article.get("published") else None
        self.sentence_ends = [m.start() for m in SENTENCE_END.finditer(self.text)]
        self.line_breaks = [i for i, ch in enumerate(self.text) if ch == "\n"]
        self.person_spans: dict[str | None, list[tuple[int, int]]] = defaultdict(list)
        for m in rows.get("mentions", []):
            if m["label"] == "PERSON" and m["article_id"] == article["article_id"]:
                self.person_spans[m["person_id"]].append((m["char_start"], m["char_end"]))
                self.person_spans[None].append((m["char_start"], m["char_end"]))
        self.facts_of = Counter((table, row.get("person_id")) for table in FACT_TABLES for row in rows.get(table, []))

    def between(self, positions: list[int], start: int, end: int) -> int:
        """How many of the sorted ``positions`` lie in [start, end)."""
        return bisect_left(positions, end) - bisect_left(positions, start)

    def nearest_person(self, person_id: str | None, start: int, end: int) -> tuple[int, int] | None:
        """The mention of the person (any person when ``person_id`` is None) closest to [start, end)."""
        spans = self.person_spans.get(person_id) or []
        return min(spans, key=lambda s: (_gap(s, (start, end)), s), default=None)


def _gap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, max(a[0], b[0]) - min(a[1], b[1]))


def article_features(rows: dict[str, list[dict]]) -> list[tuple[str, dict, dict[str, float]]]:
    """(table, row, features) for every fact row of one article's rows."""
    if not rows.get("articles"):
        return []
    article = _Article(rows)
    found = []
    for table in FACT_TABLES:
        for row in rows.get(table, []):
            features = _common(article, table, row)
            features.update(_SPECIFIC[table](article, row))
            found.append((table, row, features))
    return found


def _common(article: _Article, table: str, row: dict) -> dict[str, float]:
    """Features every fact has: the rule that proposed it, its evidence span and its place in the article."""
    start, end = row["char_start"], row["char_end"]
    span = article.text[start:end]
    features = {"bias": 1.0, f"source={row['source']}": 1.0,
                "span_chars_log": math.log1p(end - start),
                "position": start / max(len(article.text), 1),
                "span_commas": min(span.count(","), COMMAS_CAP) / COMMAS_CAP,
                "span_brackets": float("(" in span or ")" in span),
                "span_crosses_line": float(article.between(article.line_breaks, start, end) > 0),
                "in_headline": float(start < (article.line_breaks[0] if article.line_breaks else len(article.text)))}
    for part in SOURCE_PARTS.split(row["source"])[1:]:
        features[f"source_part={part}"] = 1.0
    person_id = row.get("person_id")
    if table != "dates":
        features["person_facts_log"] = math.log1p(article.facts_of[(table, person_id)])
    mention = article.nearest_person(person_id if table != "dates" else None, start, end)
    if mention is None:
        features["no_person_mention"] = 1.0
        return features
    left, right = min(mention[1], start), max(mention[0], end)
    between = article.text[left:right] if mention[1] <= start or end <= mention[0] else ""
    features.update({
        "person_distance_log": math.log1p(min(_gap(mention, (start, end)), FAR_CHARS)),
        "person_after": float(mention[0] >= end),
        "between_commas": min(between.count(","), COMMAS_CAP) / COMMAS_CAP,
        "between_colon": float(":" in between or ";" in between),
        "between_dash": float("–" in between or "—" in between or " - " in between),
        "between_line_break": float("\n" in between),
        "between_sentence_end": float(article.between(article.sentence_ends, left, right) > 0),
    })
    return features


def _words(text: str | None) -> float:
    return math.log1p(len(text.split())) if text else 0.0


def _role(article: _Article, row: dict) -> dict[str, float]:
    title, org = row["title"], row["org"]
    return {"has_title": float(bool(title)), "has_org": float(bool(org)), f"status={row['status']}": 1.0,
            "has_start": float(row["start"] is not None), "has_end": float(row["end"] is not None),
            "in_profile": float(row["profile_id"] is not None), "title_words_log": _words(title),
            "org_words_log": _words(org), "title_lowercase": float(bool(title) and title[:1].islower()),
            "org_all_caps": float(bool(org) and org.replace(" ", "").isupper())}


def _country(article: _Article, row: dict) -> dict[str, float]:
    span = article.text[row["char_start"]:row["char_end"]]
    return {"country_name_in_span": float(row["country_name"].lower() in span.lower())}


def _batch(article: _Article, row: dict) -> dict[str, float]:
    return {"has_person": float(row["person_id"] is not None), "has_programme": float(bool(row["programme"])),
            "has_batch": float(row["batch"] is not None), "has_years": float(row["start_year"] is not None)}


YEARS_APART_CAP = 50  # a date further from the publication year than this is as far as any


def _date(article: _Article, row: dict) -> dict[str, float]:
    text = row["text"]
    features = {f"precision={row['precision']}": 1.0, "in_profile": float(row["profile_id"] is not None),
                "text_chars_log": math.log1p(len(text)), "text_has_letters": float(any(c.isalpha() for c in text)),
                "text_is_year": float(text.strip().isdigit())}
    if article.published_year and row["start"]:
        apart = min(abs(int(row["start"][:4]) - article.published_year), YEARS_APART_CAP)
        features["years_from_published_log"] = math.log1p(apart)
        features["after_published"] = float(int(row["start"][:4]) > article.published_year)
    return features


_SPECIFIC = {"roles": _role, "countries": _country, "batches": _batch, "dates": _date}
