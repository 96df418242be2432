"""The pages a raw folder holds: the fetch store's current snapshots, then every hand-placed page.

A folder is read to the end whatever it contains: a file that cannot be read, a directory or a broken
symlink with a page's name, a symlink loop or a symlink that leads out of the folder is reported (path
and reason) and every other page is listed. Hand-placed pages are any ``.html``, ``.htm``, ``.xhtml`` or
``.shtml`` file, in any letter case, optionally gzip-compressed (``.html.gz``).

``RAW/pages/`` is the fetch store only when the fetcher has been there: ``RAW/manifest.jsonl`` or its
lock file ``RAW/.fetch.lock`` exists. In a hand-made folder, ``pages/`` is an ordinary folder of pages.
"""
from __future__ import annotations

import errno
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from .fetch import FETCH_LOCK, GONE_STATUSES, MANIFEST_NAME, PAGES_DIR, Snapshot, inside, last_good_entries, read_manifest

PAGE_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml")
COMPRESSED_SUFFIX = ".gz"


@dataclass(frozen=True)
class Unreadable:
    """An entry of the folder that looks like a page (or a folder of pages) but cannot be read."""

    path: Path
    reason: str
    url: str | None = None  # the page's URL when the fetch manifest names it: its rows are found by it
    folder: bool = False  # a folder that cannot be read: every page known under it is still there


@dataclass
class RawFolder:
    snapshots: list[Snapshot] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)


def is_page_name(name: str) -> bool:
    """Whether a file name is that of an HTML page (any letter case, optionally ``.gz``)."""
    lower = name.lower()
    if lower.endswith(COMPRESSED_SUFFIX):
        lower = lower[: -len(COMPRESSED_SUFFIX)]
    return lower.endswith(PAGE_SUFFIXES)


def scan(raw_dir: str | Path, *, follow_symlinks: bool = False) -> RawFolder:
    """Every page of ``raw_dir`` the later stages should read, and the entries that could not be read.

    Per URL in the fetch manifest, its latest stored snapshot (``gone`` when the latest response was
    404/410: the story left the site but its text is kept); then every hand-placed page, sorted by path.
    Symlinks that stay inside the folder are followed; those leading out of it only with ``follow_symlinks``.
    """
    raw_dir = Path(raw_dir)
    folder = RawFolder()
    fetched_here = (raw_dir / MANIFEST_NAME).is_file() or (raw_dir / FETCH_LOCK).exists()
    entries = read_manifest(raw_dir) if fetched_here else []
    last_status = {e["url"]: e["status"] for e in entries if e.get("status") is not None}
    referenced = set()
    for url, entry in last_good_entries(entries).items():
        path = inside(raw_dir, entry["file"])
        if path is None:
            folder.unreadable.append(Unreadable(raw_dir / entry["file"], f"the manifest's file for {url} leads out "
                                                "of the folder", url=url))
            continue
        referenced.add(path.resolve())
        if path.is_file():
            folder.snapshots.append(Snapshot(url, path, entry["sha256"], entry.get("fetched_at"),
                                             gone=last_status.get(url) in GONE_STATUSES))
        else:
            folder.unreadable.append(Unreadable(path, f"stored snapshot of {url} is missing", url=url))
    fetch_store = (raw_dir / PAGES_DIR).resolve() if fetched_here else None
    for path in _page_files(raw_dir, follow_symlinks, folder.unreadable):
        resolved = path.resolve()
        # in the fetch store, a snapshot no manifest line points at is left over from a killed fetch
        if resolved in referenced or (fetch_store is not None and resolved.is_relative_to(fetch_store)):
            continue
        try:
            with open(path, "rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError as error:
            folder.unreadable.append(Unreadable(path, _reason(error)))
            continue
        folder.snapshots.append(Snapshot(None, path, digest, None))
    return folder


def _page_files(raw_dir: Path, follow_symlinks: bool, unreadable: list[Unreadable]) -> list[Path]:
    """Page files under ``raw_dir`` (depth first, sorted), reporting what cannot be walked into ``unreadable``.

    Every directory is entered once by its real path, so a symlink loop or two links to one folder
    cannot make the walk endless or list a page twice.
    """
    root = raw_dir.resolve()
    pages: list[Path] = []
    entered = {root}
    pending = [raw_dir]
    while pending:
        directory = pending.pop()
        try:
            with os.scandir(directory) as listing:
                children = sorted(listing, key=lambda entry: entry.name)
        except OSError as error:
            unreadable.append(Unreadable(directory, f"folder cannot be read: {_reason(error)}", folder=True))
            continue
        subfolders = []
        for child in children:
            path = Path(child.path)
            if child.is_symlink():
                try:
                    target = path.resolve(strict=True)
                except (OSError, RuntimeError) as error:  # RuntimeError: a symlink loop before Python 3.13
                    if is_page_name(child.name) or _is_loop(error):
                        unreadable.append(Unreadable(path, "symlink loop" if _is_loop(error) else "broken symlink"))
                    continue
                if not follow_symlinks and not target.is_relative_to(root):
                    if is_page_name(child.name) or target.is_dir():
                        unreadable.append(Unreadable(path, "symlink out of the folder, not followed "
                                                           "(--follow-symlinks follows it)"))
                    continue
            else:
                target = path
            if target.is_dir():
                if is_page_name(child.name):
                    unreadable.append(Unreadable(path, "a folder, not a page file (pages inside it are read)"))
                if target.resolve() not in entered:
                    entered.add(target.resolve())
                    subfolders.append(path)
            elif is_page_name(child.name):
                if not _is_text_name(str(path)):
                    shown = Path(os.fsencode(path).decode("utf-8", "backslashreplace"))  # "caf\xe9.html"
                    unreadable.append(Unreadable(shown, "file name is not valid UTF-8 (rename it): the tables store "
                                                        "it as text"))
                elif target.is_file():
                    pages.append(path)
                else:
                    unreadable.append(Unreadable(path, "not a regular file"))
        pending.extend(reversed(subfolders))
    return sorted(pages)


def _is_text_name(name: str) -> bool:
    """Whether a path can be written as UTF-8 (the OS hands undecodable bytes over as lone surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_loop(error: Exception) -> bool:
    return isinstance(error, RuntimeError) or getattr(error, "errno", None) == errno.ELOOP


def _reason(error: OSError) -> str:
    return error.strerror or type(error).__name__
