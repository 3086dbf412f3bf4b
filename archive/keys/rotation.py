"""Key rotation: add a key-encryption key, then rewrap every data key under it, resumably.

Objects are never rewritten: only the small wrapped keys in the database change. Each batch
commits on its own, so an interrupted rotation continues where it stopped when run again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from archive.crypto.keyring import Keyring
from archive.db.models import KEYED_MODELS
from archive.runtime import Runtime


@dataclass
class RewrapReport:
    active_kek: str
    rewrapped: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rewrapped.values())


def count_by_kek(runtime: Runtime) -> dict[str, int]:
    """How many live data keys each key-encryption key wraps."""
    counts: dict[str, int] = {}
    with runtime.session() as session:
        for model in KEYED_MODELS:
            rows = session.execute(
                select(model.kek_id, func.count())
                .where(model.wrapped_key.is_not(None))
                .group_by(model.kek_id)
            )
            for kek_id, count in rows:
                name = kek_id or "(none)"
                counts[name] = counts.get(name, 0) + count
    return counts


def rewrap_all(
    runtime: Runtime,
    *,
    batch_size: int = 500,
    progress: Callable[[str, int], None] | None = None,
) -> RewrapReport:
    """Rewrap every data key not yet under the active KEK."""
    keyring: Keyring = runtime.keys.keyring
    report = RewrapReport(active_kek=keyring.active_id)
    for model in KEYED_MODELS:
        name = model.__tablename__  # type: ignore[attr-defined]
        done = 0
        while True:
            with runtime.session() as session:
                rows = session.scalars(
                    select(model)
                    .where(model.wrapped_key.is_not(None), model.kek_id != keyring.active_id)
                    .limit(batch_size)
                ).all()
                if not rows:
                    break
                for row in rows:
                    assert row.kek_id is not None
                    assert row.wrapped_key is not None
                    data_key = keyring.unwrap(row.kek_id, row.wrapped_key, row.key_context)
                    row.kek_id, row.wrapped_key = keyring.wrap(data_key, row.key_context)
                session.commit()
            done += len(rows)
            if progress is not None:
                progress(name, done)
        report.rewrapped[name] = done
    return report
