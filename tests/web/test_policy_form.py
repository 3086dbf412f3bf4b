"""The policy form's periods: each rule as an amount and a unit, and back to the same policy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from archive.retention.durations import Duration
from archive.retention.policy import PRESETS, load_policy, parse_policy
from archive.web.policy_form import Period, PolicyForm

pytestmark = pytest.mark.fast


@pytest.mark.parametrize(
    ("written", "amount", "unit"),
    [
        ("P3M", "3", "M"),
        ("P1Y", "1", "Y"),
        ("P26W", "26", "W"),
        ("P90D", "90", "D"),
        # A year is twelve months and a week seven days, as expiry counts them.
        ("P1Y6M", "18", "M"),
        ("P2W3D", "17", "D"),
        # Months and days together have no single unit: the form keeps the period as written.
        ("P1M15D", "P1M15D", "ISO"),
    ],
)
def test_a_period_is_an_amount_and_a_unit_that_means_the_same(
    written: str, amount: str, unit: str
) -> None:
    original = Duration.parse(written)
    period = Period.of(original)
    assert (period.amount, period.unit) == (amount, unit)
    again = Duration.parse(period.text())
    # The same end from any start, month ends and a leap day among them.
    for start in (datetime(2024, 1, 31, tzinfo=UTC), datetime(2024, 2, 29, tzinfo=UTC)):
        assert again.after(start) == original.after(start)


@pytest.mark.parametrize("preset", PRESETS)
def test_a_policy_through_the_form_is_the_same_policy(preset: str) -> None:
    policy = load_policy(preset)
    through = parse_policy(PolicyForm.of(policy).document(), "form")
    assert through.version == policy.version
