"""The review report: a static HTML site that shows each article's text with everything extracted from it.

A reviewer checks a fact by reading its evidence, not by slicing offsets by hand. Every article gets a page:
its text with every extracted span highlighted by label (spaCy's displaCy, ``style="span"``, which stacks
overlapping spans), then a table per fact table (roles, countries, batches, dates, mentions) with the fact's
source (and ``confidence`` when the table has that column). Each highlighted span links to its row, and each
row links back to its span (anchors ``ev-<ref>`` on spans, ``fact-<ref>`` on rows). ``index.html`` lists the
articles with their counts per table.

Pages are named by ``article_id``; pages of articles no longer in the tables are removed, nothing else is.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
from spacy import displacy

from .evaluate import MissingTables

INDEX = "index.html"
PAGE_NAME = re.compile(r"^art_[0-9a-f]+\.html$")  # only these files are ever removed from the output folder
EXCERPT_CHARS = 80  # evidence shown in a fact's row; the whole span is one click away
BLOCK_BREAK = re.compile(r"\n\s*\n")  # articles.text separates its blocks with a blank line

# displaCy colours the label of a span by name; fact labels are lower-case so they never take a mention's colour.
MENTION_COLOURS = {"PERSON": "#ffd166", "TITLE": "#a0c4ff", "ORG": "#bdb2ff", "COUNTRY": "#9bf6ff",
                   "PROGRAMME": "#caffbf", "BATCH": "#fdffb6", "DATE": "#ffc6ff"}
FACT_COLOURS = {"fact:role": "#3a86ff", "fact:country": "#00b4d8", "fact:batch": "#8ac926", "fact:date": "#ff006e"}


@dataclass(frozen=True)
class FactTable:
    """How one table's rows appear on an article's page."""

    table: str
    ref_prefix: str  # a row's reference is this prefix and its number on the page: r1, c2, …
    label: str  # the label of its evidence span
    columns: tuple[str, ...]  # shown in this order; "person" is the person's name from `people`
    span_columns: tuple[str, str] = ("char_start", "char_end")


FACT_TABLES = (
    FactTable("roles", "r", "fact:role", ("person", "title", "org", "status", "start", "end")),
    FactTable("countries", "c", "fact:country", ("person", "country_iso3", "country_name")),
    FactTable("batches", "b", "fact:batch", ("person", "programme", "batch", "start_year", "end_year")),
    FactTable("dates", "d", "fact:date", ("text", "start", "end", "precision")),
    FactTable("mentions", "m", "", ("label", "text", "normalized", "person")),  # a mention's label is its own
)
REQUIRED_TABLES = ("articles", "people", *(fact.table for fact in FACT_TABLES))
OPTIONAL_COLUMNS = ("confidence",)  # shown when the table has it (a scorer may add it)


@dataclass
class ReportSummary:
    articles: int = 0
    spans: int = 0
    removed: int = 0  # pages of articles no longer in the tables

    def line(self) -> str:
        removed = f", {self.removed} stale pages removed" if self.removed else ""
        return f"report: {self.articles} article pages, {self.spans} highlighted spans{removed}"


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    label: str
    ref: str


def build_report(extracted: Path, out: Path) -> ReportSummary:
    """Write ``out/index.html`` and one page per article of the tables in ``extracted``."""
    extracted, out = Path(extracted), Path(out)
    missing = [name for name in REQUIRED_TABLES if not (extracted / f"{name}.parquet").exists()]
    if missing:
        raise MissingTables(f"{extracted}: no {', '.join(missing)} table; run `story-extractor extract` first")
    arrow = {name: pq.read_table(extracted / f"{name}.parquet") for name in REQUIRED_TABLES}
    tables = {name: table.to_pylist() for name, table in arrow.items()}
    names = {person["person_id"]: person["name"] for person in tables["people"]}
    facts_by_article: dict[str, dict[str, list[dict]]] = {}
    for fact in FACT_TABLES:
        for row in tables[fact.table]:
            facts_by_article.setdefault(row["article_id"], {}).setdefault(fact.table, []).append(row)
    optional = {fact.table: [c for c in OPTIONAL_COLUMNS if c in arrow[fact.table].column_names] for fact in FACT_TABLES}

    out.mkdir(parents=True, exist_ok=True)
    summary = ReportSummary()
    articles = sorted(tables["articles"], key=lambda a: (str(a["published"] or ""), a["title"] or "", a["article_id"]))
    index_rows = []
    for article in articles:
        facts = facts_by_article.get(article["article_id"], {})
        page, spans = _article_page(article, facts, names, optional)
        (out / f"{article['article_id']}.html").write_text(page, encoding="utf-8")
        summary.articles += 1
        summary.spans += spans
        index_rows.append((article, {fact.table: len(facts.get(fact.table, [])) for fact in FACT_TABLES}))
    written = {f"{article['article_id']}.html" for article in articles}
    for stale in out.iterdir():
        if PAGE_NAME.match(stale.name) and stale.name not in written:
            stale.unlink()
            summary.removed += 1
    (out / INDEX).write_text(_index_page(index_rows, extracted), encoding="utf-8")
    return summary


def _article_page(article: dict, facts: dict[str, list[dict]], names: dict[str, str],
                  optional: dict[str, list[str]]) -> tuple[str, int]:
    """The page's HTML and how many spans it highlights."""
    text = article["text"]
    spans: list[_Span] = []
    sections = []
    for fact in FACT_TABLES:
        rows = sorted(facts.get(fact.table, []), key=lambda r: (r[fact.span_columns[0]], r[fact.span_columns[1]]))
        refs = [f"{fact.ref_prefix}{number}" for number in range(1, len(rows) + 1)]
        for row, ref in zip(rows, refs):
            start, end = row[fact.span_columns[0]], row[fact.span_columns[1]]
            spans.append(_Span(start, end, fact.label or row["label"], ref))
        sections.append(_fact_section(fact, rows, refs, text, names, optional[fact.table]))
    body = _highlighted_text(text, spans)
    gone = f'<p class="gone">Gone from the site since {html.escape(str(article["gone_at"]))}.</p>' if article["gone_at"] else ""
    source = article["url"] or article["source_path"]
    head = (f'<p><a href="{INDEX}">← all articles</a></p>\n<h1>{html.escape(article["title"] or article["article_id"])}</h1>\n'
            f'<p class="meta">{html.escape(str(article["published"] or "undated"))} · '
            f'<code>{html.escape(article["article_id"])}</code> · {html.escape(source)}</p>\n{gone}')
    legend = " ".join(f'<span class="chip" style="background:{colour}">{html.escape(label)}</span>'
                      for label, colour in {**MENTION_COLOURS, **FACT_COLOURS}.items())
    content = (f'{head}<h2>Text</h2>\n<p class="legend">Labels: {legend}. Each label links to its row below; '
               f'each row links back here.</p>\n{body}\n' + "\n".join(sections))
    return _page(article["title"] or article["article_id"], content), len(spans)


