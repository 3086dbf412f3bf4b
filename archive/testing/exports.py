"""Small synthetic exports for tests and benchmarks: recordings with a manifest."""

from __future__ import annotations

import io
import random
import wave
from pathlib import Path

MANIFEST_HEADER = "file,start,direction,caller,callee,agent,ticket\n"


def wav(seed: int, seconds: float = 0.2) -> bytes:
    """A short 8 kHz, 16-bit mono recording whose samples differ with `seed`."""
    rng = random.Random(seed)  # noqa: S311 - repeatable test audio, not a secret
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(rng.randbytes(int(8000 * seconds) * 2))
    return buffer.getvalue()


def recordings_folder(root: Path, count: int, seconds: float = 0.2) -> Path:
    """`root/export` holding `2024/05/call-N.wav` for N below `count`."""
    folder = root / "export"
    (folder / "2024" / "05").mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (folder / "2024" / "05" / f"call-{n}.wav").write_bytes(wav(n, seconds))
    return folder


def manifest_rows(count: int, *, distinct_callers: bool = False) -> str:
    """CSV rows (no header) for the recordings of `recordings_folder`: inbound calls, every
    other one from the same caller unless `distinct_callers`."""
    rows = []
    for n in range(count):
        shared = n % 2 and not distinct_callers
        caller = "+358 40 712 3456" if shared else f"+358 50 {n // 10000:03d} {n % 10000:04d}"
        rows.append(
            f"2024/05/call-{n}.wav,2024-05-0{1 + n % 9}T09:15:00+03:00,inbound,"
            f"{caller},+358 9 4245 100,Anna Lindqvist,ZD-{1000 + n}"
        )
    return "\n".join(rows) + "\n"
