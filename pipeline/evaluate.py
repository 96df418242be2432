"""eval: score extracted tables against gold annotations (format: tests/fixtures/gold/README.md).

Articles are matched by folded title. Within an article, people match when their names are equal after
folding case, accents and punctuation, in any word order. Organisations match on content-word overlap
(Jaccard >= 0.5 after dropping "the/of/and/at/in/for/to"). Dates match on their (start, end) values.
Scores are micro-averaged over all articles.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq

from .normalize import fold, name_key, org_similar

F1_FIELDS = ("articles", "people", "honorifics", "person_country", "role_title", "role_org", "batches",
             "batches_mentioned", "programmes", "dates")
ACCURACY_FIELDS = ("published", "role_status", "role_start", "role_end", "batch_years")


class Counter:
    """True/false positives and negatives of one field, with the items behind the errors."""

    def __init__(self) -> None:
        self.tp = self.fp = self.fn = 0
        self.errors: list[str] = []

    def add_sets(self, gold: set, got: set, article: str) -> None:
        self.tp += len(gold & got)
        self.fp += len(got - gold)
        self.fn += len(gold - got)
        self.errors += [f"{article}: missing {item}" for item in sorted(map(str, gold - got))]
        self.errors += [f"{article}: extra {item}" for item in sorted(map(str, got - gold))]

    def add_fuzzy(self, gold: list[tuple], got: list[tuple], article: str) -> None:
        """Pairs (person, text) matched greedily by person equality and organisation similarity."""
        unmatched = list(got)
        for person, text in gold:
            hit = next((g for g in unmatched if g[0] == person and org_similar(g[1], text)), None)
            if hit:
                unmatched.remove(hit)
                self.tp += 1
            else:
                self.fn += 1
                self.errors.append(f"{article}: missing {(person, text)}")
        self.fp += len(unmatched)
        self.errors += [f"{article}: extra {item}" for item in unmatched]

    def scores(self) -> dict:
        """Precision, recall and F1; None where there is nothing to divide by (nothing extracted, nothing in
        the gold, or neither), so an empty field never reads as a perfect one."""
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else None
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else None
        if self.tp + self.fp + self.fn == 0:
            f1 = None
        elif self.tp == 0:
            f1 = 0.0
        else:
            f1 = 2 * p * r / (p + r)
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": _rounded(p), "recall": _rounded(r), "f1": _rounded(f1)}


class Accuracy:
    def __init__(self) -> None:
        self.right = self.total = 0
        self.errors: list[str] = []

    def add(self, expected, got, label: str) -> None:
        self.total += 1
        if expected == got:
            self.right += 1
        else:
            self.errors.append(f"{label}: expected {expected!r}, got {got!r}")

    def score(self) -> dict:
        return {"right": self.right, "total": self.total, "accuracy": _rounded(self.right / self.total if self.total else None)}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


class MissingTables(FileNotFoundError):
    """The folder to score holds no extracted tables."""


def _load(extracted: Path) -> dict[str, list[dict]]:
    names = ("articles", "article_people", "roles", "countries", "batches", "dates")
    missing = [name for name in names if not (extracted / f"{name}.parquet").exists()]
    if missing:
        raise MissingTables(f"{extracted}: no {', '.join(missing)} table; run `python -m pipeline extract` first")
    return {name: pq.read_table(extracted / f"{name}.parquet").to_pylist() for name in names}


def evaluate(gold_dir: Path, extracted: Path) -> dict:
    """Precision/recall/F1 per field, accuracies, and any extracted date that the gold calls not a date."""
    return evaluate_tables(gold_dir, _load(extracted))


def evaluate_tables(gold_dir: Path, tables: dict[str, list[dict]]) -> dict:
    """``evaluate`` over tables already read (rows by table name), e.g. some rows held back."""
    by_article: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for name, rows in tables.items():
        for row in rows:
            by_article[row["article_id"]][name].append(row)
    titles = {fold(a["title"] or ""): a for a in tables["articles"]}
    f1 = {name: Counter() for name in F1_FIELDS}
    acc = {name: Accuracy() for name in ACCURACY_FIELDS}
    not_dates: list[str] = []
    unmatched: list[str] = []
    matched_articles = 0
    for path in sorted(gold_dir.glob("*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        label = path.stem[:40]
        article = titles.get(fold(gold["title"]))
        if article is None:
            unmatched.append(f"{path.name}: no extracted article titled {gold['title']!r}")
            f1["articles"].fn += 1
            f1["articles"].errors.append(f"{label}: article not found")
            _count_missing(f1, gold, label)
            continue
        matched_articles += 1
        f1["articles"].tp += 1
        rows = by_article[article["article_id"]]
        acc["published"].add(gold.get("published"), article["published"].isoformat() if article["published"] else None, label)
        _score_article(gold, article, rows, f1, acc, label)
        not_dates += _not_dates(gold, article, rows["dates"], label)
    f1["articles"].fp += len(tables["articles"]) - matched_articles if len(list(gold_dir.glob("*.json"))) >= len(tables["articles"]) else 0
    return {
        "f1": {name: counter.scores() for name, counter in f1.items()},
        "accuracy": {name: a.score() for name, a in acc.items()},
        "not_dates_extracted": not_dates,
        "unmatched_gold": unmatched,
        "errors": {name: counter.errors for name, counter in f1.items()} | {name: a.errors for name, a in acc.items()},
    }


def _count_missing(f1: dict, gold: dict, label: str) -> None:
    f1["people"].fn += len(gold["people"])
    f1["dates"].fn += len({(d["start"], d["end"]) for d in gold["dates"]})


def _score_article(gold: dict, article: dict, rows: dict, f1: dict, acc: dict, label: str) -> None:
    # people: gold name key → extracted person ids matched by name
    gold_people = {name_key(p["name"]): p for p in gold["people"]}
    extracted_people = {row["person_id"]: row for row in rows["article_people"]}
    who = {pid: name_key(row["name"]) for pid, row in extracted_people.items()}
    f1["people"].add_sets(set(gold_people), set(who.values()), label)
    f1["honorifics"].add_sets({(k, fold(h)) for k, p in gold_people.items() for h in p.get("honorifics", [])},
                              {(who[pid], fold(h)) for pid, row in extracted_people.items() for h in row["honorifics"] or []}, label)
    f1["person_country"].add_sets({(k, c) for k, p in gold_people.items() for c in p.get("countries", [])},
                                  {(who.get(r["person_id"]), r["country_iso3"]) for r in rows["countries"]}, label)
    gold_roles = [(k, r) for k, p in gold_people.items() for r in p.get("roles", [])]
    got_roles = [(who.get(r["person_id"]), r) for r in rows["roles"]]
    f1["role_title"].add_sets({(k, fold(r["title"])) for k, r in gold_roles if r["title"]},
                              {(k, fold(r["title"])) for k, r in got_roles if r["title"]}, label)
    f1["role_org"].add_fuzzy([(k, r["org"]) for k, r in gold_roles if r["org"]],
                             [(k, r["org"]) for k, r in got_roles if r["org"]], label)
    for key, role in gold_roles:
        hit = _matching_role(key, role, got_roles)
        if hit is None:
            continue
        what = f"{label}: {key} {role['title'] or role['org']}"
        acc["role_status"].add(role["status"], hit["status"], what)
        if role.get("start") or hit["start"]:
            acc["role_start"].add(role.get("start"), hit["start"], what + " start")
        if role.get("end") or hit["end"]:
            acc["role_end"].add(role.get("end"), hit["end"], what + " end")
    gold_batches = {(k, b["batch"]): b for k, p in gold_people.items() for b in p.get("programmes", []) if b.get("batch") is not None}
    got_batches = {(who.get(b["person_id"]), b["batch"]): b for b in rows["batches"] if b["person_id"] and b["batch"] is not None}
    f1["batches"].add_sets(set(gold_batches), set(got_batches), label)
    for key in set(gold_batches) & set(got_batches):
        g, e = gold_batches[key], got_batches[key]
        acc["batch_years"].add((g.get("start_year"), g.get("end_year")), (e["start_year"], e["end_year"]), f"{label}: {key}")
    f1["batches_mentioned"].add_sets({b["batch"] for b in gold.get("batches", []) if b.get("batch") is not None},
                                     {b["batch"] for b in rows["batches"] if b["batch"] is not None}, label)
    f1["programmes"].add_fuzzy([(k, b["programme"]) for k, p in gold_people.items() for b in p.get("programmes", [])],
                               [(who.get(b["person_id"]), b["programme"]) for b in rows["batches"] if b["person_id"]], label)
    f1["dates"].add_sets({(d["start"], d["end"]) for d in gold["dates"]}, {(d["start"], d["end"]) for d in rows["dates"]}, label)


def _matching_role(key: str, role: dict, got_roles: list[tuple]) -> dict | None:
    for person, candidate in got_roles:
        if person != key:
            continue
        if role["title"] and candidate["title"] and fold(role["title"]) == fold(candidate["title"]):
            if not role["org"] or not candidate["org"] or org_similar(role["org"], candidate["org"]):
                return candidate
        if not role["title"] and not candidate["title"] and org_similar(role["org"], candidate["org"]):
            return candidate
    return None


def _not_dates(gold: dict, article: dict, dates: list[dict], label: str) -> list[str]:
    """Extracted dates whose span lies inside a gold "not a date" string of the article text."""
    text = article["text"]
    bad = []
    for phrase in gold.get("not_dates", []):
        start = text.find(phrase)
        while start >= 0:
            end = start + len(phrase)
            bad += [f"{label}: {d['text']!r} inside {phrase!r}" for d in dates if start <= d["char_start"] and d["char_end"] <= end]
            start = text.find(phrase, start + 1)
    return bad


NOT_SCORED = "n/a"  # printed for a score with nothing to score


def format_report(report: dict, show_errors: bool = False) -> str:
    """The human-readable table; with ``show_errors``, each field's misses and extras below it."""
    lines = [f"{'field':<18} {'P':>6} {'R':>6} {'F1':>6} {'tp':>5} {'fp':>5} {'fn':>5}"]
    for name, s in report["f1"].items():
        lines.append(f"{name:<18} {_cell(s['precision'])} {_cell(s['recall'])} {_cell(s['f1'])} "
                     f"{s['tp']:>5} {s['fp']:>5} {s['fn']:>5}")
    lines.append("")
    lines.append(f"{'accuracy':<18} {'acc':>6} {'right':>6} {'total':>6}")
    for name, s in report["accuracy"].items():
        lines.append(f"{name:<18} {_cell(s['accuracy'])} {s['right']:>6} {s['total']:>6}")
    lines.append("")
    lines.append(f"not_dates extracted: {len(report['not_dates_extracted'])}")
    lines += [f"  {item}" for item in report["not_dates_extracted"]]
    if show_errors:
        for name, errors in report["errors"].items():
            if errors:
                lines.append("")
                lines.append(f"{name}: {len(errors)} errors")
                lines += [f"  {error}" for error in errors]
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return f"{NOT_SCORED:>6}" if value is None else f"{value:>6.3f}"
