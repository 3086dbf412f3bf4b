"""A runtime on the test's clock, so hours and ages can be moved by hand."""

from __future__ import annotations

import pytest

from archive.clock import FixedClock
from archive.runtime import Runtime


@pytest.fixture
def on_test_clock(runtime: Runtime, clock: FixedClock) -> None:
    runtime.clock = clock
