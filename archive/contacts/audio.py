"""Recognising call recordings and reading their codec, length and sample rate."""

from __future__ import annotations

import io
import math
import struct
from dataclasses import dataclass
from typing import BinaryIO

import mutagen
from mutagen import MutagenError
from mutagen.flac import FLAC
from mutagen.mp3 import MP3
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggspeex import OggSpeex
from mutagen.oggvorbis import OggVorbis

from archive.errors import UnreadableMedia

SNIFF_BYTES = 64
# One read normally covers every WAV header chunk; stored objects may sit behind a network
# round trip per read, so we prefer one modest read to many tiny ones.
WAV_WINDOW = 8 * 1024
# Buffer for mutagen's many small reads on MP3/Ogg/FLAC.
READ_BUFFER = 64 * 1024
# A RIFF file with thousands of chunks before its audio is hostile, not a recording.
MAX_WAV_CHUNKS = 256

MEDIA_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "ogg": "audio/ogg", "flac": "audio/flac"}
# The 14 bytes that follow the format tag in every standard WAVE_FORMAT_EXTENSIBLE subformat GUID.
EXTENSIBLE_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
WAV_CODECS = {
    0x0002: "adpcm_ms",
    0x0006: "pcm_alaw",
    0x0007: "pcm_mulaw",
    0x0011: "adpcm_ima_wav",
    0x0031: "gsm_ms",
    0x0055: "mp3",
}
PCM_CODECS = {8: "pcm_u8", 16: "pcm_s16le", 24: "pcm_s24le", 32: "pcm_s32le"}
FLOAT_CODECS = {32: "pcm_f32le", 64: "pcm_f64le"}
TAGGED_CODECS: dict[type[object], str] = {
    FLAC: "flac",
    OggOpus: "opus",
    OggVorbis: "vorbis",
    OggFLAC: "flac",
    OggSpeex: "speex",
}
TAGGED_READERS: dict[str, tuple[str, list[type[object]]]] = {
    MEDIA_TYPES["mp3"]: ("mp3", [MP3]),
    MEDIA_TYPES["flac"]: ("flac", [FLAC]),
    MEDIA_TYPES["ogg"]: ("ogg", [OggOpus, OggVorbis, OggFLAC, OggSpeex]),
}
# Errors mutagen lets through on hostile input besides its own MutagenError.
PARSER_ERRORS = (MutagenError, ValueError, struct.error, IndexError, EOFError, OverflowError)


@dataclass(frozen=True)
class AudioInfo:
    """What a recording is and how long it plays."""

    container: str
    codec: str
    media_type: str
    duration_seconds: float
    sample_rate: int
    channels: int


def sniff_audio(head: bytes) -> str:
    """Return the media type of a recording from its first bytes (at most 64 are looked at)."""
    head = head[:SNIFF_BYTES]
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return MEDIA_TYPES["wav"]
    if head[:4] == b"fLaC":
        return MEDIA_TYPES["flac"]
    if head[:4] == b"OggS":
        return MEDIA_TYPES["ogg"]
    if head[:3] == b"ID3" or _is_mpeg_frame_header(head[:4]):
        return MEDIA_TYPES["mp3"]
    raise UnreadableMedia(f"not a supported audio format: starts with {head[:12]!r}")


def probe_audio(fileobj: BinaryIO) -> AudioInfo:
    """Read a recording's format from a seekable file without loading the audio.

    A WAV whose data chunk claims more bytes than the file holds (a recorder that stopped
    mid-call) is measured by the bytes that are there. The position of ``fileobj``
    afterwards is unspecified.
    """
    size = fileobj.seek(0, io.SEEK_END)
    window = _Window(fileobj)
    media_type = sniff_audio(window.read(0, SNIFF_BYTES))
    if media_type == MEDIA_TYPES["wav"]:
        return _probe_wav(window, size)
    fileobj.seek(0)
    buffered = io.BufferedReader(_RawReader(fileobj), buffer_size=READ_BUFFER)
    try:
        return _probe_tagged(buffered, media_type)
    except PARSER_ERRORS as exc:
        reason = str(exc) or type(exc).__name__
        raise UnreadableMedia(f"unreadable {media_type} recording: {reason}") from exc


def _is_mpeg_frame_header(head: bytes) -> bool:
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0x3
    layer = (head[1] >> 1) & 0x3
    bitrate = head[2] >> 4
    sample_rate = (head[2] >> 2) & 0x3
    # Layer 0 is ADTS (AAC), not MPEG audio; the other values are reserved or "bad".
    return version != 1 and layer != 0 and bitrate != 0xF and sample_rate != 0x3


