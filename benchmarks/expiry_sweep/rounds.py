"""The sweeps of a case: when each runs, what it should delete, and its figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from benchmarks.expiry_sweep.baseline import Planted
from benchmarks.expiry_sweep.populate import Population


@dataclass(frozen=True)
class Round:
    at: datetime  # the sweep's clock
    expected: int  # unheld contacts fallen due since the round before
    sizes: Sequence[int]  # ciphertext bytes of each of their objects


def plan_rounds(population: Population, clocks: Sequence[datetime]) -> list[Round]:
    plans = []
    previous: datetime | None = None
    for at in clocks:
        due = population.swept_in(previous, at)
        sizes = [population.stored[key] for contact in due for key in population.keys[contact]]
        plans.append(Round(at, len(due), sizes))
        previous = at
    return plans


def measure_round(
    plan: Round, plain: Planted, plain_seconds: float, swept: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """One round's figures: the sweep's, and the plain delete's of as many bytes."""
    wall = (
        max(o["ended"] for o in swept) - min(o["started"] for o in swept) if swept else float("nan")
    )
    deleted = sum(int(o["deleted"]) for o in swept)
    deleted_bytes = sum(plan.sizes)
    return {
        "at": plan.at.isoformat(),
        "expected": plan.expected,
        "deleted": deleted,
        "objects": len(plan.sizes),
        "bytes": deleted_bytes,
        "sweep_seconds": wall,
        "contacts_per_second": deleted / wall if wall > 0 else float("nan"),
        "megabytes_per_second": deleted_bytes / 1e6 / wall if wall > 0 else float("nan"),
        "plain_objects": plain.count,
        "plain_seconds": plain_seconds,
        "plain_objects_per_second": plain.count / plain_seconds if plain_seconds > 0 else 0.0,
        "plain_megabytes_per_second": (
            plain.bytes / 1e6 / plain_seconds if plain_seconds > 0 else 0.0
        ),
    }
