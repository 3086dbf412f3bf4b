"""Named steps of long jobs (the expiry sweep's), for a benchmark to time; free unless one listens.

    @step("claim")                # each call of a function
    def _claim(...): ...

    with step("delete-objects"):  # a block
        runtime.store.delete_many(keys)

Nothing is measured or kept here: with no recorder installed a step costs a check of one
global. `benchmarks/expiry_sweep` installs a recorder in its worker processes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, Protocol, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class Recorder(Protocol):
    """Told when each step begins and ends; steps nest, and end in the reverse order."""

    def begin(self, name: str) -> None: ...

    def end(self, name: str) -> None: ...


_recorder: Recorder | None = None


def record_steps(recorder: Recorder | None) -> None:
    """Send every step of this process to `recorder` from now on (None: to nobody)."""
    global _recorder  # noqa: PLW0603 (one switch for the whole process, set by a benchmark)
    _recorder = recorder


class step:  # noqa: N801 (reads as a statement: `with step(...)`, `@step(...)`)
    """The block, or each call of the function, is the step `name`."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        if _recorder is not None:
            _recorder.begin(self.name)

    def __exit__(self, *_exc: object) -> None:
        if _recorder is not None:
            _recorder.end(self.name)

    def __call__(self, function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            if _recorder is None:
                return function(*args, **kwargs)
            with self:
                return function(*args, **kwargs)

        return run
