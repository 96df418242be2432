"""A small fake of the JAIF "Beneficiaries' Voice" site, served on 127.0.0.1 by pytest-httpserver.

The site is plain mutable state (routes, listing pages, one-shot responses) read by a single
catch-all handler on every request, so a test can crawl, change the site, and crawl again.
Story pages answer conditional requests (ETag / If-None-Match) with 304 like the real server.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from html import escape

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

LISTING = "/beneficiaries_voice/"
LAST_MODIFIED = "Wed, 12 Mar 2025 08:00:00 GMT"


@dataclass
class Route:
    """One canned response."""

    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    chunked: bool = False  # stream the body without a Content-Length


def story_html(title: str, date: str, paragraphs: list[str]) -> bytes:
    """A story page shaped like the real ones: ``<h1>``, a ``<time>``, body ``<p>``s."""
    body = "\n".join(f"    <p>{escape(text)}</p>" for text in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head><meta charset="UTF-8">
<title>{escape(title)} &#8211; Japan-ASEAN Integration Fund</title></head>
<body class="single single-beneficiaries_voice">
<nav><a href="/">Home</a> <a href="/beneficiaries_voice/">Beneficiaries' Voice</a></nav>
<article>
  <header class="entry-header">
    <h1 class="entry-title">{escape(title)}</h1>
    <time class="entry-date published" datetime="{date}">{date}</time>
  </header>
  <div class="entry-content">
{body}
  </div>
</article>
</body>
</html>
""".encode()


STORIES = {
    "enhancing-the-role-of-youth-in-peacebuilding": (
        "Enhancing the Role of Youth in Peacebuilding", "2025-03-12",
        ["Young people aged 15 to 24 met in Jakarta on 12 March 2025.",
         "The workshop was supported by the Japan-ASEAN Integration Fund."]),
    "asean-deepens-integration-through-the-attachment-programme": (
        "ASEAN Deepens Integration Through the Attachment Programme", "2019-09-29",
        ["H.E. Ekkaphab Phanthavong took part in the 8th Batch (2006-2007).",
         "He is now Permanent Representative of Lao PDR to ASEAN."]),
    "narrowing-the-gap-among-universities-in-the-mekong-region": (
        "Narrowing the Gap Among Universities in the Mekong Region", "2019-06-15",
        ["Prof. Nguyen Van A, Rector of a university in Viet Nam, joined in 2018."]),
    "mainstreaming-the-rights-of-persons-with-disabilities": (
        "Mainstreaming the Rights of Persons with Disabilities", "2020-11-02",
        ["Ms. Maria Santos from the Philippines spoke at the regional forum in 2020."]),
}
DISALLOWED_STORY = "/beneficiaries_voice/staff-only-draft/"
PDF_PATH = "/beneficiaries_voice/jaif-annual-report-2019.pdf"
OLD_STORY = ("/support/beneficiaries-voice/"
             "narrowing-the-gap-among-universities-in-the-mekong-region.html")


def story_path(slug: str) -> str:
    return f"{LISTING}{slug}/"


