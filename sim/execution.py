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
from typing import Any

Task = tuple[Hashable, Callable[..., Any], tuple[Any, ...]]
"""(key, function, arguments) of one unit of work."""


def default_workers() -> int:
    """Cores this process may run on (the affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _ignore_sigint() -> None:
    """Worker initialiser: Ctrl-C is the parent's to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_units(
    tasks: Sequence[Task], workers: int = 1, scheduler: str | None = None
) -> Iterator[tuple[Hashable, Any]]:
    """Run ``tasks``; yield ``(key, result)`` for each as it completes.

    ``scheduler`` (a Dask scheduler address such as ``tcp://host:8786``, or a
    ``distributed.Client``) sends them to a cluster; otherwise ``workers`` local processes
    run them (``workers <= 1``: this process, in order). An exception raised by a unit
    propagates (callers that must go on catch it inside the unit).
    """
    if scheduler is not None:
        yield from _run_dask(tasks, scheduler)
    elif workers <= 1 or len(tasks) <= 1:
        for key, fn, args in tasks:
            yield key, fn(*args)
    else:
        yield from _run_local(tasks, min(workers, len(tasks)))


def _run_local(tasks: Sequence[Task], workers: int) -> Iterator[tuple[Hashable, Any]]:
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_ignore_sigint)
    try:
        futures = {pool.submit(fn, *args): key for key, fn, args in tasks}
        for future in as_completed(futures):
            yield futures[future], future.result()
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _run_dask(tasks: Sequence[Task], scheduler: Any) -> Iterator[tuple[Hashable, Any]]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:  # pragma: no cover - depends on the installation
        raise RuntimeError(
            "--scheduler needs dask.distributed: pip install 'overdue[dask]'"
        ) from None
    own = not isinstance(scheduler, Client)
    client = Client(scheduler) if own else scheduler
    try:
        futures = {}
        for key, fn, args in tasks:
            # pure=False: two units with equal arguments are still two units of work.
            futures[client.submit(fn, *args, pure=False)] = key
        try:
            for future in dask_completed(list(futures)):
                yield futures[future], future.result()
        except BaseException:
            client.cancel(list(futures))
            raise
    finally:
        if own:
            client.close()
