"""The review site: every extracted span highlighted and linked to its fact, checked in files and in a real browser."""
import re
import shutil
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.__main__ import main
from pipeline.report import FACT_COLOURS, FACT_TABLES, INDEX, MENTION_COLOURS, build_report

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER_TIMEOUT = 120  # seconds for one headless run; a page loads in about 2 s here
WINDOW = "1280,1600"


@pytest.fixture(scope="module")
def site(devset_tables, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    summary = build_report(devset_tables, out)
    assert summary.articles == pq.read_table(devset_tables / "articles.parquet").num_rows > 0
    return out


def _facts_of(tables: Path, article_id: str) -> dict[str, list[dict]]:
    return {fact.table: [row for row in pq.read_table(tables / f"{fact.table}.parquet").to_pylist()
                         if row["article_id"] == article_id] for fact in FACT_TABLES}


def _page_with_most_roles(tables: Path) -> str:
    roles = pq.read_table(tables / "roles.parquet").to_pylist()
    counts: dict[str, int] = {}
    for row in roles:
        counts[row["article_id"]] = counts.get(row["article_id"], 0) + 1
    return max(sorted(counts), key=counts.get)


def test_index_links_every_article_with_its_counts(site, devset_tables):
    index = (site / INDEX).read_text(encoding="utf-8")
    articles = pq.read_table(devset_tables / "articles.parquet", columns=["article_id"]).column(0).to_pylist()
    for article_id in articles:
        assert f'href="{article_id}.html"' in index
        assert (site / f"{article_id}.html").is_file()
    roles = pq.read_table(devset_tables / "roles.parquet").num_rows
    totals = re.search(r'<tr class="total">(.*?)</tr>', index).group(1)
    assert f'<td class="n">{roles}</td>' in totals


def test_every_fact_links_to_its_highlighted_evidence_and_back(site, devset_tables):
    article_id = _page_with_most_roles(devset_tables)
    page = (site / f"{article_id}.html").read_text(encoding="utf-8")
    text = pq.read_table(devset_tables / "articles.parquet").to_pylist()
    text = next(a["text"] for a in text if a["article_id"] == article_id)
    facts = _facts_of(devset_tables, article_id)
    for fact in FACT_TABLES:
        rows = sorted(facts[fact.table], key=lambda r: (r["char_start"], r["char_end"]))
        assert rows or fact.table == "batches"
        for number, row in enumerate(rows, start=1):
            ref = f"{fact.ref_prefix}{number}"
            assert page.count(f'id="fact-{ref}"') == 1 and page.count(f'id="ev-{ref}"') == 1, ref
            assert f'href="#ev-{ref}"' in page and f'href="#fact-{ref}"' in page
            row_html = re.search(rf'<tr id="fact-{ref}">(.*?)</tr>', page, re.S).group(1)
            assert f"[{row['char_start']}:{row['char_end']}]" in row_html
            assert row["source"] in row_html
            evidence = text[row["char_start"]:row["char_end"]]
            assert evidence[:20].replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;") in row_html
            if fact.table != "mentions":  # mentions are the evidence facts link through, not scored facts
                assert f"<td>{row['confidence']}</td>" in row_html


def test_a_confidence_column_is_shown_when_a_table_has_one(devset_tables, tmp_path):
    tables = tmp_path / "tables"
    shutil.copytree(devset_tables, tables)
    roles = pq.read_table(tables / "roles.parquet")
    shutil.rmtree(tables / "roles.parquet")
    (tables / "roles.parquet").mkdir()
    scores = pa.array([0.25 + 0.5 * (i % 2) for i in range(roles.num_rows)])
    without = roles.drop_columns(["confidence"])  # tables written before the scorer had none
    pq.write_table(without.append_column("confidence", scores), tables / "roles.parquet" / "part-0.parquet")
    countries = pq.read_table(tables / "countries.parquet")
    shutil.rmtree(tables / "countries.parquet")
    (tables / "countries.parquet").mkdir()
    pq.write_table(countries.drop_columns(["confidence"]), tables / "countries.parquet" / "part-0.parquet")
    build_report(tables, tmp_path / "site")
    page = (tmp_path / "site" / f"{_page_with_most_roles(tables)}.html").read_text(encoding="utf-8")
    roles_section = page[page.index('<h2 id="roles">'):page.index('<h2 id="countries">')]
    assert "<th>confidence</th>" in roles_section and ("<td>0.25</td>" in roles_section or "<td>0.75</td>" in roles_section)
    countries_section = page[page.index('<h2 id="countries">'):page.index('<h2', page.index('<h2 id="countries">') + 1)]
    assert "<th>confidence</th>" not in countries_section


def test_pages_of_articles_gone_from_the_tables_are_removed_and_nothing_else(devset_tables, tmp_path):
    (tmp_path / "art_0123abcd.html").write_text("old page")
    (tmp_path / "notes.html").write_text("mine")
    summary = build_report(devset_tables, tmp_path)
    assert summary.removed == 1
    assert not (tmp_path / "art_0123abcd.html").exists() and (tmp_path / "notes.html").exists()


def test_cli_report(devset_tables, tmp_path, capsys):
    assert main(["report", "--extracted", str(devset_tables), "--out", str(tmp_path / "site")]) == 0
    articles = pq.read_table(devset_tables / "articles.parquet").num_rows
    assert re.match(rf"report: {articles} article pages, \d+ highlighted spans", capsys.readouterr().out)
    assert main(["report", "--extracted", str(tmp_path / "site"), "--out", str(tmp_path / "other")]) == 2
    assert "no articles, people" in capsys.readouterr().err
    assert main(["report", "--extracted", str(devset_tables), "--out", str(devset_tables)]) == 2
    assert "is the folder of tables" in capsys.readouterr().err


def _browser() -> str:
    found = next((path for path in map(shutil.which, BROWSERS) if path), None)
    if found is None:
        pytest.skip(f"no headless browser installed (looked for {', '.join(BROWSERS)}); "
                    "`apt-get install chromium` (as .ci/run does) to run the browser test")
    return found


def _headless(browser: str, profile: Path, *arguments: str) -> subprocess.CompletedProcess:
    # --no-sandbox: CI containers run as root, where Chromium's sandbox refuses to start
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={profile}",
               f"--window-size={WINDOW}", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT, check=True)


