"""What a test archive holds, read around the services: rows, stored objects, every value."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select

from archive.db.models import Base
from archive.runtime import Runtime


def count(runtime: Runtime, model: type) -> int:
    with runtime.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def stored_bytes(runtime: Runtime) -> dict[str, bytes]:
    """Every object in the store, by key."""
    store = runtime.store
    return {info.key: b"".join(store.iter_chunks(info.key)) for info in store.list()}


def database_bytes(runtime: Runtime) -> Iterator[tuple[str, bytes]]:
    """Every non-null value in every table, as bytes, with where it was: `table.column`."""
    with runtime.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                for column, value in row.items():
                    if value is None:
                        continue
                    raw = (
                        bytes(value)
                        if isinstance(value, bytes | memoryview)
                        else str(value).encode()
                    )
                    yield f"{table.name}.{column}", raw
