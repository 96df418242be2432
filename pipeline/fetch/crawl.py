"""One crawl: discover the stories, ask for each one conditionally, store what is new or changed,
append its manifest line, and count every outcome in a ``FetchReport``."""

from __future__ import annotations

import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import httpx
from filelock import FileLock

from .archive import (FETCH_LOCK, append_manifest, inside, last_good_entries, read_manifest,
                      store_body)
from .client import HttpResult, PoliteClient, Sleep
from .config import DISALLOWED, GONE_STATUSES, NOT_HTML, REFUSALS, FetchConfig, Problem
from .deadline import http_client
from .discovery import Discovered, discover

log = logging.getLogger("pipeline.fetch")  # one logger, named after the stage, for all its modules


@dataclass
class FetchReport:
    """Counts per outcome of one crawl, plus the URLs that need attention.

    ``unchanged`` covers both a 304 and a 200 whose body hashes to the stored snapshot;
    ``skipped`` is a deliberate refusal (robots.txt, off-site redirect, not HTML, too large);
    ``failed`` is an error that a later run may not hit (timeout, deadline exceeded, HTTP 5xx,
    network error, a body in a coding we cannot decode).
    """

    discovered: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    gone: int = 0
    failed: int = 0
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)


def fetch_site(config: FetchConfig, raw_dir: str | Path, *, client: httpx.Client | None = None,
               sleep: Sleep = time.sleep) -> FetchReport:
    """Discover the stories and archive each new or changed one into ``raw_dir``.

    Safe to run from cron: a lock stops two runs on the same ``raw_dir``, unchanged pages cost a
    304, and a failure on one URL is recorded and reported without stopping the run.
    """
    raw_dir = Path(raw_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    client_context = http_client() if client is None else nullcontext(client)
    with FileLock(str(raw_dir / FETCH_LOCK), timeout=0), client_context as http:
        polite = PoliteClient(http, config, sleep)
        stories, problems = discover(polite, config)
        report = FetchReport(discovered=len(stories), problems=problems)
        entries = read_manifest(raw_dir)
        previous = last_good_entries(entries)
        stories = stories + _known_stories(entries, {story.url for story in stories})
        for story in stories:
            bucket, reason = _archive_one(polite, story, previous.get(story.url), raw_dir)
            setattr(report, bucket, getattr(report, bucket) + 1)
            if reason:
                report.problems.append(Problem(story.url, reason))
    log.info("fetch: %d discovered, %d new, %d changed, %d unchanged, %d gone, %d failed, "
             "%d skipped", report.discovered, report.new, report.changed, report.unchanged,
             report.gone, report.failed, report.skipped)
    return report


def _known_stories(entries: list[dict], discovered: set[str]) -> list[Discovered]:
    """Stories archived before but no longer listed: asked again, so a removal (404/410) is noticed."""
    last_status = {e["url"]: e.get("status") for e in entries if e.get("url")}
    archived = {e["url"] for e in entries if e.get("url") and e.get("file")}
    return [Discovered(url) for url, status in last_status.items()
            if url not in discovered and status not in GONE_STATUSES and url in archived]


def _archive_one(client: PoliteClient, story: Discovered, previous: dict | None,
                 raw_dir: Path) -> tuple[str, str | None]:
    """Fetch one story, store its body, append its manifest line; return (report bucket, reason)."""
    if not client.allowed(story.url):
        return "skipped", DISALLOWED
    result = client.get(story.url, headers=_conditional_headers(previous, raw_dir))
    sha256 = file = None
    if result.body is not None and result.error is None:
        sha256, file = store_body(raw_dir, result.body)
    elif result.status == 304 and previous is not None:
        sha256, file = previous["sha256"], previous["file"]
    bucket, reason = _classify(result, sha256, previous)
    append_manifest(raw_dir, _manifest_entry(story, result, sha256, file, reason, previous))
    return bucket, reason


def _classify(result: HttpResult, sha256: str | None,
              previous: dict | None) -> tuple[str, str | None]:
    """Which report bucket a response belongs to, and the short reason when it is not a success."""
    if result.error:
        return ("skipped" if result.error in REFUSALS else "failed"), result.error
    if result.status == 304:
        return ("unchanged", None) if previous else ("failed", "unexpected 304")
    if result.status in GONE_STATUSES:
        return "gone", f"http {result.status}"
    if result.status != 200:
        return "failed", f"http {result.status}"
    if sha256 is None:
        return "skipped", NOT_HTML
    if previous is None:
        return "new", None
    return ("unchanged" if previous["sha256"] == sha256 else "changed"), None


def _manifest_entry(story: Discovered, result: HttpResult, sha256: str | None, file: str | None,
                    error: str | None, previous: dict | None) -> dict:
    """One manifest line; a 304 carries the stored validators forward when it sends none."""
    carried = previous if result.status == 304 and previous else {}
    return {
        "url": story.url,
        "fetched_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "status": result.status,
        "etag": result.headers.get("etag") or carried.get("etag"),
        "last_modified": result.headers.get("last-modified") or carried.get("last_modified"),
        "sha256": sha256,
        "file": file,
        "content_type": result.content_type,
        "bytes": len(result.body) if result.body is not None else None,
        "error": error,
        "lastmod": story.lastmod,
    }


def _conditional_headers(previous: dict | None, raw_dir: Path) -> dict[str, str]:
    """If-None-Match / If-Modified-Since of the last stored snapshot, if its file still exists."""
    stored = inside(raw_dir, previous.get("file")) if previous is not None else None
    if stored is None or not stored.is_file():
        return {}  # a 304 would then leave the story with no snapshot on disk
    headers = {}
    if previous.get("etag"):
        headers["If-None-Match"] = previous["etag"]
    if previous.get("last_modified"):
        headers["If-Modified-Since"] = previous["last_modified"]
    return headers
