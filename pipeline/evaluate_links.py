"""Score cross-article person resolution (``person_links``) against gold links (``tests/persons/gold``).

The gold names each person once and lists their mentions as (page slug, name as printed). A mention is found
when that article has an ``article_people`` row whose name (or one of its aliases) has the gold name's
order-free folded key. Over every pair of found mentions, a pair is predicted "same person" when both rows
carry one ``canonical_id``, and is "same person" in the gold when both mentions are one gold person:
pairwise precision, recall and F1, the usual measure of a clustering of records (splink and dedupe report
it too). The same pairs are scored for the name hash alone (``person_id``), the baseline resolution replaces.

    python -m pipeline.evaluate_links --gold tests/persons/gold/links.json --extracted build/persons
"""
from __future__ import annotations

import argparse
import json
import sys
from itertools import combinations
from pathlib import Path

import pyarrow.parquet as pq

from .normalize import name_key


def _scores(tp: int, fp: int, fn: int) -> dict:
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0 if tp + fp + fn else None
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def evaluate_links(gold_file: Path, extracted: Path) -> dict:
    """Pairwise scores of ``canonical_id`` (``resolved``) and of ``person_id`` (``name_hash``), the mentions
    not found, and the wrong pairs."""
    gold = json.loads(Path(gold_file).read_text(encoding="utf-8"))
    articles = {row["url"]: row["article_id"] for row in
                pq.read_table(Path(extracted) / "articles.parquet", columns=["article_id", "url"]).to_pylist()}
    people = pq.read_table(Path(extracted) / "article_people.parquet", columns=["person_id", "article_id", "name", "aliases"])
    links = {(row["person_id"], row["article_id"]): row["canonical_id"] for row in
             pq.read_table(Path(extracted) / "person_links.parquet",
                           columns=["person_id", "article_id", "canonical_id"]).to_pylist()}
    by_article: dict[str, list[dict]] = {}
    for row in people.to_pylist():
        by_article.setdefault(row["article_id"], []).append(row)
    found, missing = [], []
    for person, mentions in sorted(gold["people"].items()):
        for slug, name in mentions:
            article_id = articles.get(f"{gold['url_prefix']}{slug}/")
            row = next((r for r in by_article.get(article_id, []) if name_key(name) in
                        {name_key(n) for n in [r["name"], *(r["aliases"] or [])]}), None)
            if row is None:
                missing.append(f"{slug}: {name}")
            else:
                found.append((person, f"{slug}: {name}", row["person_id"], links[(row["person_id"], row["article_id"])]))
    report: dict = {"mentions": len(found) + len(missing), "missing": missing}
    for method, column in (("resolved", 3), ("name_hash", 2)):
        tp = fp = fn = 0
        wrong = []
        for a, b in combinations(found, 2):
            same, said = a[0] == b[0], a[column] == b[column]
            tp, fp, fn = tp + (same and said), fp + (said and not same), fn + (same and not said)
            if same != said:
                wrong.append(f"{'merged' if said else 'apart'}: {a[1]} | {b[1]}")
        report[method] = {**_scores(tp, fp, fn), "wrong": wrong}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", type=Path, default=Path("tests/persons/gold/links.json"))
    parser.add_argument("--extracted", type=Path, default=Path("build/persons"))
    args = parser.parse_args(argv)
    for path in (args.gold, args.extracted / "person_links.parquet"):
        if not path.exists():
            print(f"eval-persons: {path} does not exist", file=sys.stderr)
            return 2
    report = evaluate_links(args.gold, args.extracted)
    print(f"{report['mentions']} gold mentions, {len(report['missing'])} not found")
    for slug_name in report["missing"]:
        print(f"  not found: {slug_name}")
    for method in ("resolved", "name_hash"):
        s = report[method]
        print(f"{method:<10} pairwise P {s['precision'] or 0:.3f}  R {s['recall'] or 0:.3f}  F1 {s['f1'] or 0:.3f}"
              f"  (tp {s['tp']}, fp {s['fp']}, fn {s['fn']})")
        for line in s["wrong"]:
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
