"""Tests of ``python -m pipeline update`` (fetch, then extract only what changed) against a fake site on
127.0.0.1. The CLI's ``main`` is called in-process so the spaCy model loads once for the whole module.

Each scenario checks the summary line, the exit status and the tables: which rows changed, which were left
exactly as they were (ids, ``extracted_at``), and that a no-op run does not touch the table files.
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from filelock import FileLock
from fixture_site import LISTING, FixtureSite, Route, story_html, story_path
from pytest_httpserver import HTTPServer

import pipeline.extract
import pipeline.parse
import pipeline.run
import pipeline.store
from pipeline.__main__ import main
from pipeline.normalize import person_id, stable_id
from pipeline.schema import TABLES

# Four stories shaped like the real ones; Dr. Maria Santos is named in the first two.
STORY_PAGES = {
    "clean-water-for-mountain-villages": (
        "Clean Water for Mountain Villages", "2024-05-14",
        ["BANGKOK, 14 May 2024 - Villagers in northern Thailand now have clean water all year round.",
         "Dr. Maria Santos, Director of the Regional Health Office, said the project reached 12 villages.",
         "Mr. Somchai Wongsa, Village Head of Ban Mae Sa, thanked the donors for their support."]),
    "training-nurses-across-the-region": (
        "Training Nurses Across the Region", "2024-06-02",
        ["Nurses from five countries completed the course in Manila in June 2024.",
         "Dr. Maria Santos, Director of the Regional Health Office, opened the ceremony.",
         "Ms. Aye Aye Mon, a nurse from Myanmar, said the training changed the way she works."]),
    "youth-leaders-meet-in-jakarta": (
        "Youth Leaders Meet in Jakarta", "2024-07-20",
        ["Young leaders from ten ASEAN Member States met in Jakarta on 20 July 2024.",
         "Mr. Budi Santoso, Chairman of the ASEAN Youth Forum, said the meeting built lasting friendships."]),
    "disaster-drills-in-coastal-schools": (
        "Disaster Drills in Coastal Schools", "2024-08-09",
        ["Pupils in coastal provinces practised evacuation drills in August 2024.",
         "Ms. Lina Reyes, Principal of San Isidro Elementary School, said every pupil now knows the way out."]),
}
WATER, NURSES, YOUTH, DRILLS = (story_path(slug) for slug in STORY_PAGES)
SHARED_PERSON = person_id("Maria Santos")
PER_ARTICLE_TABLES = [name for name, spec in TABLES.items() if "article_id" in spec.column_names]


@pytest.fixture(scope="module")
def server():
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log on stderr, which the tests check
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def site(server) -> FixtureSite:
    """The fixture site with its listing showing only the four stories above."""
    server.clear()
    site = FixtureSite(server)
    site.pages = [[]]
    for slug, (title, date, paragraphs) in STORY_PAGES.items():
        path = story_path(slug)
        site.routes[path] = Route(story_html(title, date, paragraphs))
        site.pages[0].append(path)
    return site


class Updater:
    """Runs the CLI in-process against the fixture site; returns (exit status, stdout, stderr)."""

    def __init__(self, site: FixtureSite, tmp_path: Path, capsys):
        self.site, self.capsys = site, capsys
        self.raw, self.out = tmp_path / "raw", tmp_path / "extracted"

    def args(self, command: str = "update", start_url: str | None = None) -> list[str]:
        args = [command, "--start-url", start_url or self.site.url(LISTING), "--raw", str(self.raw),
                "--delay", "0", "--timeout", "2"]
        return args + (["--out", str(self.out)] if command == "update" else [])

    def __call__(self, command: str = "update", start_url: str | None = None) -> tuple[int, str, str]:
        self.capsys.readouterr()
        status = main(self.args(command, start_url))
        captured = self.capsys.readouterr()
        return status, captured.out, captured.err

    def table(self, name: str) -> list[dict]:
        return pq.read_table(self.out / f"{name}.parquet").to_pylist()

    def article(self, path: str) -> dict:
        [row] = [row for row in self.table("articles") if row["url"] == self.site.url(path)]
        return row

    def rows_of(self, article_id: str) -> dict[str, list[dict]]:
        """Every row of every per-article table that belongs to one article."""
        return {name: [row for row in self.table(name) if row["article_id"] == article_id]
                for name in PER_ARTICLE_TABLES}

    def mtimes(self) -> dict[str, int]:
        return {path.name: path.stat().st_mtime_ns for path in self.out.iterdir()}


@pytest.fixture
def update(site, tmp_path, capsys) -> Updater:
    return Updater(site, tmp_path, capsys)


def article_id(site: FixtureSite, path: str) -> str:
    return stable_id("art", site.url(path))


def edit(site: FixtureSite, path: str, *paragraphs: str) -> None:
    slug = path.strip("/").split("/")[-1]
    title, date, _ = STORY_PAGES[slug]
    site.routes[path] = Route(story_html(title, date, list(paragraphs)))


def line(new=0, changed=0, unchanged=0, gone=0, failed=0, tables="tables unchanged") -> str:
    return f"update: {new} new, {changed} changed, {unchanged} unchanged, {gone} gone, {failed} failed; {tables}\n"


ALL_TABLES = "rewrote profiles, people, article_people, mentions, roles, countries, batches, dates, careers, person_links, programmes, articles"
REWROTE_SOME = "rewrote ... articles"


def counts_and_tables(out: str) -> tuple[str, str]:
    """The counts of a one-line summary, and what it says of the tables: "tables unchanged", or
    REWROTE_SOME when it rewrote some tables, articles (always written last) among them."""
    assert out.startswith("update: ") and out.endswith("\n") and out.count("\n") == 1, out
    counts, tables = out[len("update: "):-1].split("; ")
    if tables == "rewrote articles" or tables.startswith("rewrote ") and tables.endswith(", articles"):
        tables = REWROTE_SOME
    return counts, tables


# --- scenarios -----------------------------------------------------------------------------------


def test_first_update_writes_every_table(site, update):
    status, out, err = update()

    assert (status, out, err) == (0, line(new=4, tables=ALL_TABLES), "")
    assert {path.name for path in update.out.glob("*.parquet")} == {f"{name}.parquet" for name in TABLES}
    articles = update.table("articles")
    assert sorted(row["url"] for row in articles) == sorted(site.url(p) for p in (WATER, NURSES, YOUTH, DRILLS))
    assert all(row["gone_at"] is None and row["article_id"] == stable_id("art", row["url"]) for row in articles)
    roles = {(row["article_id"], row["title"], row["org"]) for row in update.table("roles")}
    assert (article_id(site, DRILLS), "Principal", "San Isidro Elementary School") in roles


def test_second_update_with_nothing_changed_is_a_no_op(site, update):
    update()
    before = update.mtimes()
    snapshots = sorted((update.raw / "pages").iterdir())
    site.server.clear_log()

    status, out, err = update()

    assert (status, out, err) == (0, line(unchanged=4), "")  # one line, nothing on stderr: quiet cron mail
    assert update.mtimes() == before
    assert sorted((update.raw / "pages").iterdir()) == snapshots
    assert set(site.statuses(WATER) + site.statuses(DRILLS)) == {304}


def test_edited_story_replaces_only_its_rows(site, update):
    update()
    drills = article_id(site, DRILLS)
    others = {aid: update.rows_of(aid) for aid in (article_id(site, p) for p in (WATER, NURSES, YOUTH))}
    first_extracted_at = update.article(DRILLS)["extracted_at"]
    edit(site, DRILLS, "Pupils in coastal provinces practised evacuation drills in August 2024.",
         "Ms. Lina Reyes, Principal of Santa Cruz High School, said every pupil now knows the way out.")

    status, out, err = update()

    assert (status, err) == (0, "")
    assert counts_and_tables(out) == ("0 new, 1 changed, 3 unchanged, 0 gone, 0 failed", REWROTE_SOME)
    for aid, rows in others.items():  # byte-for-byte the same rows, extracted_at included
        assert update.rows_of(aid) == rows
    row = update.article(DRILLS)
    assert row["article_id"] == drills and row["extracted_at"] > first_extracted_at
    assert "Santa Cruz High School" in row["text"]
    orgs = {r["org"] for r in update.table("roles") if r["article_id"] == drills}
    assert orgs == {"Santa Cruz High School"}
    assert all(r["article_id"] != drills or "San Isidro" not in (r["text"] or "")
               for r in update.table("mentions"))
    assert person_id("Lina Reyes") in {r["person_id"] for r in update.table("article_people")
                                       if r["article_id"] == drills}


def test_new_story_is_added(site, update):
    update()
    before = {aid: update.rows_of(aid) for aid in (article_id(site, p) for p in (WATER, NURSES, YOUTH, DRILLS))}
    new = site.add_story("a-new-clinic-in-savannakhet", "A New Clinic in Savannakhet", "2024-09-30",
                         ["The clinic opened in Savannakhet on 30 September 2024.",
                          "Dr. Kenji Tanaka, Professor of Public Health at Osaka University, said it serves "
                          "4,000 people."])

    status, out, err = update()

    assert (status, err) == (0, "")
    assert counts_and_tables(out) == ("1 new, 0 changed, 4 unchanged, 0 gone, 0 failed", REWROTE_SOME)
    assert len(update.table("articles")) == 5
    assert update.article(new)["title"] == "A New Clinic in Savannakhet"
    assert person_id("Kenji Tanaka") in {row["person_id"] for row in update.table("people")}
    for aid, rows in before.items():
        assert update.rows_of(aid) == rows


def test_removed_story_is_kept_and_marked_gone(site, update):
    update()
    kept = update.rows_of(article_id(site, YOUTH))
    del site.routes[YOUTH]  # still linked from the listing, now answers 404

    status, out, err = update()

    assert (status, out, err) == (0, line(unchanged=3, gone=1, tables="rewrote articles"), "")
    row = update.article(YOUTH)
    assert row["gone_at"] is not None
    now_rows = update.rows_of(article_id(site, YOUTH))
    assert {k: v for k, v in now_rows.items() if k != "articles"} == {k: v for k, v in kept.items() if k != "articles"}
    assert {**now_rows["articles"][0], "gone_at": None} == kept["articles"][0]
    assert person_id("Budi Santoso") in {r["person_id"] for r in update.table("people")}

    mtimes = update.mtimes()
    assert update() == (0, line(unchanged=4), "")  # gone once, not again on every run
    assert update.mtimes() == mtimes and update.article(YOUTH)["gone_at"] == row["gone_at"]


def test_story_back_on_the_site_is_no_longer_gone(site, update):
    update()
    route = site.routes.pop(YOUTH)
    update()
    site.routes[YOUTH] = route

    assert update() == (0, line(changed=1, unchanged=3, tables="rewrote articles"), "")
    assert update.article(YOUTH)["gone_at"] is None


def test_story_removed_from_listing_and_site_is_marked_gone(site, update):
    update()
    del site.routes[YOUTH]
    site.pages[0].remove(YOUTH)

    update()

    assert update.article(YOUTH)["gone_at"] is not None


def test_person_named_in_two_stories_has_one_id(site, update):
    update()
    water, nurses = article_id(site, WATER), article_id(site, NURSES)
    [person] = [row for row in update.table("people") if row["name"] == "Maria Santos"]
    assert person["person_id"] == SHARED_PERSON
    assert person["article_ids"] == sorted([water, nurses])
    assert sorted(r["article_id"] for r in update.table("article_people") if r["person_id"] == SHARED_PERSON) == \
        sorted([water, nurses])

    # One of the two stories is edited: the person keeps the id and both articles.
    edit(site, NURSES, "Nurses from five countries completed the course in Manila in June 2024.",
         "Dr. Maria Santos, Director of the Regional Health Office, opened the ceremony and thanked the trainers.")
    assert update()[0] == 0
    [person] = [row for row in update.table("people") if row["person_id"] == SHARED_PERSON]
    assert person["article_ids"] == sorted([water, nurses])

    # She is no longer named in it: the people row now lists only the other article.
    edit(site, NURSES, "Nurses from five countries completed the course in Manila in June 2024.")
    assert update()[0] == 0
    [person] = [row for row in update.table("people") if row["person_id"] == SHARED_PERSON]
    assert person["article_ids"] == [water]


def test_update_is_refused_while_another_update_holds_the_lock(site, update):
    update.out.mkdir(parents=True)
    with FileLock(str(update.out / ".update.lock")):
        status, out, err = update()

    assert status == 2 and out == ""
    assert "another extract or update is running" in err
    assert site.requests() == [] and not list(update.out.glob("*.parquet"))
    assert update()[0] == 0  # and once it is released, the next run goes ahead


def test_update_is_refused_while_a_fetch_holds_the_raw_lock(site, update):
    update.raw.mkdir(parents=True)
    with FileLock(str(update.raw / ".fetch.lock")):
        status, out, err = update()

    assert (status, out) == (2, "") and "another fetch is running" in err
    assert not list(update.out.glob("*.parquet"))
    # Neither lock leaked: the update lock was released on the way out, the fetch lock by the test.
    assert update()[0] == 0


def test_snapshots_fetched_by_a_run_killed_before_extract_are_extracted_next_time(site, update):
    status, out, _ = update("fetch")  # a run that fetched everything, then died before extracting
    assert status == 0 and out.startswith("fetch: 4 discovered, 4 new")
    assert not update.out.exists()

    status, out, err = update()  # the site has not changed: every story answers 304

    assert (status, out, err) == (0, line(new=4, tables=ALL_TABLES), "")
    assert len(update.table("articles")) == 4


def test_edit_fetched_by_a_run_killed_before_extract_is_extracted_next_time(site, update):
    update()
    edit(site, DRILLS, "Pupils in coastal provinces practised evacuation drills in August 2024.",
         "Ms. Lina Reyes, Principal of Santa Cruz High School, said every pupil now knows the way out.")
    assert update("fetch")[1].startswith("fetch: 4 discovered, 0 new, 1 changed")
    site.server.clear_log()

    status, out, err = update()

    assert site.statuses(DRILLS) == [304]  # nothing new on the site...
    assert (status, err) == (0, "")
    assert counts_and_tables(out) == ("0 new, 1 changed, 3 unchanged, 0 gone, 0 failed", REWROTE_SOME)
    assert "Santa Cruz High School" in update.article(DRILLS)["text"]  # ...yet the edit landed


@pytest.mark.parametrize("tables_written", [1, len(TABLES) - 1])
def test_run_killed_while_writing_tables_is_completed_next_time(site, update, monkeypatch, tmp_path,
                                                                 tables_written):
    update()
    old_sha = update.article(DRILLS)["source_sha256"]
    edit(site, DRILLS, "Pupils in coastal provinces practised evacuation drills in August 2024.",
         "Ms. Lina Reyes, Principal of Santa Cruz High School, said every pupil now knows the way out.")
    real_write = pipeline.store.Update.write_part
    calls = []

    def killed_after_some_tables(self, table, part, rows):
        if len(calls) == tables_written:
            raise KeyboardInterrupt  # the process dies between two table writes
        calls.append(table)
        return real_write(self, table, part, rows)

    monkeypatch.setattr(pipeline.store.Update, "write_part", killed_after_some_tables)
    status, _, err = update()
    assert status == 130 and "interrupted" in err and "Traceback" not in err
    monkeypatch.undo()

    before = {name: update.table(name) for name in TABLES}  # every table is readable and still the old one
    assert update.article(DRILLS)["source_sha256"] == old_sha
    assert all("Santa Cruz High School" not in row["text"] for row in before["articles"])
    status, out, err = update()
    assert (status, err) == (0, "")
    assert counts_and_tables(out) == ("0 new, 1 changed, 3 unchanged, 0 gone, 0 failed", REWROTE_SOME)

    # The tables now equal a clean extraction of the same snapshots.
    fresh = tmp_path / "fresh"
    assert main(["extract", "--raw", str(update.raw), "--out", str(fresh), "--quiet"]) == 0
    for name in TABLES:
        ours, theirs = update.table(name), pq.read_table(fresh / f"{name}.parquet").to_pylist()
        if name == "articles":
            ours = [{**row, "extracted_at": None} for row in ours]
            theirs = [{**row, "extracted_at": None} for row in theirs]
        assert ours == theirs, name


def test_story_that_fails_to_fetch_exits_1_and_the_rest_lands(site, update):
    site.routes[NURSES] = Route(b"Forbidden", status=403)

    status, out, err = update()

    assert status == 1 and out == line(new=3, failed=1, tables=ALL_TABLES)
    assert f"failed: {site.url(NURSES)}: http 403" in err
    assert len(update.table("articles")) == 3


def test_unparseable_page_keeps_its_rows_and_is_retried(site, update):
    update()
    before = update.rows_of(article_id(site, YOUTH))
    site.routes[YOUTH] = Route(b"")  # the server starts sending an empty page

    status, out, err = update()

    assert (status, out) == (1, line(unchanged=3, failed=1))
    assert f"failed: {site.url(YOUTH)}: " in err and "empty file" in err
    assert update.rows_of(article_id(site, YOUTH)) == before
    assert update()[:2] == (1, line(unchanged=3, failed=1))  # still reported on the next run

    edit(site, YOUTH, *STORY_PAGES["youth-leaders-meet-in-jakarta"][2], "The next meeting is in Hanoi.")
    status, out, _ = update()
    assert status == 0
    assert counts_and_tables(out) == ("0 new, 1 changed, 3 unchanged, 0 gone, 0 failed", REWROTE_SOME)


def test_page_that_crashes_the_parser_is_reported_not_fatal(site, update, monkeypatch):
    update()
    edit(site, YOUTH, *STORY_PAGES["youth-leaders-meet-in-jakarta"][2], "The next meeting is in Hanoi.")
    edit(site, DRILLS, *STORY_PAGES["disaster-drills-in-coastal-schools"][2], "The next drill is in March.")
    real_parse = pipeline.parse.parse_page

    def crashes_on_youth(page):
        if page.url == site.url(YOUTH):
            raise TypeError("'NoneType' object is not subscriptable")
        return real_parse(page)

    monkeypatch.setattr(pipeline.parse, "parse_page", crashes_on_youth)
    status, out, err = update()

    assert status == 1 and "TypeError: 'NoneType' object is not subscriptable" in err
    assert counts_and_tables(out) == ("0 new, 1 changed, 2 unchanged, 0 gone, 1 failed", REWROTE_SOME)
    assert "Hanoi" not in update.article(YOUTH)["text"] and "March" in update.article(DRILLS)["text"]


def test_article_that_fails_to_extract_keeps_its_rows_and_is_retried(site, update, monkeypatch):
    update()
    before = update.rows_of(article_id(site, DRILLS))
    edit(site, DRILLS, "Pupils in coastal provinces practised evacuation drills in August 2024.",
         "Ms. Lina Reyes, Principal of Santa Cruz High School, said every pupil now knows the way out.")
    edit(site, YOUTH, *STORY_PAGES["youth-leaders-meet-in-jakarta"][2], "The next meeting is in Hanoi.")
    real_extract = pipeline.extract.extract_article

    def crashes_on_drills(article, *args):
        if article.title == "Disaster Drills in Coastal Schools":
            raise RuntimeError("boom")
        return real_extract(article, *args)

    monkeypatch.setattr(pipeline.extract, "extract_article", crashes_on_drills)
    status, out, err = update()
    monkeypatch.undo()

    assert status == 1
    assert f"failed: {site.url(DRILLS)}: 'Disaster Drills in Coastal Schools': RuntimeError: boom" in err
    assert counts_and_tables(out) == ("0 new, 1 changed, 2 unchanged, 0 gone, 1 failed", REWROTE_SOME)
    assert update.rows_of(article_id(site, DRILLS)) == before  # the old rows, not half of the new ones
    assert "Hanoi" in update.article(YOUTH)["text"]  # the other edit landed

    status, out, _ = update()  # the site has not changed since, yet the failed page is extracted now
    assert status == 0
    assert counts_and_tables(out) == ("0 new, 1 changed, 3 unchanged, 0 gone, 0 failed", REWROTE_SOME)
    assert "Santa Cruz High School" in update.article(DRILLS)["text"]


def test_site_down_exits_1_and_leaves_the_tables_alone(site, update):
    update()
    before = update.mtimes()
    with socket.socket() as probe:  # a port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}{LISTING}"

    status, out, err = update(start_url=closed)

    assert status == 1
    counts, tables = counts_and_tables(out)
    assert counts.startswith("0 new, 0 changed, 4 unchanged, 0 gone, ") and not counts.endswith(" 0 failed")
    assert tables == "tables unchanged"
    assert "failed: " in err and "listing" in err
    assert update.mtimes() == before


def test_usage_errors_exit_2(site, update, capsys):
    assert main(["update", "--start-url", "ftp://example.org/", "--raw", str(update.raw),
                 "--out", str(update.out)]) == 2
    assert "http(s)" in capsys.readouterr().err
    update.out.parent.mkdir(parents=True, exist_ok=True)
    update.out.write_text("not a folder")
    assert update()[0] == 2
    with pytest.raises(SystemExit) as exit_:
        main(["update", "--delay", "soon"])
    assert exit_.value.code == 2
