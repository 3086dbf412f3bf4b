"""Every way a policy file can be wrong gets a message naming the file, the key and the fault."""

from __future__ import annotations

import pytest

from archive.errors import InvalidInput
from archive.retention.durations import Duration
from archive.retention.policy import PolicyError, parse_policy

pytestmark = pytest.mark.fast

VALID = """
name = "acme"

[channels.chat]
retention = "P3M"

[channels.email]
retention = "P3M"

[channels.call]
retention = "P7M"

[holds]
complaint = "P12M"
quality_project = "P12M"
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(PolicyError) as raised:
        parse_policy(text, "ours.toml")
    error = raised.value
    assert error.source == "ours.toml"
    assert error.detail == "policy ours.toml: " + "; ".join(error.problems)
    return error.problems


def changed(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new, 1)


def test_the_base_policy_is_valid() -> None:
    assert parse_policy(VALID, "ours.toml").name == "acme"


def test_a_policy_error_is_bad_input() -> None:
    assert issubclass(PolicyError, InvalidInput)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        # The file itself
        ('name = "a"\nname = "b"\n', "not valid TOML: Cannot overwrite a value (at line 2"),
        (changed('name = "acme"\n', ""), "name: missing; give the policy a short name"),
        (changed('name = "acme"', 'name = "Acme Oy"'), "name: 'Acme Oy' must be 1 to 40"),
        (changed('name = "acme"', "name = 7"), "name: 7 must be 1 to 40"),
        ('hold = "x"\n' + VALID, "hold: unknown key; expected name, channels, holds"),
        # Channels
        (VALID + '[channels.fax]\nretention = "P1M"\n', "channels.fax: unknown channel; the"),
        (
            VALID + '[channels.sms.categories]\ncomplaint = "P1M"\n',
            "channels.sms: category rules for an unknown channel; the channels are chat, email, "
            "call",
        ),
        (changed('[channels.email]\nretention = "P3M"\n', ""), "channels.email.retention: missing"),
        (
            changed(
                '[channels.email]\nretention = "P3M"\n', '[channels.email.categories]\nx="P1M"\n'
            ),
            "channels.email.retention: missing; write a duration such as 'P3M'",
        ),
        (
            changed('retention = "P7M"', 'retension = "P7M"'),
            "channels.call.retension: unknown key; expected retention, categories",
        ),
        (
            'channels = "P3M"\n' + VALID.split("[channels.chat]", maxsplit=1)[0],
            "channels: must be a table, not 'P3M'",
        ),
        # Durations
        (
            changed('retention = "P7M"', "retention = 7"),
            "channels.call.retention: 7 must be a quoted",
        ),
        (changed('retention = "P7M"', 'retention = "-P7M"'), "'-P7M': a duration cannot be neg"),
        (changed('retention = "P7M"', 'retention = "P0M"'), "'P0M' must be longer than zero"),
        (changed('retention = "P7M"', 'retention = "PT12H"'), "'PT12H': hours, minutes and sec"),
        (changed('retention = "P7M"', 'retention = "7 months"'), "'7 months': not an ISO 8601"),
        (changed('retention = "P7M"', 'retention = ""'), "channels.call.retention: '': not an"),
        # Category rules
        (
            VALID + '[channels.call.categories]\ncomplaint = "P-1M"\n',
            "channels.call.categories.complaint: 'P-1M': not an ISO 8601 duration",
        ),
        (
            VALID + '[channels.call.categories]\n"" = "P1M"\n',
            'channels.call.categories."": a category is 1 to 32 characters',
        ),
        (
            VALID + '[channels.call.categories]\n"' + "x" * 33 + '" = "P1M"\n',
            "a category is 1 to 32 characters",
        ),
        (
            VALID + '[channels.call.categories]\n"a\\tb" = "P1M"\n',
            "a category cannot hold control characters",
        ),
        (
            VALID + '[channels.call]\nretention = "P7M"\n',
            "not valid TOML",  # the same table twice
        ),
        # Holds
        (changed("[holds]\n", '[holds]\naudit = "P1Y"\n'), "holds.audit: unknown hold reason"),
        (
            changed('complaint = "P12M"\n', ""),
            "holds.complaint: missing; complaint holds need a cap such as 'P12M'",
        ),
        (
            changed('quality_project = "P12M"\n', ""),
            "holds.quality_project: missing; quality_project holds need a cap",
        ),
        (
            changed('complaint = "P12M"', 'complaint = "none"'),
            "holds.complaint: must be a duration; only legal holds are uncapped",
        ),
        (
            changed("[holds]\n", '[holds]\nlegal = "P5Y"\n'),
            "holds.legal: 'P5Y': a legal hold follows an authority's or court's order and is never "
            "capped; write 'none' or leave it out",
        ),
        ("holds = 12\n" + VALID.split("[holds]", maxsplit=1)[0], "holds: must be a table, not 12"),
    ],
)
def test_each_fault_is_named(text: str, problem: str) -> None:
    problems = problems_of(text)
    assert any(problem in found for found in problems), problems


def test_without_a_holds_table_both_caps_are_missing() -> None:
    text = VALID.split("[holds]", maxsplit=1)[0]
    problems = problems_of(text)
    assert [p.split(":")[0] for p in problems] == ["holds.complaint", "holds.quality_project"]


@pytest.mark.parametrize("legal", ['legal = "none"\n', ""])
def test_a_legal_hold_may_be_uncapped_or_left_out(legal: str) -> None:
    policy = parse_policy(VALID + legal, "ours.toml")
    assert policy.cap_for("legal") is None


@pytest.mark.parametrize(
    ("cap", "retention", "where"),
    [
        ("P2M", "P7M", "channels.call.retention (P7M)"),
        ("P6M", "P7M", "channels.call.retention (P7M)"),
        ("P3M", "P90D", "channels.call.retention (P90D)"),  # 31 January + P3M is 89 days on
        ("P90D", "P3M", "channels.call.retention (P3M)"),  # 1 March + P3M is 92 days on
        ("P29W", "P7M", "channels.call.retention (P7M)"),  # 203 days; seven months reach 215
    ],
)
def test_a_cap_shorter_than_a_retention_it_extends_is_refused(
    cap: str, retention: str, where: str
) -> None:
    # Chats and e-mails kept one month, so only the call rule can be too long for the cap.
    text = VALID.replace('"P3M"', '"P1M"').replace('complaint = "P12M"', f'complaint = "{cap}"')
    text = text.replace('retention = "P7M"', f'retention = "{retention}"')
    assert problems_of(text) == [
        f"holds.complaint: the cap {cap} is shorter than {where}, so a hold could end before the "
        "contact expires"
    ]


@pytest.mark.parametrize(("cap", "retention"), [("P92D", "P3M"), ("P3M", "P89D"), ("P7M", "P7M")])
def test_a_cap_never_shorter_than_the_retention_is_accepted(cap: str, retention: str) -> None:
    text = changed('quality_project = "P12M"', f'quality_project = "{cap}"')
    text = text.replace('retention = "P7M"', f'retention = "{retention}"')
    text = text.replace('retention = "P3M"', f'retention = "{retention}"')
    policy = parse_policy(text, "ours.toml")
    assert policy.cap_for("quality_project") == Duration.parse(cap)


def test_a_cap_must_also_cover_category_rules() -> None:
    text = VALID + '[channels.chat.categories]\ncomplaint = "P13M"\n'
    problems = problems_of(text)
    assert len(problems) == 2  # both capped reasons
    assert "shorter than channels.chat.categories.complaint (P13M)" in problems[0]


def test_every_problem_is_reported_at_once() -> None:
    text = """
    name = "acme"
    [channels.chat]
    retention = "P3M"
    [channels.call]
    retention = "P0D"
    [channels.fax]
    retention = "P1M"
    [holds]
    complaint = "P12M"
    quality_projekt = "P12M"
    """
    assert [problem.split(":")[0] for problem in problems_of(text)] == [
        "channels.fax",
        "channels.email.retention",
        "channels.call.retention",
        "holds.quality_projekt",
        "holds.quality_project",
    ]
