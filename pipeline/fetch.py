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
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import re
import tempfile
import time
import zlib
from contextlib import nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Callable, Iterable, Iterator, TypeVar
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpcore
import httpx
from bs4 import BeautifulSoup
from filelock import FileLock
from lxml import etree
from protego import Protego

log = logging.getLogger(__name__)

DEFAULT_START_URL = "https://jaif.asean.org/beneficiaries_voice/"
USER_AGENT = "story-extractor/0.1 (+mailto:data-team@example.org)"
OLD_STORY_PREFIX = "/support/beneficiaries-voice/"
SITEMAP_PATHS = ("/wp-sitemap.xml", "/sitemap_index.xml")
HTML_TYPES = ("text/html", "application/xhtml+xml")
MANIFEST_NAME = "manifest.jsonl"
PAGES_DIR = "pages"
FETCH_LOCK = ".fetch.lock"  # held by a fetch on its raw folder; its presence also marks the folder as a fetch store
GONE_STATUSES = (404, 410)
NOT_STORY_SEGMENTS = {"page", "feed"}

# The largest body we read, counted after decoding: a story page is HTML text, for which 5 MB is
# ample room, while a hostile body beyond it is refused rather than held in memory.
MAX_BODY_BYTES = 5 * 1024 * 1024
# Seconds one HTTP request (connect, TLS, headers and body) may take in all. httpx's timeouts bound
# each socket read, so a server trickling a byte at a time would hold a request for ever. A minute
# brings the largest accepted body at 85 KB/s, far below any working link. Each redirect hop and
# each retry is a request of its own.
DEFAULT_DEADLINE = 60.0
# The most we wait between requests when robots.txt's Crawl-delay asks for more: at a minute per
# request a daily run of a few hundred requests already takes hours; a larger value (a day, say)
# would stall the run, so it is capped and a warning says so.
MAX_CRAWL_DELAY = 60.0
# Content codings we can decode with a bounded amount of memory (zlib streams): only these are
# offered, and a body in any other coding is reported instead of stored still encoded.
ACCEPT_ENCODING = "gzip, deflate"
# Servers apply one coding, a misconfigured proxy sometimes a second; every layer costs up to
# ``max_bytes`` of decompression, so a longer chain is refused.
MAX_CONTENT_CODINGS = 3
# Decoded bytes produced per decompression step, so no step holds more than this in memory.
DECODE_STEP_BYTES = 64 * 1024
_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16,
          "deflate": zlib.MAX_WBITS}  # deflate falls back to raw (-MAX_WBITS) without a zlib header

# Refusals are deliberate policy decisions (counted as "skipped"); anything else that goes wrong
# with a request is a failure.
OFF_SITE = "url on other host"
REDIRECT_OFF_SITE = "redirect to other host"
DISALLOWED = "disallowed by robots.txt"
TOO_LARGE = "too large"
NOT_HTML = "not html"
REFUSALS = {OFF_SITE, REDIRECT_OFF_SITE, DISALLOWED, TOO_LARGE, NOT_HTML}
TIMEOUT = "timeout"
DEADLINE_EXCEEDED = "deadline exceeded"

_SHA256 = re.compile(r"[0-9a-f]{64}")
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)

Sleep = Callable[[float], None]
_T = TypeVar("_T")


@dataclass(frozen=True)
class FetchConfig:
    """Everything that shapes one crawl; the defaults are the polite production settings."""

    start_url: str = DEFAULT_START_URL
    delay: float = 1.0
    connect_timeout: float = 20.0
    read_timeout: float = 20.0
    deadline: float = DEFAULT_DEADLINE
    max_retries: int = 3
    backoff_base: float = 1.0
    max_retry_wait: float = 120.0
    max_crawl_delay: float = MAX_CRAWL_DELAY
    max_bytes: int = MAX_BODY_BYTES
    max_redirects: int = 5
    max_listing_pages: int = 200
    max_sitemaps: int = 50
    user_agent: str = USER_AGENT

    def __post_init__(self) -> None:
        if urlsplit(self.start_url).scheme not in ("http", "https"):
            raise ValueError(f"start URL must be http(s): {self.start_url!r}")
        if not self.deadline > 0:
            raise ValueError(f"deadline must be > 0 seconds: {self.deadline!r}")


