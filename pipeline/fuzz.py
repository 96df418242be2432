"""fuzz: a seeded generator of bad pages (with good ones mixed in) and a runner that looks for crashes, hangs
and pages that are neither extracted nor reported.

``python -m pipeline.fuzz --pages 5000`` (``make fuzz``) writes the pages under ``build/fuzz/raw``, then

1. runs every page on its own through ``run.extract_corpus`` in worker processes, each page under a time limit,
   so a crash or a hang is pinned on one page and its kind;
2. runs the real command, ``python -m pipeline extract``, once over the whole folder, the way a user would,
   and checks that every page is either extracted (its article is in the tables) or reported (a
   ``failed: <file>: <reason>`` line), and that every good page landed.

The same generator feeds ``tests/test_fuzz.py`` at a few hundred medium-size pages.

Bad pages are built from the bundled sample page (``raw/*.html``) and the development pages
(``tests/devset/raw``), read at run time, so no page text lives in this file. Every page derived from a
source page gets a canonical URL of its own (``https://fuzz.invalid/<file>/``): two files declaring one URL
are one article, a case ``tests/test_fuzz.py`` tests on its own, and here it would mask every other finding.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Callable

from .engine import PROCESSES_ENV

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "raw"
DEVSET_DIR = ROOT / "tests" / "devset" / "raw"
FUZZ_HOST = "https://fuzz.invalid"
GOOD_PREFIX = "good-"
BAD_PREFIX = "fuzz-"  # sorts before GOOD_PREFIX: a bad page never claims a good page's related stories first
FAILED_LINE = re.compile(r"^failed: (?P<path>.+?): (?P<reason>.*)$")
# any module of the pipeline: the page work moved from run.py to pagework.py, and a pattern naming one module
# read the other's caught traceback as a crash
INTERNAL_ERROR_LINE = re.compile(r"^ERROR pipeline\.\w+: (?:parsing|extraction) failed for (?P<path>.+)$")
# A page whose worker spends more CPU time than this is a hang. The largest pages written here are 1 MB, and
# the budget for a 1 MB page is 30 s (issue 11's bound; make bench measures it); good story pages take under
# 1 s. CPU time, not wall time: on a shared machine a page waiting for a core is not hanging.
DEFAULT_HANG_SECONDS = 30.0
# A worker that sleeps or waits instead (a lock, a pipe) is a hang too, once it has used no CPU time at all for
# this many times the limit. A worker starved by other jobs still gets some CPU time every few seconds, so it
# is not taken for one waiting forever (a first version counted wall time and killed starved workers).
WALL_HANG_FACTOR = 4
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PROGRESS_EVERY = 250  # pages between two progress lines
CORPUS_SLACK = 3  # the whole-folder run may take this many times the page-by-page work before it is a hang


@dataclass(frozen=True)
class Scale:
    """How big the big pages get: the test keeps them medium, ``make fuzz`` goes to the sizes of the audit."""

    huge_line: int  # bytes on the one line of a huge-line page
    depth: int  # nesting levels of a deep-nesting page
    width: int  # sibling elements of a wide page


MEDIUM = Scale(huge_line=64 * 1024, depth=500, width=1_000)
FULL = Scale(huge_line=1024 * 1024, depth=20_000, width=10_000)


@dataclass(frozen=True)
class Sources:
    """Pages the mutations start from, read from disk (never copied into code)."""

    sample: list[bytes]
    devset: dict[str, bytes]  # file name → bytes

    @classmethod
    def load(cls, sample_dir: Path = SAMPLE_DIR, devset_dir: Path = DEVSET_DIR) -> "Sources":
        sample = [p.read_bytes() for p in sorted(sample_dir.glob("*.html"))]
        devset = {p.name: p.read_bytes() for p in sorted(devset_dir.glob("*.html"))}
        if not sample or not devset:
            raise FileNotFoundError(f"fuzz needs source pages in {sample_dir} and {devset_dir}")
        return cls(sample, devset)

    def any_page(self, rng: random.Random) -> bytes:
        return rng.choice(self.sample + list(self.devset.values()))


@dataclass(frozen=True)
class FuzzPage:
    name: str
    kind: str

    @property
    def good(self) -> bool:
        return self.name.startswith(GOOD_PREFIX)


# --- page kinds: (rng, sources, scale, name) → bytes ------------------------------------------------------

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa "
         "quebec romeo sierra tango uniform victor whiskey xray yankee zulu programme batch officer ministry "
         "joined served training alumni from to in since year").split()
ODD_CHARACTERS = [
    "\u200f", "\u200e", "\u202e", "\u202d", "\u2066", "\u2069",  # RTL/LTR marks, overrides and isolates
    "\u200d", "\u200c", "\u200b", "\u2060", "\ufeff",  # zero-width joiner, non-joiner, space, word joiner, BOM
    "e\u0301", "a\u0308\u0301\u0323\u0331", "\u0336" * 8,  # combining marks, stacked
    "\U0001F469\u200d\U0001F52C", "\U0001F1EF\U0001F1F5", "\U0001F44D\U0001F3FD", "\U0001F600",  # emoji, ZWJ, flags
    "\u2028", "\u2029", "\u00a0", "\u3000", "\uff21\uff22", "\ufffd", "\U000E0041",  # separators, fullwidth, tags
    "&#xD800;", "&#0;", "&#x110000;", "&#65279;", "&bogus;",  # entities for a lone surrogate, NUL, out of range
]
LONE_SURROGATES = [b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xed\xb2\x80"]  # UTF-16 surrogates as (invalid) UTF-8 bytes
SOUP_TAGS = ["<p>", "</p>", "<div>", "</div>", "<table>", "<tr>", "<td>", "</table>", "<h1>", "</h3>", "<li>",
             "<ul>", "<article>", "</article>", "<script>", "<style>", "<!--", "-->", "<![CDATA[", "]]>",
             "<a href=\"x", "<br/>", "</body>", "<html>", "<head>", "<meta charset=\"utf-16\">", "<svg>", "<template>",
             "<p class=\"entry-content\">", "<h3>Related</h3>", "<time datetime=\"9999-99-99\">"]
ODD_VALUES = ["Batch 99999999999", "batch 2147483648", "the 40000th batch", "in 99999", "from 2019 to 1850",
              "31 February 2020", "0000-00-00", "32/13/2020", "since 10000", "Cohort -3", "on 1 January 0001",
              "(2019-2018)", "Batch 0 (0-0)", "between 1900 and 2100", "the 1st 2nd 3rd batch", "-5 May 2020"]
CHARSETS_DECLARED = ["utf-8", "shift_jis", "iso-8859-1", "utf-16", "koi8-r", "x-bogus-charset", "windows-1252", ""]
NON_ASCII_WORDS = ["Caf\u00e9", "na\u00efve", "\u00c5ngstr\u00f6m", "\u6771\u4eac", "\u30c6\u30b9\u30c8",
                   "\u20ac5", "\u2013", "\u201cquoted\u201d", "\u0110\u1ea1i", "\u0e44\u0e17\u0e22"]


def _words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(count))


def _story(rng: random.Random, paragraphs: int = 3) -> str:
    """Invented text shaped like a story: a heading and paragraphs with capitalised names and years."""
    name = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()}"
    body = "".join(f"<p>{name} {_words(rng, rng.randint(8, 30))} {rng.randint(1990, 2030)}.</p>\n"
                   for _ in range(paragraphs))
    return f"<h1>{_words(rng, 4).title()}</h1>\n{body}"


def _page(body: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html><head>{head}<title>Fuzz</title></head><body>{body}</body></html>"


def _retarget(data: bytes, name: str) -> bytes:
    """The page with its canonical and og:url addresses replaced by one unique to ``name``."""
    url = f"{FUZZ_HOST}/{name}/".encode()
    data = re.sub(rb'(<link\b[^>]*rel="canonical"[^>]*href=")[^"]*', lambda m: m.group(1) + url, data)
    return re.sub(rb'(<meta\b[^>]*property="og:url"[^>]*content=")[^"]*', lambda m: m.group(1) + url, data)


def _source(rng: random.Random, sources: Sources, name: str) -> bytes:
    return _retarget(sources.any_page(rng), name)


def truncated(rng, sources, scale, name) -> bytes:
    data = _source(rng, sources, name)
    return data[:rng.randint(1, len(data) - 1)]


def random_bytes(rng, sources, scale, name) -> bytes:
    size = rng.randint(1, min(scale.huge_line, 64 * 1024))
    data = rng.randbytes(size)
    if rng.random() < 0.5:  # markup around it, so it gets past the "is this HTML" check
        return b"<html><body><h1>" + rng.randbytes(rng.randint(0, 40)) + b"</h1><p>" + data + b"</p></body></html>"
    return data


def deep_nesting(rng, sources, scale, name) -> bytes:
    depth = rng.randint(scale.depth // 4, scale.depth)
    opening, closing = rng.choice([("<div>", "</div>"), ("<table><tr><td>", "</td></tr></table>"),
                                   ("<ul><li>", "</li></ul>"), ("<span><b><i>", "</i></b></span>"),
                                   ("<blockquote>", "</blockquote>"), ("<p>", "</p>")])
    inner = _story(rng)
    closed = closing * depth if rng.random() < 0.5 else ""  # unclosed half the time
    return _page(opening * depth + inner + closed).encode()


def huge_line(rng, sources, scale, name) -> bytes:
    size = rng.randint(scale.huge_line // 2, scale.huge_line)
    style = rng.choice(["words", "one-token", "digits", "punctuation", "attribute"])
    if style == "words":
        line = _words(rng, size // 6)
    elif style == "one-token":
        line = "x" * size
    elif style == "digits":
        line = "".join(rng.choice("0123456789 -/") for _ in range(size))
    elif style == "punctuation":
        line = ("Mr. " * (size // 4))
    else:
        return _page(f'<p data-x="{"a" * size}">{_words(rng, 20)}</p>', "").replace("\n", " ").encode()
    return _page(f"<h1>{_words(rng, 3)}</h1><p>{line}</p>").encode()


def wide(rng, sources, scale, name) -> bytes:
    tag = rng.choice(["p", "li", "td", "h3", "div"])
    count = rng.randint(scale.width // 4, scale.width)
    return _page("".join(f"<{tag}>{_words(rng, rng.randint(0, 4))}</{tag}>" for _ in range(count))).encode()


def _transcode(rng, sources, name, encoding: str, declared: str | None, bom: bool = False) -> bytes:
    text = _source(rng, sources, name).decode("utf-8", "replace")
    text = re.sub(r'<meta charset="[^"]*">', "", text, flags=re.I)
    for _ in range(rng.randint(1, 8)):  # some characters the target encoding has to carry (or cannot)
        at = text.find("</p>", rng.randrange(len(text)))
        if at > 0:
            text = text[:at] + " " + rng.choice(NON_ASCII_WORDS) + text[at:]
    if declared is not None:
        text = text.replace("<head>", f'<head><meta charset="{declared}">', 1)
    codec = {"utf-16": "utf-16-le"}.get(encoding, encoding)
    data = text.encode(codec, errors="xmlcharrefreplace")
    if bom:
        data = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff", "utf-8": b"\xef\xbb\xbf"}[codec] + data
    return data


def lying_charset(rng, sources, scale, name) -> bytes:
    encoding = rng.choice(["windows-1252", "shift_jis", "utf-8", "utf-16-le", "utf-16-be", "koi8-r"])
    declared = rng.choice([c for c in CHARSETS_DECLARED if c.replace("-", "_") != encoding.replace("-", "_")])
    return _transcode(rng, sources, name, encoding, declared)


def honest_charset(rng, sources, scale, name) -> bytes:
    encoding, declared, bom = rng.choice([("windows-1252", "windows-1252", False), ("shift_jis", "shift_jis", False),
                                          ("utf-16-le", "utf-16", True), ("utf-16-be", "utf-16", True),
                                          ("utf-16-le", None, True), ("utf-16-le", None, False),
                                          ("utf-16-be", None, False), ("utf-8", None, True)])
    return _transcode(rng, sources, name, encoding, declared, bom)


def nul_bytes(rng, sources, scale, name) -> bytes:
    data = bytearray(_source(rng, sources, name))
    for _ in range(rng.randint(1, 50)):
        data[rng.randrange(len(data)):0] = b"\x00" * rng.randint(1, 4)
    return bytes(data)


def odd_unicode(rng, sources, scale, name) -> bytes:
    pieces = re.split(rb"(>[^<]+<)", _source(rng, sources, name))  # text between tags gets the odd characters
    for index in range(1, len(pieces), 2):
        if rng.random() < 0.5:
            continue
        text = pieces[index].decode("utf-8", "replace")
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(1, len(text))
            text = text[:at] + rng.choice(ODD_CHARACTERS) + text[at:]
        piece = text.encode("utf-8")
        if rng.random() < 0.2:
            at = rng.randrange(1, len(piece))
            piece = piece[:at] + rng.choice(LONE_SURROGATES) + piece[at:]
        pieces[index] = piece
    return b"".join(pieces)


def odd_values(rng, sources, scale, name) -> bytes:
    """A story whose numbers and dates are out of every range: int overflow, impossible dates, reversed spans."""
    name_ = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()}"
    body = "".join(f"<p>{name_}, Officer at the Ministry of {rng.choice(WORDS).title()}, {rng.choice(ODD_VALUES)} "
                   f"{_words(rng, 6)} {rng.choice(ODD_VALUES)}.</p>" for _ in range(rng.randint(2, 8)))
    return _page(f"<article><h1>{_words(rng, 4)}</h1><h3>{name_} ({rng.choice(ODD_VALUES)})</h3>{body}</article>").encode()


def empty(rng, sources, scale, name) -> bytes:
    return rng.choice([b"", b" \n\t\r\n", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff\x00", b"<html></html>",
                       b"<html><body></body></html>", b"<!DOCTYPE html>", b"<html><body><h1></h1><p> </p></body></html>",
                       b"<?xml version=\"1.0\"?>", b"\x00" * 16])


def byte_flips(rng, sources, scale, name) -> bytes:
    data = bytearray(_source(rng, sources, name))
    for _ in range(rng.randint(1, max(1, len(data) // 200))):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def chunk_deletions(rng, sources, scale, name) -> bytes:
    data = _source(rng, sources, name)
    for _ in range(rng.randint(1, 6)):
        start = rng.randrange(len(data))
        data = data[:start] + data[start + rng.randint(1, max(1, len(data) // 8)):]
        if not data:
            break
    return data


def chunk_duplications(rng, sources, scale, name) -> bytes:
    data = _source(rng, sources, name)
    for _ in range(rng.randint(1, 6)):
        start = rng.randrange(len(data))
        chunk = data[start:start + rng.randint(1, max(1, len(data) // 4))]
        at = rng.randrange(len(data))
        data = data[:at] + chunk * rng.randint(1, 3) + data[at:]
    return data


def tag_soup(rng, sources, scale, name) -> bytes:
    tokens = re.split(rb"(<[^>]*>)", _source(rng, sources, name))
    for _ in range(rng.randint(1, 30)):
        at = rng.randrange(len(tokens))
        action = rng.randrange(4)
        if action == 0:
            tokens.insert(at, rng.choice(SOUP_TAGS).encode())
        elif action == 1 and tokens[at].startswith(b"</"):
            tokens[at] = b""  # drop a closing tag
        elif action == 2:
            window = tokens[at:at + rng.randint(2, 12)]
            rng.shuffle(window)
            tokens[at:at + len(window)] = window
        else:
            tokens.insert(at, tokens[rng.randrange(len(tokens))])
    return b"".join(tokens)


KINDS: dict[str, Callable[[random.Random, Sources, Scale, str], bytes]] = {
    "truncated": truncated, "random-bytes": random_bytes, "deep-nesting": deep_nesting, "huge-line": huge_line,
    "wide": wide, "lying-charset": lying_charset, "honest-charset": honest_charset, "nul-bytes": nul_bytes,
    "odd-unicode": odd_unicode, "odd-values": odd_values, "empty": empty, "byte-flips": byte_flips,
    "chunk-deletions": chunk_deletions, "chunk-duplications": chunk_duplications, "tag-soup": tag_soup,
}


def generate(folder: Path, pages: int, seed: int, scale: Scale = MEDIUM, sources: Sources | None = None,
             good_every: int = 10) -> list[FuzzPage]:
    """Write ``pages`` seeded pages into ``folder``: every ``good_every``-th is an unchanged copy of a devset
    page (each devset page at most once: copies would share its canonical URL), the rest are bad pages of
    every kind in turn. The same seed writes the same bytes."""
    sources = sources or Sources.load()
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    good_left = list(sources.devset.items())
    rng.shuffle(good_left)
    kinds = list(KINDS)
    written = []
    for index in range(pages):
        if good_left and index % good_every == good_every - 1:
            source_name, data = good_left.pop()
            page = FuzzPage(f"{GOOD_PREFIX}{index:05d}-{source_name}", "good")
        else:
            kind = kinds[index % len(kinds)]
            page = FuzzPage(f"{BAD_PREFIX}{index:05d}-{kind}.html", kind)
            data = KINDS[kind](random.Random(f"{seed}:{index}"), sources, scale, page.name)
        (folder / page.name).write_bytes(data)
        written.append(page)
    return written


# --- judging a whole-folder run of the command --------------------------------------------------------------


@dataclass
class CorpusRun:
    """What one ``python -m pipeline extract`` over a folder did, page by page."""

    status: int
    seconds: float
    stdout: str
    stderr: str
    landed: dict[str, set[str]]  # file → ids of the articles whose source_path is that file
    reported: dict[str, str]  # file → reason from its "failed:" line
    internal_errors: set[str]  # files whose failure logged a traceback (a bug in the pipeline, caught)

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.stderr

    @property
    def crashed(self) -> bool:
        """Exit status other than 0 (all landed) or 1 (some reported), or a Python traceback of an escaped error."""
        return self.status not in (0, 1) or (self.traceback and not self.internal_errors)

    def lost(self, pages: list[FuzzPage]) -> list[str]:
        return [p.name for p in pages if p.name not in self.landed and p.name not in self.reported]


def run_command(raw: Path, out: Path, model: str | None = None, timeout: float | None = None,
                env: dict[str, str] | None = None) -> CorpusRun:
    """Run the real extract command over ``raw`` into ``out`` and read back what landed and what was reported."""
    command = [sys.executable, "-m", "pipeline", "extract", "--raw", str(raw), "--out", str(out), "--quiet"]
    if model:
        command += ["--model", model]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, errors="replace", timeout=timeout,
                          env={**os.environ, **(env or {})})
    seconds = time.monotonic() - started
    reported, internal = read_failures(done.stderr)
    return CorpusRun(done.returncode, seconds, done.stdout, done.stderr, landed_articles(out), reported, internal)


def read_failures(stderr: str) -> tuple[dict[str, str], set[str]]:
    """(file → reason of each "failed:" line, files whose failure logged a caught traceback) of a run's stderr."""
    reported, internal = {}, set()
    for line in stderr.splitlines():
        if match := FAILED_LINE.match(line):
            reported[match["path"]] = match["reason"]
        elif match := INTERNAL_ERROR_LINE.match(line):
            internal.add(match["path"])
    return reported, internal


