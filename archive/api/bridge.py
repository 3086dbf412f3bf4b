"""Feeds an async request body to the synchronous service layer, chunk by chunk, in a thread.

The services (SQLAlchemy, the object store SDK, the cipher) are synchronous; a recording of
gigabytes must pass through them without being buffered, so the worker thread pulls each chunk
from the event loop as it needs it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import anyio.from_thread
import anyio.to_thread
from litestar import Request

from archive.errors import PayloadTooLarge

T = TypeVar("T")


# The server hands over a body in pieces of some KiB; crossing from the event loop to the
# worker thread costs about as much as hashing one, so pieces are gathered to about this size.
HANDOVER_BYTES = 1 << 20


def pull(body: AsyncIterator[bytes]) -> Iterator[bytes]:
    """A blocking iterator over `body`; must run in a worker thread started by `run_in_thread`."""

    async def next_chunk() -> bytes | None:
        parts: list[bytes] = []
        size = 0
        while size < HANDOVER_BYTES:
            try:
                part = await body.__anext__()
            except StopAsyncIteration:
                break
            parts.append(part)
            size += len(part)
        return b"".join(parts) if parts else None

    while True:
        chunk = anyio.from_thread.run(next_chunk)
        if chunk is None:
            return
        if chunk:
            yield chunk


async def run_in_thread(work: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(work)


def refuse_declared_size(request: Request[Any, Any, Any], limit: int) -> None:
    """413 before reading anything when Content-Length already says the body is too large."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is larger than the limit of {limit} bytes")


async def read_body(request: Request[Any, Any, Any], limit: int) -> bytes:
    """A whole body of at most `limit` bytes (e-mails and chats are parsed, so held whole)."""
    refuse_declared_size(request, limit)
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is larger than the limit of {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)
