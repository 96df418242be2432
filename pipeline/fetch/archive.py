"""The raw folder as the fetch stage keeps it: every body stored once, by content hash, under
``pages/``, and one ``manifest.jsonl`` line per request outcome, appended and never rewritten; and how it is
read back (``read_manifest``, ``last_good_entries``, ``Snapshot``, ``inside`` for paths the manifest names)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

log = logging.getLogger("pipeline.fetch")  # one logger, named after the stage, for all its modules

MANIFEST_NAME = "manifest.jsonl"
PAGES_DIR = "pages"
FETCH_LOCK = ".fetch.lock"  # held by a fetch on its raw folder; its presence also marks the folder as a fetch store
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Snapshot:
    """The file the later stages should read for one story (``url`` None: a hand-placed page)."""

    url: str | None
    path: Path
    sha256: str
    fetched_at: str | None
    gone: bool = False


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
    """Append one JSON line in a single write, flushed to disk, so a crash loses at most it. After a line a crash
    tore (no newline at the end of the file), the entry starts a line of its own instead of joining it."""
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    with open(Path(raw_dir) / MANIFEST_NAME, "a+b") as handle:
        if handle.seek(0, os.SEEK_END) > 0:
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                line = "\n" + line
        handle.write(line.encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())


def read_manifest(raw_dir: str | Path) -> list[dict]:
    """All manifest entries in order; a torn or corrupt line (e.g. from a crash) is skipped."""
    path = Path(raw_dir) / MANIFEST_NAME
    if not path.exists():
        return []
    entries = []
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        try:
            entry = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):  # a line torn inside a character, or any other way
            log.warning("%s:%d: unreadable manifest line skipped", path, number)
            continue
        if not isinstance(entry, dict) or not _well_formed(entry):
            log.warning("%s:%d: manifest line with no URL or a field of the wrong type skipped", path, number)
            continue
        entries.append(entry)
    return entries


# The fields other code reads, and their types: a manifest is data a person may have edited by hand.
MANIFEST_TEXT_FIELDS = ("url", "file", "fetched_at", "etag", "last_modified", "content_type", "error", "lastmod")
MANIFEST_NUMBER_FIELDS = ("status", "bytes")


def _well_formed(entry: dict) -> bool:
    """Whether the URL is text and each other field of its type (or absent): a list as a URL or a number as a
    file stopped whole runs."""
    if not isinstance(entry.get("url"), str) or not entry["url"]:
        return False
    if any(not isinstance(entry.get(name), (str, type(None))) for name in MANIFEST_TEXT_FIELDS):
        return False
    if any(not isinstance(entry.get(name), (int, type(None))) or isinstance(entry.get(name), bool)
           for name in MANIFEST_NUMBER_FIELDS):
        return False
    digest = entry.get("sha256")
    return digest is None or (isinstance(digest, str) and bool(_SHA256.fullmatch(digest)))


def last_good_entries(entries: Iterable[dict]) -> dict[str, dict]:
    """Per URL, the latest entry that points at a stored snapshot (a 200 or a 304)."""
    return {entry["url"]: entry for entry in entries if entry.get("sha256") and entry.get("file")}


def inside(raw_dir: Path, relative: str | None) -> Path | None:
    """``raw_dir / relative`` if that stays inside ``raw_dir`` (a manifest is data, not trusted)."""
    if not relative:
        return None
    candidate = raw_dir / relative
    if not candidate.resolve().is_relative_to(raw_dir.resolve()):
        return None
    return candidate
