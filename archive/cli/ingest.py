"""`archive ingest PATH...`: files or folders, channel by file type; re-runs skip what is stored.

Each file is stored through the same use case as the API's ingest routes, recorded in the audit
trail with the console operator as the actor.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.orm import Session

from archive.audit import Actor
from archive.cli.context import Context, pass_context
from archive.cli.users import console_actor
from archive.contacts import use_cases
from archive.contacts.audio import sniff_audio
from archive.contacts.email import looks_like_email
from archive.contacts.ingest import CallParties, Envelope, Ingested
from archive.contacts.models import Direction
from archive.contacts.transcripts import JSON, VTT, SentTranscript
from archive.errors import ArchiveError, InvalidInput
from archive.runtime import Runtime

AUDIO_SUFFIXES = {".wav", ".mp3", ".ogg", ".opus", ".oga", ".flac"}
SIDECAR = ".meta.json"  # call-17.wav + call-17.wav.meta.json: the call's parties and times
# call-17.wav + call-17.wav.vtt or call-17.wav.transcript.json: what was said in the call.
TRANSCRIPTS = {".vtt": VTT, ".transcript.json": JSON}
CHUNK = 1 << 20


@dataclass
class Summary:
    stored: int = 0
    skipped: int = 0
    failed: list[tuple[Path, str]] = field(default_factory=list)
    ignored: list[tuple[Path, str]] = field(default_factory=list)
    # Stored, though a contact with the same natural key and other bytes was there already.
    shared_key: list[tuple[Path, str]] = field(default_factory=list)


def channel_of(path: Path) -> str | None:
    """chat, email or call from the name, else from the first bytes; None if neither."""
    suffix = path.suffix.lower()
    if suffix in AUDIO_SUFFIXES:
        return "call"
    if suffix == ".eml":
        return "email"
    if suffix == ".json":
        return "chat"
    with path.open("rb") as file:
        head = file.read(4096)
    try:
        sniff_audio(head)
        return "call"
    except ArchiveError:
        pass
    return "email" if looks_like_email(head) else None


def chat_format(data: bytes) -> str:
    """Which chat shape a JSON file has: ours, a Zendesk comments page, or Chatwoot messages."""
    try:
        loaded = json.loads(data)
    except ValueError:
        return "archive"  # the parser reports the error with its position
    if isinstance(loaded, dict) and "comments" in loaded:
        return "zendesk"
    if isinstance(loaded, dict) and "payload" in loaded:
        return "chatwoot"
    return "archive"


def files_under(paths: tuple[Path, ...]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        else:
            yield path


SIDECAR_FIELDS = (
    "caller", "callee", "direction", "agent", "started_at", "ticket", "external_id",
    "customer_email", "customer_national_id", "customer_name",
)  # fmt: skip


def _sidecar(path: Path) -> dict[str, str]:
    """The recording's NAME.meta.json: known fields, each a string, or a clear error."""
    meta = path.with_name(path.name + SIDECAR)
    if not meta.exists():
        return {}
    try:
        loaded = json.loads(meta.read_bytes())
    except (ValueError, RecursionError) as error:
        raise InvalidInput(f"{meta.name}: not valid JSON ({error})") from None
    if not isinstance(loaded, dict):
        raise InvalidInput(f"{meta.name}: must be a JSON object")
    unknown = sorted(set(loaded) - set(SIDECAR_FIELDS))
    if unknown:
        raise InvalidInput(f"{meta.name}: unknown fields {', '.join(unknown)}")
    for name, value in loaded.items():
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"{meta.name}: {name} must be a string", field=name)
    return {name: value for name, value in loaded.items() if value is not None}


def _transcript(path: Path, limit: int) -> SentTranscript | None:
    """The recording's transcript beside it, if it has one."""
    for suffix, media_type in TRANSCRIPTS.items():
        beside = path.with_name(path.name + suffix)
        if beside.exists():
            if beside.stat().st_size > limit:
                raise InvalidInput(f"{beside.name}: larger than the limit of {limit} bytes")
            return SentTranscript(beside.read_bytes(), media_type)
    return None