def landed_articles(out: Path) -> dict[str, set[str]]:
    """File → article ids in ``out``'s articles table (the page's own article and its related stories)."""
    import pyarrow.parquet as pq

    path = out / "articles.parquet"
    landed: dict[str, set[str]] = {}
    if path.exists():
        for row in pq.read_table(path, columns=["article_id", "source_path"]).to_pylist():
            landed.setdefault(row["source_path"], set()).add(row["article_id"])
    return landed


# --- page by page, under a time limit ---------------------------------------------------------------------------


@dataclass
class PageResult:
    name: str
    kind: str
    outcome: str  # extracted | reported | internal-error (reported, with a traceback: a bug) | crash | hang | lost
    seconds: float  # wall clock
    detail: str = ""  # failure reason, or the traceback of a crash
    cpu_seconds: float | None = None  # CPU time of the worker on this page (None without /proc)


def _check_one(folder: Path, name: str, model: str | None) -> tuple[str, str]:
    """One page through the stages as a run chains them (``pagework.extract_page``), up to the validated
    tables but without writing them (the whole-folder pass writes); (outcome, detail)."""
    import datetime as dt
    import hashlib

    from .fetch import Snapshot
    from .pagework import PageTask, extract_page
    from .parse import ParseError, RawPage, parse_page
    from .validate import InvalidTables
    from .write import build_tables

    path = folder / name
    try:  # parsed once here to tell a reported page from a parser bug; extract_page parses it again
        parse_page(RawPage(path, None, name))
    except (ParseError, OSError, ValueError) as error:  # what a run reports as a plain failure
        return "reported", str(error)
    except Exception:  # noqa: BLE001 - a run reports it too, with a logged traceback: a parser bug
        return "internal-error", traceback.format_exc()
    task = PageTask(Snapshot(None, path, hashlib.sha256(path.read_bytes()).hexdigest(), None), name, None)
    try:
        result = extract_page(task, model, dt.datetime.now(dt.timezone.utc))
    except Exception:  # noqa: BLE001 - escapes the per-page guard: the whole run fails
        return "crash", traceback.format_exc()
    if result.failures:  # a run reports it, with a logged traceback: an extraction bug (or the time limit)
        return "internal-error", "; ".join(f.reason for f in result.failures)
    try:
        tables = build_tables(result.rows)
    except InvalidTables as invalid:  # a run reports the page ("rows not written: ...") and keeps the rest
        return "reported", str(invalid)
    except Exception:  # noqa: BLE001 - anything else escapes the run's guards: the whole run fails
        return "crash", traceback.format_exc()
    if name in {row["source_path"] for row in tables["articles"].select(["source_path"]).to_pylist()}:
        return "extracted", ""
    return "lost", "articles parsed, none in the tables"


