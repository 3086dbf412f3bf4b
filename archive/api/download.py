"""Streams a content object's plaintext with HTTP Range support, so audio can seek."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from litestar import Request
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_206_PARTIAL_CONTENT

from archive.api.ranges import content_range, if_range_matches, parse_range
from archive.contacts.models import ContentObject
from archive.contacts.objects import read_object, read_range
from archive.runtime import Runtime


def content_disposition(filename: str | None, *, inline: bool) -> str:
    kind = "inline" if inline else "attachment"
    if not filename:
        return kind
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in filename)
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _primed(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Decrypt the first segment now, so a tampered or swapped object fails with a problem
    answer before any header is sent; a failure further in aborts the transfer instead."""
    first = next(chunks, None)
    return itertools.chain([] if first is None else [first], chunks)


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
    # A whole object is one streamed GET from the store; a range reads only its segments.
    plaintext = read_range(runtime, obj, start, end) if wanted else read_object(runtime, obj)
    return Stream(
        _primed(plaintext),
        status_code=HTTP_206_PARTIAL_CONTENT if wanted else HTTP_200_OK,
        media_type=obj.media_type,
        headers=headers,
    )
