"""The polite HTTP client every request of a crawl goes through: one host, robots.txt and its
Crawl-delay, one request at a time with a delay, redirects checked hop by hop, retries with backoff
and Retry-After, each request bounded in size (``body``) and in time (``deadline``)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from protego import Protego

from .body import ACCEPT_ENCODING, read_limited, Unreadable
from .config import DISALLOWED, NOT_HTML, OFF_SITE, REDIRECT_OFF_SITE, REDIRECT_UNREADABLE, TIMEOUT, FetchConfig
from .deadline import CURRENT_DEADLINE, Deadline

log = logging.getLogger("pipeline.fetch")  # one logger, named after the stage, for all its modules

HTML_TYPES = ("text/html", "application/xhtml+xml")

Sleep = Callable[[float], None]


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
            try:
                self._robots = self._load_robots()
            except BaseException:
                self._robots = None  # never left without rules: read again on the next request
                raise
            self._crawl_delay = self._capped_crawl_delay(self._robots)
        return self._robots

    def on_site(self, url: str) -> bool:
        """Whether ``url`` is http(s) on the start host, the only place this crawler goes."""
        return on_start_host(url, self._config)

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
        log.warning("robots.txt unavailable (%s): fetching nothing", failure_reason(result))
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
            target = absolute_url(target, location)
            if target is None:
                return replace(result, url=url, error=REDIRECT_UNREADABLE)
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
            log.info("retrying %s in %.1fs (%s)", url, wait, failure_reason(result))
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
        deadline = Deadline(self._config.deadline)
        token = CURRENT_DEADLINE.set(deadline)
        try:
            with self._client.stream("GET", url, headers=request_headers, timeout=self._timeout,
                                     follow_redirects=False) as response:
                return self._read(url, response, body_types, deadline)
        except httpx.TimeoutException:
            return HttpResult(url, error=deadline.reason() if deadline.expired() else TIMEOUT)
        except httpx.TransportError as exc:
            return HttpResult(url, error=f"network error ({type(exc).__name__})")
        finally:
            CURRENT_DEADLINE.reset(token)

    def _read(self, url: str, response: httpx.Response, body_types: tuple[str, ...] | None,
              deadline: Deadline) -> HttpResult:
        """Turn a streamed response into a result, decoding at most ``max_bytes`` of a body."""
        result = HttpResult(url, response.status_code, httpx.Headers(response.headers))
        wanted = body_types is None or _media_type(result.content_type) in body_types
        if response.status_code != 200 or not wanted:
            return result
        try:
            body = read_limited(response, self._config.max_bytes, deadline)
        except Unreadable as unreadable:
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


def on_start_host(url: str, config: FetchConfig) -> bool:
    """Whether ``url`` is http(s) on the start URL's host and port."""
    key = _host_key(url)
    return key is not None and key == _host_key(config.start_url)


def _host_key(url: str) -> tuple[str | None, int | None] | None:
    """(hostname, port) identifying an http(s) host; None for another scheme or a URL urllib cannot read (an
    invalid port, a bracketed host that is no IPv6 address)."""
    try:
        parts = urlsplit(url)
        return (parts.hostname, parts.port) if parts.scheme in ("http", "https") else None
    except ValueError:
        return None


def absolute_url(base: str, href: str) -> str | None:
    """``href`` read against ``base``, without its fragment; None when urllib cannot read it ("http://[x/"), so
    one mangled link on a page costs that link, not the run."""
    try:
        return without_fragment(urljoin(base, href))
    except ValueError:
        return None


def without_fragment(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(fragment=""))


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _redirect_location(result: HttpResult) -> str | None:
    if result.status in (301, 302, 303, 307, 308) and result.error is None:
        return result.headers.get("location")
    return None


def _retryable(result: HttpResult) -> bool:
    return result.error == TIMEOUT or result.status == 429 or (result.status or 0) >= 500


def failure_reason(result: HttpResult) -> str:
    """A short description of why a result carries no usable body."""
    if result.error:
        return result.error
    if result.status != 200:
        return f"http {result.status}"
    return NOT_HTML
