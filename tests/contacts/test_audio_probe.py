"""Recognising recordings and reading their format, on committed media and synthetic headers."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path
from typing import BinaryIO, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.contacts.audio import AudioInfo, probe_audio, sniff_audio
from archive.errors import UnreadableMedia

pytestmark = pytest.mark.fast

MEDIA = Path(__file__).resolve().parents[1] / "media"
DEMO_MEDIA = Path(__file__).resolve().parents[2] / "archive" / "demo" / "media"
GOOD = {
    "tone-pcm16.wav": AudioInfo("wav", "pcm_s16le", "audio/wav", 2.0, 8000, 1),
    "tone-mulaw.wav": AudioInfo("wav", "pcm_mulaw", "audio/wav", 2.0, 8000, 1),
    "tone-alaw.wav": AudioInfo("wav", "pcm_alaw", "audio/wav", 2.0, 8000, 1),
    "speech.mp3": AudioInfo("mp3", "mp3", "audio/mpeg", 2.9, 16000, 1),
    "speech.opus": AudioInfo("ogg", "opus", "audio/ogg", 2.9, 48000, 1),
    "speech.flac": AudioInfo("flac", "flac", "audio/flac", 2.9, 16000, 1),
}
BAD = {
    "truncated.wav": "fmt chunk is cut short",
    "garbage.wav": "no fmt chunk",
    "not-audio.mp3": "not a supported audio format",
}
PCM_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"


def open_media(name: str) -> BinaryIO:
    return io.BytesIO((MEDIA / name).read_bytes())


def wav_bytes(fmt: bytes, data_size: int, *, extra_chunks: bytes = b"", data: bytes = b"") -> bytes:
    """A RIFF/WAVE file whose data chunk declares data_size but holds only `data`."""
    body = b"WAVE" + extra_chunks + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", data_size) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def pcm_fmt(*, tag: int = 1, channels: int = 1, rate: int = 8000, bits: int = 16) -> bytes:
    block_align = channels * bits // 8
    return struct.pack("<HHIIHH", tag, channels, rate, rate * block_align, block_align, bits)


def extensible_fmt(subformat: int, *, channels: int, rate: int, bits: int, tail: bytes) -> bytes:
    base = pcm_fmt(tag=0xFFFE, channels=channels, rate=rate, bits=bits)
    return base + struct.pack("<HHI", 22, bits, 0x3) + struct.pack("<H", subformat) + tail


@pytest.mark.parametrize("name", sorted(GOOD))
def test_probe_reads_every_good_fixture(name: str) -> None:
    expected = GOOD[name]
    info = probe_audio(open_media(name))
    assert (info.container, info.codec, info.media_type) == (
        expected.container,
        expected.codec,
        expected.media_type,
    )
    assert (info.sample_rate, info.channels) == (expected.sample_rate, expected.channels)
    assert info.duration_seconds == pytest.approx(expected.duration_seconds, rel=0.05)


@pytest.mark.parametrize("name", sorted(GOOD))
def test_sniff_names_every_good_fixture_from_its_first_bytes(name: str) -> None:
    head = (MEDIA / name).read_bytes()[:64]
    assert sniff_audio(head) == GOOD[name].media_type


@pytest.mark.parametrize("name", sorted(BAD))
def test_probe_rejects_every_bad_fixture_with_a_reason(name: str) -> None:
    with pytest.raises(UnreadableMedia, match=BAD[name]):
        probe_audio(open_media(name))


def test_demo_recordings_are_all_readable_calls() -> None:
    recordings = sorted(p for p in DEMO_MEDIA.iterdir() if p.suffix not in (".json", ".md"))
    codecs = set()
    for path in recordings:
        with path.open("rb") as file:
            info = probe_audio(file)
        codecs.add(info.codec)
        assert 15 <= info.duration_seconds <= 45, path.name
        assert info.channels == 1
    assert {"pcm_mulaw", "pcm_s16le", "mp3", "opus", "flac"} <= codecs


def test_demo_calls_describe_exactly_the_recordings_there() -> None:
    calls = json.loads((DEMO_MEDIA / "calls.json").read_text(encoding="utf-8"))["calls"]
    recordings = {p.name for p in DEMO_MEDIA.iterdir() if p.suffix not in (".json", ".md")}
    assert {call["filename"] for call in calls} == recordings
    for call in calls:
        assert call["language"] in ("en", "sv", "fi")
        assert call["direction"] in ("inbound", "outbound")
        assert call["summary"]
        assert {line["speaker"] for line in call["script"]} == {"agent", "customer"}


def test_sniff_knows_a_bare_mpeg_frame_but_not_aac() -> None:
    assert sniff_audio(b"\xff\xfb\x90\x64" + bytes(60)) == "audio/mpeg"
    with pytest.raises(UnreadableMedia, match="not a supported audio format"):
        sniff_audio(b"\xff\xf1\x50\x80" + bytes(60))


def test_sniff_rejects_empty_input() -> None:
    with pytest.raises(UnreadableMedia):
        sniff_audio(b"")


def test_extensible_wav_is_read_by_its_subformat() -> None:
    fmt = extensible_fmt(1, channels=2, rate=48000, bits=24, tail=PCM_GUID_TAIL)
    info = probe_audio(io.BytesIO(wav_bytes(fmt, 6 * 48000, data=bytes(6 * 48000))))
    assert (info.codec, info.channels, info.sample_rate) == ("pcm_s24le", 2, 48000)
    assert info.duration_seconds == pytest.approx(1.0)

    mulaw = extensible_fmt(7, channels=1, rate=8000, bits=8, tail=PCM_GUID_TAIL)
    assert probe_audio(io.BytesIO(wav_bytes(mulaw, 800, data=bytes(800)))).codec == "pcm_mulaw"


def test_extensible_wav_with_a_foreign_subformat_is_unreadable() -> None:
    fmt = extensible_fmt(1, channels=1, rate=8000, bits=16, tail=bytes(14))
    with pytest.raises(UnreadableMedia, match="extensible subformat"):
        probe_audio(io.BytesIO(wav_bytes(fmt, 0)))


def test_float_and_unknown_wav_formats() -> None:
    floats = wav_bytes(pcm_fmt(tag=3, bits=32), 32000, data=bytes(32000))
    assert probe_audio(io.BytesIO(floats)).codec == "pcm_f32le"
    with pytest.raises(UnreadableMedia, match="unsupported format tag 0x1234"):
        probe_audio(io.BytesIO(wav_bytes(pcm_fmt(tag=0x1234), 0)))


def test_wav_cut_short_in_its_audio_is_measured_by_what_is_there() -> None:
    # A recorder that died mid-call leaves a header claiming far more audio than was written.
    raw = wav_bytes(pcm_fmt(), 16000 * 60, data=bytes(16000))
    assert probe_audio(io.BytesIO(raw)).duration_seconds == pytest.approx(1.0)


def test_wav_chunks_before_fmt_and_odd_sizes_are_walked() -> None:
    odd_list = b"LIST" + struct.pack("<I", 5) + b"INFOx" + b"\x00"
    raw = wav_bytes(pcm_fmt(), 8000, extra_chunks=odd_list, data=bytes(8000))
    assert probe_audio(io.BytesIO(raw)).duration_seconds == pytest.approx(0.5)


def test_wav_with_zero_sample_rate_is_unreadable() -> None:
    with pytest.raises(UnreadableMedia, match="zero rate"):
        probe_audio(io.BytesIO(wav_bytes(pcm_fmt(rate=0), 0)))


class GeneratedWav(io.RawIOBase):
    """A huge WAV that exists only as a header; counts what a reader asks of it."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.header = wav_bytes(pcm_fmt(), size - 44)
        self.size = size
        self.position = 0
        self.bytes_read = 0
        self.reads = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = base + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        count = max(0, min(len(buffer), self.size - self.position))
        chunk = self.header[self.position : self.position + count]
        chunk += bytes(count - len(chunk))
        buffer[:count] = chunk
        self.position += count
        self.bytes_read += count
        self.reads += 1
        return count


