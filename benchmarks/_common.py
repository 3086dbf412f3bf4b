"""What the benchmarks share: synthetic call recordings, timing arithmetic and result files."""

from __future__ import annotations

import io
import json
import os
import platform
import signal
import statistics
import sys
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

MIB = 1 << 20
CHUNK_SIZE = MIB
RESULTS_DIR = Path(__file__).parent / "results"
# Telephony audio: 16-bit PCM, mono, 8 kHz, the format a contact centre's recorder writes.
SAMPLE_WIDTH = 2
CHANNELS = 1
FRAME_RATE = 8000
# Each chunk starts with its recording's seed and its own index, so no two chunks of any two
# recordings are equal while the bulk of the bytes comes from one random block made once.
STAMP_SIZE = 16


def wav_header(data_size: int) -> bytes:
    """The header of a PCM WAV file whose sample data is `data_size` bytes long."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(CHANNELS)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(FRAME_RATE)
        wav.setnframes(data_size // (SAMPLE_WIDTH * CHANNELS))
        # An empty raw write emits the header for the declared length and patches nothing.
        wav.writeframesraw(b"")
        return buffer.getvalue()


@dataclass(frozen=True)
class Recording:
    """A synthetic WAV recording of `size` bytes, produced chunk by chunk and never held whole.

    Its samples are pseudo-random (incompressible, like real ciphertext-bound audio) and fast
    to make: one random block, stamped per chunk with `seed` and the chunk's index.
    """

    size: int
    seed: int
    block: bytes

    @classmethod
    def make(cls, size: int, seed: int, block: bytes | None = None) -> Recording:
        if size < CHUNK_SIZE:
            raise ValueError(f"a recording needs at least {CHUNK_SIZE} bytes")
        return cls(size, seed, block if block is not None else os.urandom(CHUNK_SIZE))

    @property
    def chunk_count(self) -> int:
        return -(-self.size // CHUNK_SIZE)

    def chunk(self, index: int) -> bytes:
        """Bytes [index * CHUNK_SIZE, (index + 1) * CHUNK_SIZE) of the file."""
        length = min(CHUNK_SIZE, self.size - index * CHUNK_SIZE)
        stamp = self.seed.to_bytes(8, "big") + index.to_bytes(8, "big")
        first = self.header + stamp if index == 0 else stamp
        if length <= len(first):
            return first[:length]
        return b"".join([first, memoryview(self.block)[len(first) : length]])

    def chunks(self) -> Iterator[bytes]:
        """The whole file in chunks of `CHUNK_SIZE` bytes (the last may be shorter)."""
        return map(self.chunk, range(self.chunk_count))

    def slice(self, start: int, end: int) -> bytes:
        """Bytes [start, end) of the file, to check what a range request returned."""
        first, last = start // CHUNK_SIZE, (end - 1) // CHUNK_SIZE
        joined = b"".join(self.chunk(index) for index in range(first, last + 1))
        offset = first * CHUNK_SIZE
        return joined[start - offset : end - offset]

    @property
    def header(self) -> bytes:
        return wav_header(self.size - len(wav_header(0)))


def shared_block() -> bytes:
    """One random block reused by every recording of a run (generating it costs a few ms)."""
    return os.urandom(CHUNK_SIZE)


def mb_per_second(size: int, seconds: float) -> float:
    """Throughput in MB/s, counting a MB as 10**6 bytes as disks and networks do."""
    return size / seconds / 1e6 if seconds > 0 else float("inf")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> dict[str, Any]:
    """What the figures were measured on, so results from different hosts are not compared."""
    return {
        "python": platform.python_version(),
        "system": platform.platform(),
        "cpus": os.cpu_count(),
    }


def write_results(name: str, results: dict[str, Any]) -> Path:
    """Save `results` as `results/<name>-<UTC time>.json` and return the path."""
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"{name}-{stamp}.json"
    document = {"benchmark": name, "measured_at": stamp, "machine": machine(), **results}
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


def stop_on_sigterm() -> None:
    """A SIGTERM unwinds like Ctrl-C does, so what a benchmark made (servers, its database, its
    directories) is still removed on the way out."""

    def leave(_signal: int, _frame: object) -> NoReturn:
        sys.exit(128 + signal.SIGTERM)

    signal.signal(signal.SIGTERM, leave)