def _worker(connection: Connection, folder: Path, model: str | None) -> None:
    import logging
    logging.disable(logging.CRITICAL)  # failures are counted here, not logged
    # the workers are the parallelism; set in the worker only, so the whole-folder run (a child of the runner)
    # runs with the command's own default, as a user's would (set in the runner, it made that run one process)
    os.environ[PROCESSES_ENV] = "1"
    while True:
        name = connection.recv()
        outcome, detail = _check_one(folder, name, model)
        connection.send((outcome, detail))


def _cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far, from ``/proc``; None where there is no ``/proc``."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime: fields 14 and 15 of stat(5)


@dataclass
class _Slot:
    """One worker process and the page it is on."""

    process: multiprocessing.Process
    connection: Connection
    page: FuzzPage | None = None
    started: float = 0.0
    cpu_started: float | None = None
    cpu_seen: float = -1.0  # the worker's CPU time when last looked at, and when it last grew
    progressed: float = 0.0

    def cpu_spent(self) -> float | None:
        """CPU seconds the worker has spent on its current page (None without ``/proc``)."""
        now = _cpu_seconds(self.process.pid)
        return None if now is None or self.cpu_started is None else now - self.cpu_started

    def hung(self, limit: float, wall_seconds: float) -> bool:
        """Past ``limit`` seconds of CPU time on the page, or no CPU time used for ``WALL_HANG_FACTOR`` times
        ``limit`` (asleep or blocked); without ``/proc``, past ``limit`` on the wall clock."""
        cpu = self.cpu_spent()
        if cpu is None:
            return wall_seconds > limit
        now = time.monotonic()
        if cpu > self.cpu_seen or self.progressed < self.started:
            self.cpu_seen, self.progressed = cpu, max(now, self.started)
        return cpu > limit or now - self.progressed > WALL_HANG_FACTOR * limit


