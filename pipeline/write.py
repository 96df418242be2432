"""write: facts → rows of every table → Arrow tables cast to ``schema.TABLES`` and validated.

Files are the store's job (``store.py``): the run checks each part it writes against the schema's rules
(``validate.require_valid``) before the store writes it, so one violation refuses the whole update
(``InvalidTables``) and the previous tables stay as they were.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict

import pyarrow as pa

from .normalize import ORG_STOPWORDS, fold, org_similar, person_id, programme_key, split_acronym, stable_id
from .records import Extraction, PartialDate
from .resolve import LINK_COLUMNS, link_rows
from .schema import TABLES, validate
from .validate import require_valid


def _interval(start: PartialDate | None, end: PartialDate | None) -> dict:
    return {"start": start.start if start else None, "end": end.end if end else None,
            "start_date": start.start_date if start else None, "end_date": end.end_date if end else None}


def extraction_rows(ex: Extraction, source_sha256: str, extracted_at: dt.datetime, version: str,
                    gone_at: dt.datetime | None = None) -> dict[str, list[dict]]:
    """Rows of every per-article table for one extracted article; every fact row with its ``confidence``."""
    from .extract.scorer import score_rows  # here, so reading or validating tables never imports spaCy
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
    keys = _programme_keys(ex)
    for b in ex.batches:
        person = pid.get(b.person_key) if b.person_key else None
        key = keys.get(b.programme) if b.programme else None
        rows["batches"].append({"batch_row_id": stable_id("bat", a.article_id, person, key, b.batch, b.char_start),
                                "person_id": person, "article_id": a.article_id, "programme": b.programme,
                                "programme_key": key, "programme_id": stable_id("prg", key) if key else None,
                                "batch": b.batch, "start_year": b.start_year,
                                "end_year": b.end_year, "char_start": b.char_start, "char_end": b.char_end, "source": b.source})
    for d in ex.dates:
        rows["dates"].append({"date_id": stable_id("dat", a.article_id, d.char_start, d.char_end), "article_id": a.article_id,
                              "profile_id": d.profile_id, "text": d.text, "char_start": d.char_start, "char_end": d.char_end,
                              "start": d.value.start, "end": d.value.end, "start_date": d.value.start_date,
                              "end_date": d.value.end_date, "precision": d.value.precision, "source": d.source})
    score_rows(rows)
    return rows


BRACKET_AFTER = re.compile(r"\s*\([A-Z][A-Z0-9&-]*[A-Z0-9]\)")  # " (XP)" right after a programme's name
MIN_INITIALISM = 3  # words a name needs before its initials count as its acronym


def _programme_keys(ex: Extraction) -> dict[str, str | None]:
    """Programme key of every programme form of one article's batches.

    An acronym the article defines ("X Programme (XP)" in a batch or a programme mention, or a name whose
    initials spell it) takes the key of the name it stands for, so "the 6th Batch of XP" joins "X Programme"."""
    text = ex.article.text
    names = [m.text + _bracket_after(text, m.char_end) for m in ex.mentions if m.label == "PROGRAMME"] + \
        [b.programme for b in ex.batches if b.programme]
    defined: dict[str, str] = {}
    for name in names:
        full, acronym = split_acronym(name)
        if acronym:
            defined.setdefault(acronym, full)
    for name in names:
        full = split_acronym(name)[0]
        for acronym in _initialisms(full):
            defined.setdefault(acronym, full)
    keys = {}
    for b in ex.batches:
        if b.programme:
            stands_for = defined.get(b.programme.strip())
            keys[b.programme] = programme_key(stands_for if stands_for and stands_for != b.programme.strip() else b.programme)
    return keys


def _bracket_after(text: str, end: int) -> str:
    """A bracketed acronym printed right after a name ending at ``end`` (" (XP)"), or ""."""
    match = BRACKET_AFTER.match(text, end)
    return match.group(0) if match else ""


def _initialisms(name: str) -> set[str]:
    """The acronyms a name's initials spell: of every word, and of its content words ("Mekong Public Health
    Fellowship" → MPHF). Only names of at least ``MIN_INITIALISM`` words: two letters match too much."""
    words = re.findall(r"[^\W\d_]+", name)
    content = [w for w in words if w.lower() not in ORG_STOPWORDS]
    return {"".join(w[0] for w in ws).upper() for ws in (words, content) if len(ws) >= MIN_INITIALISM}


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


