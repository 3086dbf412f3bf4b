"""A lookup among a million customers is one index probe (PostgreSQL's plan shows it)."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import text

from archive.customers.identifiers import IdentifierKind
from archive.customers.service import CustomerService, IdentifierInput, lookup_query
from archive.runtime import Runtime

pytestmark = pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)
CUSTOMERS = 1_000_000
EMAIL = "aino.virtanen@example.fi"


def plan_nodes(plan: dict[str, object]) -> list[str]:
    found = [str(plan["Node Type"]) + ":" + str(plan.get("Index Name", ""))]
    for child in plan.get("Plans", []):  # type: ignore[attr-defined]
        found.extend(plan_nodes(child))
    return found


def test_a_lookup_among_a_million_customers_uses_the_blind_index(runtime: Runtime) -> None:
    with runtime.engine.begin() as conn:
        # A million customers, each with an e-mail whose blind index is 32 random-looking bytes.
        conn.execute(
            text(
                "INSERT INTO customers (id, created_at, updated_at) "
                "SELECT gen_random_uuid(), now(), now() FROM generate_series(1, :n)"
            ),
            {"n": CUSTOMERS},
        )
        conn.execute(
            text(
                "INSERT INTO customer_identifiers "
                "(customer_id, kind, ciphertext, blind_index, unique_index, temporary, created_at) "
                "SELECT id, 'email', '\\x00'::bytea, sha256(id::text::bytea), "
                "sha256(id::text::bytea), false, now() FROM customers"
            )
        )
    with runtime.engine.connect() as conn:
        conn.execute(text("ANALYZE customers, customer_identifiers"))
    with runtime.session() as session:
        service = CustomerService(session, runtime)
        wanted = service.find_or_create([IdentifierInput(IdentifierKind.EMAIL, EMAIL)])
        session.commit()
        assert wanted is not None
        started = time.perf_counter()
        found = service.find(IdentifierKind.EMAIL, EMAIL)
        took = time.perf_counter() - started
        assert [c.id for c in found] == [wanted.id]

        digest = service._digest(IdentifierKind.EMAIL, EMAIL)
        statement = lookup_query(IdentifierKind.EMAIL, digest)
        compiled = statement.compile(runtime.engine)
        explained = (
            session.connection()
            .exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}", compiled.params)
            .scalar_one()
        )
    document = explained if isinstance(explained, list) else json.loads(explained)
    nodes = plan_nodes(document[0]["Plan"])
    assert any(
        node.startswith(("Index Scan", "Index Only Scan", "Bitmap Index Scan"))
        and "ix_customer_identifiers_lookup" in node
        for node in nodes
    ), nodes
    assert not any(node.startswith("Seq Scan") for node in nodes), nodes
    print(  # the figures, for the record; no timed assertion
        f"\nlookup among {CUSTOMERS} customers: {took * 1000:.1f} ms end to end, "
        f"{document[0]['Execution Time']:.3f} ms in PostgreSQL; plan {nodes}"
    )
