"""Breaking the archive underneath a request, as operators meet it: a stored object altered or
lost, a key gone from the keyring, an object store or a database that does not answer.

Each helper yields (or returns) what the failure's full detail names, which the log line of the
request must carry and its answer must not.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text, update

from archive.contacts.models import Contact, ContentObject, ObjectRole
from archive.db.session import make_engine, make_sessionmaker
from archive.runtime import Runtime
from archive.storage.local import TEMP_DIR, LocalStore
from archive.storage.s3 import S3Store
from archive.testing.servers import free_port


def original_key(runtime: Runtime, contact_id: uuid.UUID) -> str:
    """The object key of a contact's original (the recording, the .eml, the chat JSON)."""
    with runtime.session() as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None
        return next(o.storage_key for o in contact.objects if o.role == ObjectRole.ORIGINAL)


def tamper(runtime: Runtime, key: str, at: int = 60) -> None:
    """Flip one bit of a stored object, as a disk or a person with access to the bucket might."""
    stored = bytearray(b"".join(runtime.store.iter_chunks(key)))
    stored[at] ^= 0x01
    runtime.store.delete_many([key])
    runtime.store.put(key, [bytes(stored)])


def lose(runtime: Runtime, key: str) -> None:
    """The object is gone from the store, its row still in the database."""
    runtime.store.delete_many([key])


def forget_kek(runtime: Runtime, contact_id: uuid.UUID, kek_id: str = "kek-gone-42") -> str:
    """The contact's objects name a key-encryption key the keyring does not hold."""
    with runtime.session() as session:
        session.execute(
            update(ContentObject)
            .where(ContentObject.contact_id == contact_id)
            .values(kek_id=kek_id)
        )
        session.commit()
    return kek_id


@contextmanager
def store_down(runtime: Runtime, key: str) -> Iterator[str]:
    """The object store failing: an S3 endpoint nobody answers on, or a local object the system
    will not open (a symbolic link to itself). Yields what the failure's detail names."""
    saved = runtime.store
    if isinstance(saved, S3Store):
        endpoint = f"127.0.0.1:{free_port()}"
        runtime.store = S3Store(
            endpoint, "nobody", "nothing", saved.bucket, secure=False, region=None, timeout=2
        )
        try:
            yield endpoint
        finally:
            runtime.store = saved
        return
    assert isinstance(saved, LocalStore)
    path = saved.root.joinpath(*key.split("/"))
    kept = path.read_bytes()
    path.unlink()
    os.symlink(path.name, path)
    try:
        yield str(saved.root)
    finally:
        path.unlink()
        path.write_bytes(kept)


@contextmanager
def store_gone(runtime: Runtime) -> Iterator[None]:
    """The live store refusing writes: an S3 endpoint nobody answers on, or a local store whose
    directory for new objects has become a file."""
    store = runtime.store
    if not isinstance(store, LocalStore):
        with store_down(runtime, "any"):
            yield
        return
    temp = store.root / TEMP_DIR
    aside = store.root / "aside"
    temp.rename(aside)
    temp.write_bytes(b"")
    try:
        yield
    finally:
        temp.unlink()
        aside.rename(temp)


@contextmanager
def database_down(runtime: Runtime, scratch: Path) -> Iterator[str]:
    """The metadata database not answering: PostgreSQL on a port nobody listens on, or an SQLite
    file in a directory that is not there. Yields what the driver's message names."""
    saved = runtime.sessions
    if runtime.engine.dialect.name == "sqlite":
        url, named = f"sqlite:///{scratch / 'unmounted' / 'archive.db'}", "unable to open database"
    else:
        port = free_port()
        url, named = f"postgresql+psycopg://archive@127.0.0.1:{port}/archive", str(port)
    engine = make_engine(url)
    runtime.sessions = make_sessionmaker(engine)
    try:
        yield named
    finally:
        runtime.sessions = saved
        engine.dispose()


def storage_keys(runtime: Runtime) -> list[str]:
    """Every object key the database knows, to look for in answers."""
    with runtime.engine.connect() as conn:
        return [str(key) for key in conn.execute(text("SELECT storage_key FROM content_objects"))]