# ---------------------------------------------------------------- corpus-wide: careers and programmes

PRECISION_OF_LENGTH = {4: "year", 7: "month", 10: "day"}  # ISO partial dates: YYYY, YYYY-MM, YYYY-MM-DD
CAREER_COLUMNS = ("role_id", "person_id", "article_id", "title", "org", "status", "start", "end", "start_date", "end_date")
PROGRAMME_COLUMNS = ("article_id", "person_id", "programme", "programme_key", "batch")


def _precision(partial: str | None) -> str | None:
    return PRECISION_OF_LENGTH.get(len(partial)) if partial else None


def _orgs_match(cluster_orgs: set[str], org: str | None) -> bool:
    """One side without an organisation, or an organisation folded alike or similar to one already merged
    (content-word Jaccard, as the evaluator matches organisations)."""
    if org is None or not cluster_orgs:
        return True
    return any(fold(org) == fold(other) or org_similar(org, other) for other in cluster_orgs)


def career_rows(roles: list[dict], articles_published: dict[str, dt.date | None]) -> list[dict]:
    """The corpus-wide careers table: one row per (person, position), merged from their ``roles`` rows.

    Roles of one person merge when their folded titles are equal and their organisations match (one side
    without an organisation, or similar as ``evaluate`` judges organisations). Roles are taken in time order
    (their start, else their article's date, so an undated role sits where its article does), each joining the
    first position it matches. Needs the ``CAREER_COLUMNS`` of every role of the persons to recompute and
    the published date of each of their articles; a person's rows depend on their roles only.
    """
    def when(role: dict) -> dt.date:
        return role["start_date"] or articles_published.get(role["article_id"]) or dt.date.min

    positions: dict[tuple[str, str | None], list[dict]] = defaultdict(list)  # (person, title_key) → clusters
    for role in sorted(roles, key=lambda r: (r["person_id"], fold(r["title"] or ""), when(r), r["article_id"], r["role_id"])):
        if role["title"] is None and role["org"] is None:
            continue
        clusters = positions[(role["person_id"], fold(role["title"]) if role["title"] else None)]
        cluster = next((c for c in clusters if _orgs_match(c["orgs"], role["org"])), None)
        if cluster is None:
            cluster = {"orgs": set(), "roles": []}
            clusters.append(cluster)
        if role["org"]:
            cluster["orgs"].add(role["org"])
        cluster["roles"].append(role)
    rows = [_career(person, title_key, cluster["roles"], articles_published)
            for (person, title_key), clusters in positions.items() for cluster in clusters]
    seen: Counter[str] = Counter()
    for row in sorted(rows, key=lambda r: (r["career_id"], r["role_ids"])):
        seen[row["career_id"]] += 1
        if seen[row["career_id"]] > 1:  # two positions whose organisations fold alike but did not match
            row["career_id"] = stable_id("car", row["person_id"], row["title_key"], row["org_key"], row["role_ids"][0])
    return sorted(rows, key=lambda r: (r["person_id"], r["start_date"] or r["first_seen"] or dt.date.min, r["career_id"]))


