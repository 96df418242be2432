"""Wiring over a folder: the same story reached through several pages is one article."""
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.run import extract_corpus
from pipeline.schema import TABLES
from test_parse import LONG_RELATED, RELATED_PAGE

OWN_PAGE = """<html><head><link rel="canonical" href="https://example.org/news/shared-story/"></head><body>
<article><h1>A Shared Story</h1><p class="date">1 April 2023</p><p>{text}</p></article></body></html>"""


def _articles(out: Path) -> list[dict]:
    return pq.read_table(out / "articles.parquet").to_pylist()


def test_story_in_two_related_blocks_is_one_article(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    for slug in ("a", "b"):
        (raw / f"{slug}.html").write_text(RELATED_PAGE.format(slug=slug, title=f"Course {slug}", related=LONG_RELATED))
    summary = extract_corpus(raw, out, progress=False)
    assert not summary.failures
    shared = [a for a in _articles(out) if a["url"] == "https://example.org/news/shared-story/"]
    assert len(shared) == 1 and shared[0]["parent_article_id"] is not None
    assert extract_corpus(raw, out, progress=False).written == []


def test_own_page_wins_over_a_related_copy(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    (raw / "a.html").write_text(RELATED_PAGE.format(slug="a", title="Course A", related=LONG_RELATED))
    extract_corpus(raw, out, progress=False)
    (raw / "shared.html").write_text(OWN_PAGE.format(text=LONG_RELATED + " The full story continues here."))
    summary = extract_corpus(raw, out, progress=False)
    assert not summary.failures
    shared = [a for a in _articles(out) if a["url"] == "https://example.org/news/shared-story/"]
    assert len(shared) == 1 and shared[0]["parent_article_id"] is None
    assert "continues here" in shared[0]["text"]


def test_tables_are_readable_by_others(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    (raw / "a.html").write_text(RELATED_PAGE.format(slug="a", title="Course A", related=LONG_RELATED))
    extract_corpus(raw, out, progress=False)
    assert all((path.stat().st_mode & 0o044) == 0o044 for path in out.glob("*.parquet"))


def test_a_change_to_the_patterns_re_extracts_unchanged_pages(tmp_path, monkeypatch):
    import pipeline
    import pipeline.run as run
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    (raw / "a.html").write_text(RELATED_PAGE.format(slug="a", title="Course A", related=LONG_RELATED))
    extract_corpus(raw, out, progress=False)
    assert extract_corpus(raw, out, progress=False).unchanged == 1
    import pipeline.pagework as pagework
    for module in (run, pagework):  # the run compares versions, the page work stamps them on the rows
        monkeypatch.setattr(module, "pipeline_version", lambda: pipeline.__version__ + "+different")
    summary = extract_corpus(raw, out, progress=False)
    assert summary.changed == 1 and "articles" in summary.written
    assert {a["pipeline_version"] for a in _articles(out)} == {pipeline.__version__ + "+different"}


def test_bad_pages_are_reported_and_the_rest_is_extracted(tmp_path, capsys):
    import shutil

    from pipeline.__main__ import main
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    shutil.copy(Path(__file__).resolve().parent.parent / "raw" / "jaif-asean-deepens-integration-through-the-attachment-programme.html",
                raw / "sample.html")
    (raw / "empty.html").write_bytes(b"")
    (raw / "binary.html").write_bytes(bytes(range(256)) * 4)
    (raw / "no-body.html").write_text("<html><head><title>Only a head</title></head></html>")
    (raw / "cp1252.html").write_bytes("<html><body><h1>Caf\u00e9 owners</h1><p>\u201cWe grow,\u201d said Ms. Ana Beltr\u00e1n, "
                                      "Manager of the Riverside Caf\u00e9 Cooperative, in March 2021.</p></body></html>".encode("cp1252"))
    (raw / "no-title-no-date.html").write_text("<html><body><p>Mr. Oskar Lind, Director of the Baltic Ferry Office, "
                                               "spoke to the press.</p></body></html>")
    assert main(["extract", "--raw", str(raw), "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "empty.html: " in err and "empty file" in err
    assert "binary.html: " in err and "binary" in err
    articles = {a["source_path"]: a for a in _articles(out)}
    assert {"sample.html", "cp1252.html", "no-title-no-date.html"} <= set(articles)
    assert "Café" in articles["cp1252.html"]["text"] and "“We grow,”" in articles["cp1252.html"]["text"]
    assert articles["no-title-no-date.html"]["title"] is None and articles["no-title-no-date.html"]["published"] is None
    people = {p["name"] for p in pq.read_table(out / "people.parquet").to_pylist()}
    assert {"Ana Beltrán", "Oskar Lind", "Hoang Quoc Trung"} <= people


def test_two_worker_processes_give_the_same_tables(tmp_path, monkeypatch):
    """The parallel path (used for large runs) must produce exactly what one process produces."""
    import pyarrow.parquet as pq

    devset = Path(__file__).resolve().parent / "devset" / "raw"
    tables = {}
    for processes in ("1", "2"):
        monkeypatch.setenv("STORY_EXTRACTOR_PROCESSES", processes)
        out = tmp_path / processes
        extract_corpus(devset, out, progress=False)
        tables[processes] = {path.name: pq.read_table(path).drop_columns(
            ["extracted_at"] if path.name == "articles.parquet" else []) for path in out.glob("*.parquet")}
    assert tables["1"].keys() == tables["2"].keys() and len(tables["1"]) == len(TABLES)
    for name, table in tables["1"].items():
        assert table.equals(tables["2"][name]), name


def test_a_section_heading_is_not_a_person_but_a_name_heading_is(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    (raw / "coop.html").write_text("""<html><body><h1>Cooperatives Grow</h1><p class="date">2 May 2023</p>
<h3>Looking Ahead</h3><p>Looking ahead, the cooperative plans two new sites.</p>
<h3>Marta Kowalska</h3><p>Kowalska runs the cooperative in Gdansk. She said the sites will open in 2024.</p>
</body></html>""")
    extract_corpus(raw, out, progress=False)
    assert [p["name"] for p in pq.read_table(out / "people.parquet").to_pylist()] == ["Marta Kowalska"]


def _table_rows(out: Path) -> dict[str, list]:
    """Every table's rows, sorted, without the time of extraction (which differs between runs)."""
    rows = {}
    for name in TABLES:
        table = pq.read_table(out / f"{name}.parquet").to_pylist()
        rows[name] = sorted(repr(sorted({k: v for k, v in row.items() if k != "extracted_at"}.items())) for row in table)
    return rows


def test_own_page_takes_a_story_over_from_a_copy_in_another_part(tmp_path, monkeypatch):
    import pipeline.run as run
    monkeypatch.setattr(run, "PART_PAGES", 1)  # every page in a part of its own
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    (raw / "a.html").write_text(RELATED_PAGE.format(slug="a", title="Course A", related=LONG_RELATED))
    extract_corpus(raw, out, progress=False)
    (raw / "shared.html").write_text(OWN_PAGE.format(text=LONG_RELATED + " The full story continues here."))
    extract_corpus(raw, out, progress=False)
    (raw / "a.html").write_text(RELATED_PAGE.format(slug="a", title="Course A, revised", related=LONG_RELATED))
    summary = extract_corpus(raw, out, progress=False)  # the page with the copy changes after the takeover
    assert not summary.failures and summary.changed == 1
    shared = [a for a in _articles(out) if a["url"] == "https://example.org/news/shared-story/"]
    assert len(shared) == 1 and shared[0]["parent_article_id"] is None
    assert len({path.name for path in (out / "articles.parquet").iterdir()}) == 2  # two page parts
    fresh = tmp_path / "fresh"
    extract_corpus(raw, fresh, progress=False)
    assert _table_rows(out) == _table_rows(fresh)


def test_updates_in_many_small_parts_equal_a_fresh_extraction(tmp_path, monkeypatch):
    """However pages arrive, change and leave, the tables hold what one extraction of the folder gives."""
    import shutil

    import pipeline.run as run
    monkeypatch.setattr(run, "PART_PAGES", 3)
    devset = Path(__file__).resolve().parent / "devset" / "raw"
    pages = sorted(devset.glob("*.html"))
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    for page in pages[:7]:
        shutil.copy(page, raw / page.name)
    extract_corpus(raw, out, progress=False, model="blank")
    for page in pages[7:]:
        shutil.copy(page, raw / page.name)
    (raw / pages[2].name).write_text(pages[2].read_text().replace("</body>", "<p>Added later.</p></body>"))
    extract_corpus(raw, out, progress=False, model="blank")
    (raw / pages[4].name).unlink()
    summary = extract_corpus(raw, out, progress=False, model="blank", prune=True)
    assert summary.pruned == 1 and not summary.failures
    fresh = tmp_path / "fresh"
    extract_corpus(raw, fresh, progress=False, model="blank")
    assert _table_rows(out) == _table_rows(fresh)
    assert len(list((out / "articles.parquet").iterdir())) >= 5  # the pages really are spread over parts