def _moment(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("started_at: not an ISO 8601 time", field="started_at") from None


def _file_digest(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.digest()


def _chunks(path: Path, progress: Progress, task: Any) -> Iterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            progress.advance(task, len(chunk))
            yield chunk


def _ingest_one(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    path: Path,
    channel: str,
    defaults: Envelope,
    progress: Progress,
    task: Any,
) -> Ingested:
    if channel == "call":
        meta = _sidecar(path)
        try:
            direction = Direction(meta.get("direction", defaults.direction))
        except ValueError:
            raise InvalidInput(
                "direction: inbound, outbound or internal", field="direction"
            ) from None
        digest = _file_digest(path)
        envelope = Envelope(
            direction=direction,
            agent=meta.get("agent", defaults.agent),
            ticket=meta.get("ticket", defaults.ticket),
            # The file's digest makes a re-run find the recording it already stored.
            external_id=meta.get("external_id") or f"file-sha256:{digest.hex()}",
            started_at=_moment(meta.get("started_at")),
            source="cli",
        )
        parties = CallParties(
            caller=meta.get("caller"),
            callee=meta.get("callee"),
            customer_email=meta.get("customer_email"),
            customer_national_id=meta.get("customer_national_id"),
            customer_name=meta.get("customer_name"),
            filename=path.name,
        )
        # Already archived: nothing is sent again, so nothing is stored or recorded.
        stored = use_cases.stored_call(session, runtime, envelope, digest)
        if stored is not None:
            progress.advance(task, path.stat().st_size)
            return Ingested(stored, created=False)
        chunks = _chunks(path, progress, task)
        transcript = _transcript(path, runtime.settings.max_message_bytes)
        return use_cases.ingest_call(
            session, runtime, actor, envelope, parties, chunks, transcript=transcript
        )
    limit = runtime.settings.max_message_bytes
    if path.stat().st_size > limit:
        raise InvalidInput(f"larger than the limit of {limit} bytes for e-mails and chats")
    data = path.read_bytes()
    progress.advance(task, len(data))
    if channel == "email":
        return use_cases.ingest_email(
            session, runtime, actor, defaults, data, resend_recorded=False
        )
    source = chat_format(data)
    return use_cases.ingest_chat(
        session, runtime, actor, defaults, data, source=source, resend_recorded=False
    )


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--direction", type=click.Choice([d.value for d in Direction]), default="inbound")
@click.option("--agent", help="Agent who handled the contacts.")
@click.option("--ticket", help="External ticket reference to link the contacts to.")
@pass_context
def ingest_command(
    ctx: Context, paths: tuple[Path, ...], direction: str, agent: str | None, ticket: str | None
) -> None:
    """Archive files: .eml e-mails, .json chats, WAV/MP3/Ogg/FLAC calls (with optional
    FILE.meta.json beside a recording giving caller, callee, direction, agent, started_at, and
    FILE.vtt or FILE.transcript.json its transcript)."""
    runtime = ctx.runtime
    actor = console_actor()
    defaults = Envelope(direction=Direction(direction), agent=agent, ticket=ticket, source="cli")
    summary = Summary()
    work = []
    for path in files_under(paths):
        if path.name.endswith((SIDECAR, *TRANSCRIPTS)):
            continue
        channel = channel_of(path)
        if channel is None:
            summary.ignored.append((path, "not a chat, e-mail or recording"))
            continue
        work.append((path, channel))
    total = sum(p.stat().st_size for p, _ in work)
    console = Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("ingesting", total=total)
        for path, channel in work:
            progress.update(task, description=path.name[:40])
            with runtime.session() as session:
                try:
                    result = _ingest_one(
                        session, runtime, actor, path, channel, defaults, progress, task
                    )
                except (ArchiveError, ValueError, RecursionError) as error:
                    detail = error.detail if isinstance(error, ArchiveError) else str(error)
                    summary.failed.append((path, detail))
                    continue
            if result.created:
                summary.stored += 1
                if result.same_key_as is not None:
                    summary.shared_key.append(
                        (path, f"same {result.key_name} as contact {result.same_key_as.id}")
                    )
            else:
                summary.skipped += 1
    click.echo(
        f"stored {summary.stored}, already archived {summary.skipped}, "
        f"failed {len(summary.failed)}, not archivable {len(summary.ignored)}"
    )
    for path, note in summary.shared_key:
        click.echo(f"  stored  {path}: {note}, different content")
    for path, reason in summary.failed:
        click.echo(f"  failed  {path}: {reason}", err=True)
    for path, reason in summary.ignored:
        click.echo(f"  ignored {path}: {reason}", err=True)
    if summary.failed:
        raise SystemExit(1)