@dataclass(frozen=True)
class Discovered:
    """A story URL found on the site, with the sitemap's ``lastmod`` when it gave one."""

    url: str
    lastmod: str | None = None


@dataclass(frozen=True)
class Problem:
    """Something a person running the crawl should know about one URL."""

    url: str
    reason: str


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


@dataclass(frozen=True)
class Snapshot:
    """The file the later stages should read for one story (``url`` None: a hand-placed page)."""

    url: str | None
    path: Path
    sha256: str
    fetched_at: str | None
    gone: bool = False


@dataclass(frozen=True)
class HttpResult:
    """What one logical GET produced, after redirects and retries.

    ``body`` is only read for a 200 of an accepted content type, so a refused PDF or a 404 page
    costs no download; ``error`` is None when the server answered and we accepted the answer.
    """

    url: str
    status: int | None = None
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    body: bytes | None = None
    error: str | None = None

    @property
    def content_type(self) -> str | None:
        """The Content-Type header as sent, or None."""
        return self.headers.get("content-type")


class PoliteClient:
    """One request at a time, to one host, within robots.txt, with delays, retries and limits.

    Wraps an ``httpx.Client`` (which tests may inject) so that every request of the crawl,
    discovery included, goes through the same rules. ``sleep`` is injectable so tests never wait.
    """

    def __init__(self, client: httpx.Client, config: FetchConfig, sleep: Sleep = time.sleep):
        self._client = client
        self._config = config
        self._sleep = sleep
        self._timeout = httpx.Timeout(config.read_timeout, connect=config.connect_timeout)
        self._robots: Protego | None = None
        self._crawl_delay = 0.0
        self._requests_made = 0

    @property
    def robots(self) -> Protego:
        """The site's robots.txt rules, fetched on first use."""
        if self._robots is None:
            # No rules apply while robots.txt itself (and any redirect of it) is being fetched.
            self._robots = Protego.parse("")
            self._robots = self._load_robots()
            self._crawl_delay = self._capped_crawl_delay(self._robots)
        return self._robots

    def on_site(self, url: str) -> bool:
        """Whether ``url`` is http(s) on the start host, the only place this crawler goes."""
        return _on_start_host(url, self._config)

    def allowed(self, url: str) -> bool:
        """Whether robots.txt lets our user agent fetch ``url``."""
        return self.robots.can_fetch(url, self._config.user_agent)

    def sitemaps(self) -> list[str]:
        """Sitemap URLs announced in robots.txt."""
        return list(self.robots.sitemaps)

    def get(self, url: str, *, headers: dict[str, str] | None = None,
            body_types: tuple[str, ...] | None = HTML_TYPES) -> HttpResult:
        """GET ``url`` under all the crawl rules; the body is read only for the given media types
        (None accepts any), and a disallowed or off-site URL is refused without a request."""
        if not self.on_site(url):
            return HttpResult(url, error=OFF_SITE)
        if not self.allowed(url):
            return HttpResult(url, error=DISALLOWED)
        return self._follow(url, headers or {}, body_types)

    def _robots_url(self) -> str:
        return urlunsplit(urlsplit(self._config.start_url)._replace(path="/robots.txt", query="",
                                                                     fragment=""))

    def _load_robots(self) -> Protego:
        """Parse robots.txt: missing (4xx) means no rules, unreachable means stay out (RFC 9309)."""
        result = self._follow(self._robots_url(), {}, None)
        if result.status == 200 and result.body is not None:
            return Protego.parse(result.body.decode("utf-8", errors="replace"))
        if result.error is None and result.status is not None and 400 <= result.status < 500:
            return Protego.parse("")
        log.warning("robots.txt unavailable (%s): fetching nothing", _failure(result))
        return Protego.parse("User-agent: *\nDisallow: /")

    def _capped_crawl_delay(self, robots: Protego) -> float:
        """robots.txt's Crawl-delay for us, at most ``max_crawl_delay`` (a warning if cut)."""
        asked = robots.crawl_delay(self._config.user_agent) or 0.0
        if asked > self._config.max_crawl_delay:
            log.warning("%s: Crawl-delay %gs is capped at %gs", self._robots_url(), asked,
                        self._config.max_crawl_delay)
            return self._config.max_crawl_delay
        return asked

    def _follow(self, url: str, headers: dict[str, str],
                body_types: tuple[str, ...] | None) -> HttpResult:
        """Follow redirects by hand so that each hop is checked against host and robots rules."""
        target = url
        for _ in range(self._config.max_redirects + 1):
            result = self._with_retries(target, headers, body_types)
            location = _redirect_location(result)
            if location is None:
                return replace(result, url=url)
            target = _without_fragment(urljoin(target, location))
            if not self.on_site(target):
                return replace(result, url=url, error=REDIRECT_OFF_SITE)
            if not self.allowed(target):
                return replace(result, url=url, error=DISALLOWED)
        return replace(result, url=url, error="too many redirects")

    def _with_retries(self, url: str, headers: dict[str, str],
                      body_types: tuple[str, ...] | None) -> HttpResult:
        """Retry timeouts, 429 and 5xx with exponential backoff, honouring Retry-After."""
        result = self._attempt(url, headers, body_types)
        for attempt in range(self._config.max_retries):
            if not _retryable(result):
                break
            wait = self._retry_wait(result, attempt)
            log.info("retrying %s in %.1fs (%s)", url, wait, _failure(result))
            self._sleep(wait)
            result = self._attempt(url, headers, body_types)
        return result

    def _retry_wait(self, result: HttpResult, attempt: int) -> float:
        """Seconds before the next attempt: the server's Retry-After, else backoff; capped."""
        asked = parse_retry_after(result.headers.get("retry-after"), datetime.now(timezone.utc))
        wait = asked if asked is not None else self._config.backoff_base * 2 ** attempt
        return min(wait, self._config.max_retry_wait)

    def _attempt(self, url: str, headers: dict[str, str],
                 body_types: tuple[str, ...] | None) -> HttpResult:
        """Exactly one HTTP request, after waiting our turn, over before the deadline."""
        self._wait_turn()
        request_headers = {"User-Agent": self._config.user_agent,
                           "Accept-Encoding": ACCEPT_ENCODING, **headers}
        deadline = _Deadline(self._config.deadline)
        token = _CURRENT_DEADLINE.set(deadline)
        try:
            with self._client.stream("GET", url, headers=request_headers, timeout=self._timeout,
                                     follow_redirects=False) as response:
                return self._read(url, response, body_types, deadline)
        except httpx.TimeoutException:
            return HttpResult(url, error=deadline.reason() if deadline.expired() else TIMEOUT)
        except httpx.TransportError as exc:
            return HttpResult(url, error=f"network error ({type(exc).__name__})")
        finally:
            _CURRENT_DEADLINE.reset(token)

    def _read(self, url: str, response: httpx.Response, body_types: tuple[str, ...] | None,
              deadline: _Deadline) -> HttpResult:
        """Turn a streamed response into a result, decoding at most ``max_bytes`` of a body."""
        result = HttpResult(url, response.status_code, httpx.Headers(response.headers))
        wanted = body_types is None or _media_type(result.content_type) in body_types
        if response.status_code != 200 or not wanted:
            return result
        try:
            body = _read_limited(response, self._config.max_bytes, deadline)
        except _Unreadable as unreadable:
            return replace(result, error=unreadable.reason)
        return replace(result, body=body)

    def _wait_turn(self) -> None:
        """Sleep between requests: our delay, or robots.txt's (capped) Crawl-delay if larger."""
        delay = max(self._config.delay, self._crawl_delay)
        if self._requests_made and delay > 0:
            self._sleep(delay)
        self._requests_made += 1


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


