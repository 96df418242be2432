"""The stored careers and programmes equal a full recomputation from the stored roles and batches, after a first
extraction and after an update that removes a page and edits another (only affected ids recomputed)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.run import extract_corpus
from pipeline.schema import TABLES
from pipeline.write import CAREER_COLUMNS, PROGRAMME_COLUMNS, arrow_table, career_rows, programme_rows

DEVSET_RAW = Path(__file__).resolve().parent / "devset" / "raw"


def _recomputed_equals_stored(out: Path) -> None:
    read = lambda name: pq.read_table(out / f"{name}.parquet")  # noqa: E731
    published = {r["article_id"]: r["published"] for r in read("articles").select(["article_id", "published"]).to_pylist()}
    expected = {"careers": arrow_table("careers", career_rows(read("roles").select(list(CAREER_COLUMNS)).to_pylist(), published)),
                "programmes": arrow_table("programmes", programme_rows(read("batches").select(list(PROGRAMME_COLUMNS)).to_pylist()))}
    for name, table in expected.items():
        [key] = TABLES[name].key
        stored = read(name).cast(table.schema).sort_by(key)
        assert table.num_rows > 0 and stored.equals(table.sort_by(key)), name


def test_stored_derived_tables_follow_an_update(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    shutil.copytree(DEVSET_RAW, raw)
    assert not extract_corpus(raw, out, progress=False).failures
    _recomputed_equals_stored(out)
    pages = sorted(raw.glob("*.html"))
    pages[0].unlink()  # a page leaves: its people's careers and its programmes shrink
    edited = pages[1].read_text(encoding="utf-8").replace("Programme", "Scheme", 1)
    pages[1].write_text(edited, encoding="utf-8")
    assert not extract_corpus(raw, out, progress=False, prune=True).failures
    _recomputed_equals_stored(out)
