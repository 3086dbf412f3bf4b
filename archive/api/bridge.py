"""Feeds an async request body to the synchronous service layer, chunk by chunk, in a thread.

The services (SQLAlchemy, the object store SDK, the cipher) are synchronous; a recording of
gigabytes must pass through them without being buffered, so the worker thread pulls each chunk
from the event loop as it needs it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

import anyio.from_thread
import anyio.to_thread

T = TypeVar("T")


def pull(body: AsyncIterator[bytes]) -> Iterator[bytes]:
    """A blocking iterator over `body`; must run in a worker thread started by `run_in_thread`."""

    async def next_chunk() -> bytes | None:
        try:
            return await body.__anext__()
        except StopAsyncIteration:
            return None

    while True:
        chunk = anyio.from_thread.run(next_chunk)
        if chunk is None:
            return
        if chunk:
            yield chunk


async def run_in_thread(work: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(work)