def _career(person: str, title_key: str | None, roles: list[dict], published: dict[str, dt.date | None]) -> dict:
    """One careers row from the roles merged into it."""
    org_counts = Counter(fold(r["org"]) for r in roles if r["org"])
    org_key = min(org_counts, key=lambda k: (-org_counts[k], -len(k), k)) if org_counts else None
    dated = sorted({published[r["article_id"]] for r in roles if published.get(r["article_id"])})
    starts = [r for r in roles if r["start_date"]]
    ends = [r for r in roles if r["end_date"]]
    first = min(starts, key=lambda r: (r["start_date"], -len(r["start"]))) if starts else None
    last = max(ends, key=lambda r: (r["end_date"], len(r["end"]))) if ends else None
    if first and last and first["start_date"] > last["end_date"]:  # articles disagree: trust the latest statement
        latest = max(roles, key=lambda r: (published.get(r["article_id"]) or dt.date.min, r["article_id"]))
        first = latest if latest["start_date"] else None
        last = latest if latest["end_date"] else None
    stated = [r for r in roles if r["status"] != "unknown"]
    status_role = max(stated or roles, key=lambda r: (published.get(r["article_id"]) or dt.date.min, r["article_id"],
                                                      r["status"] == "current"))
    start, end = first["start"] if first else None, last["end"] if last else None
    return {"career_id": stable_id("car", person, title_key, org_key), "person_id": person, "title_key": title_key,
            "org_key": org_key, "titles": sorted({r["title"] for r in roles if r["title"]}),
            "orgs": sorted({r["org"] for r in roles if r["org"]}),
            "start": start, "start_precision": _precision(start), "end": end, "end_precision": _precision(end),
            "start_date": first["start_date"] if first else None, "end_date": last["end_date"] if last else None,
            "first_seen": dated[0] if dated else None, "last_seen": dated[-1] if dated else None,
            "status": status_role["status"] if stated else "unknown", "as_of": published.get(status_role["article_id"]),
            "article_ids": sorted({r["article_id"] for r in roles}), "role_ids": sorted(r["role_id"] for r in roles)}


def programme_rows(batches: list[dict]) -> list[dict]:
    """The corpus-wide programmes table: one row per ``programme_key`` of the ``batches`` rows.

    Needs the ``PROGRAMME_COLUMNS`` of every batches row of the programme keys to recompute (rows without a
    key are skipped); a programme's row depends on its own rows only. The name is the form printed most
    often (the longest on a tie) without its bracketed acronym; acronyms are those printed in brackets, or a
    form that is nothing but an acronym (a batch of "XP" in an article that defines XP)."""
    by_key: dict[str, list[dict]] = defaultdict(list)
    for row in batches:
        if row["programme_key"]:
            by_key[row["programme_key"]].append(row)
    rows = []
    for key, items in sorted(by_key.items()):
        names: Counter[str] = Counter()
        acronyms, forms = set(), set()
        for row in items:
            full, acronym = split_acronym(row["programme"])
            forms.add(row["programme"].strip())
            if acronym:
                acronyms.add(acronym)
            if _is_acronym(full) and programme_key(full) != key:
                acronyms.add(full)
            else:
                names[full] += 1
        name = min(names, key=lambda n: (-names[n], -len(n), n)) if names else min(forms)
        rows.append({"programme_id": stable_id("prg", key), "programme_key": key, "name": name,
                     "aliases": sorted(forms - {name}), "acronyms": sorted(acronyms),
                     "batches": sorted({r["batch"] for r in items if r["batch"] is not None}),
                     "people": len({r["person_id"] for r in items if r["person_id"]}),
                     "article_ids": sorted({r["article_id"] for r in items})})
    return rows


def _is_acronym(text: str) -> bool:
    """One word of capitals (digits, hyphens and "&" allowed): "MRYL-TP", "REEFNET"."""
    return bool(re.fullmatch(r"[A-Z][A-Z0-9&-]*[A-Z0-9]", text.strip()))


def arrow_table(name: str, rows: list[dict]) -> pa.Table:
    """One table's rows as an Arrow table in the schema's types, sorted by its key, structurally validated."""
    spec = TABLES[name]
    ordered = sorted(rows, key=lambda r: tuple("" if r.get(k) is None else str(r.get(k)) for k in spec.key))
    table = pa.Table.from_pylist(ordered, schema=spec.schema) if ordered else spec.schema.empty_table()
    validate(name, table)
    return table


def build_tables(rows: dict[str, list[dict]]) -> dict[str, pa.Table]:
    """Every table from one set of rows (people, careers, programmes and person links derived from the per-article rows), validated by every
    rule of the schema; raises ``InvalidTables`` otherwise."""
    rows = dict(rows)
    rows["people"] = people_rows(rows.get("article_people", []), rows.get("countries", []))
    published = {a["article_id"]: a["published"] for a in rows.get("articles", [])}
    rows["careers"] = career_rows(rows.get("roles", []), published)
    rows["programmes"] = programme_rows(rows.get("batches", []))
    rows["person_links"] = link_rows(*(rows.get(name, []) for name in LINK_COLUMNS))
    tables = {name: arrow_table(name, rows.get(name, [])) for name in TABLES}
    require_valid(tables)
    return tables