def check_pages(folder: Path, pages: list[FuzzPage], model: str | None, hang_seconds: float, workers: int,
                progress: bool = True, log: Path | None = None) -> list[PageResult]:
    """Each page on its own, in ``workers`` processes; a page past ``hang_seconds`` of CPU time (or without
    using any for ``WALL_HANG_FACTOR`` times that) has its worker killed and counts as a hang, a worker that
    dies counts its page as a crash. Each result is appended to ``log`` (JSON lines) as it comes, so a long run
    stopped part-way keeps what it found and ``--resume`` goes on from there."""
    from .nlp import build_nlp
    build_nlp(model)  # loaded once here: a worker started again after a hang forks with it in memory
    context = multiprocessing.get_context("fork")
    queue = list(reversed(pages))
    results: list[PageResult] = []

    def start_slot() -> _Slot:
        parent, child = context.Pipe()
        process = context.Process(target=_worker, args=(child, folder, model), daemon=True)
        process.start()
        child.close()
        return _Slot(process, parent)

    def feed(slot: _Slot) -> None:
        if queue:
            slot.page = queue.pop()
            slot.started = time.monotonic()
            slot.cpu_started = _cpu_seconds(slot.process.pid)
            slot.connection.send(slot.page.name)
        else:
            slot.page = None

    slots = [start_slot() for _ in range(workers)]
    try:
        with open(log, "a", encoding="utf-8") if log else contextlib.nullcontext() as log_file:
            _run_slots(slots, queue, results, pages, hang_seconds, start_slot, feed, progress, log_file)
    finally:  # done, or stopped early: no worker is left behind (each holds the others' pipes, so none sees EOF)
        for slot in slots:
            slot.process.kill()
            slot.process.join()
    return results