# --- discovery -----------------------------------------------------------------------------------


@dataclass
class _Found:
    """Accumulates discovered stories (first sighting wins, order kept) and discovery problems."""

    items: dict[str, Discovered] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def add(self, url: str, lastmod: str | None = None) -> None:
        self.items.setdefault(url, Discovered(url, lastmod))


def discover(client: PoliteClient, config: FetchConfig) -> tuple[list[Discovered], list[Problem]]:
    """Find story URLs: from the sitemap when the site has one (it carries ``lastmod`` and lists
    stories the listing may have paged away), else by walking the listing and its pagination.

    Returns the stories in discovery order and the problems met on the way (a listing page that
    failed means stories may be missing, which the operator should know).
    """
    found = _Found()
    _discover_from_sitemaps(client, config, found)
    if not found.items:
        _discover_from_listing(client, config, found)
    return list(found.items.values()), found.problems


def story_prefixes(config: FetchConfig) -> tuple[str, ...]:
    """URL paths under which stories live: the start URL's path and the site's older form."""
    start_path = urlsplit(config.start_url).path
    if not start_path.endswith("/"):
        start_path += "/"
    return tuple(dict.fromkeys((start_path, OLD_STORY_PREFIX)))


def as_story_url(url: str, config: FetchConfig) -> str | None:
    """The canonical form of ``url`` if it is a story page (one slug under a story path on the start
    host), else None. Query and fragment are dropped: a story is identified by its path."""
    if not _on_start_host(url, config):
        return None
    parts = urlsplit(url)
    for prefix in story_prefixes(config):
        if not parts.path.startswith(prefix):
            continue
        slug = parts.path[len(prefix):].removesuffix("/")
        if slug and "/" not in slug and slug not in NOT_STORY_SEGMENTS:
            return urlunsplit((urlsplit(config.start_url).scheme, parts.netloc, parts.path, "", ""))
    return None


