"""Folding the rounds into figures per number of processes, and the tables a run prints."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks._common import median

#: The issue's targets: throughput from 1 to 2 processes, the audit's share of a request.
TARGET_SCALING = 1.7
TARGET_AUDIT_SHARE = 0.10


def by_processes(rounds: Sequence[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Per number of processes: median and range of throughput over the rounds, and the rest."""
    folded: dict[int, dict[str, Any]] = {}
    for processes in sorted({r["processes"] for r in rounds}):
        mine = [r for r in rounds if r["processes"] == processes]
        rates = [r["load"]["requests_per_second"] for r in mine]
        errors: Counter[str] = Counter()
        lock_events: Counter[str] = Counter()
        lock_queries: Counter[str] = Counter()
        for r in mine:
            errors.update(r["load"]["errors"])
            lock_events.update(r["activity"]["lock_wait_events"])
            lock_queries.update(r["activity"]["lock_wait_queries"])
        folded[processes] = {
            "rounds": len(mine),
            "requests_per_second": {"median": median(rates), "min": min(rates), "max": max(rates)},
            "p50_ms": median([r["load"]["p50_ms"] for r in mine if r["load"]["p50_ms"]]),
            "p99_ms": median([r["load"]["p99_ms"] for r in mine if r["load"]["p99_ms"]]),
            "requests": sum(r["load"]["requests"] for r in mine),
            "errors": dict(errors),
            "samples": sum(r["activity"]["samples"] for r in mine),
            "samples_with_lock_wait": sum(r["activity"]["samples_with_lock_wait"] for r in mine),
            "lock_wait_events": dict(lock_events),
            "lock_wait_queries": dict(lock_queries.most_common()),
            "cores": {name: median([r["cpu"][name] for r in mine]) for name in mine[0]["cpu"]},
            # What one request costs the server processes, whatever else the machine runs.
            "server_cpu_ms_per_request": median(
                [
                    r["cpu"]["server_cores"] / r["load"]["requests_per_second"] * 1000
                    for r in mine
                    if r["load"]["requests_per_second"]
                ]
            ),
        }
    return folded


