"""The load: C clients in one asyncio loop, each making audited reads back to back."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from benchmarks._common import median
from benchmarks.audit_scaling.population import Customer
from benchmarks.audit_scaling.timed_app import WARMUP_HEADER

#: The two reads an agent makes most, each writing one audit record: finding a customer by
#: e-mail address, and listing a customer's contacts.
FIND = "find customer by e-mail"
CONTACTS = "customer's contacts"
ERROR_SAMPLES = 5


@dataclass
class Outcome:
    """What the clients saw in one stretch of load."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # of the 2xx answers
    by_read: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # status code or exception name
    error_samples: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> int:
        return len(self.latencies)

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        return {
            "seconds": self.seconds,
            "requests": self.succeeded + sum(self.errors.values()),
            "succeeded": self.succeeded,
            "requests_per_second": self.succeeded / self.seconds if self.seconds else 0.0,
            "p50_ms": median(ordered) * 1000 if ordered else None,
            "p99_ms": percentile(ordered, 0.99) * 1000 if ordered else None,
            "by_read": dict(self.by_read),
            "errors": dict(self.errors),
            "error_samples": self.error_samples,
        }


def percentile(ordered: Sequence[float], share: float) -> float:
    """The nearest-rank percentile of sorted values."""
    rank = max(1, round(share * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def run_load(
    base_url: str,
    tokens: Sequence[str],
    customers: Sequence[Customer],
    *,
    clients: int,
    seconds: float,
    keep_alive: bool,
    warmup: bool = False,
) -> Outcome:
    return asyncio.run(
        _load(base_url, tokens, customers, clients, seconds, keep_alive=keep_alive, warmup=warmup)
    )


async def _load(
    base_url: str,
    tokens: Sequence[str],
    customers: Sequence[Customer],
    clients: int,
    seconds: float,
    *,
    keep_alive: bool,
    warmup: bool,
) -> Outcome:
    headers = {WARMUP_HEADER.decode(): "1"} if warmup else {}
    # Without keep-alive every request comes on a new connection, as from a reverse proxy
    # that keeps none to its upstream (nginx's default): each connection then goes to
    # whichever server process accepts it first, so a busy process takes fewer.
    limits = httpx.Limits(
        max_connections=clients, max_keepalive_connections=clients if keep_alive else 0
    )
    outcome = Outcome()
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, limits=limits, timeout=60
    ) as client:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(
                _client(client, tokens[seed % len(tokens)], customers, deadline, outcome, seed)
                for seed in range(clients)
            )
        )
        outcome.seconds = time.perf_counter() - started
    return outcome


async def _client(
    client: httpx.AsyncClient,
    token: str,
    customers: Sequence[Customer],
    deadline: float,
    outcome: Outcome,
    seed: int,
) -> None:
    rng = random.Random(seed)
    authorised = {"Authorization": f"Bearer {token}"}
    while time.perf_counter() < deadline:
        customer = rng.choice(customers)
        read = rng.choice((FIND, CONTACTS))
        if read == FIND:
            path, params = "/api/v1/customers", {"email": customer.email}
        else:
            path, params = f"/api/v1/customers/{customer.id}/contacts", {}
        sent = time.perf_counter()
        try:
            response = await client.get(path, params=params, headers=authorised)
        except httpx.HTTPError as error:
            _failed(outcome, type(error).__name__, str(error))
            continue
        if response.is_success:
            outcome.latencies.append(time.perf_counter() - sent)
            outcome.by_read[read] += 1
        else:
            _failed(outcome, str(response.status_code), response.text)


def _failed(outcome: Outcome, kind: str, detail: str) -> None:
    outcome.errors[kind] += 1
    if len(outcome.error_samples) < ERROR_SAMPLES:
        outcome.error_samples.append(f"{kind}: {detail[:200]}")
