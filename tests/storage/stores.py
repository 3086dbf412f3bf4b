"""How the storage tests open each backend, and uploads that run in a process of their own.

Run as a script, it reads a store description as JSON on stdin and either streams a large
object into that store and prints how much memory the upload took (a separate process keeps
the test server's own allocations, moto runs inside the test process, out of the measurement),
or streams into it and kills itself part-way, as a process killed mid-upload would stop.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]  # boto3 ships without type hints

from archive.storage import LocalStore, ObjectStore, S3Store
from archive.storage.local import TEMP_DIR

MIB = 1 << 20


@dataclass(frozen=True)
class StoreSpec:
    """Enough to open the same store again, in this process or another."""

    kind: str
    options: dict[str, Any]

    def open(self, **overrides: Any) -> ObjectStore:
        options = {**self.options, **overrides}
        if self.kind == "local":
            return LocalStore(Path(options["root"]))
        return S3Store(**options)

    def to_json(self) -> str:
        return json.dumps({"kind": self.kind, "options": self.options})

    @classmethod
    def from_json(cls, text: str) -> StoreSpec:
        fields = json.loads(text)
        return cls(fields["kind"], fields["options"])


def unfinished_writes(spec: StoreSpec) -> list[str]:
    """What a failed put could leave behind: temp files, or incomplete multipart uploads."""
    if spec.kind == "local":
        return sorted(path.name for path in (Path(spec.options["root"]) / TEMP_DIR).iterdir())
    uploads = _s3_client(spec).list_multipart_uploads(Bucket=spec.options["bucket"])
    return sorted(str(upload["Key"]) for upload in uploads.get("Uploads", []))


def leave_unfinished(spec: StoreSpec, key: str) -> None:
    """Make what a put killed part-way leaves: a temp file, or a multipart upload with a part."""
    spec.open().check()  # creates the directory or the bucket
    if spec.kind == "local":
        temp = Path(spec.options["root"]) / TEMP_DIR
        (temp / f"put-{key.replace('/', '')}").write_bytes(b"half an object")
        return
    client = _s3_client(spec)
    bucket = spec.options["bucket"]
    upload = client.create_multipart_upload(Bucket=bucket, Key=key)
    client.upload_part(
        Bucket=bucket, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=b"half"
    )


def _s3_client(spec: StoreSpec) -> Any:
    """A boto3 client: a second S3 SDK, so the tests do not only see what the store's own sees."""
    options = spec.options
    return boto3.client(
        "s3",
        endpoint_url=f"{'https' if options['secure'] else 'http'}://{options['endpoint']}",
        aws_access_key_id=options["access_key"],
        aws_secret_access_key=options["secret_key"],
        region_name=options["region"] or "us-east-1",
    )


def fresh_chunks(count: int, size: int = MIB) -> Iterator[bytes]:
    """`count` chunks, each a new object, as a real producer would allocate them."""
    for number in range(count):
        yield bytes([number % 251]) * size


def measure_put(spec: StoreSpec, key: str, chunk_count: int) -> dict[str, int]:
    """Put `chunk_count` MiB under `key`; return bytes written and peak traced memory growth."""
    store = spec.open()
    store.check()
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    written = store.put(key, fresh_chunks(chunk_count))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"written": written, "growth": peak - before}


def put_then_die(spec: StoreSpec, key: str, kill_after: int) -> None:
    """Stream MiB chunks into `key`; SIGKILL this process once `kill_after` bytes have gone in."""

    def stream() -> Iterator[bytes]:
        sent = 0
        while True:
            if sent >= kill_after:
                os.kill(os.getpid(), signal.SIGKILL)
            yield b"k" * MIB
            sent += MIB

    spec.open().put(key, stream())


if __name__ == "__main__":
    request = json.loads(sys.stdin.read())
    spec = StoreSpec.from_json(request["spec"])
    if "kill_after" in request:
        put_then_die(spec, request["key"], request["kill_after"])
    result = measure_put(spec, request["key"], request["chunk_count"])
    sys.stdout.write(json.dumps(result))
