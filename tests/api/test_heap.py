"""A served app takes what it built at start-up out of the garbage collector's full collections."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from archive.app import create_app
from archive.crypto.keyring import generate_key_material, write_key_file
from archive.runtime import build_runtime
from archive.settings import Settings

pytestmark = pytest.mark.fast


class Node:
    next: Node | None = None


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process goes on making and dropping apps


def test_an_app_serving_alone_freezes_its_startup_objects(unfrozen: None, tmp_path: Path) -> None:
    write_key_file(tmp_path / "keys.json", generate_key_material())
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        assert client.get("/health/live").status_code == 200
        # The modules, routes and mappers: far more than any request makes.
        assert gc.get_freeze_count() > 50_000
        # What is made afterwards is still collected: a cycle dropped now is freed.
        cycle = Node()
        cycle.next = cycle
        gone = weakref.ref(cycle)
        del cycle
        gc.collect()
        assert gone() is None


def test_an_app_on_a_shared_runtime_freezes_nothing(unfrozen: None, tmp_path: Path) -> None:
    runtime = build_runtime(Settings(data_dir=tmp_path), keys=generate_key_material())
    try:
        with TestClient(create_app(runtime=runtime)) as client:
            assert client.get("/health/live").status_code == 200
            # A test's runtime outlives the app; frozen, it would never be freed.
            assert gc.get_freeze_count() == 0
    finally:
        runtime.close()


def test_serving_in_one_process_freezes_before_it_listens(
    unfrozen: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`archive serve` with one process builds the app on its own runtime, which the app does
    not own: the command freezes what it built before uvicorn starts."""
    import uvicorn

    from archive.cli.setup import _listen

    frozen_when_run: list[int] = []
    monkeypatch.setattr(
        uvicorn, "run", lambda *_, **__: frozen_when_run.append(gc.get_freeze_count())
    )
    runtime = build_runtime(Settings(data_dir=tmp_path), keys=generate_key_material())
    try:
        _listen(runtime.settings, runtime, 1)
    finally:
        runtime.close()
    [count] = frozen_when_run
    assert count > 50_000