def _discover_from_sitemaps(client: PoliteClient, config: FetchConfig, found: _Found) -> None:
    """Read the first sitemap that exists (robots.txt's, then WordPress's usual names)."""
    candidates = client.sitemaps() + [urljoin(config.start_url, path) for path in SITEMAP_PATHS]
    for root in dict.fromkeys(candidates):
        if client.on_site(root) and _read_sitemap_tree(client, config, root, found):
            return


def _read_sitemap_tree(client: PoliteClient, config: FetchConfig, root: str,
                       found: _Found) -> bool:
    """Walk a sitemap and its nested sitemaps, adding story URLs; False when there is none."""
    queue, seen, any_read = [root], {root}, False
    while queue:
        url = queue.pop(0)
        document = _fetch_xml(client, url, found, missing_ok=(url == root))
        if document is None:
            continue
        any_read = True
        for kind, loc, lastmod in _sitemap_entries(document):
            loc = _without_fragment(urljoin(url, loc))
            if kind == "sitemap" and client.on_site(loc) and loc not in seen \
                    and len(seen) < config.max_sitemaps:
                seen.add(loc)
                queue.append(loc)
            elif kind == "url" and (story := as_story_url(loc, config)):
                found.add(story, lastmod)
    return any_read


def _fetch_xml(client: PoliteClient, url: str, found: _Found,
               missing_ok: bool) -> etree._Element | None:
    """Download and parse one XML document (entities and network access disabled)."""
    result = client.get(url, body_types=None)
    if result.body is None:
        if not (missing_ok and result.status in GONE_STATUSES):
            found.problems.append(Problem(url, f"sitemap: {_failure(result)}"))
        return None
    try:
        return etree.fromstring(result.body, parser=_XML_PARSER)
    except etree.XMLSyntaxError:
        found.problems.append(Problem(url, "sitemap: not valid XML"))
        return None


def _sitemap_entries(root: etree._Element) -> Iterator[tuple[str, str, str | None]]:
    """(kind, loc, lastmod) for each entry of a sitemap index ("sitemap") or url set ("url")."""
    for entry in root:
        if not isinstance(entry.tag, str):
            continue
        kind = etree.QName(entry).localname
        fields = {etree.QName(child).localname: (child.text or "").strip()
                  for child in entry if isinstance(child.tag, str)}
        if kind in ("sitemap", "url") and fields.get("loc"):
            yield kind, fields["loc"], fields.get("lastmod") or None


