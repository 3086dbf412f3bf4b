"""Named steps: a recorder hears each one begin and end, nested; without one nothing happens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from archive.timing import record_steps, step

pytestmark = pytest.mark.fast


class Heard:
    def __init__(self) -> None:
        self.events: list[str] = []

    def begin(self, name: str) -> None:
        self.events.append(f"begin {name}")

    def end(self, name: str) -> None:
        self.events.append(f"end {name}")


@pytest.fixture
def heard() -> Iterator[Heard]:
    recorder = Heard()
    record_steps(recorder)
    yield recorder
    record_steps(None)


@step("outer")
def outer(value: int) -> int:
    with step("inner"):
        return value + 1


@step("failing")
def failing() -> None:
    raise ValueError("no")


def test_steps_nest_and_keep_what_the_function_returns(heard: Heard) -> None:
    assert outer(1) == 2
    assert heard.events == ["begin outer", "begin inner", "end inner", "end outer"]


def test_a_step_that_raises_still_ends(heard: Heard) -> None:
    with pytest.raises(ValueError, match="no"):
        failing()
    assert heard.events == ["begin failing", "end failing"]


def test_without_a_recorder_steps_do_nothing() -> None:
    recorder = Heard()
    record_steps(recorder)
    record_steps(None)
    assert outer(1) == 2
    assert recorder.events == []
