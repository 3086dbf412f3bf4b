"""Support for the archive's test suite, its benchmarks and the demos the tests serve.

Real services for tests (an S3 endpoint, PostgreSQL databases of their own), data builders,
API tokens and the failures tests inflict. It needs the `dev` extra (`pip install -e '.[dev]'`:
moto, boto3, pytest and the rest) and is never imported by the product code: nothing in
`archive/` outside this package, nor in `workers/`, may import it.
"""