def _discover_from_listing(client: PoliteClient, config: FetchConfig, found: _Found) -> None:
    """Walk the listing page and its pagination, collecting story links."""
    queue, seen = [config.start_url], {config.start_url}
    while queue:
        page = queue.pop(0)
        result = client.get(page)
        if result.body is None:
            found.problems.append(Problem(page, f"listing: {_failure(result)}"))
            continue
        soup = BeautifulSoup(result.body, "lxml")
        for link in _links(soup, page):
            if story := as_story_url(link, config):
                found.add(story)
        for next_page in _pagination_links(soup, page, config):
            if next_page not in seen and len(seen) < config.max_listing_pages:
                seen.add(next_page)
                queue.append(next_page)


def _links(soup: BeautifulSoup, base: str) -> Iterator[str]:
    """Absolute URLs of every ``<a href>`` on the page, without fragments."""
    for anchor in soup.find_all("a", href=True):
        yield _without_fragment(urljoin(base, anchor["href"]))


def _pagination_links(soup: BeautifulSoup, base: str, config: FetchConfig) -> Iterator[str]:
    """Further listing pages on the host: ``rel="next"`` links and ``<start path>page/N/`` links."""
    listing_path = story_prefixes(config)[0]
    for tag in soup.find_all(["a", "link"], href=True):
        url = _without_fragment(urljoin(base, tag["href"]))
        if not _on_start_host(url, config):
            continue
        if "next" in (tag.get("rel") or []) or _is_numbered_page(urlsplit(url).path, listing_path):
            yield urlunsplit(urlsplit(url)._replace(scheme=urlsplit(config.start_url).scheme))


def _is_numbered_page(path: str, listing_path: str) -> bool:
    """Whether ``path`` is WordPress pagination of the listing: ``<listing_path>page/N/``."""
    if not path.startswith(listing_path):
        return False
    rest = path[len(listing_path):].strip("/").split("/")
    return len(rest) == 2 and rest[0] == "page" and rest[1].isdigit()


# --- archiving -----------------------------------------------------------------------------------


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
    return [Discovered(url) for url, status in last_status.items()
            if url not in discovered and status not in GONE_STATUSES and any(
                e.get("url") == url and e.get("file") for e in entries)]


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
    if previous is None or inside(raw_dir, previous.get("file")) is None:
        return {}
    headers = {}
    if previous.get("etag"):
        headers["If-None-Match"] = previous["etag"]
    if previous.get("last_modified"):
        headers["If-Modified-Since"] = previous["last_modified"]
    return headers


def snapshot_path(raw_dir: Path, sha256: str) -> Path:
    """Where a body with this hash lives. Only a hex digest is accepted, so the name can neither
    leave ``raw_dir/pages`` nor collide with another body."""
    if not _SHA256.fullmatch(sha256):
        raise ValueError(f"not a sha256 hex digest: {sha256!r}")
    return Path(raw_dir) / PAGES_DIR / f"{sha256}.html"


def store_body(raw_dir: Path, body: bytes) -> tuple[str, str]:
    """Store ``body`` by content hash (once; the write is atomic) and return (sha256, path
    relative to ``raw_dir``)."""
    digest = hashlib.sha256(body).hexdigest()
    target = snapshot_path(raw_dir, digest)
    if not target.exists():
        _write_atomically(target, body)
    return digest, target.relative_to(raw_dir).as_posix()


def _write_atomically(target: Path, data: bytes) -> None:
    """Write to a temp file in the same directory, fsync, then rename over the target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes files owner-only; snapshots are shared data
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def append_manifest(raw_dir: Path, entry: dict) -> None:
    """Append one JSON line in a single write, flushed to disk, so a crash loses at most it."""
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    with open(Path(raw_dir) / MANIFEST_NAME, "ab") as handle:
        handle.write(line.encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())


def read_manifest(raw_dir: str | Path) -> list[dict]:
    """All manifest entries in order; a torn or corrupt line (e.g. from a crash) is skipped."""
    path = Path(raw_dir) / MANIFEST_NAME
    if not path.exists():
        return []
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            log.warning("%s:%d: unreadable manifest line skipped", path, number)
            continue
        if isinstance(entry, dict) and entry.get("url"):
            entries.append(entry)
    return entries


def last_good_entries(entries: Iterable[dict]) -> dict[str, dict]:
    """Per URL, the latest entry that points at a stored snapshot (a 200 or a 304)."""
    return {entry["url"]: entry for entry in entries if entry.get("sha256") and entry.get("file")}


# --- small helpers -------------------------------------------------------------------------------


def inside(raw_dir: Path, relative: str | None) -> Path | None:
    """``raw_dir / relative`` if that stays inside ``raw_dir`` (a manifest is data, not trusted)."""
    if not relative:
        return None
    candidate = raw_dir / relative
    if not candidate.resolve().is_relative_to(raw_dir.resolve()):
        return None
    return candidate


def _on_start_host(url: str, config: FetchConfig) -> bool:
    """Whether ``url`` is http(s) on the start URL's host and port."""
    return urlsplit(url).scheme in ("http", "https") and \
        _host_key(url) == _host_key(config.start_url)


