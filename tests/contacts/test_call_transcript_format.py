"""A call's transcript read from WebVTT, plain JSON segments and Contact Lens into one checked
form; whatever else comes is refused with the field at fault, never a crash."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.contacts.transcripts import (
    JSON,
    MAX_SEGMENTS,
    VTT,
    CallTranscript,
    Segment,
    media_type_of,
    parse_call_transcript,
    transcript_from_json,
    transcript_to_json,
)
from archive.errors import InvalidInput, MalformedRequest

pytestmark = pytest.mark.fast

LIMIT = 1 << 20

SPOKEN_VTT = """WEBVTT - a call

NOTE made by the telephony system

1
00:00.000 --> 00:01.250 align:start
<v.agent Anna Lindqvist>Hyvää päivää, asiakaspalvelu.</v>

2
00:01.300 --> 00:02.900
<v Aino Virtanen>Lasku 4471 on väärin &amp; <i>myöhässä</i>.
Toinen rivi.
"""

EXPECTED = [
    Segment(0, 1250, "Anna Lindqvist", "Hyvää päivää, asiakaspalvelu."),
    Segment(1300, 2900, "Aino Virtanen", "Lasku 4471 on väärin & myöhässä.\nToinen rivi."),
]


def parse(body: bytes | str, media_type: str, duration: float | None = 3.0) -> CallTranscript:
    raw = body.encode() if isinstance(body, str) else body
    return parse_call_transcript(raw, media_type, limit=LIMIT, duration_seconds=duration)


def test_webvtt_cues_become_segments_with_their_voices() -> None:
    transcript = parse(SPOKEN_VTT, VTT)
    assert transcript.source == "webvtt"
    assert transcript.segments == EXPECTED
    # A byte-order mark and CRLF lines are WebVTT too; hours may be written.
    windows = "\ufeff" + SPOKEN_VTT.replace("00:01.300", "00:00:01.300").replace("\n", "\r\n")
    assert parse(windows, VTT).segments == EXPECTED


def test_plain_segments_in_seconds_and_contact_lens_turns_in_milliseconds() -> None:
    plain = [
        {"start": 0, "end": 1.25, "speaker": "Anna Lindqvist", "text": EXPECTED[0].text},
        {"start": 1.3, "end": 2.9, "speaker": "Aino Virtanen", "text": EXPECTED[1].text},
    ]
    assert parse(json.dumps(plain), JSON).segments == EXPECTED
    assert parse(json.dumps({"segments": plain}), JSON).segments == EXPECTED
    lens = {
        "Version": "1.1.0",
        "Channel": "VOICE",
        "Participants": [{"ParticipantId": "AGENT", "ParticipantRole": "AGENT"}],
        "Transcript": [
            {
                "Id": "a1",
                "ParticipantId": "AGENT",
                "BeginOffsetMillis": 0,
                "EndOffsetMillis": 1250,
                "Content": "Hyvää päivää.",
                "Sentiment": "NEUTRAL",
            },
            {
                "Id": "a2",
                "ParticipantId": "CUSTOMER",
                "BeginOffsetMillis": 1300,
                "EndOffsetMillis": 2900,
                "Content": "Lasku 4471 on väärin.",
            },
        ],
    }
    transcript = parse(json.dumps(lens), JSON)
    assert transcript.source == "contact-lens"
    assert [(s.start_ms, s.end_ms, s.speaker) for s in transcript.segments] == [
        (0, 1250, "AGENT"),
        (1300, 2900, "CUSTOMER"),
    ]


# A Genesys Cloud conversation transcript as its speech and text analytics gives it: one
# transcript per recorded channel, phrase times as instants in milliseconds since 1970.
RECORDED = 1_780_000_000_000
GENESYS = {
    "organizationId": "7f1c7d6e-0000-4000-8000-000000000001",
    "conversationId": "7f1c7d6e-0000-4000-8000-000000000002",
    "startTime": RECORDED,
    "transcripts": [
        {
            "transcriptId": "t-agent",
            "language": "fi-fi",
            "startTime": RECORDED,
            "duration": {"milliseconds": 2900},
            "phrases": [
                {
                    "text": "hyvää päivää asiakaspalvelu",
                    "decoratedText": "Hyvää päivää, asiakaspalvelu.",
                    "stability": 1,
                    "confidence": 0.93,
                    "startTimeMs": RECORDED,
                    "duration": {"milliseconds": 1250},
                    "participantPurpose": "internal",
                    "phraseIndex": 0,
                }
            ],
        },
        {
            "transcriptId": "t-customer",
            "phrases": [
                {
                    "text": "Lasku 4471 on väärin.",
                    "startTimeMs": RECORDED + 1300,
                    "duration": {"milliseconds": 1600},
                    "participantPurpose": "external",
                    "phraseIndex": 0,
                }
            ],
        },
    ],
}


def test_a_genesys_cloud_transcript_s_phrases_become_segments_in_time_order() -> None:
    transcript = parse(json.dumps(GENESYS), JSON)
    assert transcript.source == "genesys"
    # The decorated text where there is one; the second transcript counts from the
    # conversation's start, which it does not repeat.
    assert transcript.segments == [
        Segment(0, 1250, "agent", "Hyvää päivää, asiakaspalvelu."),
        Segment(1300, 2900, "customer", "Lasku 4471 on väärin."),
    ]
    # The customer's channel listed first still reads in time order.
    swapped = {**GENESYS, "transcripts": list(reversed(GENESYS["transcripts"]))}
    assert parse(json.dumps(swapped), JSON).segments == transcript.segments
    assert transcript_from_json(transcript_to_json(transcript)) == transcript


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"transcripts": {"phrases": []}}, "transcripts"),
        ({"transcripts": ["a"]}, "transcripts[0]"),
        ({"transcripts": [{"startTime": RECORDED}]}, "transcripts[0].phrases"),
        ({"transcripts": [{"startTime": "today", "phrases": []}]}, "transcripts[0].startTime"),
        ({"startTime": None, "transcripts": [{"phrases": []}]}, "$.startTime"),
        (
            {"transcripts": [{"startTime": RECORDED, "phrases": [{"text": "a"}]}]},
            "transcripts[0].phrases[0].startTimeMs",
        ),
        (
            {
                "transcripts": [
                    {
                        "startTime": RECORDED,
                        "phrases": [{"text": "a", "startTimeMs": RECORDED - 1}],
                    }
                ]
            },
            "transcripts[0].phrases[0].startTimeMs",
        ),
        (
            {
                "transcripts": [
                    {"startTime": RECORDED, "phrases": [{"text": "a", "startTimeMs": RECORDED}]}
                ]
            },
            "transcripts[0].phrases[0].duration",
        ),
        (
            {
                "transcripts": [
                    {
                        "startTime": RECORDED,
                        "phrases": [{"startTimeMs": RECORDED, "duration": {"milliseconds": 5}}],
                    }
                ]
            },
            "transcripts[0].phrases[0].text",
        ),
        (
            {
                "transcripts": [
                    {
                        "startTime": RECORDED,
                        "phrases": [
                            {
                                "text": "a",
                                "startTimeMs": RECORDED + 2500,
                                "duration": {"milliseconds": 9000},
                            }
                        ],
                    }
                ]
            },
            "phrases[0].end",  # after the call
        ),
    ],
)
def test_a_malformed_genesys_transcript_is_refused_naming_its_field(
    change: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse(json.dumps({"startTime": RECORDED, **change}), JSON)
    assert refused.value.field == field


def test_the_stored_form_is_the_same_for_the_same_transcript_and_reads_back() -> None:
    once, again = parse(SPOKEN_VTT, VTT), parse(SPOKEN_VTT, VTT)
    assert transcript_to_json(once) == transcript_to_json(again)
    assert transcript_from_json(transcript_to_json(once)) == once


def test_the_media_type_comes_from_the_header_or_the_first_bytes() -> None:
    assert media_type_of("text/vtt; charset=utf-8", b"") == VTT
    assert media_type_of(None, b"WEBVTT\n") == VTT
    assert media_type_of("application/octet-stream", b"[]") == JSON
    with pytest.raises(InvalidInput) as refused:
        media_type_of("application/pdf", b"%PDF")
    assert refused.value.field == "Content-Type"


@pytest.mark.parametrize(
    ("body", "media_type", "field"),
    [
        (
            "WEBVTT\n\n00:02.000 --> 00:03.000\nb\n\n00:01.000 --> 00:02.000\na\n",
            VTT,
            "cues[1].start",
        ),
        ("WEBVTT\n\n00:01.000 --> 00:00.500\na\n", VTT, "cues[0].end"),
        ("WEBVTT\n\n00:01.000 --> 00:09.000\na\n", VTT, "cues[0].end"),  # after the call
        ("WEBVTT\n\n00:01.000 -> 00:02.000\na\n", VTT, "cues[0]"),
        ("WEBVTT\n\n00:61.000 --> 00:62.000\na\n", VTT, "cues[0].start"),
        ("WEBVTT\n\n" + "9" * 5000 + ":00:00.000 --> 00:01.000\na\n", VTT, "cues[0].start"),
        ("WEBVTT\n", VTT, "segments"),
        ("WEBVT\n\n00:00.000 --> 00:01.000\na\n", VTT, "body"),
        ('[{"start": "0", "end": 1, "text": "a"}]', JSON, "segments[0].start"),
        ('[{"start": true, "end": 1, "text": "a"}]', JSON, "segments[0].start"),
        ('[{"start": 0, "end": 1e300, "text": "a"}]', JSON, "segments[0].end"),
        ('[{"start": -1, "end": 1, "text": "a"}]', JSON, "segments[0].start"),
        ('[{"start": 0, "end": 1, "text": ["a"]}]', JSON, "segments[0].text"),
        ('[{"start": 0, "end": 1, "text": "a", "speaker": {"x": 1}}]', JSON, "segments[0].speaker"),
        ('[[0, 1, "a"]]', JSON, "segments[0]"),
        ('{"Transcript": {"Content": "a"}}', JSON, "Transcript"),
        (
            '{"Transcript": [{"BeginOffsetMillis": 0, "Content": "a"}]}',
            JSON,
            "Transcript[0].EndOffsetMillis",
        ),
        ('{"words": []}', JSON, "$"),
        ("42", JSON, "$"),
    ],
)
def test_a_malformed_transcript_is_refused_naming_its_field(
    body: str, media_type: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse(body, media_type)
    assert refused.value.field == field
    assert not isinstance(refused.value, MalformedRequest)


@pytest.mark.parametrize(
    "body",
    [
        b'[{"start": 0, "end": 1, "text": "a"}',  # truncated
        b"[" * 100_000 + b"]" * 100_000,  # nested past the parser's stack
        b'[{"start": ' + b"9" * 10_000 + b', "end": 1, "text": "a"}]',  # a number of 10,000 digits
        b'[{"start": NaN, "end": 1, "text": "a"}]',
        b'[{"start": 0, "end": Infinity, "text": "a"}]',
    ],
)
def test_json_that_is_not_json_is_a_malformed_request(body: bytes) -> None:
    with pytest.raises(MalformedRequest):
        parse(body, JSON)


def test_invalid_utf_8_and_too_much_are_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse(b"WEBVTT\n\n00:00.000 --> 00:01.000\n\xff\xfe\n", VTT)
    assert refused.value.field == "body"
    many = [{"start": 0, "end": 0, "text": "a"}] * (MAX_SEGMENTS + 1)
    with pytest.raises(InvalidInput) as refused:
        parse(json.dumps(many), JSON)
    assert refused.value.field == "segments"
    with pytest.raises(InvalidInput):
        parse_call_transcript(b"WEBVTT\n" + b" " * 100, VTT, limit=50, duration_seconds=None)


# Hostile input made to order: a good transcript, then cut, or a value swapped for junk.
JUNK: list[Any] = [None, True, -1, 1e308, 10**30, "x" * 20_000, [], {}, [[[[[]]]]], {"a": {}}]
GOOD = [
    {"start": 0.0, "end": 1.0, "speaker": "agent", "text": "Hyvää päivää."},
    {"start": 1.0, "end": 2.0, "speaker": "customer", "text": "Lasku on väärin."},
]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_generated_hostile_json_is_refused_with_a_4xx_error_and_nothing_else(
    data: st.DataObject,
) -> None:
    document = json.loads(json.dumps(GOOD))
    segment = document[data.draw(st.integers(0, 1))]
    key = data.draw(st.sampled_from(["start", "end", "text"]))
    segment[key] = data.draw(st.sampled_from(JUNK))
    raw = json.dumps(document).encode()
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    with pytest.raises(InvalidInput):
        parse(raw, JSON)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.sampled_from([VTT, JSON]))
def test_any_bytes_are_read_or_refused_never_a_crash(body: bytes, media_type: str) -> None:
    with contextlib.suppress(InvalidInput):
        parse(b"WEBVTT\n\n" + body if media_type == VTT else body, media_type)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2_900), min_size=2, max_size=6))
def test_cues_out_of_order_are_refused_and_in_order_read(starts: list[int]) -> None:
    cues = "".join(f"\n{_vtt(s)} --> {_vtt(s + 50)}\ncue {s}\n" for s in starts)
    body = "WEBVTT\n" + cues
    if starts == sorted(starts):
        assert [s.start_ms for s in parse(body, VTT).segments] == starts
    else:
        with pytest.raises(InvalidInput) as refused:
            parse(body, VTT)
        assert refused.value.field is not None
        assert refused.value.field.endswith(".start")


def _vtt(ms: int) -> str:
    return f"{ms // 60_000:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"
