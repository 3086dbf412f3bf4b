"""Fixtures that give every contract test a fresh store of each kind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from minio.helpers import MIN_PART_SIZE

from archive.storage import ObjectStore
from archive.testing.s3 import S3Endpoint, remove_bucket, unique_bucket

from .stores import StoreSpec

#: Small batches so that a test with a few dozen keys crosses several DeleteObjects requests.
TEST_DELETE_BATCH = 7
#: Small pages so that a few unfinished uploads cross several listing requests (where the S3
#: server pages them: MinIO and AWS do, moto answers every listing in one page).
TEST_LIST_PAGE = 2


def s3_spec(endpoint: S3Endpoint, bucket: str) -> StoreSpec:
    return StoreSpec(
        "s3",
        {
            "endpoint": endpoint.host,
            "access_key": endpoint.access_key,
            "secret_key": endpoint.secret_key,
            "bucket": bucket,
            "secure": endpoint.secure,
            "region": None,
            # The smallest part S3 allows, so a dozen MiB is already a multipart upload.
            "part_size": MIN_PART_SIZE,
            "delete_batch": TEST_DELETE_BATCH,
            "list_page": TEST_LIST_PAGE,
        },
    )


@pytest.fixture
def s3_bucket(s3: S3Endpoint) -> Iterator[str]:
    """A bucket name of this test's own; the bucket is removed afterwards if it was made."""
    bucket = unique_bucket()
    yield bucket
    remove_bucket(s3, bucket)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def store_spec(request: pytest.FixtureRequest, tmp_path: Path) -> StoreSpec:
    if request.param == "local":
        return StoreSpec("local", {"root": str(tmp_path / "objects")})
    endpoint: S3Endpoint = request.getfixturevalue("s3")
    bucket: str = request.getfixturevalue("s3_bucket")
    return s3_spec(endpoint, bucket)


@pytest.fixture
def store(store_spec: StoreSpec) -> ObjectStore:
    return store_spec.open()
