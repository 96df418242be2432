"""train-scorer: fit the fact scorer's logistic regressions on the gold sets, choose its threshold on dev.

Each set is extracted with nothing held back (``--min-confidence 0``); every fact row is labelled right or
wrong the way ``pipeline.evaluate`` would match it against the set's gold; one L2-regularised logistic
regression per fact table is fitted by Newton's method (numpy only, so the same inputs give the same file
bytes). The threshold is the one that maximises the dev set's mean F1 over the fact fields as the final model
scores it, among those that do no harm to dev when dev is scored by a model trained without it (leave one
set out: dev unseen) and that keep every trained-on set at its floor (tests/accuracy_floors.json).
Sets passed with ``--evaluate-on`` (the real pages) are scored but never trained on. The ablation printed
(and written with ``--report``) gives, per set, the rules alone, the rules with the scorer trained without
that set, and with the final model.

    python -m pipeline.train_scorer [--set NAME=RAW:GOLD ...] [--evaluate-on NAME=RAW:GOLD ...]
                                    [--out pipeline/models/scorer.json] [--report FILE]
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from . import SCORER_MODEL, code_fingerprint
from .evaluate import evaluate_tables
from .extract.scorer import FACT_TABLES, LOGIT_CAP, MODEL_FORMAT, ScorerModel, article_features
from .normalize import fold, name_key, org_similar
from .run import extract_corpus

# The gold sets every checkout has (name, raw pages, gold); realdev is added when its local text was rebuilt.
COMMITTED_SETS = (("sample", "raw", "tests/fixtures/gold"), ("devset", "tests/devset/raw", "tests/devset/gold"),
                  ("holdout", "tests/holdout/raw", "tests/holdout/gold"),
                  ("holdout2", "tests/holdout2/raw", "tests/holdout2/gold"))
THRESHOLD_SET = "devset"  # the threshold is chosen on this set only
TABLES_READ = ("articles", "article_people", "mentions", *FACT_TABLES)
# Fields a held-back fact row can change; the threshold maximises their mean F1 on dev.
FACT_FIELDS = ("person_country", "role_title", "role_org", "batches", "batches_mentioned", "programmes", "dates")
THRESHOLDS = [round(0.05 * i, 2) for i in range(0, 20)]  # 0.00 … 0.95: coarse enough for a 25-page dev set
L2 = 1.0  # ridge penalty on every weight but the bias: few examples, many one-hot features
NEWTON_STEPS = 50
NEWTON_TOLERANCE = 1e-9
RIDGE_FLOOR = 1e-9  # added to the Hessian's diagonal so the unpenalised bias never makes it singular
DIGITS = 6  # weights are rounded so the file is small and its bytes do not wobble in the last float bits
SHOWN_FIELDS = ("people", "person_country", "role_title", "role_org", "batches", "dates")
SWEPT = (0.0, 0.2, 0.4, 0.6, 0.8)  # thresholds shown for each set (scored by the model trained without it)
SWEPT_FIELDS = ("person_country", "role_title", "role_org", "dates")


@dataclass
class GoldSet:
    name: str
    raw: Path
    gold: Path


@dataclass
class Example:
    table: str
    row: dict
    features: dict[str, float]
    right: bool


# ---------------------------------------------------------------- data


def extract_set(gold_set: GoldSet, workdir: Path) -> dict[str, list[dict]]:
    """The set's tables, extracted with nothing held back, as rows by table name."""
    out = workdir / gold_set.name
    summary = extract_corpus(gold_set.raw, out, progress=False, min_confidence=0.0)
    if summary.failures:
        raise SystemExit(f"train-scorer: {gold_set.raw}: {len(summary.failures)} pages failed to extract")
    return {name: pq.read_table(out / f"{name}.parquet").to_pylist() for name in TABLES_READ}