def ratios(folded: dict[int, dict[str, Any]], rounds: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Throughput of N processes over that of the fewest, from the medians and round by round
    (a round runs every N once, close together in time)."""
    if not folded:
        return {}
    base = min(folded)
    found: dict[str, Any] = {}
    for processes in folded:
        if processes == base:
            continue
        name = f"{processes}/{base}"
        medians = (
            folded[processes]["requests_per_second"]["median"]
            / folded[base]["requests_per_second"]["median"]
        )
        per_round = []
        for number in sorted({r["round"] for r in rounds}):
            rate = {
                r["processes"]: r["load"]["requests_per_second"]
                for r in rounds
                if r["round"] == number
            }
            if rate.get(base) and processes in rate:
                per_round.append(rate[processes] / rate[base])
        found[name] = {"of_medians": medians, "per_round": per_round}
    return found


def audit_share(documents: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The audit's share of the measured requests' wall time in the timed server's processes."""
    requests = [r for document in documents for r in document["requests"]]
    patched = bool(documents) and all(d["patched"] for d in documents)
    records = sum(r["records"] for r in requests)
    total = sum(r["request"] for r in requests)
    found: dict[str, Any] = {
        "processes_reporting": len(documents),
        "timers_installed": patched,
        "requests": len(requests),
        "records": records,
    }
    if not requests or not records or total <= 0:
        found["share"] = None
        found["note"] = (
            "no audit append was timed: AuditLog.record is missing or was never called"
            if requests
            else "no process reported its timings"
        )
        return found
    record = sum(r["record"] for r in requests)
    commit = sum(r["commit"] for r in requests)
    audit = sorted(r["record"] + r["commit"] for r in requests)
    found.update(
        share=(record + commit) / total,
        record_share=record / total,
        commit_share=commit / total,
        median_request_ms=median([r["request"] for r in requests]) * 1000,
        median_audit_ms=median(audit) * 1000,
        max_audit_ms=audit[-1] * 1000,
        median_share_per_request=median(
            [(r["record"] + r["commit"]) / r["request"] for r in requests if r["request"] > 0]
        ),
    )
    return found


def cores(found: dict[str, float]) -> str:
    """Where the machine's busy cores went (medians over the rounds)."""
    parts = ("server_cores", "database_cores", "load_generator_cores", "other_cores")
    return " + ".join(f"{found[part]:.2f}" for part in parts)


def _range(figures: dict[str, float]) -> str:
    return f"{figures['median']:.0f} ({figures['min']:.0f}-{figures['max']:.0f})"


def _mark(ok: bool) -> str:
    return " ✓" if ok else " ✗"


def show(
    folded: dict[int, dict[str, Any]],
    found_ratios: dict[str, Any],
    shares: dict[str, dict[str, Any]],
    console: Console,
) -> None:
    table = Table(title="Audited reads: throughput per number of server processes")
    table.add_column("processes", justify="right")
    for column in (
        "requests/s, median (min-max)",
        "p50 ms",
        "p99 ms",
        "errors",
        "lock-wait samples",
        "server CPU ms/request",
        "cores: server + database + load + other",
    ):
        table.add_column(column, justify="right")
    for processes, figures in folded.items():
        errors = sum(figures["errors"].values())
        table.add_row(
            str(processes),
            _range(figures["requests_per_second"]),
            f"{figures['p50_ms']:.1f}",
            f"{figures['p99_ms']:.1f}",
            f"{errors} of {figures['requests']}" + ("" if not errors else " ✗"),
            f"{figures['samples_with_lock_wait']} / {figures['samples']}"
            + _mark(figures["samples_with_lock_wait"] == 0),
            f"{figures['server_cpu_ms_per_request']:.1f}",
            cores(figures["cores"]),
        )
    console.print(table)
    for name, ratio in found_ratios.items():
        per_round = ", ".join(f"{value:.2f}" for value in ratio["per_round"])
        line = f"throughput {name}: {ratio['of_medians']:.2f} (rounds: {per_round})"
        if name.startswith("2/1"):
            line += f", target ≥ {TARGET_SCALING}" + _mark(ratio["of_medians"] >= TARGET_SCALING)
        console.print(line)
    for processes, figures in folded.items():
        if figures["lock_wait_events"]:
            events = ", ".join(f"{k}: {v}" for k, v in figures["lock_wait_events"].items())
            console.print(f"{processes} process(es): backends seen waiting on locks: {events}")
            for query, seen in list(figures["lock_wait_queries"].items())[:3]:
                console.print(f"  {seen} x {query[:120]}", soft_wrap=True, markup=False)
        if figures["errors"]:
            console.print(f"[red]{processes} process(es): errors {figures['errors']}[/]")
    if shares:
        show_shares(shares, console)


def show_shares(shares: dict[str, dict[str, Any]], console: Console) -> None:
    table = Table(title="Audit's share of a request (timed servers, server-side wall time)")
    table.add_column("processes, clients", justify="right")
    for column in (
        "requests",
        "requests/s",
        "share",
        "append",
        "its commit",
        "median request ms",
        "median audit ms",
        "lock-wait samples",
    ):
        table.add_column(column, justify="right")
    for name, found in shares.items():
        share = found["share"]
        if share is None:
            table.add_row(name, str(found["requests"]), "", found["note"])
            continue
        table.add_row(
            name,
            str(found["requests"]),
            f"{found['requests_per_second']:.0f}",
            f"{share:.1%}" + _mark(share < TARGET_AUDIT_SHARE),
            f"{found['record_share']:.1%}",
            f"{found['commit_share']:.1%}",
            f"{found['median_request_ms']:.1f}",
            f"{found['median_audit_ms']:.2f}",
            f"{found['samples_with_lock_wait']} / {found['samples']}",
        )
    console.print(table)
