"""Feeds an async request body to the synchronous service layer, chunk by chunk, in a thread.

The services (SQLAlchemy, the object store SDK, the cipher) are synchronous; a recording of
gigabytes must pass through them without being buffered whole, so the event loop reads the body
a few MiB ahead of a worker thread that hashes, encrypts and writes it.
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
# How many gathered pieces the event loop reads ahead of the worker thread: the network and
# the thread's hashing, encryption and writing overlap, and a request holds at most this many
# MiB beyond the piece being worked on.
READ_AHEAD = 4


async def with_body(body: AsyncIterator[bytes], work: Callable[[Iterator[bytes]], T]) -> T:
    """`work(chunks)` in a worker thread, `chunks` a blocking iterator over `body`.

    The event loop reads `body` ahead of the thread, at most READ_AHEAD pieces, instead of
    waiting for the thread to ask for each: reading and writing would otherwise take turns.
    A body that fails while being read (the client hung up) fails `chunks` with that error,
    never as an early end, so a cut-off upload is not taken for a whole one. When `work`
    stops early (an error, a body over the limit) the reading stops too.
    """
    send, receive = anyio.create_memory_object_stream[bytes](READ_AHEAD)
    failed: list[Exception] = []

    async def read() -> None:
        try:
            parts: list[bytes] = []
            size = 0
            async for part in body:
                parts.append(part)
                size += len(part)
                if size >= HANDOVER_BYTES:
                    await send.send(b"".join(parts))
                    parts, size = [], 0
            if size:
                await send.send(b"".join(parts))
        except Exception as error:
            failed.append(error)  # before the end of the stream is seen: see `chunks`
        finally:
            send.close()

    def chunks() -> Iterator[bytes]:
        while True:
            try:
                yield anyio.from_thread.run(receive.receive)
            except anyio.EndOfStream:
                if failed:
                    raise failed[0] from None
                return

    done: list[T] = []
    refused: list[Exception] = []
    async with anyio.create_task_group() as group, receive:
        group.start_soon(read)
        try:
            done.append(await anyio.to_thread.run_sync(lambda: work(chunks())))
        except Exception as error:
            # Raised as itself after the group, not wrapped in the group's ExceptionGroup.
            refused.append(error)
        finally:
            group.cancel_scope.cancel()
    if refused:
        raise refused[0]
    return done[0]


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
