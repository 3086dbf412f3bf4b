"""Downloads of stored content: whole and by range across segments, sent without reading ahead."""

from __future__ import annotations

import io
import random
import wave
from collections.abc import Callable

import anyio
import pytest
from litestar.testing import TestClient

from archive.api.download import SEND_BYTES, _in_pieces, _primed, _sent
from archive.runtime import Runtime

SEGMENT = 64 * 1024  # the tests' settings; plaintext segments hold 16 bytes less


def recording(size: int) -> bytes:
    """A WAV file of about `size` bytes whose samples do not repeat."""
    samples = random.Random(size).randbytes(size - 44)
    out = io.BytesIO()
    with wave.open(out, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(8000)
        file.writeframes(samples)
    return out.getvalue()


def test_a_recording_of_many_segments_comes_back_whole_and_by_any_range(
    client: TestClient,  # type: ignore[type-arg]
    runtime: Runtime,
) -> None:
    assert runtime.settings.segment_size == SEGMENT
    original = recording(5 * SEGMENT + 1234)
    created = client.post(
        "/api/v1/contacts/calls",
        params={"caller": "+358401234567", "filename": "long.wav"},
        content=original,
        headers={"Content-Type": "audio/wav"},
    )
    assert created.status_code == 201, created.text
    url = f"/api/v1/contacts/{created.json()['contact']['id']}/content"

    whole = client.get(url)
    assert whole.status_code == 200
    assert whole.headers["content-length"] == str(len(original))
    assert whole.content == original

    # Segment ends in the plaintext: the first holds SEGMENT - 56 bytes, the others SEGMENT - 16.
    first_end = SEGMENT - 56
    boundaries = [first_end + n * (SEGMENT - 16) for n in range(5)]
    wanted = [
        (0, 1),
        (first_end - 1, first_end + 1),
        (boundaries[1], boundaries[3]),
        (boundaries[2] - 5, len(original)),
        (100, len(original) - 100),
        (len(original) - 1, len(original)),
    ]
    for start, end in wanted:
        part = client.get(url, headers={"Range": f"bytes={start}-{end - 1}"})
        assert part.status_code == 206, (start, end)
        assert part.content == original[start:end], (start, end)
        assert part.headers["content-range"] == f"bytes {start}-{end - 1}/{len(original)}"


class Segments:
    """A `read` of segments in pieces that records when each segment is asked for."""

    def __init__(self, sizes: list[int]) -> None:
        self.segments = [bytes([n]) * size for n, size in enumerate(sizes)]
        self.asked = 0

    def __call__(self) -> list[bytes] | None:
        if self.asked == len(self.segments):
            return None
        self.asked += 1
        return _in_pieces(self.segments[self.asked - 1])


def collect(read: Callable[[], list[bytes] | None], segments: Segments) -> list[tuple[int, int]]:
    """(piece length, segments asked for when it arrived) for each piece sent."""

    async def run() -> list[tuple[int, int]]:
        return [(len(piece), segments.asked) async for piece in _sent(_primed(read), read)]

    return anyio.run(run)


@pytest.mark.fast
def test_a_segment_is_read_only_once_the_one_before_is_sent_in_pieces() -> None:
    segments = Segments([SEND_BYTES * 2 + 10, 10, SEND_BYTES])

    sent = collect(segments, segments)

    # The first segment is read before any answer (to fail as a problem), and each next one
    # only once every piece of the one before has been handed on.
    assert sent == [
        (SEND_BYTES, 1),
        (SEND_BYTES, 1),
        (10, 1),
        (10, 2),
        (SEND_BYTES, 3),
    ]


@pytest.mark.fast
def test_an_empty_object_sends_its_one_empty_segment_and_ends() -> None:
    segments = Segments([0])

    assert collect(segments, segments) == [(0, 1)]
    assert segments.asked == 1