def examples(gold_dir: Path, tables: dict[str, list[dict]]) -> list[Example]:
    """Every fact row of the articles the gold covers, with its features and whether the gold has it."""
    by_article: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for name, rows in tables.items():
        for row in rows:
            by_article[row["article_id"]][name].append(row)
    titles = {fold(a["title"] or ""): a["article_id"] for a in tables["articles"]}
    found = []
    for path in sorted(gold_dir.glob("*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        article_id = titles.get(fold(gold["title"]))
        if article_id is None:
            continue
        rows = by_article[article_id]
        judge = _Judge(gold, rows["article_people"])
        for table, row, features in article_features(rows):
            found.append(Example(table, row, features, judge.right(table, row)))
    return found


class _Judge:
    """Whether a fact row is one the gold has, matched as ``pipeline.evaluate`` matches it."""

    def __init__(self, gold: dict, article_people: list[dict]) -> None:
        self.who = {row["person_id"]: name_key(row["name"]) for row in article_people}
        self.people = {name_key(p["name"]): p for p in gold["people"]}
        self.dates = {(d["start"], d["end"]) for d in gold["dates"]}
        self.batches_mentioned = {b["batch"] for b in gold.get("batches", []) if b.get("batch") is not None}

    def right(self, table: str, row: dict) -> bool:
        person = self.people.get(self.who.get(row.get("person_id")), {})
        if table == "roles":
            roles = person.get("roles", [])
            title_ok = not row["title"] or any(r["title"] and fold(r["title"]) == fold(row["title"]) for r in roles)
            org_ok = not row["org"] or any(r["org"] and org_similar(row["org"], r["org"]) for r in roles)
            return bool(person) and title_ok and org_ok
        if table == "countries":
            return row["country_iso3"] in person.get("countries", [])
        if table == "batches":
            if row["person_id"] is None:
                return row["batch"] in self.batches_mentioned
            programmes = person.get("programmes", [])
            if row["batch"] is not None:
                return any(b.get("batch") == row["batch"] for b in programmes)
            return any(row["programme"] and b.get("programme") and org_similar(row["programme"], b["programme"])
                       for b in programmes)
        return (row["start"], row["end"]) in self.dates


# ---------------------------------------------------------------- model


def fit(found: list[Example]) -> dict[str, dict[str, float]]:
    """One logistic regression per fact table: feature → weight. A table whose rows are all right (or all
    wrong) gets no weights: there is nothing to tell apart, and the scorer then trusts it fully."""
    weights = {}
    for table in FACT_TABLES:
        mine = [e for e in found if e.table == table]
        labels = np.array([e.right for e in mine], dtype=float)
        if not mine or labels.min() == labels.max():
            continue
        names = sorted({name for e in mine for name in e.features})
        column = {name: i for i, name in enumerate(names)}
        x = np.zeros((len(mine), len(names)))
        for i, e in enumerate(mine):
            for name, value in e.features.items():
                x[i, column[name]] = value
        w = _newton(x, labels, penalty=np.array([0.0 if n == "bias" else L2 for n in names]))
        weights[table] = {name: round(float(v), DIGITS) for name, v in zip(names, w) if round(float(v), DIGITS)}
    return weights


def _newton(x: np.ndarray, y: np.ndarray, penalty: np.ndarray) -> np.ndarray:
    """Weights minimising the logistic loss plus ``penalty·w²/2`` (Newton's method; the loss is convex)."""
    w = np.zeros(x.shape[1])
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -LOGIT_CAP, LOGIT_CAP)))
        gradient = x.T @ (p - y) + penalty * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty + RIDGE_FLOOR)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.abs(step).max()) < NEWTON_TOLERANCE:
            break
    return w


def _model(weights: dict, threshold: float, trained_on: list[str]) -> ScorerModel:
    return ScorerModel(weights, threshold, code_fingerprint(), tuple(trained_on))


def model_json(model: ScorerModel) -> str:
    """The model file's text: sorted keys, rounded weights, so the same training gives the same bytes."""
    return json.dumps({"format": MODEL_FORMAT, "code_fingerprint": model.code_fingerprint,
                       "default_threshold": model.default_threshold, "trained_on": list(model.trained_on),
                       "weights": model.weights}, indent=1, sort_keys=True) + "\n"


# ---------------------------------------------------------------- scoring the sets


