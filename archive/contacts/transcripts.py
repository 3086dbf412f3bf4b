"""A call's transcript as the telephony system supplies it: WebVTT, or JSON segments.

Every accepted shape becomes one normalised form, a list of segments (start and end in
milliseconds from the start of the recording, the speaker, the text), which is what is stored,
indexed and shown. The shapes (docs/api.md):

- WebVTT (`text/vtt`): each cue's timings and text; a `<v Name>` voice span names its speaker,
  and other markup is dropped. Cues must come in order of their start, as the format requires.
- JSON (`application/json`):
  - a list of segments `{"start": 1.5, "end": 3.25, "speaker": "agent", "text": "..."}` with
    times in seconds, as speech-to-text engines write them (also as `{"segments": [...]}`);
  - Amazon Connect Contact Lens' analysis file: its `Transcript` list of turns with
    `BeginOffsetMillis`, `EndOffsetMillis`, `ParticipantId` and `Content`;
  - Genesys Cloud's conversation transcript (speech and text analytics): its `transcripts`,
    each with `phrases` of `text` (or `decoratedText`), `startTimeMs`, `duration.milliseconds`
    and `participantPurpose`. Phrase times there are instants (milliseconds since 1970), made
    offsets by subtracting the transcript's `startTime`.

Anything else is refused with the field at fault: a transcript is checked whole before a byte
of it is stored. WebVTT is read here rather than by a library: the subset a transcript uses
(timings and text) is small, and no maintained parser is strict enough about hostile input.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from archive.errors import InvalidInput, MalformedRequest

FORMAT = "contact-archive/call-transcript/v1"
VTT = "text/vtt"
JSON = "application/json"
MEDIA_TYPES = (VTT, JSON)
# Far above any real call (a segment every second of a five-hour call), and bounded, so one
# request cannot become minutes of work or a page nobody can open.
MAX_SEGMENTS = 20_000
# Genesys Cloud's two sides of a call: the organisation's (agent, IVR) and the customer's.
GENESYS_SPEAKERS = {"internal": "agent", "external": "customer"}
# Contact Lens' own bound on a turn's content.
MAX_TEXT = 16_384
MAX_SPEAKER = 128
# A transcript without a known duration still ends within a day.
MAX_MS = 24 * 3600 * 1000
# Times are rounded by whoever wrote them, and durations by the audio's frames: a segment may
# end this much after the recording does.
DURATION_SLACK_MS = 1000

_TIMESTAMP = r"(?:(\d{2,6}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_TIMING = re.compile(rf"{_TIMESTAMP}[ \t]+-->[ \t]+{_TIMESTAMP}(?:[ \t].*)?")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?[ \t]+([^>]*)>")
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class SentTranscript:
    """A transcript as the telephony system sent it: its bytes and their media type."""

    body: bytes
    media_type: str


@dataclass(frozen=True)
class Segment:
    start_ms: int
    end_ms: int
    speaker: str | None
    text: str


@dataclass(frozen=True)
class CallTranscript:
    source: str  # which shape it came in: "webvtt", "segments", "contact-lens" or "genesys"
    segments: list[Segment]

    def texts(self) -> list[str]:
        """What the search index reads of it: each segment's text."""
        return [segment.text for segment in self.segments]


def media_type_of(content_type: str | None, body: bytes) -> str:
    """The shape a body is in, from its Content-Type, else from its first bytes."""
    given = (content_type or "").split(";", 1)[0].strip().lower()
    if given in MEDIA_TYPES:
        return given
    if given and given not in ("application/octet-stream", "text/plain"):
        allowed = ", ".join(MEDIA_TYPES)
        raise InvalidInput(f"Content-Type: a transcript is one of {allowed}", field="Content-Type")
    return VTT if body.lstrip(b"\xef\xbb\xbf").startswith(b"WEBVTT") else JSON


