"""Throughput of the expiry sweep: due contacts deleted per second while a share of them is held.

Run from the repository root:

    python -m benchmarks.expiry_sweep --count 100000 --held-percent 5 --backend both --workers both

Each case starts from nothing: a fresh data directory with SQLite and the local store, or a
fresh PostgreSQL database and S3 bucket. It is filled in bulk with contacts whose retention ran
out, each with real encrypted objects in the store, and holds placed through `HoldService` keep
a share of them. Then one or two worker processes, released at the same moment, each run
`sweep(runtime, actor="benchmark", batch_size=...)` until nothing due remains, and the result is
checked: every held contact still there with its objects, every other one a tombstone with its
objects gone.

`populate` fills a case, `measure` runs the workers and times the sweep's named steps (see
`archive.timing`), `check` compares what they left with what they should have left, `report`
prints the tables, and `__main__` runs the cases and writes the results.
"""
