"""write: facts → Arrow tables cast to ``schema.TABLES``, validated, written atomically.

Before anything is written the whole set of tables is checked against the schema's rules
(``validate.require_valid``): one violation refuses the write (``InvalidTables``) and every table on disk stays
as it was, so the output never mixes tables that do not hold together. Every table is written to a temporary
file in the output folder and renamed into place, so a crash leaves either the old table or the new one, never
half of one; tables whose content did not change are not rewritten at all.
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

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


def build_tables(rows: dict[str, list[dict]]) -> dict[str, pa.Table]:
    """Arrow tables in schema order and types (people derived from article_people and countries), validated."""
    rows = dict(rows)
    rows["people"] = people_rows(rows.get("article_people", []), rows.get("countries", []))
    tables = {}
    for name, spec in TABLES.items():
        ordered = sorted(rows.get(name, []), key=lambda r: tuple("" if r.get(k) is None else str(r.get(k)) for k in spec.key))
        table = pa.Table.from_pylist(ordered, schema=spec.schema) if ordered else spec.schema.empty_table()
        validate(name, table)
        tables[name] = table
    return tables


def read_tables(out_dir: Path) -> dict[str, pa.Table]:
    """The tables already in ``out_dir`` (empty dict when there are none or they do not match the schema)."""
    tables = {}
    for name in TABLES:
        path = out_dir / f"{name}.parquet"
        if not path.exists():
            return {}
        table = pq.read_table(path)
        if table.schema.names != TABLES[name].column_names:
            return {}
        tables[name] = table.cast(TABLES[name].schema)
    return tables


def write_tables(tables: dict[str, pa.Table], out_dir: Path) -> list[str]:
    """Write each changed table atomically (temp file + rename); return the names written.

    ``tables`` must be valid by every rule of the schema, otherwise ``InvalidTables`` is raised before any file
    is touched. The pipeline always passes the whole set (``build_tables``); of a partial set only what it holds
    is checked (references into a table not given cannot be)."""
    require_valid(tables, complete=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in tables.items():
        path = out_dir / f"{name}.parquet"
        if path.exists():
            try:
                if pq.read_table(path).cast(table.schema).equals(table):
                    continue
            except (pa.ArrowInvalid, OSError, ValueError):
                pass
        handle, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".parquet.tmp", dir=out_dir)
        os.close(handle)
        try:
            pq.write_table(table, temp)
            with open(temp, "rb") as stream:
                os.fsync(stream.fileno())
            os.chmod(temp, 0o644)  # mkstemp makes files owner-only; tables are for everyone to read
            os.replace(temp, path)
        finally:
            if os.path.exists(temp):
                os.unlink(temp)
        written.append(name)
    return written


def rows_of(tables: dict[str, pa.Table], article_ids: set[str]) -> dict[str, list[dict]]:
    """Existing rows of the given articles, per table (to carry unchanged articles over untouched)."""
    kept: dict[str, list[dict]] = defaultdict(list)
    for name, table in tables.items():
        if name == "people" or "article_id" not in table.schema.names:
            continue
        for row in table.to_pylist():
            if row["article_id"] in article_ids:
                kept[name].append(row)
    return kept