def kept_tables(tables: dict[str, list[dict]], found: list[Example], model: ScorerModel | None,
                threshold: float) -> dict[str, list[dict]]:
    """The set's tables with the rows a model scores below ``threshold`` held back (None: rules alone)."""
    if model is None:
        return tables
    dropped = {id(e.row) for e in found if model.confidence(e.table, e.features) < threshold}
    return {name: [row for row in rows if id(row) not in dropped] for name, rows in tables.items()}


def mean_fact_f1(report: dict) -> float:
    scores = [report["f1"][f]["f1"] for f in FACT_FIELDS if report["f1"][f]["f1"] is not None]
    return sum(scores) / len(scores) if scores else 0.0


def floors_kept(report: dict, floors: dict[str, float]) -> bool:
    """Whether a set's scores stay at or above its floors (keys ``f1.<field>``, ``accuracy.<field>``)."""
    for key, floor in floors.items():
        kind, field = key.split(".")
        value = report[kind][field]["f1" if kind == "f1" else "accuracy"]
        if value is not None and value < floor:
            return False
    return True


def choose_threshold(dev: GoldSet, dev_data: dict, dev_found: list[Example], dev_model: ScorerModel,
                     final: ScorerModel, sets: list[GoldSet], data: dict, found: dict,
                     floors: dict[str, dict[str, float]]) -> float:
    """The threshold with the best dev mean F1 as ``final`` scores dev (the lower on a tie), among those that do
    no harm to dev scored by ``dev_model`` (trained without it: dev unseen) and at which ``final`` keeps every
    trained-on set at or above its floor; 0 (hold nothing back) when none does better."""
    def dev_score(model: ScorerModel, t: float) -> float:
        return round(mean_fact_f1(evaluate_tables(dev.gold, kept_tables(dev_data, dev_found, model, t))), 6)

    unseen_baseline = dev_score(dev_model, 0.0)
    for t in sorted(THRESHOLDS, key=lambda t: (-dev_score(final, t), t)):
        if t == 0.0:
            return t
        if dev_score(dev_model, t) >= unseen_baseline and all(
                floors_kept(evaluate_tables(s.gold, kept_tables(data[s.name], found[s.name], final, t)),
                            floors.get(s.name, {})) for s in sets):
            return t
    return 0.0


def train(sets: list[GoldSet], workdir: Path, evaluate_on: list[GoldSet] = (),
          floors: dict[str, dict[str, float]] | None = None) -> tuple[ScorerModel, str]:
    """The final model, trained on ``sets``, and the ablation table (markdown) for them and for
    ``evaluate_on`` (sets scored, never trained on). ``floors``: per set name, the scores it must keep."""
    data = {s.name: extract_set(s, workdir) for s in [*sets, *evaluate_on]}
    found = {name: examples(s.gold, data[name]) for s in [*sets, *evaluate_on] for name in [s.name]}
    names = [s.name for s in sets]
    left_out = {name: _model(fit([e for other in names if other != name for e in found[other]]), 0.0,
                             [o for o in names if o != name]) for name in names}
    final = _model(fit([e for name in names for e in found[name]]), 0.0, names)
    for s in evaluate_on:
        left_out[s.name] = final  # never trained on: the final model is already blind to it
    threshold = 0.0
    dev = next((s for s in sets if s.name == THRESHOLD_SET), None)
    if dev is not None:
        threshold = choose_threshold(dev, data[dev.name], found[dev.name], left_out[dev.name], final, sets, data,
                                     found, floors or {})
    final = _model(final.weights, threshold, names)
    lines = [f"Threshold {threshold:g}: the best on {THRESHOLD_SET} that does no harm to it unseen and keeps every "
             f"trained-on set at its floor. Trained on: {', '.join(names)}"
             + (f"; scored, never trained on: {', '.join(s.name for s in evaluate_on)}" if evaluate_on else "")
             + ". P / R / F1 per field.", "",
             "| set | variant | " + " | ".join(SHOWN_FIELDS) + " | fact rows held back |",
             "|---|---|" + "---|" * (len(SHOWN_FIELDS) + 1)]
    for s in [*sets, *evaluate_on]:
        variants = [("rules alone", None), ("+ scorer, trained without this set", left_out[s.name])]
        if s in sets:
            variants.append(("+ scorer, trained on all sets", final))
        for variant, model in variants:
            report = evaluate_tables(s.gold, kept_tables(data[s.name], found[s.name], model, threshold))
            held = sum(model is not None and model.confidence(e.table, e.features) < threshold for e in found[s.name])
            cells = [_cell(report["f1"][f]) for f in SHOWN_FIELDS]
            lines.append(f"| {s.name} | {variant} | " + " | ".join(cells) + f" | {held} of {len(found[s.name])} |")
    lines += ["", "F1 at other thresholds, each set scored by the model trained without it:", "",
              "| set | field | " + " | ".join(f"{t:g}" for t in SWEPT) + " |", "|---|---|" + "---|" * len(SWEPT)]
    for s in [*sets, *evaluate_on]:
        reports = [evaluate_tables(s.gold, kept_tables(data[s.name], found[s.name], left_out[s.name], t))
                   for t in SWEPT]
        for field in SWEPT_FIELDS:
            cells = ["n/a" if r["f1"][field]["f1"] is None else f"{r['f1'][field]['f1']:.3f}" for r in reports]
            lines.append(f"| {s.name} | {field} | " + " | ".join(cells) + " |")
    lines += ["", "Rows per set (right / wrong, by the gold): " + "; ".join(
        f"{name} {sum(e.right for e in rows)} / {sum(not e.right for e in rows)}" for name, rows in found.items())]
    return final, "\n".join(lines) + "\n"