def _checked(info: AudioInfo) -> AudioInfo:
    if info.sample_rate <= 0 or info.channels <= 0:
        raise UnreadableMedia(
            f"unreadable {info.media_type} recording: no sample rate or channel count"
        )
    # A stream cut inside its first pages can end before its own pre-skip: no audio at all.
    if not math.isfinite(info.duration_seconds) or info.duration_seconds < 0:
        raise UnreadableMedia(f"unreadable {info.media_type} recording: no measurable length")
    return info


def _probe_tagged(fileobj: BinaryIO, media_type: str) -> AudioInfo:
    container, readers = TAGGED_READERS[media_type]
    tagged = mutagen.File(fileobj, options=readers)
    if tagged is None:
        raise UnreadableMedia(f"unreadable {media_type} recording: no stream mutagen knows")
    info = tagged.info
    codec = f"mp{info.layer}" if isinstance(tagged, MP3) else TAGGED_CODECS[type(tagged)]
    # Opus always decodes at 48 kHz; its header keeps the input rate only as a hint.
    sample_rate = 48000 if isinstance(tagged, OggOpus) else int(info.sample_rate)
    return _checked(
        AudioInfo(
            container=container,
            codec=codec,
            media_type=media_type,
            duration_seconds=float(info.length),
            sample_rate=sample_rate,
            channels=int(info.channels),
        )
    )


class _RawReader(io.RawIOBase):
    """Lets io.BufferedReader batch mutagen's small reads on any seekable binary file."""

    def __init__(self, fileobj: BinaryIO) -> None:
        super().__init__()
        self._fileobj = fileobj

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._fileobj.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._fileobj.seek(offset, whence)
        return self._fileobj.tell()

    def tell(self) -> int:
        return self._fileobj.tell()


class _Window:
    """Serves small reads at any offset from one cached block read from the file."""

    def __init__(self, fileobj: BinaryIO) -> None:
        self._fileobj = fileobj
        self._start = 0
        self._data = b""

    def read(self, offset: int, length: int) -> bytes:
        end = self._start + len(self._data)
        if offset < self._start or offset + length > end:
            self._fileobj.seek(offset)
            self._data = self._fileobj.read(max(length, WAV_WINDOW))
            self._start = offset
        begin = offset - self._start
        return self._data[begin : begin + length]


def _probe_wav(window: _Window, size: int) -> AudioInfo:
    # mutagen reports neither the WAVE_FORMAT_EXTENSIBLE subformat nor data chunks cut short,
    # so the RIFF chunks are walked here.
    fmt: bytes | None = None
    data_size: int | None = None
    position = 12
    for _ in range(MAX_WAV_CHUNKS):
        header = window.read(position, 8)
        if len(header) < 8:
            break
        chunk_id, chunk_size = struct.unpack("<4sI", header)
        body_start = position + 8
        if chunk_id == b"fmt ":
            fmt = window.read(body_start, min(chunk_size, 64))
            if len(fmt) < 16:
                raise UnreadableMedia("unreadable audio/wav recording: fmt chunk is cut short")
        elif chunk_id == b"data":
            data_size = min(chunk_size, size - body_start)
        if fmt is not None and data_size is not None:
            return _wav_info(fmt, data_size)
        position = body_start + chunk_size + (chunk_size & 1)
    missing = "fmt" if fmt is None else "data"
    raise UnreadableMedia(f"unreadable audio/wav recording: no {missing} chunk")


def _wav_info(fmt: bytes, data_size: int) -> AudioInfo:
    tag, channels, sample_rate, byte_rate, block_align, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == 0xFFFE:
        if len(fmt) < 40 or fmt[26:40] != EXTENSIBLE_GUID_TAIL:
            raise UnreadableMedia("unreadable audio/wav recording: unknown extensible subformat")
        (tag,) = struct.unpack("<H", fmt[24:26])
    if tag == 1:
        codec = PCM_CODECS.get(bits)
    elif tag == 3:
        codec = FLOAT_CODECS.get(bits)
    else:
        codec = WAV_CODECS.get(tag)
    if codec is None:
        raise UnreadableMedia(
            f"unreadable audio/wav recording: unsupported format tag 0x{tag:04x}, {bits} bits"
        )
    if sample_rate == 0 or channels == 0 or block_align == 0:
        raise UnreadableMedia("unreadable audio/wav recording: zero rate, channels or block size")
    if codec.startswith("pcm_"):
        duration = (data_size // block_align) / sample_rate
    elif byte_rate:
        # Compressed WAV codecs have variable samples per block; the average rate is exact enough.
        duration = data_size / byte_rate
    else:
        raise UnreadableMedia("unreadable audio/wav recording: no byte rate")
    return AudioInfo(
        container="wav",
        codec=codec,
        media_type=MEDIA_TYPES["wav"],
        duration_seconds=duration,
        sample_rate=sample_rate,
        channels=channels,
    )