def _highlighted_text(text: str, spans: list[_Span]) -> str:
    """displaCy span markup of the text, block by block, with an anchor ``ev-<ref>`` on each span's label."""
    colours = {**MENTION_COLOURS, **FACT_COLOURS}
    blocks = []
    position = 0
    for separator in [*BLOCK_BREAK.finditer(text), None]:
        block_end = separator.start() if separator else len(text)
        blocks.append(_render_block(text, position, block_end, spans, colours))
        position = separator.end() if separator else len(text)
    markup = "\n".join(blocks)
    for span in spans:  # the first start of each span (a span may cross blocks) becomes its anchor
        markup = markup.replace(f'href="#fact-{span.ref}"', f'id="ev-{span.ref}" href="#fact-{span.ref}"', 1)
    return markup


def _render_block(text: str, block_start: int, block_end: int, spans: list[_Span], colours: dict[str, str]) -> str:
    inside = [span for span in spans if span.start < block_end and span.end > block_start]
    cuts = {max(span.start, block_start) for span in inside} | {min(span.end, block_end) for span in inside}
    tokens = _tokens(text, block_start, block_end, cuts)
    rendered_spans = []
    for span in inside:
        covered = [i for i, (start, end) in enumerate(tokens) if start < span.end and end > span.start]
        if covered:
            rendered_spans.append({"start_token": covered[0], "end_token": covered[-1] + 1, "label": span.label,
                                   "kb_id": span.ref, "kb_url": f"#fact-{span.ref}"})
    parsed = {"text": text[block_start:block_end], "tokens": [text[start:end] for start, end in tokens],
              "spans": rendered_spans}
    return displacy.render(parsed, style="span", manual=True, options={"colors": colours})


