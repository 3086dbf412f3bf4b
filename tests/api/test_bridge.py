"""The hand-over of a request body from the event loop to the thread that stores it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import anyio
import pytest

from archive.api.bridge import HANDOVER_BYTES, READ_AHEAD, with_body
from archive.errors import PayloadTooLarge

pytestmark = pytest.mark.fast

PIECE = 64 * 1024


async def pieces(count: int, *, fail_after: int | None = None) -> AsyncIterator[bytes]:
    for number in range(count):
        if number == fail_after:
            raise ConnectionResetError("the client hung up")
        yield bytes([number % 256]) * PIECE


def test_the_thread_gets_every_byte_in_gathered_pieces() -> None:
    def work(chunks: Iterator[bytes]) -> list[bytes]:
        return list(chunks)

    got = anyio.run(with_body, pieces(40), work)
    assert b"".join(got) == b"".join(bytes([n]) * PIECE for n in range(40))
    assert [len(chunk) for chunk in got] == [HANDOVER_BYTES, HANDOVER_BYTES, 8 * PIECE]


def test_a_body_cut_off_is_an_error_in_the_thread_never_an_early_end() -> None:
    seen: list[int] = []

    def work(chunks: Iterator[bytes]) -> None:
        for chunk in chunks:
            seen.append(len(chunk))

    with pytest.raises(ConnectionResetError, match="hung up"):
        anyio.run(with_body, pieces(40, fail_after=20), work)
    assert seen == [HANDOVER_BYTES]  # the whole first MiB, then the failure, not the rest


def test_the_threads_own_error_comes_out_as_itself_and_the_reading_stops() -> None:
    read = 0

    async def counted() -> AsyncIterator[bytes]:
        nonlocal read
        async for piece in pieces(10_000):
            read += 1
            yield piece

    def work(chunks: Iterator[bytes]) -> None:
        next(chunks)
        raise PayloadTooLarge("the body is larger than the limit")

    with pytest.raises(PayloadTooLarge):
        anyio.run(with_body, counted(), work)
    # Read ahead of the thread by a few MiB at most, not the whole body.
    assert read * PIECE <= (READ_AHEAD + 3) * HANDOVER_BYTES
