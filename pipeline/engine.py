"""Engines: where the per-page work runs. They only map a function over pages; no stage knows which one runs it.

- ``local``: this process, or worker processes forked from it (one per core) for larger runs;
- ``dask``: the workers of a Dask cluster (``dask.distributed``): a ``LocalCluster`` the command starts on
  127.0.0.1, one worker per core, or an existing cluster at ``--scheduler ADDRESS``. Workers must see the
  raw folder at the same path (a shared file system) and have this package installed.

Both yield results in the order of the pages, with a bounded number of pages in flight, so the caller can
write each part as soon as its pages are done and memory stays flat whatever the corpus size.
"""
from __future__ import annotations

import multiprocessing
import os
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterable, Iterator, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

ENGINES = ("local", "dask")
PROCESSES_ENV = "STORY_EXTRACTOR_PROCESSES"
PARALLEL_FROM = 32  # below this many pages, starting a second process costs more than it saves
SCHEDULER_TIMEOUT_S = 10  # how long to keep trying to reach a scheduler before giving up
IN_FLIGHT_PER_WORKER = 4  # pages queued per worker: keeps workers busy without holding the corpus in memory


class EngineError(RuntimeError):
    """The engine cannot start (e.g. dask is not installed, or the scheduler cannot be reached)."""


def local_processes(pages: int) -> int:
    """Worker processes for the local engine: one per core for larger runs, else this process alone.

    ``$STORY_EXTRACTOR_PROCESSES`` overrides it (1 turns multiprocessing off).
    """
    if os.environ.get(PROCESSES_ENV):
        return max(1, int(os.environ[PROCESSES_ENV]))
    return (os.cpu_count() or 1) if pages >= PARALLEL_FROM else 1


class LocalEngine:
    """This process, or a pool of forked worker processes (each inherits what the parent loaded)."""

    name = "local"

    def __init__(self, processes: int | None = None, prepare: Callable[[], object] | None = None) -> None:
        self.processes = processes
        self.prepare = prepare  # run once in the parent before forking (e.g. load the model, shared by workers)

    def map(self, func: Callable[[Item], Result], items: list[Item]) -> Iterator[Result]:
        processes = self.processes or local_processes(len(items))
        if processes == 1 or len(items) < 2:
            yield from map(func, items)
            return
        if self.prepare is not None:
            self.prepare()
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
            yield from _ordered(pool.submit, func, items, processes * IN_FLIGHT_PER_WORKER)

    def close(self) -> None:
        """Nothing to release: pools live for one ``map``."""


class DaskEngine:
    """The workers of a Dask cluster; each loads the spaCy pipeline once and keeps it for every page."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None) -> None:
        import logging
        if not logging.getLogger().isEnabledFor(logging.DEBUG):  # its INFO lines would bury the run's one-line summary
            logging.getLogger("distributed").setLevel(logging.WARNING)
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as error:  # pragma: no cover - dask is a pinned dependency
            raise EngineError(f"--engine dask needs dask.distributed: {error}") from None
        self.cluster = None
        try:
            if scheduler:
                self.client = Client(scheduler, timeout=f"{SCHEDULER_TIMEOUT_S}s")
            else:
                self.cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                                            processes=True, host="127.0.0.1", dashboard_address=None)
                self.client = Client(self.cluster)
        except (OSError, TimeoutError, ValueError) as error:  # ValueError: an address Dask cannot read
            self.close()
            raise EngineError(f"cannot reach the Dask scheduler {scheduler or '(local cluster)'}: {error}") from None
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))

    def map(self, func: Callable[[Item], Result], items: list[Item]) -> Iterator[Result]:
        def submit(function, item):
            return self.client.submit(function, item, pure=False)
        yield from _ordered(submit, func, items, self.workers * IN_FLIGHT_PER_WORKER)

    def close(self) -> None:
        client, cluster = getattr(self, "client", None), self.cluster
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def _ordered(submit, func, items: Iterable, window: int) -> Iterator:
    """Results of ``func`` over ``items`` in order, with at most ``window`` submitted and not yet taken."""
    pending: deque = deque()
    for item in items:
        pending.append(submit(func, item))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
