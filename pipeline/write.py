"""write: facts → rows of every table → Arrow tables cast to ``schema.TABLES`` and validated.

Files are the store's job (``store.py``): the run checks each part it writes against the schema's rules
(``validate.require_valid``) before the store writes it, so one violation refuses the whole update
(``InvalidTables``) and the previous tables stay as they were.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pyarrow as pa

from .normalize import fold, person_id, programme_key, stable_id
from .records import Extraction, PartialDate
from .schema import TABLES, validate
from .validate import require_valid


def _interval(start: PartialDate | None, end: PartialDate | None) -> dict:
    return {"start": start.start if start else None, "end": end.end if end else None,
            "start_date": start.start_date if start else None, "end_date": end.end_date if end else None}


def extraction_rows(ex: Extraction, source_sha256: str, extracted_at: dt.datetime, version: str,
                    gone_at: dt.datetime | None = None) -> dict[str, list[dict]]:
    """Rows of every per-article table for one extracted article."""
    a = ex.article
    pid = {key: person_id(person.name) for key, person in ex.people.items()}
    rows: dict[str, list[dict]] = defaultdict(list)
    rows["articles"].append({
        "article_id": a.article_id, "url": a.url, "source_path": a.source_path, "parent_article_id": a.parent_article_id,
        "title": a.title, "published": a.published, "byline": a.byline, "sectors": a.sectors,
        "funding_framework": a.funding_framework, "text": a.text, "photo_credits": a.photo_credits,
        "content_sha256": a.content_sha256, "source_sha256": source_sha256, "extracted_at": extracted_at,
        "pipeline_version": version, "gone_at": gone_at})
    for p in ex.profiles:
        key = ex.profile_people.get(p.profile_id)
        rows["profiles"].append({"profile_id": p.profile_id, "article_id": a.article_id, "person_id": pid.get(key),
                                 "seq": p.seq, "heading": p.heading, "char_start": p.char_start, "char_end": p.char_end})
    for key, person in ex.people.items():
        rows["article_people"].append({"person_id": pid[key], "article_id": a.article_id, "name": person.name,
                                       "aliases": sorted(person.aliases), "honorifics": person.honorifics,
                                       "char_start": person.first_start})
    for m in ex.mentions:
        rows["mentions"].append({"mention_id": stable_id("men", a.article_id, m.label, m.char_start, m.char_end, m.person_key),
                                 "article_id": a.article_id, "profile_id": m.profile_id, "person_id": pid.get(m.person_key),
                                 "label": m.label, "text": m.text, "char_start": m.char_start, "char_end": m.char_end,
                                 "normalized": m.normalized, "source": m.source})
    for r in ex.roles:
        rows["roles"].append({"role_id": stable_id("rol", pid[r.person_key], a.article_id, fold(r.title or ""), fold(r.org or "")),
                              "person_id": pid[r.person_key], "article_id": a.article_id, "profile_id": r.profile_id,
                              "title": r.title, "org": r.org, "status": r.status, **_interval(r.start, r.end),
                              "char_start": r.char_start, "char_end": r.char_end, "source": r.source})
    for c in ex.countries:
        rows["countries"].append({"person_id": pid[c.person_key], "article_id": a.article_id, "country_iso3": c.iso3,
                                  "country_name": c.name, "char_start": c.char_start, "char_end": c.char_end, "source": c.source})
    for b in ex.batches:
        person = pid.get(b.person_key) if b.person_key else None
        rows["batches"].append({"batch_row_id": stable_id("bat", a.article_id, person, programme_key(b.programme), b.batch, b.char_start),
                                "person_id": person, "article_id": a.article_id, "programme": b.programme,
                                "programme_key": programme_key(b.programme), "batch": b.batch, "start_year": b.start_year,
                                "end_year": b.end_year, "char_start": b.char_start, "char_end": b.char_end, "source": b.source})
    for d in ex.dates:
        rows["dates"].append({"date_id": stable_id("dat", a.article_id, d.char_start, d.char_end), "article_id": a.article_id,
                              "profile_id": d.profile_id, "text": d.text, "char_start": d.char_start, "char_end": d.char_end,
                              "start": d.value.start, "end": d.value.end, "start_date": d.value.start_date,
                              "end_date": d.value.end_date, "precision": d.value.precision, "source": d.source})
    return rows


def people_rows(article_people: list[dict], countries: list[dict]) -> list[dict]:
    """The corpus-wide people table: one row per person_id, aggregated over articles."""
    by_person: dict[str, dict] = {}
    for row in sorted(article_people, key=lambda r: (r["person_id"], r["article_id"])):
        person = by_person.setdefault(row["person_id"], {"person_id": row["person_id"], "name": row["name"], "aliases": set(),
                                                         "honorifics": [], "countries": [], "article_ids": []})
        if len(row["name"]) > len(person["name"]):
            person["aliases"].add(person["name"])
            person["name"] = row["name"]
        elif row["name"] != person["name"]:
            person["aliases"].add(row["name"])
        person["aliases"].update(row["aliases"] or [])
        person["honorifics"] += [h for h in row["honorifics"] or [] if h not in person["honorifics"]]
        person["article_ids"].append(row["article_id"])
    for row in countries:
        person = by_person.get(row["person_id"])
        if person is not None and row["country_iso3"] not in person["countries"]:
            person["countries"].append(row["country_iso3"])
    for person in by_person.values():
        person["aliases"] = sorted(person["aliases"] - {person["name"]})
        person["countries"] = sorted(person["countries"])
    return sorted(by_person.values(), key=lambda p: p["person_id"])


def arrow_table(name: str, rows: list[dict]) -> pa.Table:
    """One table's rows as an Arrow table in the schema's types, sorted by its key, structurally validated."""
    spec = TABLES[name]
    ordered = sorted(rows, key=lambda r: tuple("" if r.get(k) is None else str(r.get(k)) for k in spec.key))
    table = pa.Table.from_pylist(ordered, schema=spec.schema) if ordered else spec.schema.empty_table()
    validate(name, table)
    return table


def build_tables(rows: dict[str, list[dict]]) -> dict[str, pa.Table]:
    """Every table from one set of rows (people derived from article_people and countries), validated by every
    rule of the schema; raises ``InvalidTables`` otherwise."""
    rows = dict(rows)
    rows["people"] = people_rows(rows.get("article_people", []), rows.get("countries", []))
    tables = {name: arrow_table(name, rows.get(name, [])) for name in TABLES}
    require_valid(tables)
    return tables