def parse_call_transcript(
    body: bytes, media_type: str, *, limit: int, duration_seconds: float | None
) -> CallTranscript:
    """The normalised transcript of `body`; InvalidInput (or MalformedRequest for what is not
    JSON at all) naming the field at fault. `limit`: the largest body accepted, in bytes."""
    if len(body) > limit:
        # Checked by the caller as it reads too; here for the console and the tests.
        raise InvalidInput(
            f"the transcript is larger than the limit of {limit} bytes", field="body"
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput(
            f"the transcript is not UTF-8 text (byte {error.start})", field="body"
        ) from None
    text = text.removeprefix("\ufeff").replace("\0", "\ufffd")
    if media_type == VTT:
        transcript = _read_vtt(text)
    elif media_type == JSON:
        transcript = _read_json(text)
    else:
        raise InvalidInput(f"Content-Type: one of {', '.join(MEDIA_TYPES)}", field="Content-Type")
    _check(transcript, duration_seconds)
    return transcript


def transcript_to_json(transcript: CallTranscript) -> bytes:
    """The stored form: the same transcript always gives the same bytes, so sending the same
    transcript again is recognised and changes nothing."""
    document = {
        "format": FORMAT,
        "source": transcript.source,
        "segments": [
            {"start_ms": s.start_ms, "end_ms": s.end_ms, "speaker": s.speaker, "text": s.text}
            for s in transcript.segments
        ],
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True).encode()


def transcript_from_json(data: bytes) -> CallTranscript:
    """A stored transcript read back (it was checked before it was stored)."""
    document = json.loads(data)
    return CallTranscript(
        document["source"],
        [
            Segment(s["start_ms"], s["end_ms"], s["speaker"], s["text"])
            for s in document["segments"]
        ],
    )


# --- WebVTT ------------------------------------------------------------------------------


def _read_vtt(text: str) -> CallTranscript:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first = lines[0]
    if not (first == "WEBVTT" or first.startswith(("WEBVTT ", "WEBVTT\t"))):
        raise InvalidInput('a WebVTT transcript begins with the line "WEBVTT"', field="body")
    segments: list[Segment] = []
    at = 1
    while at < len(lines) and lines[at] != "":
        at += 1  # the header's own lines
    while at < len(lines):
        if lines[at] == "":
            at += 1
            continue
        start = at
        while at < len(lines) and lines[at] != "":
            at += 1
        block = lines[start:at]
        if "-->" not in block[0] and (len(block) < 2 or "-->" not in block[1]):
            if block[0].startswith(("NOTE", "STYLE", "REGION")):
                continue  # comments and styling say nothing of what was said
            raise InvalidInput(
                f"line {start + 1}: a cue begins with its timings (00:01.000 --> 00:04.000)",
                field=f"cues[{len(segments)}]",
            )
        timing_at = 0 if "-->" in block[0] else 1
        segment = _vtt_cue(
            block[timing_at], block[timing_at + 1 :], start + timing_at + 1, len(segments)
        )
        segments.append(segment)
        _check_count(len(segments), "cues")
    return CallTranscript("webvtt", segments)


def _vtt_cue(timing: str, payload: list[str], line: int, number: int) -> Segment:
    found = _TIMING.fullmatch(timing.strip())
    if found is None:
        raise InvalidInput(
            f"line {line}: cue timings are written 00:01.000 --> 00:04.000",
            field=f"cues[{number}].start",
        )
    parts = found.groups()
    start, end = _vtt_ms(parts[:4]), _vtt_ms(parts[4:])
    raw = "\n".join(payload)
    voice = _VOICE.search(raw)
    speaker = html.unescape(voice.group(1)).strip() if voice else None
    text = html.unescape(_TAG.sub("", raw)).strip()
    return _segment(start, end, speaker or None, text, f"cues[{number}]")


def _vtt_ms(parts: tuple[str | None, ...]) -> int:
    hours, minutes, seconds, millis = (int(p) if p else 0 for p in parts)
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis


# --- JSON --------------------------------------------------------------------------------


def _read_json(text: str) -> CallTranscript:
    try:
        document = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise MalformedRequest(
            f"the transcript is not valid JSON (line {error.lineno}, column {error.colno})"
        ) from None
    except (ValueError, RecursionError):
        # A number of thousands of digits, NaN or Infinity, or nesting past the parser's stack.
        raise MalformedRequest("the transcript is not valid JSON") from None
    if isinstance(document, list):
        return CallTranscript("segments", _plain(document, "segments"))
    if isinstance(document, dict) and "segments" in document:
        return CallTranscript(
            "segments", _plain(_list(document, "segments", "segments"), "segments")
        )
    if isinstance(document, dict) and "Transcript" in document:
        return CallTranscript("contact-lens", _contact_lens(document))
    if isinstance(document, dict) and "transcripts" in document:
        return CallTranscript("genesys", _genesys(document))
    raise InvalidInput(
        "a JSON transcript is a list of segments, an object with segments, a Contact Lens "
        "analysis with its Transcript, or a Genesys Cloud transcript with its transcripts",
        field="$",
    )


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _plain(items: list[Any], path: str) -> list[Segment]:
    _check_count(len(items), path)
    segments = []
    for number, item in enumerate(items):
        where = f"{path}[{number}]"
        if not isinstance(item, dict):
            raise InvalidInput(f"{where}: a segment is an object", field=where)
        start = _seconds_ms(item, "start", where)
        end = _seconds_ms(item, "end", where)
        speaker = _optional_text(item, "speaker", where)
        segments.append(_segment(start, end, speaker, _text(item, "text", where), where))
    return segments


def _contact_lens(document: Mapping[str, Any]) -> list[Segment]:
    turns = _list(document, "Transcript", "Transcript")
    _check_count(len(turns), "Transcript")
    segments = []
    for number, turn in enumerate(turns):
        where = f"Transcript[{number}]"
        if not isinstance(turn, dict):
            raise InvalidInput(f"{where}: a turn is an object", field=where)
        start = _millis(turn, "BeginOffsetMillis", where)
        end = _millis(turn, "EndOffsetMillis", where)
        speaker = _optional_text(turn, "ParticipantId", where)
        segments.append(_segment(start, end, speaker, _text(turn, "Content", where), where))
    return segments


def _genesys(document: Mapping[str, Any]) -> list[Segment]:
    transcripts = _list(document, "transcripts", "transcripts")
    segments: list[Segment] = []
    for number, transcript in enumerate(transcripts):
        where = f"transcripts[{number}]"
        if not isinstance(transcript, dict):
            raise InvalidInput(f"{where}: a transcript is an object", field=where)
        # The instant the recording's time counts from: the transcript's own, or the
        # conversation's when a transcript leaves it out.
        holder = transcript if "startTime" in transcript else document
        start_of = _instant(holder, "startTime", where if holder is transcript else "$")
        phrases = _list(transcript, "phrases", f"{where}.phrases")
        _check_count(len(segments) + len(phrases), f"{where}.phrases")
        for index, phrase in enumerate(phrases):
            at = f"{where}.phrases[{index}]"
            if not isinstance(phrase, dict):
                raise InvalidInput(f"{at}: a phrase is an object", field=at)
            begin = _instant(phrase, "startTimeMs", at) - start_of
            if not 0 <= begin <= MAX_MS:
                raise InvalidInput(
                    f"{at}.startTimeMs: within a day after the transcript's startTime",
                    field=f"{at}.startTimeMs",
                )
            duration = phrase.get("duration")
            if not isinstance(duration, dict):
                raise InvalidInput(f"{at}.duration: an object", field=f"{at}.duration")
            length = _millis(duration, "milliseconds", f"{at}.duration")
            text = _optional_text(phrase, "decoratedText", at) or _text(phrase, "text", at)
            purpose = _optional_text(phrase, "participantPurpose", at)
            speaker = GENESYS_SPEAKERS.get(purpose or "", purpose)
            segments.append(_segment(begin, begin + length, speaker, text, at))
    # Each of a conversation's transcripts (one per recorded channel) runs in time order;
    # together they are merged into one.
    return sorted(segments, key=lambda segment: segment.start_ms)


def _instant(item: Mapping[str, Any], key: str, where: str) -> int:
    """Milliseconds since 1970, as Genesys Cloud writes instants."""
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**53:
        raise InvalidInput(
            f"{where}.{key}: milliseconds since 1970, a whole number", field=f"{where}.{key}"
        )
    return value


def _list(document: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = document.get(key)
    if not isinstance(value, list):
        raise InvalidInput(f"{where}: a list", field=where)
    return value


def _number(item: Mapping[str, Any], key: str, where: str) -> float | int:
    value = item.get(key)
    # bool is an int to Python, never a time to anyone else.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{where}.{key}: a number", field=f"{where}.{key}")
    if not math.isfinite(value) or value < 0 or value > MAX_MS:
        raise InvalidInput(
            f"{where}.{key}: from 0 to {MAX_MS} milliseconds", field=f"{where}.{key}"
        )
    return value


def _seconds_ms(item: Mapping[str, Any], key: str, where: str) -> int:
    value = _number(item, key, where)
    if value * 1000 > MAX_MS:
        raise InvalidInput(
            f"{where}.{key}: at most {MAX_MS // 1000} seconds", field=f"{where}.{key}"
        )
    return round(value * 1000)


def _millis(item: Mapping[str, Any], key: str, where: str) -> int:
    return round(_number(item, key, where))


def _text(item: Mapping[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str):
        raise InvalidInput(f"{where}.{key}: text", field=f"{where}.{key}")
    return value.strip()


def _optional_text(item: Mapping[str, Any], key: str, where: str) -> str | None:
    if item.get(key) is None:
        return None
    return _text(item, key, where) or None


# --- checks shared by every shape ----------------------------------------------------------


def _segment(start: int, end: int, speaker: str | None, text: str, where: str) -> Segment:
    if end < start:
        raise InvalidInput(f"{where}: ends before it starts", field=f"{where}.end")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{where}: at most {MAX_TEXT} characters of text", field=f"{where}.text")
    if speaker is not None and len(speaker) > MAX_SPEAKER:
        raise InvalidInput(
            f"{where}: a speaker's name is at most {MAX_SPEAKER} characters",
            field=f"{where}.speaker",
        )
    return Segment(start, end, speaker, text)


def _check_count(count: int, where: str) -> None:
    if count > MAX_SEGMENTS:
        raise InvalidInput(f"{where}: at most {MAX_SEGMENTS} segments", field=where)


def _check(transcript: CallTranscript, duration_seconds: float | None) -> None:
    """In time order, within the call, and saying something."""
    if not transcript.segments:
        raise InvalidInput("the transcript has no segments", field="segments")
    named = _namer(transcript.source)
    previous = 0
    for number, segment in enumerate(transcript.segments):
        if segment.start_ms < previous:
            raise InvalidInput(
                f"{named(number)}: starts before the one before it; segments come in time order",
                field=f"{named(number)}.start",
            )
        previous = segment.start_ms
    check_fits(transcript, duration_seconds)


def check_fits(transcript: CallTranscript, duration_seconds: float | None) -> None:
    """Every segment ends within the call (with a second's slack); InvalidInput if not. For a
    transcript read before its recording's duration was known (ingest)."""
    bound = MAX_MS if duration_seconds is None else _call_ms(duration_seconds)
    named = _namer(transcript.source)
    for number, segment in enumerate(transcript.segments):
        if segment.end_ms > bound:
            raise InvalidInput(
                f"{named(number)}: ends after the call, at {segment.end_ms} ms of {bound}",
                field=f"{named(number)}.end",
            )


def _call_ms(duration_seconds: float) -> int:
    return min(MAX_MS, math.ceil(duration_seconds * 1000) + DURATION_SLACK_MS)


def _namer(source: str) -> Callable[[int], str]:
    prefix = {
        "webvtt": "cues",
        "contact-lens": "Transcript",
        "segments": "segments",
        "genesys": "phrases",
    }[source]
    return lambda number: f"{prefix}[{number}]"
