"""Tests of the fetch stage against a fake site on 127.0.0.1 (no other network access).

Each scenario checks the three things fetch promises: what lands in raw/ (files), the manifest
lines, and the report counts. Sleeps are recorded instead of slept, timeouts are tiny.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import socket
import struct
import threading
import time
import tracemalloc
import zlib
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from filelock import FileLock, Timeout
from fixture_site import (DISALLOWED_STORY, LISTING, OLD_STORY, PDF_PATH, STORIES, FixtureSite,
                          Route, story_html, story_path)
from pytest_httpserver import HTTPServer

from pipeline.fetch import (ACCEPT_ENCODING, MAX_CRAWL_DELAY, USER_AGENT, FetchConfig,
                            PoliteClient, Problem, as_story_url, fetch_site,
                            http_client, parse_retry_after, read_manifest, snapshot_path,
                            store_body)
from pipeline.rawfolder import scan

MANIFEST_KEYS = ["url", "fetched_at", "status", "etag", "last_modified", "sha256", "file",
                 "content_type", "bytes", "error", "lastmod"]
SLUGS = list(STORIES)
YOUTH, ATTACHMENT, MEKONG, DISABILITY = (story_path(slug) for slug in SLUGS)


@pytest.fixture(scope="module")
def server():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def make_site(server):
    """A fresh fake site (and an empty request log) for each test."""
    def make(**options) -> FixtureSite:
        server.clear()
        return FixtureSite(server, **options)
    return make


@pytest.fixture
def site(make_site) -> FixtureSite:
    return make_site()


@pytest.fixture
def raw(tmp_path) -> Path:
    return tmp_path / "raw"


class Crawler:
    """Runs fetch_site against the fixture site, recording the sleeps it asks for."""

    def __init__(self, site: FixtureSite, raw: Path):
        self.site, self.raw, self.sleeps = site, raw, []

    def __call__(self, **overrides):
        settings = {"start_url": self.site.url(LISTING), "delay": 0, "connect_timeout": 2,
                    "read_timeout": 2, **overrides}
        return fetch_site(FetchConfig(**settings), self.raw, sleep=self.sleeps.append)


@pytest.fixture
def crawl(site, raw) -> Crawler:
    return Crawler(site, raw)


def counts(report) -> dict[str, int]:
    return {name: getattr(report, name)
            for name in ("discovered", "new", "changed", "unchanged", "gone", "failed", "skipped")}


def stored_files(raw: Path) -> set[str]:
    return {path.name for path in (raw / "pages").glob("*")}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def lines_for(raw: Path, site: FixtureSite, path: str) -> list[dict]:
    return [entry for entry in read_manifest(raw) if entry["url"] == site.url(path)]


def snapshot_of(raw: Path, site: FixtureSite, path: str):
    [snapshot] = [s for s in scan(raw).snapshots if s.url == site.url(path)]
    return snapshot


# --- scenarios -----------------------------------------------------------------------------------


def test_first_crawl_stores_every_story_once(site, raw, crawl):
    report = crawl()

    assert counts(report) == {"discovered": 6, "new": 4, "changed": 0, "unchanged": 0,
                              "gone": 0, "failed": 0, "skipped": 2}
    assert set(report.problems) == {Problem(site.url(DISALLOWED_STORY), "disallowed by robots.txt"),
                                    Problem(site.url(PDF_PATH), "not html")}
    bodies = [site.routes[path].body for path in (YOUTH, ATTACHMENT, MEKONG, DISABILITY)]
    assert stored_files(raw) == {f"{sha(body)}.html" for body in bodies}
    for body in bodies:
        assert (raw / "pages" / f"{sha(body)}.html").read_bytes() == body

    manifest = read_manifest(raw)
    assert [entry["url"] for entry in manifest] == [
        site.url(path) for path in (YOUTH, ATTACHMENT, OLD_STORY, DISABILITY, PDF_PATH)]
    assert all(list(entry) == MANIFEST_KEYS for entry in manifest)
    youth = manifest[0]
    assert youth["status"] == 200 and youth["error"] is None and youth["lastmod"] is None
    assert youth["sha256"] == sha(site.routes[YOUTH].body)
    assert youth["file"] == f"pages/{youth['sha256']}.html"
    assert youth["bytes"] == len(site.routes[YOUTH].body)
    assert youth["etag"].startswith('"') and youth["last_modified"].endswith("GMT")
    assert youth["content_type"] == "text/html; charset=UTF-8"
    assert datetime.fromisoformat(youth["fetched_at"]).tzinfo == timezone.utc
    # the old /support/beneficiaries-voice/ URL redirects on the same host: followed and stored
    assert manifest[2]["status"] == 200 and manifest[2]["sha256"] == sha(site.routes[MEKONG].body)

    requests = site.requests()
    assert requests[0].path == "/robots.txt"
    assert all(request.headers["User-Agent"] == USER_AGENT for request in requests)
    assert site.requested_paths().count(f"{LISTING}page/2/") == 1
    assert "/about/" not in site.requested_paths()
    assert {s.url for s in scan(raw).snapshots} == {entry["url"] for entry in manifest[:4]}


def test_new_story_is_the_only_download_on_the_second_crawl(site, raw, crawl):
    crawl()
    first_lines = len(read_manifest(raw))
    new = site.add_story("a-new-voice-from-cambodia", "A New Voice from Cambodia", "2025-04-01",
                         ["Mr. Sok Dara from Cambodia joined the programme in 2024."])
    site.server.clear_log()

    report = crawl()

    assert counts(report) == {"discovered": 7, "new": 1, "changed": 0, "unchanged": 4,
                              "gone": 0, "failed": 0, "skipped": 2}
    for path in (YOUTH, ATTACHMENT, DISABILITY):
        assert site.statuses(path) == [304]
    assert site.statuses(new) == [200]
    assert len(stored_files(raw)) == 5
    second = read_manifest(raw)[first_lines:]
    assert len(second) == 6
    for entry in second:
        if entry["status"] == 304:
            first = next(e for e in read_manifest(raw) if e["url"] == entry["url"])
            assert (entry["file"], entry["sha256"], entry["etag"]) == (
                first["file"], first["sha256"], first["etag"])
            assert entry["bytes"] is None and entry["error"] is None
    assert sum(entry["status"] == 304 for entry in second) == 4


def test_conditional_request_sends_the_stored_validators(site, raw, crawl):
    crawl()
    site.server.clear_log()
    crawl()
    [request] = [r for r in site.requests() if r.path == YOUTH]
    first = lines_for(raw, site, YOUTH)[0]
    assert request.headers["If-None-Match"] == first["etag"]
    assert request.headers["If-Modified-Since"] == first["last_modified"]


def test_a_snapshot_deleted_by_hand_is_downloaded_again_not_validated(site, raw, crawl):
    crawl()
    first = lines_for(raw, site, YOUTH)[0]
    (raw / first["file"]).unlink()
    site.server.clear_log()
    crawl()
    [request] = [r for r in site.requests() if r.path == YOUTH]
    assert "If-None-Match" not in request.headers and "If-Modified-Since" not in request.headers
    assert site.statuses(YOUTH) == [200] and (raw / lines_for(raw, site, YOUTH)[-1]["file"]).is_file()


def test_edited_story_gets_a_new_snapshot_and_keeps_the_old(site, raw, crawl):
    crawl()
    old_body = site.routes[YOUTH].body
    new_body = story_html("Enhancing the Role of Youth in Peacebuilding", "2025-03-12",
                          ["Young people aged 15 to 24 met in Jakarta on 12 March 2025.",
                           "Correction: the workshop ran until 14 March 2025."])
    site.routes[YOUTH] = Route(new_body)

    report = crawl()

    assert (report.changed, report.unchanged, report.new) == (1, 3, 0)
    assert {f"{sha(old_body)}.html", f"{sha(new_body)}.html"} <= stored_files(raw)
    assert len(stored_files(raw)) == 5
    assert [entry["sha256"] for entry in lines_for(raw, site, YOUTH)] == [sha(old_body),
                                                                           sha(new_body)]
    snapshot = snapshot_of(raw, site, YOUTH)
    assert snapshot.sha256 == sha(new_body) and snapshot.path.read_bytes() == new_body
    assert not snapshot.gone
    assert all(s.path.name != f"{sha(old_body)}.html" for s in scan(raw).snapshots)


def test_same_body_without_validators_counts_as_unchanged(site, raw, crawl):
    body = story_html("An XHTML Story", "2021-05-05", ["Served without an ETag."])
    site.link("/beneficiaries_voice/xhtml-story/",
              Route(body, content_type="application/xhtml+xml"))
    crawl()
    report = crawl()
    assert report.unchanged == 4 + 1 and report.new == 0
    lines = lines_for(raw, site, "/beneficiaries_voice/xhtml-story/")
    assert [line["status"] for line in lines] == [200, 200]
    assert lines[0]["file"] == lines[1]["file"] == f"pages/{sha(body)}.html"


def test_removed_story_keeps_its_last_snapshot_and_is_marked_gone(site, raw, crawl):
    crawl()
    before = stored_files(raw)
    kept = snapshot_of(raw, site, DISABILITY)
    del site.routes[DISABILITY]  # still linked from the listing, now answers 404

    report = crawl()

    assert report.gone == 1 and Problem(site.url(DISABILITY), "http 404") in report.problems
    assert stored_files(raw) == before
    last = lines_for(raw, site, DISABILITY)[-1]
    assert (last["status"], last["file"], last["sha256"], last["error"]) == (
        404, None, None, "http 404")
    snapshot = snapshot_of(raw, site, DISABILITY)
    assert snapshot.gone and snapshot.path == kept.path and snapshot.path.is_file()


def test_server_errors_are_retried_with_backoff(site, raw, crawl):
    site.then(YOUTH, Route(status=500), Route(status=503))
    report = crawl()
    assert site.statuses(YOUTH) == [500, 503, 200]
    assert crawl.sleeps == [1.0, 2.0]
    assert report.new == 4 and report.failed == 0
    assert [line["status"] for line in lines_for(raw, site, YOUTH)] == [200]


def test_persistent_server_error_is_reported_after_three_retries(site, raw, crawl):
    site.then(YOUTH, *[Route(status=500)] * 4)
    report = crawl()
    assert site.statuses(YOUTH) == [500] * 4
    assert crawl.sleeps == [1.0, 2.0, 4.0]
    assert report.failed == 1 and report.new == 3
    assert Problem(site.url(YOUTH), "http 500") in report.problems
    [line] = lines_for(raw, site, YOUTH)
    assert (line["status"], line["file"], line["error"]) == (500, None, "http 500")


def test_429_waits_for_retry_after(site, raw, crawl):
    site.then(ATTACHMENT, Route(status=429, headers={"Retry-After": "7"}))
    report = crawl()
    assert crawl.sleeps == [7.0]
    assert site.statuses(ATTACHMENT) == [429, 200] and report.new == 4


def test_retry_after_is_capped(site, raw, crawl):
    site.then(ATTACHMENT, Route(status=503, headers={"Retry-After": "86400"}))
    crawl(max_retry_wait=30)
    assert crawl.sleeps == [30.0]


def test_parse_retry_after_accepts_seconds_and_http_dates():
    now = datetime(2025, 3, 12, 8, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after("Wed, 12 Mar 2025 08:01:30 GMT", now) == 90.0
    assert parse_retry_after("Wed, 12 Mar 2025 07:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_slow_response_times_out_and_the_run_goes_on(site, raw, crawl):
    slow = "/beneficiaries_voice/slow-story/"
    site.link(slow, Route(story_html("Slow", "2025-01-01", ["Slow."]), delay=0.5))

    report = crawl(read_timeout=0.2)

    assert report.failed == 1 and report.new == 4
    assert Problem(site.url(slow), "timeout") in report.problems
    [line] = lines_for(raw, site, slow)
    assert (line["status"], line["file"], line["error"]) == (None, None, "timeout")
    assert crawl.sleeps == [1.0, 2.0, 4.0]
    deadline = time.monotonic() + 5  # let the server finish the abandoned requests
    while len(site.statuses(slow)) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(site.statuses(slow)) == 4


def test_redirect_to_another_host_is_refused(site, raw, crawl):
    moved = "/beneficiaries_voice/moved-story/"
    site.redirect(moved, f"http://localhost:{site.server.port}{YOUTH}")
    site.link(moved)

    report = crawl()

    assert report.skipped == 3
    assert Problem(site.url(moved), "redirect to other host") in report.problems
    [line] = lines_for(raw, site, moved)
    assert (line["status"], line["file"], line["sha256"], line["error"]) == (
        301, None, None, "redirect to other host")
    assert not any(r.headers["Host"].startswith("localhost") for r in site.requests())
    assert len(stored_files(raw)) == 4


def test_redirect_loop_stops_after_five_hops(site, raw, crawl):
    loop = "/beneficiaries_voice/loop/"
    site.redirect(loop, loop)
    site.link(loop)
    report = crawl()
    assert Problem(site.url(loop), "too many redirects") in report.problems
    assert site.requested_paths().count(loop) == 6 and report.failed == 1


@pytest.mark.parametrize("href", ["http://[harbour/story/", "//[x]y/beneficiaries_voice/a/", "http://127.0.0.1:99999/x/"])
def test_a_link_urllib_cannot_read_costs_that_link_not_the_run(site, raw, crawl, href):
    site.link(href)
    report = crawl()
    assert report.new == 4 and len(stored_files(raw)) == 4


def test_a_redirect_to_an_address_urllib_cannot_read_is_a_failure_of_that_page():
    def serve(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        return httpx.Response(301, headers={"Location": "http://[harbour/story/"})

    with httpx.Client(transport=httpx.MockTransport(serve)) as client:
        polite = PoliteClient(client, FetchConfig(delay=0), sleep=lambda s: None)
        result = polite.get("https://jaif.asean.org/beneficiaries_voice/moved/")
    assert (result.status, result.error, result.body) == (301, "redirect to an address that cannot be read", None)


def test_pdf_link_is_skipped_and_not_stored(site, raw, crawl):
    report = crawl()
    assert Problem(site.url(PDF_PATH), "not html") in report.problems
    [line] = lines_for(raw, site, PDF_PATH)
    assert (line["status"], line["content_type"], line["file"], line["sha256"]) == (
        200, "application/pdf", None, None)
    assert f"{sha(site.routes[PDF_PATH].body)}.html" not in stored_files(raw)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "streamed"])
def test_oversized_body_is_refused(site, raw, crawl, chunked):
    big = "/beneficiaries_voice/very-long-story/"
    body = story_html("Very Long", "2025-01-01", ["All work and no play. " * 40] * 10)
    site.link(big, Route(body, chunked=chunked))

    report = crawl(max_bytes=4000)

    assert len(body) > 4000
    assert Problem(site.url(big), "too large") in report.problems and report.skipped == 3
    [line] = lines_for(raw, site, big)
    assert (line["status"], line["file"], line["bytes"], line["error"]) == (
        200, None, None, "too large")
    assert f"{sha(body)}.html" not in stored_files(raw) and len(stored_files(raw)) == 4


def test_declared_oversized_body_is_not_even_read():
    """With a Content-Length over the limit the body is refused before a byte of it is read
    (in-memory transport: no network)."""
    reads = []

    class Body(httpx.SyncByteStream):
        def __iter__(self):
            reads.append("read")
            yield b"<html></html>"

    def serve(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        return httpx.Response(200, headers={"Content-Type": "text/html",
                                            "Content-Length": str(50 * 1024 * 1024)},
                              stream=Body())

    with httpx.Client(transport=httpx.MockTransport(serve)) as client:
        polite = PoliteClient(client, FetchConfig(delay=0), sleep=lambda seconds: None)
        result = polite.get("https://jaif.asean.org/beneficiaries_voice/huge/")
    assert (result.status, result.error, result.body, reads) == (200, "too large", None, [])


@pytest.mark.parametrize("sitemap", [False, True], ids=["listing", "sitemap"])
def test_disallowed_path_is_never_requested(make_site, raw, sitemap):
    site = make_site(sitemap=sitemap)
    report = Crawler(site, raw)()
    assert DISALLOWED_STORY not in site.requested_paths()
    assert site.requested_paths().count("/robots.txt") == 1
    assert Problem(site.url(DISALLOWED_STORY), "disallowed by robots.txt") in report.problems
    assert not lines_for(raw, site, DISALLOWED_STORY)


def test_unreachable_robots_txt_means_fetching_nothing(site, raw, crawl):
    site.routes["/robots.txt"] = Route(status=503)
    report = crawl()
    assert set(site.requested_paths()) == {"/robots.txt"}
    assert report.discovered == 0 and not read_manifest(raw)


@pytest.mark.parametrize(("crawl_delay", "delay", "expected"), [(None, 0.5, 0.5), (2, 0.5, 2.0)])
def test_delay_between_requests_and_robots_crawl_delay(make_site, raw, crawl_delay, delay,
                                                       expected):
    site = make_site(crawl_delay=crawl_delay)
    crawler = Crawler(site, raw)
    crawler(delay=delay)
    assert crawler.sleeps == [expected] * (len(site.requests()) - 1)


def test_sitemap_is_preferred_and_lastmod_recorded(make_site, raw):
    site = make_site(sitemap=True)
    only_in_sitemap = story_path("a-story-only-the-sitemap-lists")
    site.routes[only_in_sitemap] = Route(story_html("Sitemap Only", "2024-12-01", ["Hidden."]))
    site.sitemap_only.append(only_in_sitemap)

    report = Crawler(site, raw)()

    paths = site.requested_paths()
    assert LISTING not in paths and f"{LISTING}page/2/" not in paths
    assert "/sitemap_index.xml" not in paths and "/about/" not in paths
    assert report.new == 5 and report.skipped == 2 and report.discovered == 7
    [line] = lines_for(raw, site, only_in_sitemap)
    assert line["status"] == 200 and line["lastmod"].startswith("2025-03-")
    assert all(entry["lastmod"] for entry in read_manifest(raw))


# --- raw/ as the extract stage sees it -----------------------------------------------------------


def test_a_second_concurrent_run_on_the_same_raw_dir_is_refused(site, raw, crawl):
    raw.mkdir()
    with FileLock(str(raw / ".fetch.lock")), pytest.raises(Timeout):
        crawl()
    assert site.requests() == [] and not read_manifest(raw)


def test_scan_adds_hand_placed_pages(site, raw, crawl):
    crawl()
    (raw / "samples").mkdir()
    sample = raw / "samples" / "bundled-story.html"
    sample.write_bytes(b"<html><h1>Bundled</h1></html>")
    (raw / "top-level.html").write_bytes(b"<html><h1>Top</h1></html>")

    snapshots = scan(raw).snapshots

    hand_placed = [s for s in snapshots if s.url is None]
    assert {s.path for s in hand_placed} == {sample, raw / "top-level.html"}
    assert all(s.fetched_at is None and not s.gone for s in hand_placed)
    assert [s.sha256 for s in hand_placed if s.path == sample] == [sha(sample.read_bytes())]
    assert len(snapshots) == 4 + 2


def test_scan_without_manifest_lists_html_files(tmp_path):
    (tmp_path / "a.html").write_text("<p>a</p>")
    (tmp_path / "notes.txt").write_text("not a page")
    assert [(s.url, s.path.name) for s in scan(tmp_path).snapshots] == [(None, "a.html")]


def test_torn_manifest_line_is_ignored(site, raw, crawl):
    crawl()
    with open(raw / "manifest.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"url": "http://127.0.0.1/broken", "sta')
    assert len(read_manifest(raw)) == 5
    assert len(scan(raw).snapshots) == 4


@pytest.mark.parametrize("odd", [{"url": ["x"]}, {"url": {}}, {"url": 5}, {"url": "http://127.0.0.1/a", "file": 7},
                                 {"url": "http://127.0.0.1/a", "sha256": 12}, {"url": "http://127.0.0.1/a", "status": "ok"}])
def test_a_manifest_line_with_a_field_of_the_wrong_type_is_skipped_not_fatal(site, raw, crawl, odd, caplog):
    crawl()
    with open(raw / "manifest.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps(odd) + "\n")
    assert len(read_manifest(raw)) == 5 and "wrong type" in caplog.text
    assert len(scan(raw).snapshots) == 4


@pytest.mark.parametrize("torn", [b'{"url": "http://127.0.0.1/broken", "sta', b'{"url": "http://127.0.0.1/caf\xc3'])
def test_the_entry_after_a_torn_line_is_kept(site, raw, crawl, torn):
    crawl()
    with open(raw / "manifest.jsonl", "ab") as handle:
        handle.write(torn)  # a crash in the middle of a line (the second one inside a two-byte character)
    site.add_story("a-new-voice-from-cambodia", "A New Voice from Cambodia", "2025-04-01",
                   ["Mr. Sok Dara from Cambodia joined the programme in 2024."])
    report = crawl()
    assert report.new == 1
    assert len(read_manifest(raw)) == 5 + 6  # the first crawl's lines, the second's; only the torn one is lost
    assert len(scan(raw).snapshots) == 5


def test_file_names_cannot_escape_raw(tmp_path):
    raw = tmp_path / "raw"
    for bad in ("../../etc/passwd", "/etc/passwd", "a" * 63, "A" * 64, "a" * 64 + "/../x", ""):
        with pytest.raises(ValueError):
            snapshot_path(raw, bad)
    digest, relative = store_body(raw, b"<html>../../../etc/passwd</html>")
    stored = (raw / relative).resolve()
    assert stored.is_relative_to(raw.resolve()) and stored.name == f"{digest}.html"
    assert store_body(raw, b"<html>../../../etc/passwd</html>") == (digest, relative)
    assert len(list((raw / "pages").iterdir())) == 1  # identical body written once, no temp left

    outside = tmp_path / "outside.html"
    outside.write_text("<p>secret</p>")
    with open(raw / "manifest.jsonl", "w", encoding="utf-8") as handle:
        for file in ("../outside.html", str(outside)):
            handle.write(json.dumps({"url": f"https://x/{len(file)}", "status": 200,
                                     "sha256": "0" * 64, "file": file}) + "\n")
    assert all(s.path.resolve().is_relative_to(raw.resolve()) for s in scan(raw).snapshots)


@pytest.mark.parametrize(("url", "expected"), [
    ("https://jaif.asean.org/beneficiaries_voice/some-story/", "same"),
    ("https://jaif.asean.org/beneficiaries_voice/some-story/?utm_source=x#top",
     "https://jaif.asean.org/beneficiaries_voice/some-story/"),
    ("http://jaif.asean.org/beneficiaries_voice/some-story/",
     "https://jaif.asean.org/beneficiaries_voice/some-story/"),
    ("https://jaif.asean.org/support/beneficiaries-voice/old-story.html", "same"),
    ("https://jaif.asean.org/beneficiaries_voice/", None),
    ("https://jaif.asean.org/beneficiaries_voice/page/2/", None),
    ("https://jaif.asean.org/beneficiaries_voice/feed/", None),
    ("https://jaif.asean.org/beneficiaries_voice/some-story/amp/", None),
    ("https://jaif.asean.org/about/", None),
    ("https://evil.example/beneficiaries_voice/some-story/", None),
    ("ftp://jaif.asean.org/beneficiaries_voice/some-story/", None),
])
def test_story_url_recognition(url, expected):
    expected = url if expected == "same" else expected
    assert as_story_url(url, FetchConfig()) == expected


def test_orphan_snapshot_of_a_killed_fetch_is_not_a_hand_placed_page(tmp_path):
    from pipeline.fetch import PAGES_DIR
    (tmp_path / ".fetch.lock").touch()  # the first fetch into this folder was killed before its manifest line
    (tmp_path / PAGES_DIR).mkdir()
    (tmp_path / PAGES_DIR / ("a" * 64 + ".html")).write_text("<html><body><p>stored, never recorded</p></body></html>")
    (tmp_path / "sample.html").write_text("<html><body><p>hand placed</p></body></html>")
    assert [s.path.name for s in scan(tmp_path).snapshots] == ["sample.html"]


# --- bounds against hostile servers --------------------------------------------------------------

TRICKLE_INTERVAL = 0.05  # seconds between two bytes: far below the read timeout, so only a
                         # deadline can end the request
TEST_DEADLINE = 1.0
DEADLINE_MARGIN = 1.0  # scheduling slack on a busy test machine


class TrickleServer:
    """A bare HTTP/1.1 server on 127.0.0.1 (a thread per connection) that answers ``slow_path``
    with ``response``, sending the first ``at_once`` bytes at once and the rest one byte per
    ``TRICKLE_INTERVAL`` until the client hangs up, and any other path with a 404."""

    def __init__(self, slow_path: str, response: bytes, at_once: int):
        self.slow_path, self.response, self.at_once = slow_path, response, at_once
        self.paths: list[str] = []
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self._stop.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            request = b""
            while b"\r\n\r\n" not in request:
                data = connection.recv(4096)
                if not data:
                    return
                request += data
            path = request.split(b" ")[1].decode()
            self.paths.append(path)
            try:
                if path != self.slow_path:
                    connection.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                                       b"Connection: close\r\n\r\n")
                    return
                connection.sendall(self.response[:self.at_once])
                for byte in range(self.at_once, len(self.response)):
                    if self._stop.wait(TRICKLE_INTERVAL):
                        return
                    connection.sendall(self.response[byte:byte + 1])
            except OSError:  # the client gave up
                return


@pytest.fixture
def trickle():
    servers = []

    def start(slow_path: str, response: bytes, at_once: int) -> TrickleServer:
        servers.append(TrickleServer(slow_path, response, at_once))
        return servers[-1]
    yield start
    for server in servers:
        server.close()


SLOW_PAGE = b"<html><body>" + b"x" * 400 + b"</body></html>"


@pytest.mark.parametrize("part", ["headers", "body"])
def test_a_trickling_server_is_cut_off_at_the_deadline(trickle, raw, part):
    """A byte every 50 ms never trips the 2 s read timeout; the 1 s deadline ends the request,
    which is reported once and not retried."""
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Padding: " + b"p" * 400 +
            b"\r\nContent-Length: " + str(len(SLOW_PAGE)).encode() + b"\r\n\r\n")
    server = trickle(LISTING, head + SLOW_PAGE, at_once=len(head) if part == "body" else 0)
    sleeps = []
    config = FetchConfig(start_url=server.url(LISTING), delay=0, connect_timeout=2,
                         read_timeout=2, deadline=TEST_DEADLINE)

    started = time.monotonic()
    report = fetch_site(config, raw, sleep=sleeps.append)
    elapsed = time.monotonic() - started

    assert report.problems == [Problem(server.url(LISTING), "listing: deadline exceeded (1s)")]
    assert elapsed < TEST_DEADLINE + DEADLINE_MARGIN
    assert server.paths == ["/robots.txt", "/wp-sitemap.xml", "/sitemap_index.xml", LISTING]
    assert sleeps == []


def test_a_server_that_never_accepts_the_connection_is_cut_off_at_the_deadline(caplog):
    """A full accept queue makes Linux drop the SYN, so connecting hangs; the 1 s deadline, not
    the 5 s connect timeout, ends it (robots.txt unreachable: nothing is fetched)."""
    with socket.create_server(("127.0.0.1", 0), backlog=0) as listener:
        port = listener.getsockname()[1]
        queue_fillers = [socket.socket() for _ in range(5)]
        for filler in queue_fillers:
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        config = FetchConfig(start_url=f"http://127.0.0.1:{port}{LISTING}", delay=0,
                             connect_timeout=5, deadline=TEST_DEADLINE)
        started = time.monotonic()
        with http_client() as client, caplog.at_level(logging.WARNING, logger="pipeline.fetch"):
            result = PoliteClient(client, config, sleep=lambda s: None).get(config.start_url)
        elapsed = time.monotonic() - started
        for filler in queue_fillers:
            filler.close()
    assert result.error == "disallowed by robots.txt"
    assert "robots.txt unavailable (deadline exceeded (1s)): fetching nothing" in caplog.text
    assert elapsed < TEST_DEADLINE + DEADLINE_MARGIN


def test_robots_rules_are_never_left_empty_by_an_error_while_reading_them():
    robots_asked = []

    def serve(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            robots_asked.append(1)
            if len(robots_asked) == 1:
                raise RuntimeError("the transport broke")  # not an HTTP failure: it reaches the caller
            return httpx.Response(200, stream=OneChunk(b"User-agent: *\nDisallow: /"))
        return httpx.Response(200, headers={"Content-Type": "text/html"}, stream=OneChunk(b"<p>story</p>"))

    with httpx.Client(transport=httpx.MockTransport(serve)) as client:
        polite = PoliteClient(client, FetchConfig(delay=0), sleep=lambda s: None)
        with pytest.raises(RuntimeError):
            polite.get("https://jaif.asean.org/beneficiaries_voice/a/")
        result = polite.get("https://jaif.asean.org/beneficiaries_voice/a/")
    assert result.error == "disallowed by robots.txt" and len(robots_asked) == 2


def test_an_injected_client_is_also_cut_off_between_body_chunks():
    """Without our sockets (e.g. a test transport) the deadline is still checked per chunk."""
    chunks_sent = []

    class SlowBody(httpx.SyncByteStream):
        def __iter__(self):
            for _ in range(50):
                time.sleep(0.05)
                chunks_sent.append(1)
                yield b"<p>slow</p>"

    def serve(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        return httpx.Response(200, headers={"Content-Type": "text/html"}, stream=SlowBody())

    with httpx.Client(transport=httpx.MockTransport(serve)) as client:
        polite = PoliteClient(client, FetchConfig(delay=0, deadline=0.3), sleep=lambda s: None)
        result = polite.get("https://jaif.asean.org/beneficiaries_voice/slow/")
    assert (result.status, result.error, result.body) == (200, "deadline exceeded (0.3s)", None)
    assert len(chunks_sent) < 50


def _page_bytes(text: str) -> bytes:
    return story_html("Encoded", "2025-01-01", [text])


def _zlib(data: bytes) -> bytes:
    return zlib.compress(data)


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


PAGE = _page_bytes("Decoded correctly. " * 50)


@pytest.mark.parametrize(("encoding", "encode"), [
    (None, lambda body: body),
    ("identity", lambda body: body),
    ("gzip", gzip.compress),
    ("x-gzip", gzip.compress),
    ("deflate", _zlib),
    ("deflate", _raw_deflate),
    ("gzip, gzip", lambda body: gzip.compress(gzip.compress(body))),
    ("deflate, gzip", lambda body: gzip.compress(_zlib(body))),
    ("gzip, identity", gzip.compress),
], ids=["none", "identity", "gzip", "x-gzip", "deflate", "raw-deflate", "gzip-gzip",
        "deflate-gzip", "gzip-identity"])
def test_every_supported_coding_chain_is_decoded(encoding, encode):
    result, sent = _get_with_encoding(encoding, encode(PAGE))
    assert (result.error, result.body) == (None, PAGE)
    assert sent["accept-encoding"] == ACCEPT_ENCODING


@pytest.mark.parametrize(("encoding", "body", "error"), [
    ("br", b"\x1b\x00", "unsupported content encoding 'br'"),
    ("gzip", b"\x1f\x8b not gzip at all", "corrupt gzip body"),
    ("gzip", gzip.compress(PAGE)[:-20], "truncated gzip body"),
    ("gzip, gzip, gzip, gzip", gzip.compress(PAGE), "too many content encodings (4)"),
], ids=["brotli", "corrupt", "truncated", "four-layers"])
def test_a_body_that_cannot_be_decoded_is_a_failure_not_a_crash(encoding, body, error):
    result, _ = _get_with_encoding(encoding, body)
    assert (result.status, result.error, result.body) == (200, error, None)


class OneChunk(httpx.SyncByteStream):
    """A body as a stream: ``httpx.Response(content=...)`` would decode it before we see it."""

    def __init__(self, body: bytes):
        self.body = body

    def __iter__(self):
        yield self.body


def _get_with_encoding(encoding: str | None, body: bytes):
    """GET a story through an in-memory transport that serves ``body`` with ``encoding``."""
    sent = {}

    def serve(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        sent.update(request.headers)
        headers = {"Content-Type": "text/html"}
        if encoding:
            headers["Content-Encoding"] = encoding
        return httpx.Response(200, headers=headers, stream=OneChunk(body))

    with httpx.Client(transport=httpx.MockTransport(serve)) as client:
        polite = PoliteClient(client, FetchConfig(delay=0), sleep=lambda seconds: None)
        return polite.get("https://jaif.asean.org/beneficiaries_voice/encoded/"), sent


BOMB_UNPACKED = 1 << 30  # 1 GiB of zeros, twice gzipped: about 2.5 KB on the wire
BOMB_PEAK_BYTES = 40 * 1024 * 1024  # a 5 MB body held twice plus decoding steps fits well below


@pytest.fixture(scope="module")
def gzip_gzip_bomb() -> bytes:
    """1 GiB of zeros as a gzip stream of identical full-flushed deflate blocks (so it is built
    without ever holding or compressing the gigabyte), then gzipped once more."""
    megabyte = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = compressor.compress(megabyte) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(BOMB_UNPACKED >> 20):
        crc = zlib.crc32(megabyte, crc)
    final_empty_block = b"\x03\x00"
    inner = ([b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"] + [block] * (BOMB_UNPACKED >> 20)
             + [final_empty_block, struct.pack("<II", crc, BOMB_UNPACKED & 0xFFFFFFFF)])
    outer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return b"".join(outer.compress(part) for part in inner) + outer.flush()


def _peak_traced_bytes(run):
    """Run ``run()`` and return (its result, the peak of Python memory allocated meanwhile)."""
    tracemalloc.start()
    try:
        return run(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("target", ["story", "sitemap", "robots.txt"])
def test_gzip_gzip_bomb_is_refused_in_bounded_memory(make_site, raw, gzip_gzip_bomb, caplog,
                                                     target):
    """A few KB that unpack to 1 GiB: every reader (story, sitemap, robots.txt) stops at the
    5 MB cap without ever holding much more than that."""
    assert len(gzip_gzip_bomb) < 10_000
    site = make_site(sitemap=target == "sitemap")
    bomb = Route(gzip_gzip_bomb, headers={"Content-Encoding": "gzip, gzip"},
                 content_type={"story": "text/html", "sitemap": "application/xml",
                               "robots.txt": "text/plain"}[target])
    path = {"story": "/beneficiaries_voice/bomb/", "sitemap": "/wp-sitemap.xml",
            "robots.txt": "/robots.txt"}[target]
    if target == "story":
        site.link(path, bomb)
    else:
        site.routes[path] = bomb

    with caplog.at_level(logging.WARNING, logger="pipeline.fetch"):
        report, peak = _peak_traced_bytes(lambda: Crawler(site, raw)())

    assert peak < BOMB_PEAK_BYTES
    if target == "story":
        assert Problem(site.url(path), "too large") in report.problems and report.new == 4
    elif target == "sitemap":
        assert Problem(site.url(path), "sitemap: too large") in report.problems
        assert report.new == 4  # found through the listing instead
    else:
        assert set(site.requested_paths()) == {"/robots.txt"}
        assert "robots.txt unavailable (too large): fetching nothing" in caplog.text


def test_huge_crawl_delay_is_capped_and_said(make_site, raw, caplog):
    site = make_site(crawl_delay=86400)
    crawler = Crawler(site, raw)
    with caplog.at_level(logging.WARNING, logger="pipeline.fetch"):
        crawler(delay=0.5)
    assert crawler.sleeps == [MAX_CRAWL_DELAY] * (len(site.requests()) - 1)
    [warning] = [record.getMessage() for record in caplog.records
                 if "Crawl-delay" in record.getMessage()]
    assert warning == f"{site.url('/robots.txt')}: Crawl-delay 86400s is capped at 60s"
