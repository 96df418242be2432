"""Fetch stage: discover story pages on the source site and archive them politely into ``raw/``.

``raw/`` is immutable history. Every downloaded body is stored once, by content hash, at
``RAW/pages/<sha256>.html``; every request outcome for a story URL is appended to
``RAW/manifest.jsonl``. Nothing is ever deleted or overwritten, so a story that disappears from
the site keeps its last good snapshot, and ``rawfolder.scan`` tells the later stages which
file is the current version of each story.

The crawler is deliberately slow and careful: robots.txt is obeyed, requests are made one at a
time with a delay, failures are retried with backoff, unchanged pages cost a conditional 304,
and it never leaves the start host, never follows more than a few redirects, never reads or
decodes more than a bounded number of bytes, never spends more than a deadline on one request,
and never waits longer between requests than a capped Crawl-delay.

Modules, from the crawl down:

- ``crawl``: ``fetch_site``, one crawl from discovery to its ``FetchReport``, story by story;
- ``discovery``: the site's story URLs (sitemaps, else the listing and its pagination);
- ``client``: ``PoliteClient``, the rules every request follows (host, robots.txt, delays,
  redirects, retries);
- ``body`` and ``deadline``: the bounds of one request (bytes read and decoded; time taken);
- ``archive``: the raw folder's layout, snapshots stored by content hash, the manifest;
- ``config``: ``FetchConfig`` and its defaults, the names of request outcomes, ``Problem``.
"""

from .archive import (FETCH_LOCK, MANIFEST_NAME, PAGES_DIR, Snapshot, inside, last_good_entries,
                      read_manifest, snapshot_path, store_body)
from .body import ACCEPT_ENCODING
from .client import PoliteClient, parse_retry_after
from .config import (DEFAULT_DEADLINE, DEFAULT_START_URL, GONE_STATUSES, MAX_CRAWL_DELAY,
                     REFUSALS, USER_AGENT, FetchConfig, Problem)
from .crawl import FetchReport, fetch_site
from .deadline import http_client
from .discovery import as_story_url

__all__ = ["ACCEPT_ENCODING", "DEFAULT_DEADLINE", "DEFAULT_START_URL", "FETCH_LOCK", "GONE_STATUSES",
           "MANIFEST_NAME", "MAX_CRAWL_DELAY", "PAGES_DIR", "REFUSALS", "USER_AGENT", "FetchConfig",
           "FetchReport", "PoliteClient", "Problem", "Snapshot", "as_story_url", "fetch_site",
           "http_client", "inside", "last_good_entries", "parse_retry_after", "read_manifest",
           "snapshot_path", "store_body"]
