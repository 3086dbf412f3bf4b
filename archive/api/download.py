"""Streams a content object's plaintext with HTTP Range support, so audio can seek."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote

import anyio
import anyio.to_thread
from anyio.lowlevel import RunVar
from litestar import Request
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_206_PARTIAL_CONTENT

from archive.api.ranges import content_range, if_range_matches, parse_range
from archive.contacts.models import ContentObject
from archive.contacts.objects import SegmentReader, read_object, read_range
from archive.runtime import Runtime


def content_disposition(filename: str | None, *, inline: bool) -> str:
    kind = "inline" if inline else "attachment"
    if not filename:
        return kind
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in filename)
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


# Plaintext goes to the server in pieces of this size. Whatever the socket does not take at
# once the server copies into the connection's buffer, so a smaller piece keeps less of it
# there per download; a smaller one also means more calls through Litestar and uvicorn.
SEND_BYTES = 256 << 10
# Segments read and decrypted at once, all downloads of the process together, each with a
# segment's ciphertext and plaintext in hand while it runs: a few keep two cores busy, and
# twenty downloads starting together then decrypt four segments at a time, not twenty on
# twenty threads that each leave memory in an allocator arena of their own. The first segment
# of a download is decrypted on the request's own thread, so the semaphore bounds all of
# them; the limiter keeps the segments after it to a few threads as well. (From S3 a read
# waits on the network while it holds its place.)
DECRYPTING_AT_ONCE = 4
_DECRYPTING_NOW = threading.BoundedSemaphore(DECRYPTING_AT_ONCE)
_DECRYPTING: RunVar[anyio.CapacityLimiter] = RunVar("archive_downloads_decrypting")


def _decrypting() -> anyio.CapacityLimiter:
    """The limiter of the running event loop (a process may run several, as tests do)."""
    try:
        return _DECRYPTING.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(DECRYPTING_AT_ONCE)
        _DECRYPTING.set(limiter)
        return limiter


async def _sent(
    primed: list[bytes], read: Callable[[], list[bytes] | None]
) -> AsyncIterator[bytes]:
    """The pieces of `primed`, then of each `read()` until None; each `read()` runs on a
    worker thread once every piece before has been handed to the server.

    Not reading ahead keeps a download to about one segment in memory however slow its
    client: Litestar's own wrapper of a blocking iterator would still be holding the segment
    sent last while it decrypts the next. Many downloads at once keep the cores busy anyway.
    Pieces are taken out of their list as they are sent, so none is held after it went.
    """
    pieces = primed
    while True:
        pieces.reverse()
        while pieces:
            yield pieces.pop()
        found = await anyio.to_thread.run_sync(read, limiter=_decrypting())
        if found is None:
            return
        pieces = found


def _in_pieces(segment: bytes) -> list[bytes]:
    if len(segment) <= SEND_BYTES:
        return [segment]
    return [segment[at : at + SEND_BYTES] for at in range(0, len(segment), SEND_BYTES)]


def _reader(
    runtime: Runtime, obj: ContentObject, start: int, end: int
) -> Callable[[], list[bytes] | None]:
    """One verified segment of plaintext per call, in pieces of SEND_BYTES, then None.

    From a local file each segment is read on its own. From S3, where every read is a
    request, a whole object is one streamed GET and a range a few segments per request.
    """
    read: Callable[[], list[bytes] | None]
    if not runtime.store.reads_cost_a_request:
        read = SegmentReader(runtime, obj, start, end, piece=SEND_BYTES)
    else:
        whole = start == 0 and end == obj.size
        plaintext = read_object(runtime, obj) if whole else read_range(runtime, obj, start, end)

        def read() -> list[bytes] | None:
            segment = next(plaintext, None)
            return None if segment is None else _in_pieces(segment)

    def bounded() -> list[bytes] | None:
        with _DECRYPTING_NOW:
            return read()

    return bounded


def _primed(read: Callable[[], list[bytes] | None]) -> list[bytes]:
    """Decrypt the first segment now, so a tampered or swapped object fails with a problem
    answer before any header is sent; a failure further in aborts the transfer instead."""
    return read() or []


def stream_object(
    request: Request[Any, Any, Any],
    runtime: Runtime,
    obj: ContentObject,
    *,
    filename: str | None,
    inline: bool,
) -> Stream:
    """200 with the whole object, or 206 with the requested range (416 when outside it)."""
    etag = f'"{obj.sha256.hex()}"'
    wanted = None
    if if_range_matches(request.headers.get("if-range"), etag, None):
        wanted = parse_range(request.headers.get("range"), obj.size)
    start, end = (wanted.start, wanted.end) if wanted else (0, obj.size)
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Length": str(end - start),
        "ETag": etag,
        # Personal data: never kept by shared caches or the browser's disk cache.
        "Cache-Control": "private, no-store",
        "Content-Disposition": content_disposition(filename, inline=inline),
        "X-Content-Type-Options": "nosniff",
        # An attachment may be HTML or SVG with scripts: it must never run in the app's origin.
        "Content-Security-Policy": "sandbox; default-src 'none'; media-src 'self'",
    }
    if wanted is not None:
        headers["Content-Range"] = content_range(wanted, obj.size)
    read = _reader(runtime, obj, start, end)
    return Stream(
        _sent(_primed(read), read),
        status_code=HTTP_206_PARTIAL_CONTENT if wanted else HTTP_200_OK,
        media_type=obj.media_type,
        headers=headers,
    )