def _tokens(text: str, block_start: int, block_end: int, cuts: set[int]) -> list[tuple[int, int]]:
    """Words of the block (runs of non-space), cut again at every span boundary so spans cover whole tokens."""
    tokens = []
    for word in re.finditer(r"\S+", text[block_start:block_end]):
        start, end = word.start() + block_start, word.end() + block_start
        points = sorted({start, end, *(cut for cut in cuts if start < cut < end)})
        tokens += zip(points, points[1:])
    return tokens


def _fact_section(fact: FactTable, rows: list[dict], refs: list[str], text: str, names: dict[str, str],
                  optional: list[str]) -> str:
    columns = [*fact.columns, "source", *optional]
    header = "".join(f"<th>{html.escape(c)}</th>" for c in ["ref", *columns, "evidence"])
    lines = []
    for row, ref in zip(rows, refs):
        start, end = row[fact.span_columns[0]], row[fact.span_columns[1]]
        values = [names.get(row.get("person_id"), "") if c == "person" else row.get(c) for c in columns]
        excerpt = text[start:end]
        if len(excerpt) > EXCERPT_CHARS:
            excerpt = excerpt[:EXCERPT_CHARS] + "…"
        cells = "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in values)
        lines.append(f'<tr id="fact-{ref}"><td>{ref}</td>{cells}'
                     f'<td><a href="#ev-{ref}">{html.escape(excerpt)}</a> <small>[{start}:{end}]</small></td></tr>')
    table = (f'<table class="facts"><thead><tr>{header}</tr></thead><tbody>\n' + "\n".join(lines) + "\n</tbody></table>"
             if rows else "<p>none</p>")
    return f'<h2 id="{fact.table}">{fact.table} ({len(rows)})</h2>\n{table}'


def _index_page(rows: list[tuple[dict, dict[str, int]]], extracted: Path) -> str:
    header = "".join(f"<th>{name}</th>" for name in ("article", "published", *(f.table for f in FACT_TABLES)))
    lines = []
    totals = dict.fromkeys((f.table for f in FACT_TABLES), 0)
    for article, counts in rows:
        link = f'<a href="{article["article_id"]}.html">{html.escape(article["title"] or article["article_id"])}</a>'
        gone = " <small>(gone)</small>" if article["gone_at"] else ""
        cells = "".join(f'<td class="n">{counts[name]}</td>' for name in totals)
        lines.append(f"<tr><td>{link}{gone}</td><td>{html.escape(str(article['published'] or ''))}</td>{cells}</tr>")
        for name in totals:
            totals[name] += counts[name]
    total_cells = "".join(f'<td class="n">{count}</td>' for count in totals.values())
    content = (f"<h1>Review report</h1>\n<p>{len(rows)} articles from <code>{html.escape(str(extracted))}</code>. "
               f"Each page shows an article's text with every extracted span highlighted, and its facts with their "
               f"source and evidence.</p>\n<table class=\"facts\"><thead><tr>{header}</tr></thead><tbody>\n"
               + "\n".join(lines) + f"\n<tr class=\"total\"><td>total</td><td></td>{total_cells}</tr>\n</tbody></table>")
    return _page("Review report", content)


STYLE = """body{font-family:system-ui,sans-serif;max-width:72rem;margin:1rem auto;padding:0 1rem;color:#222}
table.facts{border-collapse:collapse;font-size:.9em;margin-bottom:1.5rem}
table.facts th,table.facts td{border:1px solid #ccc;padding:.2rem .4rem;text-align:left;vertical-align:top}
td.n{text-align:right} tr.total{font-weight:bold} tr:target{background:#fff3b0}
.chip{padding:0 .3rem;border-radius:.3rem;font-size:.8em} .meta{color:#555} .gone{color:#b00}
.spans{border-left:3px solid #eee;padding-left:.6rem;margin-bottom:.4rem} .spans span{white-space:nowrap}"""


def _page(title: str, content: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
            f"<style>\n{STYLE}\n</style>\n</head>\n<body>\n{content}\n</body>\n</html>\n")