def _pixels_of(image, colour: str) -> int:
    """Pixels of the screenshot within a small distance of ``colour`` (#rrggbb)."""
    import numpy as np
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    return int((np.abs(image[..., :3] - rgb).max(axis=-1) < 0.02).sum())


def test_a_page_loads_in_a_real_browser_with_its_highlights(site, devset_tables, tmp_path):
    browser = _browser()
    page = site / f"{_page_with_most_roles(devset_tables)}.html"
    dom = _headless(browser, tmp_path / "profile", "--dump-dom", page.as_uri()).stdout
    assert "<h1>" in dom and 'class="spans"' in dom, "the page did not load"
    assert re.search(r'id="ev-r1" href="#fact-r1"', dom) and 'id="fact-r1"' in dom
    for label in ("PERSON", "fact:role"):
        assert re.search(rf">\s*{re.escape(label)}\s*<a ", dom), f"no {label} highlight in the rendered page"

    screenshot = tmp_path / "page.png"
    _headless(browser, tmp_path / "profile", f"--screenshot={screenshot}", page.as_uri())
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The same page without its highlighted text (legend and tables stay): the colours on screen must drop.
    bare = tmp_path / "bare.html"
    bare.write_text(re.sub(r'<div class="spans".*?</div>', "", page.read_text(encoding="utf-8"), flags=re.S))
    bare_screenshot = tmp_path / "bare.png"
    _headless(browser, tmp_path / "profile", f"--screenshot={bare_screenshot}", bare.as_uri())
    import matplotlib.image
    image, bare_image = matplotlib.image.imread(screenshot), matplotlib.image.imread(bare_screenshot)
    assert image.shape[:2] == tuple(int(n) for n in reversed(WINDOW.split(",")))
    for colour in (MENTION_COLOURS["PERSON"], FACT_COLOURS["fact:role"]):
        assert _pixels_of(image, colour) > _pixels_of(bare_image, colour), f"no highlight of colour {colour} on screen"