def test_probing_a_huge_wav_reads_only_its_header() -> None:
    size = 500 * 1024 * 1024
    source = GeneratedWav(size)
    info = probe_audio(cast(BinaryIO, source))
    assert info.duration_seconds == pytest.approx((size - 44) / 2 / 8000)
    assert source.bytes_read <= 16 * 1024
    assert source.reads <= 2


def probe_or_error(raw: bytes) -> AudioInfo | UnreadableMedia:
    """Any other exception escapes and fails the test."""
    try:
        return probe_audio(io.BytesIO(raw))
    except UnreadableMedia as error:
        return error


def mutated(original: bytes, data: st.DataObject) -> bytes:
    head_length = min(len(original), 256)
    positions = data.draw(st.lists(st.integers(0, head_length - 1), max_size=8))
    raw = bytearray(original)
    for position in positions:
        raw[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    return bytes(raw[:cut])


@pytest.mark.parametrize("name", sorted(GOOD))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_headers_raise_nothing_but_unreadable_media(name: str, data: st.DataObject) -> None:
    outcome = probe_or_error(mutated((MEDIA / name).read_bytes(), data))
    if isinstance(outcome, UnreadableMedia):
        assert outcome.detail
    else:
        assert outcome.sample_rate > 0
        assert outcome.duration_seconds >= 0


MAGIC = [b"RIFF\x00\x00\x00\x00WAVE", b"ID3\x04\x00", b"\xff\xfb\x90\x64", b"OggS\x00\x02", b"fLaC"]


@settings(max_examples=300, deadline=None)
@given(prefix=st.sampled_from(MAGIC), rest=st.binary(max_size=2048))
def test_random_bytes_behind_a_magic_number_are_unreadable_not_a_crash(
    prefix: bytes, rest: bytes
) -> None:
    outcome = probe_or_error(prefix + rest)
    assert isinstance(outcome, AudioInfo) or outcome.detail
