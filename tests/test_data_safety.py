"""Nothing is lost silently: pages that leave the folder, wrong folders, and every page the user gave.

Each test here reproduces a defect that once lost rows or pages without a word (issue 11).
"""
import gzip
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.__main__ import main
from pipeline.rawfolder import scan
from pipeline.run import WrongFolder, extract_corpus

PAGE = """<html><head><title>{title}</title></head><body><article><h1>{title}</h1>
<p class="date">3 March 2022</p><p>Ms. {name}, Director of the Harbour Lights Trust, opened the new wing.</p>
</article></body></html>"""
NAMES = {"harbour": "Ines Vardalos", "orchard": "Tomas Brandvik", "quarry": "Lucia Maranzano"}


def _page(slug: str) -> str:
    return PAGE.format(title=f"The {slug.title()} Story", name=NAMES.get(slug, "Karin Oberholt"))


def _folder(root: Path, *slugs: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for slug in slugs:
        (root / f"{slug}.html").write_text(_page(slug))
    return root


def _articles(out: Path) -> dict[str, dict]:
    return {row["source_path"]: row for row in pq.read_table(out / "articles.parquet").to_pylist()}


def _people(out: Path) -> set[str]:
    return {row["name"] for row in pq.read_table(out / "people.parquet").to_pylist()}


def _files(out: Path) -> dict[str, bytes]:
    return {str(path.relative_to(out)): path.read_bytes() for path in out.rglob("*") if path.is_file()}


def _extract(raw: Path, out: Path, *options: str) -> int:
    return main(["extract", "--raw", str(raw), "--out", str(out), "--quiet", "--model", "blank", *options])


# --- pages that leave the folder -------------------------------------------------------------------


def test_empty_folder_over_existing_tables_is_refused(tmp_path, capsys):
    raw, out, empty = _folder(tmp_path / "raw", "harbour", "orchard"), tmp_path / "out", tmp_path / "empty"
    empty.mkdir()
    assert _extract(raw, out) == 0
    before = _files(out)
    capsys.readouterr()

    assert _extract(empty, out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds none of the 2 pages" in err and "--prune" in err
    assert _files(out) == before


def test_wrong_folder_over_existing_tables_is_refused(tmp_path):
    raw, out = _folder(tmp_path / "raw", "harbour"), tmp_path / "out"
    extract_corpus(raw, out, model="blank", progress=False)
    other = _folder(tmp_path / "other", "quarry")
    with pytest.raises(WrongFolder):
        extract_corpus(other, out, model="blank", progress=False)
    assert set(_articles(out)) == {"harbour.html"}


def test_prune_empties_the_tables_and_says_how_many(tmp_path, capsys):
    raw, out, empty = _folder(tmp_path / "raw", "harbour", "orchard"), tmp_path / "out", tmp_path / "empty"
    empty.mkdir()
    _extract(raw, out)
    capsys.readouterr()
    assert _extract(empty, out, "--prune") == 0
    assert "2 pruned" in capsys.readouterr().out
    assert _articles(out) == {} and _people(out) == set()


def test_deleted_page_keeps_its_rows_marked_gone(tmp_path, capsys):
    raw, out = _folder(tmp_path / "raw", "harbour", "orchard"), tmp_path / "out"
    _extract(raw, out)
    (raw / "orchard.html").unlink()
    capsys.readouterr()

    assert _extract(raw, out) == 0
    assert "1 gone" in capsys.readouterr().out
    articles = _articles(out)
    assert articles["orchard.html"]["gone_at"] is not None and articles["harbour.html"]["gone_at"] is None
    assert "Tomas Brandvik" in _people(out)

    first_gone_at = articles["orchard.html"]["gone_at"]
    summary = extract_corpus(raw, out, model="blank", progress=False)
    assert summary.gone == 0 and summary.written == []  # counted once, when it went
    assert _articles(out)["orchard.html"]["gone_at"] == first_gone_at


def test_deleted_page_that_comes_back_is_no_longer_gone(tmp_path):
    raw, out = _folder(tmp_path / "raw", "harbour", "orchard"), tmp_path / "out"
    extract_corpus(raw, out, model="blank", progress=False)
    (raw / "orchard.html").unlink()
    extract_corpus(raw, out, model="blank", progress=False)
    _folder(raw, "orchard")
    summary = extract_corpus(raw, out, model="blank", progress=False)
    assert summary.new + summary.changed == 1
    assert _articles(out)["orchard.html"]["gone_at"] is None


def test_renamed_page_marks_the_old_name_gone_and_adds_the_new(tmp_path):
    raw, out = _folder(tmp_path / "raw", "harbour", "orchard"), tmp_path / "out"
    extract_corpus(raw, out, model="blank", progress=False)
    (raw / "orchard.html").rename(raw / "orchard-2022.html")
    summary = extract_corpus(raw, out, model="blank", progress=False)
    assert (summary.new, summary.gone) == (1, 1)
    articles = _articles(out)
    assert articles["orchard.html"]["gone_at"] is not None and articles["orchard-2022.html"]["gone_at"] is None


def test_prune_removes_only_the_pages_that_left(tmp_path):
    raw, out = _folder(tmp_path / "raw", "harbour", "orchard"), tmp_path / "out"
    extract_corpus(raw, out, model="blank", progress=False)
    (raw / "orchard.html").unlink()
    summary = extract_corpus(raw, out, model="blank", progress=False, prune=True)
    assert summary.pruned == 1 and "1 pruned" in summary.line()
    assert set(_articles(out)) == {"harbour.html"} and _people(out) == {"Ines Vardalos"}


# --- every page the user gave ---------------------------------------------------------------------


def test_every_html_like_extension_in_any_case_is_read(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    names = ["a.htm", "b.HTML", "c.xhtml", "d.Htm", "e.shtml"]
    for name in names:
        (raw / name).write_text(_page("harbour").replace("Harbour Story", f"Story {name}"))
    (raw / "notes.txt").write_text("not a page")
    (raw / "f.html.gz").write_bytes(gzip.compress(_page("orchard").encode()))
    assert sorted(s.path.name for s in scan(raw).snapshots) == sorted(names + ["f.html.gz"])
    summary = extract_corpus(raw, out, model="blank", progress=False)
    assert set(_articles(out)) == {*names, "f.html.gz"}, summary.failures
    assert "Tomas Brandvik" in _people(out)  # the compressed page's person


def test_pages_subfolder_of_a_hand_made_folder_is_read(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    _folder(raw / "pages", "harbour")
    summary = extract_corpus(raw, out, model="blank", progress=False)
    assert summary.new == 1 and set(_articles(out)) == {"pages/harbour.html"}


def test_unreadable_file_is_reported_and_the_rest_lands(tmp_path, monkeypatch, capsys):
    import hashlib

    import pipeline.rawfolder as rawfolder
    raw, out = _folder(tmp_path / "raw", "harbour", "orchard"), tmp_path / "out"
    real_digest = hashlib.file_digest

    def denied(handle, algorithm):
        if handle.name.endswith("orchard.html"):
            raise PermissionError(13, "Permission denied")
        return real_digest(handle, algorithm)

    monkeypatch.setattr(rawfolder.hashlib, "file_digest", denied)
    assert _extract(raw, out) == 1
    err = capsys.readouterr().err
    assert "failed: orchard.html: Permission denied" in err and "Traceback" not in err
    assert set(_articles(out)) == {"harbour.html"}


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_file_without_read_permission_is_reported(tmp_path, capsys):
    raw, out = _folder(tmp_path / "raw", "harbour", "orchard"), tmp_path / "out"
    (raw / "orchard.html").chmod(0)
    try:
        assert _extract(raw, out) == 1
    finally:
        (raw / "orchard.html").chmod(0o644)
    assert "failed: orchard.html: Permission denied" in capsys.readouterr().err
    assert set(_articles(out)) == {"harbour.html"}


def test_an_unreadable_page_keeps_its_rows(tmp_path, monkeypatch):
    import hashlib

    import pipeline.rawfolder as rawfolder
    raw, out = _folder(tmp_path / "raw", "harbour", "orchard"), tmp_path / "out"
    extract_corpus(raw, out, model="blank", progress=False)
    real_digest = hashlib.file_digest
    monkeypatch.setattr(rawfolder.hashlib, "file_digest", lambda handle, algorithm: (
        (_ for _ in ()).throw(PermissionError(13, "Permission denied")) if handle.name.endswith("orchard.html")
        else real_digest(handle, algorithm)))
    summary = extract_corpus(raw, out, model="blank", progress=False)
    assert [f.path for f in summary.failures] == ["orchard.html"] and summary.gone == 0
    assert _articles(out)["orchard.html"]["gone_at"] is None


def test_a_table_link_that_cannot_be_made_keeps_the_version_just_published(tmp_path, capsys):
    raw, out = _folder(tmp_path / "raw", "harbour"), tmp_path / "out"
    assert _extract(raw, out) == 0
    (out / "roles.parquet").unlink()
    (out / "roles.parquet").mkdir()  # a folder of the user's where the store links its table
    _folder(raw, "orchard")
    assert _extract(raw, out) == 2
    assert "roles.parquet is a folder" in capsys.readouterr().err
    assert set(_articles(out)) == {"harbour.html", "orchard.html"}  # the new version is published and readable


def test_a_current_link_that_names_no_version_stops_the_run_and_removes_nothing(tmp_path, capsys):
    raw, out = _folder(tmp_path / "raw", "harbour"), tmp_path / "out"
    assert _extract(raw, out) == 0
    _folder(raw, "orchard")
    assert _extract(raw, out) == 0  # a second version
    store = out / ".store"
    versions = sorted(path.name for path in store.iterdir() if path.name.startswith("v"))
    (store / "current").unlink()
    (store / "current").symlink_to("v999999")
    assert _extract(raw, out) == 2
    assert "not a version of this store" in capsys.readouterr().err
    assert sorted(path.name for path in store.iterdir() if path.name.startswith("v")) == versions


def test_a_subfolder_that_cannot_be_read_keeps_the_rows_of_its_pages_even_with_prune(tmp_path, monkeypatch):
    import pipeline.rawfolder as rawfolder
    raw, out = _folder(tmp_path / "raw", "harbour"), tmp_path / "out"
    _folder(raw / "archive", "orchard", "quarry")
    extract_corpus(raw, out, model="blank", progress=False)
    real_scandir = os.scandir

    def denied(path):
        if Path(path).name == "archive":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(rawfolder.os, "scandir", denied)
    summary = extract_corpus(raw, out, model="blank", progress=False, prune=True)
    assert [f.path for f in summary.failures] == ["archive"] and summary.pruned == 0 and summary.gone == 0
    articles = _articles(out)
    assert {"archive/orchard.html", "archive/quarry.html"} <= set(articles)
    assert articles["archive/orchard.html"]["gone_at"] is None


def test_a_manifest_file_that_leads_out_of_the_folder_is_reported_and_keeps_its_rows(tmp_path):
    import json

    raw, out = tmp_path / "raw", tmp_path / "out"
    (raw / "pages").mkdir(parents=True)
    (raw / "pages" / "a.html").write_text(_page("harbour"))
    entry = {"url": "https://news.example.org/harbour/", "status": 200, "file": "pages/a.html",
             "sha256": __import__("hashlib").sha256(_page("harbour").encode()).hexdigest()}
    (raw / "manifest.jsonl").write_text(json.dumps(entry) + "\n")
    extract_corpus(raw, out, model="blank", progress=False)
    with open(raw / "manifest.jsonl", "a") as handle:
        handle.write(json.dumps({**entry, "file": "../../elsewhere/a.html"}) + "\n")
    summary = extract_corpus(raw, out, model="blank", progress=False, prune=True)
    assert len(summary.failures) == 1 and "leads out of the folder" in summary.failures[0].reason
    assert summary.pruned == 0
    [row] = pq.read_table(out / "articles.parquet").to_pylist()
    assert row["url"] == "https://news.example.org/harbour/" and row["gone_at"] is None


def test_a_file_name_that_is_not_utf8_is_reported_and_the_rest_lands(tmp_path, capsys):
    raw, out = _folder(tmp_path / "raw", "harbour"), tmp_path / "out"
    (raw / os.fsdecode(b"caf\xe9.html")).write_text(_page("orchard"))  # a Latin-1 name from an old archive
    assert _extract(raw, out) == 1
    err = capsys.readouterr().err
    assert "file name is not valid UTF-8" in err and "unexpected" not in err
    assert set(_articles(out)) == {"harbour.html"}


def test_an_empty_part_file_in_the_store_is_a_damaged_store_said_as_such(tmp_path, capsys):
    raw, out = _folder(tmp_path / "raw", "harbour"), tmp_path / "out"
    assert _extract(raw, out) == 0
    [part] = [path for path in (out / ".store" / "current" / "roles.parquet").iterdir() if path.stat().st_size]
    part.unlink()
    part.write_bytes(b"")  # a disk that filled up, a copy cut short
    _folder(raw, "orchard")
    assert _extract(raw, out) == 2
    err = capsys.readouterr().err
    assert "the table store is damaged" in err and "unexpected" not in err and err.count("\n") == 1


def test_a_missing_index_is_a_damaged_store_said_as_such(tmp_path, capsys):
    raw, out = _folder(tmp_path / "raw", "harbour"), tmp_path / "out"
    assert _extract(raw, out) == 0
    (out / ".store" / "current" / "index.parquet").unlink()
    assert _extract(raw, out) == 2
    err = capsys.readouterr().err
    assert "index.parquet is missing" in err and err.count("\n") == 1
    assert set(_articles(out)) == {"harbour.html"}


def test_a_file_name_with_a_newline_is_reported_on_one_line(tmp_path, capsys):
    raw, out = _folder(tmp_path / "raw", "harbour"), tmp_path / "out"
    (raw / "two\nlines.html").write_bytes(b"")
    assert _extract(raw, out) == 1
    [line] = [line for line in capsys.readouterr().err.splitlines() if line.startswith("failed:")]
    assert line.startswith("failed: two\\nlines.html: ")


def test_odd_entries_are_reported_one_line_each(tmp_path, capsys):
    raw, out, outside = _folder(tmp_path / "raw", "harbour"), tmp_path / "out", _folder(tmp_path / "outside", "quarry")
    (raw / "folder.html").mkdir()
    (raw / "broken.html").symlink_to(raw / "nowhere.html")
    (raw / "loop-a.html").symlink_to(raw / "loop-b.html")
    (raw / "loop-b.html").symlink_to(raw / "loop-a.html")
    (raw / "elsewhere.html").symlink_to(outside / "quarry.html")
    (raw / "sub").mkdir()
    (raw / "sub" / "up").symlink_to(raw)  # a folder loop
    os.mkfifo(raw / "pipe.html")

    assert _extract(raw, out) == 1
    err = capsys.readouterr().err.splitlines()
    reasons = {line.split(": ")[1]: line for line in err}
    assert set(reasons) == {"folder.html", "broken.html", "loop-a.html", "loop-b.html", "elsewhere.html", "pipe.html"}, err
    assert "not followed" in reasons["elsewhere.html"] and "loop" in reasons["loop-a.html"]
    assert "broken symlink" in reasons["broken.html"] and "not a page file" in reasons["folder.html"]
    assert set(_articles(out)) == {"harbour.html"}


def test_symlinks_out_of_the_folder_are_followed_when_asked(tmp_path):
    raw, outside = _folder(tmp_path / "raw", "harbour"), _folder(tmp_path / "outside", "quarry")
    (raw / "elsewhere.html").symlink_to(outside / "quarry.html")
    (raw / "linked").symlink_to(outside, target_is_directory=True)
    assert sorted(s.path.name for s in scan(raw, follow_symlinks=True).snapshots) == \
        ["elsewhere.html", "harbour.html", "quarry.html"]
    assert [s.path.name for s in scan(raw).snapshots] == ["harbour.html"]


def test_a_failure_line_names_the_file_once(tmp_path, capsys):
    raw, out = _folder(tmp_path / "raw", "harbour"), tmp_path / "out"
    (raw / "blank.html").write_bytes(b"")
    assert _extract(raw, out) == 1
    [line] = [line for line in capsys.readouterr().err.splitlines() if "blank.html" in line]
    assert line == "failed: blank.html: empty file"
