"""Reading one response body within bounds: at most ``max_bytes``, encoded or decoded, gzip and
deflate layers decoded a step at a time so that a compression bomb stops at the limit, and the
request's deadline checked between chunks."""

from __future__ import annotations

import itertools
import zlib
from typing import Iterable, Iterator

import httpx

from .config import TOO_LARGE
from .deadline import Deadline

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


class Unreadable(Exception):
    """A body that was not read to the end; ``reason`` becomes the result's error."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def read_limited(response: httpx.Response, limit: int, deadline: Deadline) -> bytes:
    """The decoded body, read and decoded a step at a time so that memory stays small.

    Raises ``Unreadable`` as soon as the encoded body or any decoded layer of it exceeds
    ``limit`` bytes (a compression bomb stops there), when a coding is unknown or corrupt, or when
    the deadline passes between two chunks. httpx's own ``iter_bytes`` is not used: it decodes
    each network chunk in one go, so a few KB of ``gzip, gzip`` become gigabytes in one step.
    """
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Unreadable(TOO_LARGE)
    chunks = _capped(response.iter_raw(), limit)
    for coding in reversed(_content_codings(response.headers)):
        chunks = _capped(_inflate(chunks, coding), limit)
    body = bytearray()
    for chunk in chunks:
        if deadline.expired():
            raise Unreadable(deadline.reason())
        body += chunk
    return bytes(body)


def _content_codings(headers: httpx.Headers) -> list[str]:
    """The codings applied to the body, first applied first; raises ``Unreadable`` for any we
    cannot decode within bounds."""
    codings = [value.strip().lower()
               for value in headers.get_list("content-encoding", split_commas=True)]
    codings = [coding for coding in codings if coding and coding != "identity"]
    unknown = [coding for coding in codings if coding not in _WBITS]
    if unknown:
        raise Unreadable(f"unsupported content encoding {unknown[0]!r}")
    if len(codings) > MAX_CONTENT_CODINGS:
        raise Unreadable(f"too many content encodings ({len(codings)})")
    return codings


def _capped(chunks: Iterable[bytes], limit: int) -> Iterator[bytes]:
    """Pass ``chunks`` through, raising ``Unreadable(TOO_LARGE)`` once they exceed ``limit``."""
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise Unreadable(TOO_LARGE)
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
        raise Unreadable(f"corrupt {coding} body") from None
    if not decoder.eof:
        raise Unreadable(f"truncated {coding} body")
    if rest:
        yield rest


def _has_zlib_header(data: bytes) -> bool:
    """Whether ``data`` starts with a zlib header (RFC 1950: method 8, check bits)."""
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