def _run_slots(slots, queue, results, pages, hang_seconds, start_slot, feed, progress, log_file) -> None:
    """The dispatch loop of ``check_pages``: collect answers, kill workers past the limit, feed the next page."""
    for slot in slots:
        feed(slot)
    while any(slot.page for slot in slots):
        busy = [slot for slot in slots if slot.page]
        ready = wait([slot.connection for slot in busy], timeout=1.0)
        now = time.monotonic()
        for index, slot in enumerate(slots):
            if slot.page is None:
                continue
            page, seconds, cpu = slot.page, now - slot.started, slot.cpu_spent()
            if slot.connection in ready:
                try:
                    outcome, detail = slot.connection.recv()
                except EOFError:  # the worker died: a segfault, the OOM killer, os._exit
                    slot.process.join()
                    outcome, detail = "crash", f"worker process died with exit code {slot.process.exitcode}"
                    slots[index] = slot = start_slot()
            elif slot.hung(hang_seconds, seconds):
                slot.process.kill()
                slot.process.join()
                spent = f"{cpu:.0f} s of CPU time" if cpu is not None else f"{seconds:.0f} s"
                outcome, detail = "hang", f"past the {hang_seconds:.0f} s limit after {spent}; worker killed"
                slots[index] = slot = start_slot()
            else:
                continue
            results.append(PageResult(page.name, page.kind, outcome, seconds, detail, cpu))
            if log_file:
                log_file.write(json.dumps(vars(results[-1])) + "\n")
                log_file.flush()
            if progress and len(results) % PROGRESS_EVERY == 0:
                counts = Counter(r.outcome for r in results)
                print(f"  {len(results)}/{len(pages)} pages checked: " + ", ".join(f"{n} {o}" for o, n in sorted(counts.items())),
                      file=sys.stderr, flush=True)
            feed(slot)


