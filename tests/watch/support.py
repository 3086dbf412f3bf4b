"""Recordings as a telephone system writes them, and the calls the archive holds."""

from __future__ import annotations

import io
import math
import os
import shutil
import struct
import sys
import threading
import time
import wave
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import select

from archive.connectors.folder import FolderWatch
from archive.contacts.details import open_details
from archive.contacts.models import Channel, Contact, ObjectRole
from archive.contacts.objects import read_object
from archive.runtime import Runtime

SETTLE = 1.0


def wav(number: int, seconds: float = 1.0) -> bytes:
    """A PCM WAV tone of its own for each `number`: different recordings, different bytes."""
    out = io.BytesIO()
    frequency = 300 + 7 * number
    with wave.open(out, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(8000)
        frames = int(8000 * seconds)
        file.writeframes(
            b"".join(
                struct.pack("<h", int(8000 * math.sin(2 * math.pi * frequency * i / 8000)))
                for i in range(frames)
            )
        )
    return out.getvalue()


def archive_command() -> str:
    script = shutil.which("archive", path=str(Path(sys.executable).parent))
    assert script is not None, "the `archive` command is not installed next to this interpreter"
    return script


def asterisk_name(number: int, caller: str = "0401234567", callee: str = "100") -> str:
    return f"20260302-0930{number % 60:02d}-{caller}-{callee}-1772443800.{number}.wav"


def folder_watch(runtime: Runtime, root: Path, **changes: Any) -> FolderWatch:
    """The watch of `root` under the runtime's settings, settling in a second."""
    watch = FolderWatch.of(runtime.settings, root)
    return replace(watch, settle=SETTLE, **changes)


def settled(path: Path) -> None:
    """Make a file look left alone for longer than the settle time, as if written earlier."""
    past = time.time() - 100
    os.utime(path, (past, past))


@dataclass(frozen=True)
class Stored:
    raw: bytes
    details: dict[str, Any]
    source: str
    agent: str | None
    direction: str


def stored_calls(runtime: Runtime) -> list[Stored]:
    """Every call the archive holds, with its recording's bytes, oldest first."""
    found = []
    with runtime.session() as session:
        contacts = session.scalars(
            select(Contact).where(Contact.channel == Channel.CALL).order_by(Contact.created_at)
        ).all()
        for contact in contacts:
            (original,) = [o for o in contact.objects if o.role == ObjectRole.ORIGINAL]
            raw = b"".join(read_object(runtime, original))
            found.append(
                Stored(
                    raw,
                    open_details(runtime, contact),
                    contact.source,
                    contact.agent,
                    str(contact.direction),
                )
            )
    return found


class SlowWriter(threading.Thread):
    """A recorder writing a call: the file opened, then a chunk every `pause` seconds."""

    def __init__(self, path: Path, data: bytes, chunks: int, pause: float) -> None:
        super().__init__(daemon=True)
        self.path, self.data, self.chunks, self.pause = path, data, chunks, pause
        self.done = threading.Event()

    def run(self) -> None:
        size = -(-len(self.data) // self.chunks)
        with self.path.open("wb") as file:
            for start in range(0, len(self.data), size):
                file.write(self.data[start : start + size])
                file.flush()
                time.sleep(self.pause)
        self.done.set()
