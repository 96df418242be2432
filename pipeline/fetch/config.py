"""What shapes one crawl and what its outcomes are called: ``FetchConfig`` and its default limits,
the reasons a request yields no usable page, and ``Problem``, a URL the operator should look at."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_START_URL = "https://jaif.asean.org/beneficiaries_voice/"
USER_AGENT = "story-extractor/0.1 (+mailto:data-team@example.org)"
GONE_STATUSES = (404, 410)

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

# Refusals are deliberate policy decisions (counted as "skipped"); anything else that goes wrong
# with a request is a failure.
OFF_SITE = "url on other host"
REDIRECT_OFF_SITE = "redirect to other host"
REDIRECT_UNREADABLE = "redirect to an address that cannot be read"
DISALLOWED = "disallowed by robots.txt"
TOO_LARGE = "too large"
NOT_HTML = "not html"
REFUSALS = {OFF_SITE, REDIRECT_OFF_SITE, DISALLOWED, TOO_LARGE, NOT_HTML}
TIMEOUT = "timeout"
DEADLINE_EXCEEDED = "deadline exceeded"


@dataclass(frozen=True)
class FetchConfig:
    """Everything that shapes one crawl; the defaults are the polite production settings."""

    start_url: str = DEFAULT_START_URL
    delay: float = 1.0  # seconds between requests: one page a second is the usual polite pace for a small site
    connect_timeout: float = 20.0  # a slow institutional server can take this long to answer; longer is down
    read_timeout: float = 20.0
    deadline: float = DEFAULT_DEADLINE
    max_retries: int = 3  # with backoff 1, 2, 4 s: a brief outage passes, a lasting one is reported
    backoff_base: float = 1.0
    max_retry_wait: float = 120.0  # the longest wait before a retry; a longer Retry-After is cut to it
    max_crawl_delay: float = MAX_CRAWL_DELAY
    max_bytes: int = MAX_BODY_BYTES
    max_redirects: int = 5  # browsers allow about 20; a story page moved more than five times is a loop
    max_listing_pages: int = 200  # listing pages of about ten stories each: thousands of stories
    max_sitemaps: int = 50  # nested sitemaps read per crawl; a site with more is split by year at most
    user_agent: str = USER_AGENT

    def __post_init__(self) -> None:
        if urlsplit(self.start_url).scheme not in ("http", "https"):
            raise ValueError(f"start URL must be http(s): {self.start_url!r}")
        if not self.deadline > 0:
            raise ValueError(f"deadline must be > 0 seconds: {self.deadline!r}")


@dataclass(frozen=True)
class Problem:
    """Something a person running the crawl should know about one URL."""

    url: str
    reason: str
