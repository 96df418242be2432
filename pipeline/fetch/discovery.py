"""Finding the site's story URLs: its sitemaps (which give ``lastmod``) when it has any, else the
story listing and its pagination; and what counts as a story URL (``as_story_url``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator
from urllib.parse import urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup
from lxml import etree

from .client import PoliteClient, absolute_url, failure_reason, on_start_host
from .config import GONE_STATUSES, FetchConfig, Problem

OLD_STORY_PREFIX = "/support/beneficiaries-voice/"
SITEMAP_PATHS = ("/wp-sitemap.xml", "/sitemap_index.xml")
NOT_STORY_SEGMENTS = {"page", "feed"}
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


@dataclass(frozen=True)
class Discovered:
    """A story URL found on the site, with the sitemap's ``lastmod`` when it gave one."""

    url: str
    lastmod: str | None = None


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
    if not on_start_host(url, config):
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
            loc = absolute_url(url, loc)
            if loc is None:
                continue  # an address urllib cannot read is no page of the site
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
            found.problems.append(Problem(url, f"sitemap: {failure_reason(result)}"))
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
            found.problems.append(Problem(page, f"listing: {failure_reason(result)}"))
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
        if (url := absolute_url(base, anchor["href"])) is not None:
            yield url


def _pagination_links(soup: BeautifulSoup, base: str, config: FetchConfig) -> Iterator[str]:
    """Further listing pages on the host: ``rel="next"`` links and ``<start path>page/N/`` links."""
    listing_path = story_prefixes(config)[0]
    for tag in soup.find_all(["a", "link"], href=True):
        url = absolute_url(base, tag["href"])
        if url is None or not on_start_host(url, config):
            continue
        if "next" in (tag.get("rel") or []) or _is_numbered_page(urlsplit(url).path, listing_path):
            yield urlunsplit(urlsplit(url)._replace(scheme=urlsplit(config.start_url).scheme))


def _is_numbered_page(path: str, listing_path: str) -> bool:
    """Whether ``path`` is WordPress pagination of the listing: ``<listing_path>page/N/``."""
    if not path.startswith(listing_path):
        return False
    rest = path[len(listing_path):].strip("/").split("/")
    return len(rest) == 2 and rest[0] == "page" and rest[1].isdigit()