# --- the report ---------------------------------------------------------------------------------------------


@dataclass
class FuzzReport:
    pages: int
    per_page: list[PageResult] = field(default_factory=list)
    corpus: CorpusRun | None = None
    generate_seconds: float = 0.0
    check_seconds: float = 0.0

    def counts(self) -> Counter:
        return Counter(result.outcome for result in self.per_page)

    def problems(self) -> list[PageResult]:
        return [r for r in self.per_page if r.outcome in ("crash", "hang", "lost", "internal-error")]

    def page_lines(self) -> list[str]:
        """Counts of the page-by-page pass, per kind, and the first problems."""
        counts = self.counts()
        lines = [f"fuzz: {self.pages} pages generated in {self.generate_seconds:.1f} s",
                 f"page by page: {counts['extracted']} extracted, {counts['reported'] + counts['internal-error']} reported "
                 f"({counts['internal-error']} of them by an internal error), {counts['crash']} crashes, "
                 f"{counts['hang']} hangs, {counts['lost']} lost; wall time {self.check_seconds:.1f} s"]
        slowest = max(self.per_page, key=lambda r: (r.cpu_seconds or 0.0, r.seconds), default=None)
        if slowest:
            cpu = f", {slowest.cpu_seconds:.1f} s of CPU time" if slowest.cpu_seconds is not None else ""
            lines.append(f"  slowest page: {slowest.name} ({slowest.seconds:.1f} s{cpu})")
        by_kind: dict[str, Counter] = {}
        for result in self.per_page:
            by_kind.setdefault(result.kind, Counter())[result.outcome] += 1
        for kind, kind_counts in sorted(by_kind.items()):
            lines.append(f"  {kind:<19} " + ", ".join(f"{n} {outcome}" for outcome, n in sorted(kind_counts.items())))
        for result in self.problems()[:20]:
            lines.append(f"  {result.outcome}: {result.name}: {result.detail.strip().splitlines()[-1] if result.detail else ''}")
        return lines

    def corpus_lines(self, pages: list[FuzzPage]) -> list[str]:
        """Counts of the whole-folder run of the command, and its lost pages and internal errors."""
        lines = []
        if self.corpus:
            run = self.corpus
            lost = run.lost(pages)
            good_missing = [p.name for p in pages if p.good and p.name not in run.landed]
            lines.append(f"whole folder (python -m pipeline extract): exit status {run.status}, "
                         f"{sum(1 for p in pages if p.name in run.landed)} extracted, {len(run.reported)} reported, "
                         f"{len(run.internal_errors)} with an internal error (traceback logged), {len(lost)} lost, "
                         f"{'CRASHED' if run.crashed else 'no crash'}, good pages missing: {len(good_missing)}; "
                         f"wall time {run.seconds:.1f} s")
            if run.crashed:
                lines.append("  " + "\n  ".join(run.stderr.strip().splitlines()[-12:]))
            for name in (lost + good_missing)[:20]:
                lines.append(f"  lost: {name}")
            for name in sorted(run.internal_errors)[:20]:
                lines.append(f"  internal error: {name}: {run.reported.get(name, '')}")
        return lines


