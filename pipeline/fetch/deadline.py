"""The deadline of one request, kept by every socket operation that serves it (connect, TLS, each
read and write), so a server trickling bytes cannot hold a request past it; ``http_client`` builds
the httpx client whose connections obey it."""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Callable, Iterable, TypeVar

import httpcore
import httpx

from .config import DEADLINE_EXCEEDED

_T = TypeVar("_T")


class Deadline:
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
CURRENT_DEADLINE: ContextVar[Deadline | None] = ContextVar("request_deadline", default=None)


def _within_deadline(operation: Callable[[float | None], _T], timeout: float | None,
                     timeout_error: type[Exception]) -> _T:
    deadline = CURRENT_DEADLINE.get()
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
