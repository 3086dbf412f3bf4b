"""The tables a run prints: the cases, where each one's time went, and its profile."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

#: Contacts per second the sweep should reach on each backend.
TARGET_RATE = 1000.0


def label(case: dict[str, Any]) -> str:
    store = {"local": "local store", "moto": "S3 (moto)", "s3": "S3"}[case["store"]]
    return f"{case['database']} + {store}"


def verdict(case: dict[str, Any]) -> str:
    checks = case["checks"]
    if checks["passed"]:
        return "passed"
    failed = len(checks["workers failed"])
    return f"FAILED ({failed} of {case['workers']} workers failed)" if failed else "FAILED"


def spread(values: Sequence[float], digits: int = 0) -> str:
    """Median (min-max)."""
    if not values:
        return "-"
    return (
        f"{statistics.median(values):,.{digits}f} "
        f"({min(values):,.{digits}f}-{max(values):,.{digits}f})"
    )


def show(cases: Sequence[dict[str, Any]], console: Console) -> None:
    table = Table(
        title=f"Expiry sweep (target: {TARGET_RATE:,.0f} contacts/s), median (min-max) of rounds"
    )
    table.add_column("backend", no_wrap=True)
    for column in (
        "workers",
        "contacts",
        "held",
        "deleted",
        "rounds",
        "contacts/s",
        "MB/s deleted",
        "plain delete MB/s",
        "all rounds contacts/s",
    ):
        table.add_column(column, justify="right")
    table.add_column("checks")
    for case in cases:
        population = case["population"]
        rounds = case["rounds"]
        rate = f"{case['contacts_per_second']:,.0f}"
        rate += " ✓" if case["contacts_per_second"] >= TARGET_RATE else " ✗"
        if case["profiled"]:
            rate += " (profiled)"
        table.add_row(
            label(case),
            str(case["workers"]),
            f"{population['contacts']:,}",
            f"{population['held']:,}",
            f"{case['deleted']:,}",
            str(len(rounds)),
            spread([r["contacts_per_second"] for r in rounds]),
            spread([r["megabytes_per_second"] for r in rounds]),
            spread([r["plain_megabytes_per_second"] for r in rounds]),
            rate,
            verdict(case),
        )
    console.print(table)
    for case in cases:
        checks = case["checks"]
        title = f"{label(case)}, {case['workers']} worker(s)"
        if not checks["passed"]:
            console.print(f"[red]{title}: checks failed: {checks}[/]")
        steps = Table(title=f"{title}: where the time went")
        steps.add_column("step")
        steps.add_column("worker-seconds", justify="right")
        steps.add_column("share", justify="right")
        total = case["steps"]["total (worker-seconds)"]
        for step, seconds in case["steps"].items():
            share = f"{seconds / total:.0%}" if total > 0 and "total" not in step else ""
            steps.add_row(step, f"{seconds:.2f}", share)
        console.print(steps)
        if case["profile_top"]:
            top = Table(title=f"{title}: first worker under cProfile, by own time")
            for column in ("function", "calls", "own s", "cumulative s"):
                top.add_column(column, justify="left" if column == "function" else "right")
            for entry in case["profile_top"]:
                top.add_row(
                    entry["function"],
                    str(entry["calls"]),
                    f"{entry['own_seconds']:.2f}",
                    f"{entry['cumulative_seconds']:.2f}",
                )
            console.print(top)