class FixtureSite:
    """The fake site. ``pages`` lists the story links of each listing page (page 1 first)."""

    def __init__(self, server: HTTPServer, *, sitemap: bool = False,
                 crawl_delay: float | None = None):
        self.server = server
        self.routes: dict[str, Route] = {}
        self.one_shot: dict[str, list[Route]] = {}
        self.sitemap_only: list[str] = []
        slugs = list(STORIES)
        self.pages: list[list[str]] = [
            [story_path(slugs[0]), story_path(slugs[1]), OLD_STORY],
            [story_path(slugs[3]), DISALLOWED_STORY, PDF_PATH],
        ]
        for slug, (title, date, paragraphs) in STORIES.items():
            self.routes[story_path(slug)] = Route(story_html(title, date, paragraphs))
        self.redirect(OLD_STORY, story_path(slugs[2]))
        self.routes[DISALLOWED_STORY] = Route(story_html("Draft", "2025-01-01", ["Internal."]))
        self.routes[PDF_PATH] = Route(b"%PDF-1.4 fake", content_type="application/pdf")
        self.routes["/robots.txt"] = Route(self._robots(sitemap, crawl_delay).encode(),
                                           content_type="text/plain")
        self.with_sitemap = sitemap
        server.expect_request(re.compile(".*")).respond_with_handler(self._handle)

    # --- building the site ------------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.server.url_for(path)

    def add_story(self, slug: str, title: str, date: str, paragraphs: list[str]) -> str:
        """Publish a new story at the top of listing page 1 (and in the sitemap)."""
        path = story_path(slug)
        self.routes[path] = Route(story_html(title, date, paragraphs))
        self.pages[0].insert(0, path)
        return path

    def link(self, path: str, route: Route | None = None) -> None:
        """Add a link to ``path`` on listing page 2, optionally serving ``route`` there."""
        self.pages[1].append(path)
        if route is not None:
            self.routes[path] = route

    def redirect(self, path: str, location: str, status: int = 301) -> None:
        self.routes[path] = Route(status=status, headers={"Location": location})

    def then(self, path: str, *routes: Route) -> None:
        """Serve ``routes`` once each, in order, before ``path``'s normal route."""
        self.one_shot.setdefault(path, []).extend(routes)

    # --- what the crawler did ---------------------------------------------------------------

    def requests(self) -> list[Request]:
        return [request for request, _ in self.server.log]

    def requested_paths(self) -> list[str]:
        return [request.path for request in self.requests()]

    def statuses(self, path: str) -> list[int]:
        return [response.status_code for request, response in self.server.log
                if request.path == path]

    # --- serving ------------------------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        queued = self.one_shot.get(request.path)
        route = queued.pop(0) if queued else self._route(request.path)
        if route is None:
            return Response("not found", status=404, content_type="text/html")
        time.sleep(route.delay)
        headers = dict(route.headers)
        if route.status == 200 and route.content_type.startswith("text/html"):
            etag = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"'
            headers.update({"ETag": etag, "Last-Modified": LAST_MODIFIED})
            if request.headers.get("If-None-Match") == etag:
                return Response(status=304, headers=headers)
        body = _chunks(route.body) if route.chunked else route.body
        return Response(body, status=route.status, headers=headers,
                        content_type=route.content_type)

    def _route(self, path: str) -> Route | None:
        if path in self.routes:
            return self.routes[path]
        listing = [LISTING] + [f"{LISTING}page/{n}/" for n in range(2, len(self.pages) + 1)]
        if path in listing:
            return Route(self._listing_html(listing.index(path), listing))
        if self.with_sitemap and path == "/wp-sitemap.xml":
            return Route(self._sitemap_index(), content_type="application/xml")
        if self.with_sitemap and path == "/wp-sitemap-posts-beneficiaries_voice-1.xml":
            return Route(self._story_sitemap(), content_type="application/xml")
        if self.with_sitemap and path == "/wp-sitemap-posts-page-1.xml":
            return Route(_urlset([(self.url("/about/"), None)]), content_type="application/xml")
        return None

    def _robots(self, sitemap: bool, crawl_delay: float | None) -> str:
        lines = ["User-agent: *", f"Disallow: {DISALLOWED_STORY}", "Disallow: /wp-admin/"]
        if crawl_delay is not None:
            lines.append(f"Crawl-delay: {crawl_delay}")
        if sitemap:
            lines.append(f"Sitemap: {self.url('/wp-sitemap.xml')}")
        return "\n".join(lines) + "\n"

    def _listing_html(self, index: int, listing: list[str]) -> bytes:
        items = "\n".join(f'<li><a href="{path}">{path}</a> <a href="{path}#comments">0</a></li>'
                          for path in self.pages[index])
        head_next = nav = ""
        if index + 1 < len(listing):
            head_next = f'<link rel="next" href="{self.url(listing[index + 1])}">'
            nav += f'<a class="next page-numbers" rel="next" href="{listing[index + 1]}">Next</a>'
        if index > 0:
            nav += f'<a class="prev page-numbers" rel="prev" href="{listing[index - 1]}">Prev</a>'
        return f"""<!DOCTYPE html>
<html><head><title>Beneficiaries' Voice</title>{head_next}</head>
<body>
<nav><a href="/">Home</a> <a href="/about/">About</a>
<a href="https://www.asean.org/">ASEAN</a></nav>
<h1>Beneficiaries' Voice</h1>
<ul class="stories">
{items}
</ul>
<div class="pagination">{nav}</div>
</body></html>
""".encode()

    def _sitemap_index(self) -> bytes:
        names = ["/wp-sitemap-posts-page-1.xml", "/wp-sitemap-posts-beneficiaries_voice-1.xml"]
        entries = "".join(f"<sitemap><loc>{self.url(name)}</loc></sitemap>" for name in names)
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<?xml-stylesheet type="text/xsl" href="/wp-sitemap-index.xsl" ?>\n'
                '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"{entries}</sitemapindex>").encode()

    def _story_sitemap(self) -> bytes:
        paths = [p for page in self.pages for p in page if p != OLD_STORY]
        paths += [story_path(list(STORIES)[2])] + self.sitemap_only
        entries = [(self.url(path), f"2025-03-{10 + i:02d}T08:00:00+00:00")
                   for i, path in enumerate(paths)]
        entries.append(("https://www.asean.org/beneficiaries_voice/elsewhere/", None))
        return _urlset(entries)


def _urlset(entries: list[tuple[str, str | None]]) -> bytes:
    items = "".join(f"<url><loc>{escape(loc)}</loc>"
                    + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "") + "</url>"
                    for loc, lastmod in entries)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</urlset>'
            ).encode()


def _chunks(body: bytes, size: int = 1024):
    for start in range(0, len(body), size):
        yield body[start:start + size]
