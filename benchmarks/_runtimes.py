"""Runtimes for the in-process benchmarks: SQLite beside a local or an S3 object store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from archive.crypto.keyring import generate_key_material
from archive.db.migrate import upgrade
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings
from archive.testing.s3 import remove_bucket, s3_endpoint, unique_bucket

BACKENDS = ("local", "s3")


@contextmanager
def benchmark_runtime(backend: str, work_dir: Path) -> Iterator[Runtime]:
    """A migrated, checked runtime on `backend` with its files under `work_dir`.

    The production defaults (segment size, part size, limits) stay as they are: the point is
    to measure what a deployment gets.
    """
    data_dir = work_dir / backend
    data_dir.mkdir(parents=True)
    database_url = f"sqlite:///{data_dir / 'archive.db'}"
    with ExitStack() as cleanup:
        if backend == "local":
            settings = Settings(data_dir=data_dir, database_url=database_url)
        elif backend == "s3":
            endpoint = cleanup.enter_context(s3_endpoint(separate_process=True))
            bucket = unique_bucket("bench")
            settings = Settings(
                data_dir=data_dir,
                database_url=database_url,
                store="s3",
                s3_endpoint=endpoint.host,
                s3_access_key=endpoint.access_key,
                s3_secret_key=endpoint.secret_key,
                s3_bucket=bucket,
                s3_secure=endpoint.secure,
            )
            cleanup.callback(remove_bucket, endpoint, bucket)
        else:
            raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        runtime = build_runtime(settings, keys=generate_key_material())
        cleanup.callback(runtime.close)
        upgrade(runtime.engine)
        runtime.store.check()
        yield runtime