def _host_key(url: str) -> tuple[str | None, int | None] | None:
    """(hostname, port) identifying a host; None for a URL with an invalid port."""
    parts = urlsplit(url)
    try:
        return parts.hostname, parts.port
    except ValueError:
        return None


def _without_fragment(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(fragment=""))


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _redirect_location(result: HttpResult) -> str | None:
    if result.status in (301, 302, 303, 307, 308) and result.error is None:
        return result.headers.get("location")
    return None


def _retryable(result: HttpResult) -> bool:
    return result.error == TIMEOUT or result.status == 429 or (result.status or 0) >= 500


def _failure(result: HttpResult) -> str:
    """A short description of why a result carries no usable body."""
    if result.error:
        return result.error
    if result.status != 200:
        return f"http {result.status}"
    return NOT_HTML


# --- bounded reading ------------------------------------------------------------------------------


class _Unreadable(Exception):
    """A body that was not read to the end; ``reason`` becomes the result's error."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _read_limited(response: httpx.Response, limit: int, deadline: _Deadline) -> bytes:
    """The decoded body, read and decoded a step at a time so that memory stays small.

    Raises ``_Unreadable`` as soon as the encoded body or any decoded layer of it exceeds
    ``limit`` bytes (a compression bomb stops there), when a coding is unknown or corrupt, or when
    the deadline passes between two chunks. httpx's own ``iter_bytes`` is not used: it decodes
    each network chunk in one go, so a few KB of ``gzip, gzip`` become gigabytes in one step.
    """
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _Unreadable(TOO_LARGE)
    chunks = _capped(response.iter_raw(), limit)
    for coding in reversed(_content_codings(response.headers)):
        chunks = _capped(_inflate(chunks, coding), limit)
    body = bytearray()
    for chunk in chunks:
        if deadline.expired():
            raise _Unreadable(deadline.reason())
        body += chunk
    return bytes(body)


def _content_codings(headers: httpx.Headers) -> list[str]:
    """The codings applied to the body, first applied first; raises ``_Unreadable`` for any we
    cannot decode within bounds."""
    codings = [value.strip().lower()
               for value in headers.get_list("content-encoding", split_commas=True)]
    codings = [coding for coding in codings if coding and coding != "identity"]
    unknown = [coding for coding in codings if coding not in _WBITS]
    if unknown:
        raise _Unreadable(f"unsupported content encoding {unknown[0]!r}")
    if len(codings) > MAX_CONTENT_CODINGS:
        raise _Unreadable(f"too many content encodings ({len(codings)})")
    return codings


def _capped(chunks: Iterable[bytes], limit: int) -> Iterator[bytes]:
    """Pass ``chunks`` through, raising ``_Unreadable(TOO_LARGE)`` once they exceed ``limit``."""
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise _Unreadable(TOO_LARGE)
        yield chunk


def _inflate(chunks: Iterable[bytes], coding: str) -> Iterator[bytes]:
    """Decode one gzip or deflate layer lazily, at most ``DECODE_STEP_BYTES`` per step.

    Input is only pulled when the decoder has produced everything it can from what it has, so the
    memory held is one input chunk and one output step, whatever the compression ratio. Data after
    the end of the compressed stream is ignored (as browsers and httpx do).
    """
    chunks = iter(chunks)
    head = b""
    wbits = _WBITS[coding]
    if coding == "deflate":  # "deflate" is meant to be zlib-wrapped; some servers send it raw
        for chunk in chunks:
            head += chunk
            if len(head) >= 2:
                break
        wbits = zlib.MAX_WBITS if _has_zlib_header(head) else -zlib.MAX_WBITS
    decoder = zlib.decompressobj(wbits)
    try:
        for data in itertools.chain([head], chunks):
            while data and not decoder.eof:
                step = decoder.decompress(data, DECODE_STEP_BYTES)
                data = decoder.unconsumed_tail
                if step:
                    yield step
            if decoder.eof:
                return
        rest = decoder.flush()  # at most one pending match (258 bytes) is left here
    except zlib.error:
        raise _Unreadable(f"corrupt {coding} body") from None
    if not decoder.eof:
        raise _Unreadable(f"truncated {coding} body")
    if rest:
        yield rest


def _has_zlib_header(data: bytes) -> bool:
    """Whether ``data`` starts with a zlib header (RFC 1950: method 8, check bits)."""
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


class _Deadline:
    """The moment one request must be over; sockets serving it shorten their timeouts to fit."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._at = time.monotonic() + seconds
        self._hit = False

    def expired(self) -> bool:
        return self._hit or time.monotonic() >= self._at

    def reason(self) -> str:
        return f"{DEADLINE_EXCEEDED} ({self.seconds:g}s)"

    def run(self, operation: Callable[[float | None], _T], timeout: float | None,
            timeout_error: type[Exception]) -> _T:
        """``operation(timeout)`` with the timeout cut to the time left; raises ``timeout_error``
        (an httpcore timeout, so httpx reports it as one) once the deadline has passed."""
        left = self._at - time.monotonic()
        if left <= 0:
            self._hit = True
            raise timeout_error(DEADLINE_EXCEEDED)
        cut = timeout is None or left < timeout
        try:
            return operation(left if cut else timeout)
        except httpcore.TimeoutException:
            self._hit = self._hit or cut
            raise