def _cell(score: dict) -> str:
    if score["f1"] is None:
        return "n/a"
    p, r = ("–" if v is None else f"{v:.2f}" for v in (score["precision"], score["recall"]))
    return f"{p} / {r} / **{score['f1']:.3f}**"


def _gold_set(text: str) -> GoldSet:
    name, sep, paths = text.partition("=")
    raw, sep2, gold = paths.partition(":")
    if not (sep and sep2 and name and raw and gold):
        raise argparse.ArgumentTypeError(f"expected NAME=RAW:GOLD, not {text!r}")
    return GoldSet(name, Path(raw), Path(gold))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.train_scorer", description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=_gold_set, action="append", dest="sets", metavar="NAME=RAW:GOLD",
                        help="a gold set to train on (repeatable); default: the committed sets")
    parser.add_argument("--evaluate-on", type=_gold_set, action="append", default=[], metavar="NAME=RAW:GOLD",
                        help="a gold set to score but never train on (repeatable), e.g. the real pages")
    parser.add_argument("--floors", type=Path, default=Path("tests/accuracy_floors.json"),
                        help="per-set floors the default threshold must keep (skipped when the file is missing)")
    parser.add_argument("--out", type=Path, default=SCORER_MODEL, help="model file to write")
    parser.add_argument("--report", type=Path, help="also write the ablation table (markdown) here")
    parser.add_argument("--workdir", type=Path, default=Path("build/scorer"), help="where the sets are extracted")
    args = parser.parse_args(argv)
    sets = args.sets or [GoldSet(n, Path(r), Path(g)) for n, r, g in COMMITTED_SETS]
    for s in [*sets, *args.evaluate_on]:
        for path in (s.raw, s.gold):
            if not path.is_dir():
                print(f"train-scorer: {s.name}: no folder {path}", file=sys.stderr)
                return 2
    floors = {}
    if args.floors.is_file():
        floors = {name: spec["floors"] for name, spec in json.loads(args.floors.read_text(encoding="utf-8")).items()
                  if isinstance(spec, dict) and "floors" in spec}
    model, ablation = train(sets, args.workdir, args.evaluate_on, floors)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(model_json(model), encoding="utf-8")
    if args.report:
        args.report.write_text(ablation, encoding="utf-8")
    print(ablation)
    shown = args.out.relative_to(Path.cwd()) if args.out.is_relative_to(Path.cwd()) else args.out
    print(f"wrote {shown}: trained on {', '.join(model.trained_on)}; threshold {model.default_threshold:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
