"""Tests of pipeline.bench_parse on a two-page evaluation set written here (the real set is never needed):
trafilatura's scoring protocol, the rows every run prints, and the time ratios. Nothing here is timed."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import bench_parse
from pipeline.bench_parse import DEFAULTS, STAGE, WITH_METADATA, Score, score_page

STORY = " ".join([
    "Ilse Varga opened the new reading room of the river library on Tuesday, after two years of building work.",
    "The room holds four thousand books in six languages and stays open until late on weekdays.",
    "Volunteers from the neighbourhood carried the last shelves in by hand and painted the walls themselves.",
])
PAGE = f"""<html><head><title>A reading room opens</title>
<meta property="article:published_time" content="2024-03-18"></head><body>
<nav><ul><li><a href="/">Home page of the site</a></li><li><a href="/about">About the library</a></li></ul></nav>
<article><h1>A reading room opens</h1><p>{STORY}</p>
<p>The library plans a second room on the upper floor, once the roof has been mended next spring.</p></article>
<footer><p>Copyright notice of the river library, all rights reserved.</p></footer></body></html>"""


def write_set(folder: Path) -> Path:
    (folder / "eval").mkdir(parents=True)
    (folder / "eval" / "story.html").write_text(PAGE, encoding="utf-8")
    (folder / "eval" / "second.html").write_text(PAGE.replace("reading room", "music room"), encoding="utf-8")
    index = {
        "story": {"file": "story.html", "with": ["four thousand books in six languages", "a second room on the upper floor"],
                  "without": ["Copyright notice of the river library", "About the library"]},
        "second": {"file": "second.html", "with": ["new music room of the river library"], "without": []},
    }
    (folder / bench_parse.INDEX).write_text(json.dumps(index), encoding="utf-8")
    return folder


def test_a_snippet_counts_by_the_protocol_and_a_raising_page_counts_as_empty_text(tmp_path):
    entry = {"with": ["found  here", "not there"], "without": ["menu item", "unseen"]}
    result = Score("x")
    score_page(result, lambda path: "text found\nhere and a menu   item", tmp_path / "page.html", entry)
    assert (result.tp, result.fn, result.fp, result.tn) == (1, 1, 1, 1)
    assert result.precision == 0.5 and result.recall == 0.5

    def raising(path):
        raise ValueError("broken page")

    failed = Score("y")
    score_page(failed, raising, tmp_path / "bad.html", entry)
    assert (failed.tp, failed.fn, failed.fp, failed.tn) == (0, 2, 0, 2)
    assert failed.raised == ["bad.html: ValueError: broken page"]


def test_a_run_scores_the_stage_beside_trafilatura_with_and_without_its_metadata(tmp_path, capsys):
    folder = write_set(tmp_path / "set")
    out = tmp_path / "scores.json"
    assert bench_parse.main(["--data", str(folder), "--json", str(out)]) == 0
    rows = {row["name"]: row for row in json.loads(out.read_text(encoding="utf-8"))}
    assert list(rows) == [STAGE, DEFAULTS, WITH_METADATA]
    for row in rows.values():
        assert row["pages"] == 2 and not row["raised"]
        assert row["tp"] + row["fn"] == 3 and row["fp"] + row["tn"] == 2
    assert rows[STAGE]["tp"] == 3 and rows[STAGE]["fp"] == 0  # the story's prose, not the menu or the footer
    printed = capsys.readouterr().out
    assert f"parse stage CPU time / {DEFAULTS}: " in printed and f"parse stage CPU time / {WITH_METADATA}: " in printed


def test_trafilatura_with_its_metadata_is_scored_on_its_text_without_the_metadata_header(tmp_path):
    folder = write_set(tmp_path / "set")
    text = bench_parse.trafilatura_with_metadata(folder / "eval" / "story.html")
    assert "four thousand books" in text
    header = bench_parse.trafilatura_with(with_metadata=True)(folder / "eval" / "story.html")
    assert header.startswith("---") and "title: A reading room opens" in header  # extract's text output leads with the fields
    assert not text.startswith("---") and "title: A reading room opens" not in text


@pytest.mark.parametrize("only, names", [("parse", [STAGE]), ("trafilatura", [DEFAULTS, WITH_METADATA])])
def test_only_runs_one_side(tmp_path, only, names):
    folder = write_set(tmp_path / "set")
    out = tmp_path / "scores.json"
    bench_parse.main(["--data", str(folder), "--only", only, "--json", str(out)])
    assert [row["name"] for row in json.loads(out.read_text(encoding="utf-8"))] == names