# The deadline of the request being made in this thread (None outside PoliteClient._attempt).
_CURRENT_DEADLINE: ContextVar[_Deadline | None] = ContextVar("request_deadline", default=None)


def _within_deadline(operation: Callable[[float | None], _T], timeout: float | None,
                     timeout_error: type[Exception]) -> _T:
    deadline = _CURRENT_DEADLINE.get()
    return operation(timeout) if deadline is None else deadline.run(operation, timeout,
                                                                     timeout_error)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read, write and TLS handshake ends by the current deadline, so a
    server trickling headers or body a byte at a time cannot hold a request past it."""

    def __init__(self, stream: httpcore.NetworkStream):
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return _within_deadline(lambda t: self._stream.read(max_bytes, t), timeout,
                                httpcore.ReadTimeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        _within_deadline(lambda t: self._stream.write(buffer, t), timeout, httpcore.WriteTimeout)

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(_within_deadline(
            lambda t: self._stream.start_tls(ssl_context, server_hostname, t), timeout,
            httpcore.ConnectTimeout))

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend with connections that obey the current request's deadline."""

    def __init__(self, backend: httpcore.NetworkBackend):
        self._backend = backend

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(_within_deadline(
            lambda t: self._backend.connect_tcp(host, port, t, local_address, socket_options),
            timeout, httpcore.ConnectTimeout))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(_within_deadline(
            lambda t: self._backend.connect_unix_socket(path, t, socket_options), timeout,
            httpcore.ConnectTimeout))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def http_client() -> httpx.Client:
    """The httpx client a crawl uses: its connections obey each request's deadline.

    httpx has no option for httpcore's network backend, so the pool's is wrapped in place (pinned
    httpx 0.28 / httpcore 1.0; the slow-server tests fail if this stops working). A client built
    this way does not use HTTP(S)_PROXY from the environment (httpx ignores it with a transport).
    """
    transport = httpx.HTTPTransport()
    pool = transport._pool
    pool._network_backend = _DeadlineBackend(pool._network_backend)
    return httpx.Client(transport=transport)
