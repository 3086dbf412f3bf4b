"""Policies: presets carry the seeds' numbers, rules resolve by precedence, versions hold."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive.errors import ConfigurationError, InvalidInput
from archive.retention.durations import Duration
from archive.retention.policy import (
    CHANNELS,
    PRESETS,
    ChannelRule,
    HoldReason,
    Policy,
    PolicyError,
    load_policy,
    load_policy_file,
    parse_policy,
)
from archive.settings import Settings

pytestmark = pytest.mark.fast

RETENTION_DOC = Path(__file__).parent.parent.parent / "docs" / "retention.md"
START = datetime(2026, 1, 31, 10, 15, tzinfo=UTC)

WITH_CATEGORIES = """
name = "acme"

[channels.chat]
retention = "P3M"

[channels.email]
retention = "P6M"

[channels.call]
retention = "P7M"

[channels.call.categories]
complaint = "P9M"
question = "P1M"

[holds]
complaint = "P12M"
quality_project = "P1Y"
"""


def months(count: int) -> Duration:
    return Duration(months=count)


# --- presets ----------------------------------------------------------------------------------


def test_kivra_keeps_recordings_three_months_and_holds_them_at_most_twelve() -> None:
    policy = load_policy("kivra")
    assert (policy.name, policy.source) == ("kivra", "kivra")
    assert policy.retention_for("call") == months(3)
    assert policy.cap_for(HoldReason.COMPLAINT) == months(12)
    assert policy.cap_for(HoldReason.QUALITY_PROJECT) == months(12)
    assert policy.cap_for(HoldReason.LEGAL) is None


def test_vastuu_keeps_chats_three_months_and_recordings_seven() -> None:
    policy = load_policy("vastuu")
    assert policy.retention_for("chat") == months(3)
    assert policy.retention_for("call") == months(7)
    assert policy.cap_for("complaint") == months(12)


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_loads_covers_every_channel_and_names_itself(name: str) -> None:
    policy = load_policy(name)
    assert policy.name == name
    assert set(policy.channels) == set(CHANNELS)
    assert re.fullmatch(rf"{name}-[0-9a-f]{{8}}", policy.version)


def test_the_preset_list_is_the_preset_files() -> None:
    folder = files("archive.retention") / "presets"
    shipped = sorted(entry.name.removesuffix(".toml") for entry in folder.iterdir())
    assert shipped == sorted(PRESETS)


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_explains_its_numbers_in_comments(name: str) -> None:
    text = (files("archive.retention") / "presets" / f"{name}.toml").read_text(encoding="utf-8")
    assert "seed 00" in text  # which notice the numbers come from
    assert "månader" in text  # the sentence itself, quoted


def test_the_default_setting_names_the_default_preset() -> None:
    assert Settings.from_env({}).policy == "default"
    assert Settings.from_env({"ARCHIVE_POLICY": "vastuu"}).policy == "vastuu"
    with pytest.raises(ConfigurationError, match="ARCHIVE_POLICY must name"):
        Settings.from_env({"ARCHIVE_POLICY": "  "})


# --- precedence and arithmetic ----------------------------------------------------------------


def test_a_category_rule_beats_the_channel_rule_whether_longer_or_shorter() -> None:
    policy = parse_policy(WITH_CATEGORIES, "test")
    assert policy.retention_for("call") == months(7)
    assert policy.retention_for("call", "complaint") == months(9)
    assert policy.retention_for("call", "question") == months(1)
    assert policy.retention_for("call", "incident") == months(7)  # no rule: the channel's
    # A category rule belongs to its channel only.
    assert policy.retention_for("email", "complaint") == months(6)


def test_expires_at_applies_the_most_specific_rule_the_calendar_way() -> None:
    policy = parse_policy(WITH_CATEGORIES, "test")
    assert policy.expires_at("call", None, START) == datetime(2026, 8, 31, 10, 15, tzinfo=UTC)
    assert policy.expires_at("call", "complaint", START) == datetime(
        2026, 10, 31, 10, 15, tzinfo=UTC
    )
    assert policy.expires_at("call", "question", START) == datetime(2026, 2, 28, 10, 15, tzinfo=UTC)
    assert policy.expires_at("chat", "question", START) == datetime(2026, 4, 30, 10, 15, tzinfo=UTC)


def test_hold_limits_count_from_the_contacts_start() -> None:
    policy = load_policy("kivra")
    assert policy.hold_limit(HoldReason.COMPLAINT, START) == datetime(
        2027, 1, 31, 10, 15, tzinfo=UTC
    )
    assert policy.hold_limit("quality_project", START) == datetime(2027, 1, 31, 10, 15, tzinfo=UTC)
    assert policy.hold_limit(HoldReason.LEGAL, START) is None


def test_an_unknown_channel_or_reason_is_refused_at_lookup() -> None:
    policy = load_policy("default")
    with pytest.raises(InvalidInput, match="'fax' is not one of chat, email, call") as raised:
        policy.retention_for("fax")
    assert raised.value.field == "channel"
    with pytest.raises(InvalidInput, match="'audit' is not one of complaint"):
        policy.cap_for("audit")


def test_a_policy_cannot_be_changed_after_loading() -> None:
    policy = load_policy("kivra")
    with pytest.raises(TypeError):
        policy.channels["call"] = policy.channels["chat"]  # type: ignore[index]
    with pytest.raises(TypeError):
        policy.channels["call"].categories["x"] = months(1)  # type: ignore[index]


# --- version and canonical text ---------------------------------------------------------------


def test_the_version_ignores_layout_comments_and_order() -> None:
    shuffled = """
    # The same rules, written differently.
    name = 'acme'   # a literal string

    [holds]
    quality_project = "P1Y"
    complaint = "P12M"
    legal = "none"

    [channels.call.categories]
    question = "P1M"
    complaint = "P9M"

    [channels]
    email = { retention = "P6M" }
    chat.retention = "P3M"
    call.retention = "P7M"
    """
    first = parse_policy(WITH_CATEGORIES, "a.toml")
    second = parse_policy(shuffled, "b.toml")
    assert first.version == second.version
    assert first.channels == second.channels
    assert first.caps == second.caps


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('question = "P1M"', 'question = "P2M"'),
        ('question = "P1M"', 'inquiry = "P1M"'),
        ('retention = "P3M"', 'retention = "P90D"'),
        ('quality_project = "P1Y"', 'quality_project = "P12M"'),  # same length, other rule text
        ('name = "acme"', 'name = "acme2"'),
    ],
)
def test_the_version_changes_with_any_rule(old: str, new: str) -> None:
    changed = WITH_CATEGORIES.replace(old, new, 1)
    assert changed != WITH_CATEGORIES
    assert parse_policy(changed, "x").version != parse_policy(WITH_CATEGORIES, "x").version


def test_the_version_does_not_depend_on_the_source() -> None:
    text = (files("archive.retention") / "presets" / "kivra.toml").read_text(encoding="utf-8")
    assert parse_policy(text, "/elsewhere/kivra.toml").version == load_policy("kivra").version


def test_canonical_toml_parses_back_to_the_same_policy() -> None:
    policy = parse_policy(WITH_CATEGORIES, "x")
    again = parse_policy(policy.to_toml(), "x")
    assert again == policy
    assert again.to_toml() == policy.to_toml()
    assert 'legal = "none"' in policy.to_toml()


categories = st.text(
    alphabet=st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=32
).filter(lambda text: text.strip() != "")


@given(st.dictionaries(categories, st.integers(1, 12), max_size=4))
def test_any_category_name_survives_the_canonical_text(rules: dict[str, int]) -> None:
    policy = parse_policy(WITH_CATEGORIES, "x")
    channels = dict(policy.channels)
    call = channels["call"]
    channels["call"] = ChannelRule(call.retention, {k: months(v) for k, v in rules.items()})
    built = Policy(name="acme", source="x", channels=channels, caps=policy.caps)
    again = parse_policy(built.to_toml(), "x")
    assert dict(again.channels["call"].categories) == {k: months(v) for k, v in rules.items()}
    assert again.version == built.version


# --- finding the policy -----------------------------------------------------------------------


def test_a_file_path_loads_that_file(tmp_path: Path) -> None:
    path = tmp_path / "ours.toml"
    path.write_text(WITH_CATEGORIES, encoding="utf-8")
    policy = load_policy(str(path))
    assert (policy.name, policy.source) == ("acme", str(path))
    assert load_policy_file(path) == policy


def test_a_preset_name_wins_over_a_file_of_that_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("kivra").write_text(WITH_CATEGORIES, encoding="utf-8")
    assert load_policy("kivra").name == "kivra"
    assert load_policy("./kivra").name == "acme"


def test_an_unknown_name_is_called_a_missing_preset() -> None:
    with pytest.raises(PolicyError, match=r"policy kivar: not a preset \(default, kivra, vastuu\)"):
        load_policy("kivar")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    expected = f"policy {path}: cannot be read: No such file or directory"
    with pytest.raises(PolicyError, match=re.escape(expected)):
        load_policy(str(path))


def test_a_directory_is_not_a_policy(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=re.escape(f"policy {tmp_path}: cannot be read")):
        load_policy(str(tmp_path))


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "säilytys"\n'.encode("latin-1"))
    with pytest.raises(PolicyError, match=re.escape(f"policy {path}: not UTF-8 text")):
        load_policy_file(path)


# --- the manual -------------------------------------------------------------------------------


def test_the_documented_example_is_a_valid_policy_and_its_version_is_real() -> None:
    manual = RETENTION_DOC.read_text(encoding="utf-8")
    section = manual.split("## Retention policies", 1)[1].split("\n## ", 1)[0]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    policy = parse_policy(example, "docs/retention.md")
    assert policy.retention_for("call", "complaint") == months(9)
    assert load_policy("kivra").version in section
    for name in PRESETS:
        assert f"`{name}`" in section
