"""The seekable plaintext reader, checked against an in-memory file and a real audio parser."""

from __future__ import annotations

import io
import math
import os
import struct
import wave

import mutagen.wave
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.crypto import DecryptingReader, new_data_key
from archive.errors import IntegrityFailure

from .support import CountingStore, encrypt

pytestmark = pytest.mark.fast

SEGMENT = 104
KEY = new_data_key()
OBJECT_ID = "e2a95c10f47b3d86"
PLAINTEXT = os.urandom(777)
CIPHERTEXT = encrypt(KEY, OBJECT_ID, PLAINTEXT, SEGMENT)


def open_reader(store: CountingStore, segment_size: int = SEGMENT) -> DecryptingReader:
    return DecryptingReader(
        KEY, OBJECT_ID, store.read, ciphertext_size=len(store.data), segment_size=segment_size
    )


operations = st.one_of(
    st.tuples(st.just("seek"), st.integers(-900, 900), st.sampled_from([0, 1, 2])),
    st.tuples(st.just("read"), st.integers(-1, 300), st.just(0)),
    st.tuples(st.just("readinto"), st.integers(0, 300), st.just(0)),
)


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(operations, max_size=20))
def test_reads_and_seeks_match_an_in_memory_file(steps: list[tuple[str, int, int]]) -> None:
    reader, model = open_reader(CountingStore(CIPHERTEXT)), io.BytesIO(PLAINTEXT)

    for action, number, whence in steps:
        if action == "seek":
            target = {0: number, 1: model.tell() + number, 2: len(PLAINTEXT) + number}[whence]
            if target < 0:
                with pytest.raises(ValueError, match="negative seek"):
                    reader.seek(number, whence)
                continue
            assert reader.seek(number, whence) == model.seek(number, whence)
        elif action == "read":
            assert reader.read(number) == model.read(number)
        else:
            ours, theirs = bytearray(number), bytearray(number)
            assert reader.readinto(ours) == model.readinto(theirs)
            assert ours == theirs
        assert reader.tell() == model.tell()


def test_whole_file_reads() -> None:
    reader = open_reader(CountingStore(CIPHERTEXT))

    assert reader.read() == PLAINTEXT
    assert reader.read() == b""
    assert reader.seek(-10, io.SEEK_END) == len(PLAINTEXT) - 10
    assert reader.readall() == PLAINTEXT[-10:]
    reader.seek(5000)
    assert reader.read(10) == b""
    assert reader.tell() == 5000
    assert reader.size == len(PLAINTEXT)


def test_a_read_spanning_segments_is_not_short() -> None:
    reader = open_reader(CountingStore(CIPHERTEXT))
    reader.seek(40)

    assert reader.read(300) == PLAINTEXT[40:340]


def test_only_needed_segments_are_read_and_the_last_one_is_kept() -> None:
    store = CountingStore(CIPHERTEXT)
    reader = open_reader(store)

    reader.seek(500)
    first = reader.read(3)
    second = reader.read(3)

    assert first + second == PLAINTEXT[500:506]
    # 500 + 40 = 540 lies in segment 540 // 88 = 6: the header, then that segment, once.
    assert store.reads == [(0, 40), (6 * SEGMENT, SEGMENT)]


def test_the_first_segment_comes_with_the_header_in_one_read() -> None:
    store = CountingStore(CIPHERTEXT)

    assert open_reader(store).read(10) == PLAINTEXT[:10]
    assert store.reads == [(0, SEGMENT)]


def test_a_buffered_reader_on_top_works() -> None:
    buffered = io.BufferedReader(open_reader(CountingStore(CIPHERTEXT)), buffer_size=64)

    assert buffered.read(5) == PLAINTEXT[:5]
    buffered.seek(700)
    assert buffered.read() == PLAINTEXT[700:]


def test_tampering_surfaces_as_an_integrity_failure() -> None:
    altered = bytearray(CIPHERTEXT)
    altered[300] ^= 1
    reader = open_reader(CountingStore(bytes(altered)))

    assert reader.read(10) == PLAINTEXT[:10]
    with pytest.raises(IntegrityFailure):
        reader.read()


def test_an_impossible_size_is_refused_at_once() -> None:
    with pytest.raises(IntegrityFailure):
        DecryptingReader(
            KEY, OBJECT_ID, CountingStore(CIPHERTEXT).read, ciphertext_size=41, segment_size=SEGMENT
        )


def test_a_closed_reader_refuses_to_read() -> None:
    reader = open_reader(CountingStore(CIPHERTEXT))
    reader.close()

    for call in (reader.read, reader.tell, lambda: reader.seek(0)):
        with pytest.raises(ValueError, match="closed file"):
            call()


def test_an_invalid_whence_is_refused() -> None:
    with pytest.raises(ValueError, match="whence"):
        open_reader(CountingStore(CIPHERTEXT)).seek(0, 3)


def make_recording(seconds: float, rate: int) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as recording:
        recording.setnchannels(1)
        recording.setsampwidth(2)
        recording.setframerate(rate)
        frames = int(seconds * rate)
        tone = (int(8000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(frames))
        recording.writeframes(b"".join(struct.pack("<h", sample) for sample in tone))
    return out.getvalue()


def test_mutagen_reads_an_encrypted_recording_through_the_reader() -> None:
    recording = make_recording(seconds=1.5, rate=8000)
    segment_size = 4096
    store = CountingStore(encrypt(KEY, OBJECT_ID, recording, segment_size))

    audio = mutagen.wave.WAVE(open_reader(store, segment_size))  # type: ignore[no-untyped-call]

    info = audio.info
    assert isinstance(info, mutagen.wave.WaveStreamInfo)
    assert info.sample_rate == 8000
    assert info.channels == 1
    assert info.length == pytest.approx(1.5)
    # The parser needs the chunk headers, not every sample.
    assert sum(length for _, length in store.reads) < len(store.data) / 2