def _checked_before(log: Path) -> list[PageResult]:
    """The page results a stopped run appended to ``log``. A last line cut by the stop is left out, and the log
    is written back without it, so what is appended next starts on a line of its own."""
    results = []
    if log.exists():
        for line in log.read_text(encoding="utf-8").splitlines():
            try:
                results.append(PageResult(**json.loads(line)))
            except (json.JSONDecodeError, TypeError):
                continue
        log.write_text("".join(json.dumps(vars(result)) + "\n" for result in results), encoding="utf-8")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "fuzz", help="scratch folder (emptied first)")
    parser.add_argument("--model", default=None, help="spaCy model name or 'blank' (default: the pinned model)")
    parser.add_argument("--hang-seconds", type=float, default=DEFAULT_HANG_SECONDS,
                        help=f"a page taking more CPU time is a hang (default: {DEFAULT_HANG_SECONDS:.0f})")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--medium", action="store_true", help="medium-size pages (as the test) instead of 1 MB ones")
    parser.add_argument("--resume", action="store_true",
                        help="go on from the pages already checked in WORK/per-page.jsonl (same --pages and --seed)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the workers are stopped on the way out

    log = args.work / "per-page.jsonl"
    done = _checked_before(log) if args.resume else []
    if not args.resume:
        shutil.rmtree(args.work, ignore_errors=True)
    raw = args.work / "raw"
    shutil.rmtree(args.work / "raw-without-hangs", ignore_errors=True)
    shutil.rmtree(raw, ignore_errors=True)
    started = time.monotonic()
    pages = generate(raw, args.pages, args.seed, MEDIUM if args.medium else FULL)  # seeded: the same pages again
    report = FuzzReport(len(pages), generate_seconds=time.monotonic() - started)
    checked = {r.name for r in done}
    if done:
        print(f"fuzz: resuming, {len(checked)} of {len(pages)} pages checked before", file=sys.stderr, flush=True)
    started = time.monotonic()
    report.per_page = done + check_pages(raw, [p for p in pages if p.name not in checked], args.model,
                                         args.hang_seconds, args.workers, log=log)
    report.check_seconds = time.monotonic() - started
    print("\n".join(report.page_lines()), flush=True)
    # The whole-folder run leaves out the pages that hung on their own (already counted), so one hang does
    # not hide the rest; its time limit is the page-by-page work done serially, with room to spare.
    hung = {r.name for r in report.per_page if r.outcome == "hang"}
    pages = [page for page in pages if page.name not in hung]
    corpus_raw = args.work / "raw-without-hangs"
    corpus_raw.mkdir()
    for page in pages:
        os.link(raw / page.name, corpus_raw / page.name)  # a hard link: symlinks out of a folder are not followed
    limit = args.hang_seconds + CORPUS_SLACK * sum(r.seconds for r in report.per_page if r.name not in hung)
    try:
        report.corpus = run_command(corpus_raw, args.work / "out", args.model, timeout=limit)
    except subprocess.TimeoutExpired:
        print(f"whole folder (python -m pipeline extract): HANG, still running after {limit:.0f} s", flush=True)
        return 1
    print("\n".join(report.corpus_lines(pages)), flush=True)
    (args.work / "report.json").write_text(json.dumps(
        {"per_page": [vars(r) for r in report.per_page],
         "corpus": {"status": report.corpus.status, "seconds": report.corpus.seconds, "stderr": report.corpus.stderr[-20000:],
                    "reported": report.corpus.reported, "internal_errors": sorted(report.corpus.internal_errors),
                    "lost": report.corpus.lost(pages)}}, indent=1))
    bad = report.problems() or report.corpus.crashed or report.corpus.lost(pages)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
