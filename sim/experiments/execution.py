"""Where units of work run: in this process, in local worker processes, or on a Dask cluster.

A unit is a picklable top-level function and its arguments; :func:`run_units` yields each
unit's key and result as it completes, in completion order. Callers that need a fixed order
sort by key, so results never depend on where or in what order units ran.

Local workers are *spawned* processes (not forked: the parent may hold threads, such as a
progress bar or Arrow's pool, that a forked child would inherit in an undefined state) that
ignore Ctrl-C, which is the parent's to handle: it cancels the queued units and lets the
running ones finish. With a Dask scheduler address the units are submitted to that cluster
(``dask.distributed``, an optional dependency: ``pip install 'overdue[dask]'``); a worker lost
mid-unit is retried by Dask on another worker.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

Task = tuple[Hashable, Callable[..., Any], tuple[Any, ...]]
"""(key, function, arguments) of one unit of work."""


def default_workers() -> int:
    """Cores this process may run on (the affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def check_workers(workers: int | None, name: str = "workers") -> int:
    """Worker processes: None means every core this process may use."""
    if workers is None:
        return default_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"{name}: must be a positive integer, got {workers!r}")
    return workers


POOL_RESTARTS = 3
"""Times a broken pool of local workers is started again within one batch."""


class WorkerLost(RuntimeError):
    """Local workers kept dying; the message says how many units have no result."""


def _ignore_sigint() -> None:
    """Worker initialiser: Ctrl-C is the parent's to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Runner:
    """Runs batches of units on one pool of workers or one Dask client, kept for its lifetime.

    ``with Runner(workers, scheduler) as runner: runner.run(tasks)`` — several batches reuse
    the same workers (``reps="auto"`` adds replications in batches). ``scheduler`` is a Dask
    scheduler address such as ``tcp://host:8786``, or a ``distributed.Client``; otherwise
    ``workers`` local processes (``workers <= 1``: this process, in order). On an error or
    Ctrl-C the queued units are cancelled before it propagates. An exception raised by a
    unit propagates too (callers that must go on catch it inside the unit).
    """

    def __init__(self, workers: int = 1, scheduler: Any = None) -> None:
        self.workers = workers
        self.scheduler = scheduler
        self._pool: ProcessPoolExecutor | None = None
        self._client: Any = None
        self._own_client = False

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(cancel=exc[0] is not None)

    def close(self, cancel: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=cancel)
            self._pool = None
        if self._client is not None and self._own_client:
            self._client.close()
        self._client = None

    def run(self, tasks: Sequence[Task]) -> Iterator[tuple[Hashable, Any]]:
        """Run ``tasks``; yield ``(key, result)`` for each as it completes."""
        if self.scheduler is not None:
            yield from self._run_dask(tasks)
        elif self.workers <= 1 or (len(tasks) <= 1 and self._pool is None):
            for key, fn, args in tasks:
                yield key, fn(*args)
        else:
            yield from self._run_local(tasks)

    def _run_local(self, tasks: Sequence[Task]) -> Iterator[tuple[Hashable, Any]]:
        """Run on local processes. A worker that dies (killed, out of memory) breaks the
        pool: the pool is started again and the units without a result are resubmitted,
        up to :data:`POOL_RESTARTS` times (units are deterministic: a rerun gives the same
        result)."""
        pending = {key: (fn, args) for key, fn, args in tasks}
        restarts = 0
        while pending:
            if self._pool is None:
                ctx = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(
                    self.workers, mp_context=ctx, initializer=_ignore_sigint
                )
            futures = {self._pool.submit(fn, *args): key for key, (fn, args) in pending.items()}
            try:
                for future in as_completed(futures):
                    key = futures[future]
                    result = future.result()
                    del pending[key]
                    yield key, result
            except BrokenProcessPool:
                restarts += 1
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
                if restarts > POOL_RESTARTS:
                    raise WorkerLost(
                        f"a worker process died {restarts} times (out of memory, or killed); "
                        f"{len(pending)} units have no result"
                    ) from None
            except BaseException:
                for f in futures:
                    f.cancel()
                raise

    def _run_dask(self, tasks: Sequence[Task]) -> Iterator[tuple[Hashable, Any]]:
        try:
            from distributed import Client
            from distributed import as_completed as dask_completed
        except ImportError:  # pragma: no cover - depends on the installation
            raise RuntimeError(
                "--scheduler needs dask.distributed: pip install 'overdue[dask]'"
            ) from None
        if self._client is None:
            self._own_client = not isinstance(self.scheduler, Client)
            self._client = Client(self.scheduler) if self._own_client else self.scheduler
        # pure=False: two units with equal arguments are still two units of work.
        futures = {self._client.submit(fn, *args, pure=False): key for key, fn, args in tasks}
        try:
            for future in dask_completed(list(futures)):
                key, result = futures.pop(future), future.result()
                # Let the cluster forget the result now: a worker keeps a unit's result in
                # memory while any client holds its future.
                future.release()
                del future
                yield key, result
        except BaseException:
            self._client.cancel(list(futures))
            raise


def run_units(
    tasks: Sequence[Task], workers: int = 1, scheduler: Any = None
) -> Iterator[tuple[Hashable, Any]]:
    """Run one batch of ``tasks`` on a :class:`Runner` made for it; yield ``(key, result)``
    for each as it completes."""
    with Runner(min(workers, max(1, len(tasks))), scheduler) as runner:
        yield from runner.run(tasks)
