"""The running archive: settings, database, object store, keys and clock, built once and shared.

The API, the CLI and the workers each build one `Runtime` and hand it to the same services.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from archive.clock import Clock, SystemClock
from archive.crypto.keyring import KeyMaterial, load_key_material
from archive.db.session import make_engine, make_sessionmaker
from archive.settings import Settings
from archive.storage.base import ObjectStore
from archive.storage.factory import open_store

# How long closing waits for work on this process's threads; what is left undone then is
# finished by whoever runs that work next, as after a crash.
CLOSE_WAIT_SECONDS = 30.0


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: ObjectStore
    keys: KeyMaterial
    clock: Clock
    # When keys come from a file, rotation rewrites it; a running process picks up the new
    # key-encryption key by itself (see refresh_keys) instead of failing until restarted.
    key_file: Path | None = None
    _key_stamp: tuple[int, int, int] | None = None
    reader: sessionmaker[Session] | None = None
    # Work started on threads of this process (archive.background, on the embedded default),
    # waited for before the engine closes: else a thread still at work holds a connection the
    # engine no longer knows, and its work stops half done.
    threads: list[threading.Thread] = field(default_factory=list)

    def refresh_keys(self) -> None:
        """Reload the key file if it changed since it was read (one stat call otherwise)."""
        if self.key_file is None:
            return
        try:
            found = self.key_file.stat()
        except OSError:
            return  # keep the keys in memory; the next call tries again
        # The inode too: a rewritten file of the same size, within the clock's resolution
        # (a key activated in place of another), is still a new file.
        stamp = (found.st_ino, found.st_mtime_ns, found.st_size)
        if stamp != self._key_stamp:
            self.keys = load_key_material(key_file=self.key_file, env_json=None)
            self._key_stamp = stamp

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reading only what is committed, never waiting for a writer."""
        if self.reader is None:
            url = self.engine.url.render_as_string(hide_password=False)
            engine = (
                self.engine
                if self.engine.dialect.name != "sqlite"
                else make_engine(url, reading=True)
            )
            self.reader = make_sessionmaker(engine)
        session = self.reader()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that rolls back whatever was not committed when the block ends."""
        session = self.sessions()
        try:
            yield session
        finally:
            # Closing rolls back what was not committed, on the connection as it goes back to
            # the pool; a rollback() first would also expire every object the session loaded,
            # work thrown away with the session (4 % of an audited read's CPU).
            session.close()

    def close(self) -> None:
        for thread in list(self.threads):
            thread.join(timeout=CLOSE_WAIT_SECONDS)
        if self.reader is not None and self.reader.kw["bind"] is not self.engine:
            self.reader.kw["bind"].dispose()
        self.engine.dispose()


def store_from_settings(settings: Settings) -> ObjectStore:
    return open_store(
        settings.store,
        local_root=settings.resolved_store_path,
        s3_endpoint=settings.s3_endpoint,
        s3_access_key=settings.s3_access_key,
        s3_secret_key=settings.s3_secret_key,
        s3_bucket=settings.s3_bucket,
        s3_secure=settings.s3_secure,
        s3_region=settings.s3_region,
        s3_object_lock=settings.s3_object_lock,
    )


def build_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    store: ObjectStore | None = None,
    keys: KeyMaterial | None = None,
) -> Runtime:
    """Connect everything the settings name. Nothing is created here: keys must already exist."""
    if settings.is_embedded:
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_file = None if keys or settings.keys_json else settings.resolved_key_file
    key_material = keys or load_key_material(key_file=key_file, env_json=settings.keys_json)
    engine = make_engine(settings.resolved_database_url, pool_size=settings.database_pool_size)
    runtime = Runtime(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        store=store or store_from_settings(settings),
        keys=key_material,
        clock=clock or SystemClock(),
        key_file=key_file,
    )
    runtime.refresh_keys()  # records the file's stamp
    return runtime
