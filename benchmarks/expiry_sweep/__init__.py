"""Throughput of the expiry sweep: due contacts deleted per second while a share of them is held.

Run from the repository root:

    python -m benchmarks.expiry_sweep --count 3000 --rounds 3 --backend both --workers both

Each case starts from nothing: a fresh data directory with SQLite and the local store, or a
fresh PostgreSQL database and S3 bucket. It is filled in bulk with contacts of realistic sizes
(calls of 1 to 5 MiB, e-mails of 10 to 200 KiB, small chats) whose due dates are spread over
months, each with real encrypted objects in the store, and holds placed through `HoldService`
keep a share of them. Then, in each round, at a clock by which another share has fallen due,
one or two worker processes, released at the same moment, each run
`sweep(runtime, actor="benchmark", batch_size=...)` once, and a plain delete of as many objects
of the same sizes (`os.unlink`, or the SDK's DeleteObjects) is timed beside it. The result is
checked: each round deleted exactly what fell due, every held contact is still there with its
objects, every other one a tombstone with its objects gone.

`populate` fills a case, `rounds` says when each sweep runs and what it must delete,
`baseline` makes and times the plain delete, `measure` runs the workers and times the sweep's
named steps (see `archive.timing`), `check` compares what they left with what they should have
left, `report` prints the tables, and `__main__` runs the cases and writes the results.
"""
