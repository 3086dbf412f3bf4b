"""The processes an import stores its contacts with, each with a runtime of its own.

The work per contact is Python: threads of one interpreter would take turns at it, processes
do not. Each worker builds its runtime from the importing process's settings once, when it
starts, and keeps its database connections until the import ends. With one job the work is
done in the importing process, on its own runtime.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing.util import Finalize
from typing import Any, TypeVar

from archive.clock import Clock
from archive.crypto.keyring import load_key_material
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings

T = TypeVar("T")

_worker: dict[str, Runtime] = {}  # a worker process's own runtime, once it started


class Workers:
    """Runs work on the workers' runtimes, or on the caller's when there is one job."""

    def __init__(self, runtime: Runtime, pool: ProcessPoolExecutor | None, jobs: int) -> None:
        self.runtime = runtime
        self.pool = pool
        self.jobs = jobs

    def run(self, work: Callable[..., T], *args: Any) -> Future[T]:
        if self.pool is not None:
            return self.pool.submit(_in_worker, work, *args)
        done: Future[T] = Future()
        try:
            done.set_result(work(self.runtime, *args))
        except BaseException as error:
            done.set_exception(error)
        return done


@contextmanager
def workers_for(runtime: Runtime, jobs: int) -> Iterator[Workers]:
    if jobs == 1:
        yield Workers(runtime, None, 1)
        return
    # A key file is read by each worker itself (so a rotation reaches it); keys given in
    # memory, with no file, are handed over through the pool's pipe.
    keys = None if runtime.key_file is not None else runtime.keys.to_json()
    # Not forked from here, where database connections and a progress bar's thread are open:
    # from a server process started once, with the archive's modules (and the program's main
    # module, which each worker would otherwise import again) already imported, so a worker
    # starts without importing everything again.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", "archive.contacts.use_cases.importing"])
    with ProcessPoolExecutor(
        jobs,
        mp_context=context,
        initializer=_start_worker,
        initargs=(runtime.settings, keys, runtime.clock),
    ) as pool:
        yield Workers(runtime, pool, jobs)


def _start_worker(settings: Settings, keys: str | None, clock: Clock) -> None:
    material = load_key_material(key_file=None, env_json=keys) if keys else None
    runtime = _worker["runtime"] = build_runtime(settings, keys=material, clock=clock)
    Finalize(runtime, runtime.close, exitpriority=10)


def _in_worker(work: Callable[..., T], *args: Any) -> T:
    return work(_worker["runtime"], *args)


def split(count: int, parts: int) -> list[range]:
    """`count` positions in `parts` runs of nearly equal length, in order."""
    size, extra = divmod(count, parts)
    runs, start = [], 0
    for n in range(parts):
        end = start + size + (1 if n < extra else 0)
        if end > start:
            runs.append(range(start, end))
        start = end
    return runs
