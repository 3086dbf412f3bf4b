"""A call sent as a form: its transcript and its recording in one `multipart/form-data` body.

`POST /api/v1/contacts/calls` takes the recording as the whole body, or, so that a telephony
system can send what was said with the call, as a form of two parts in this order:

- `transcript` (optional): WebVTT or JSON, as `PUT .../transcript` takes it, bounded by
  ARCHIVE_MAX_MESSAGE_BYTES. It comes first so that it is read, and checked, before the
  recording streams: a transcript that will be refused costs no upload.
- `recording`: the audio, streamed to the store as it arrives, never held whole.

The form is read with `multipart`'s push parser (the form parser Litestar itself relies on),
one received chunk at a time. A form cut off, with a part the archive does not know, with the
parts in the other order, or with anything after the recording is refused, and nothing is
stored: the recording's bytes stop at its part's end, and the form's end is checked before the
ingest commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from multipart import MultipartError, MultipartSegment, PushMultipartParser, parse_options_header

from archive.contacts.transcripts import SentTranscript, media_type_of
from archive.errors import InvalidInput, MalformedRequest, PayloadTooLarge

FORM = "multipart/form-data"
TRANSCRIPT = "transcript"
RECORDING = "recording"
# Part headers are a few short lines (disposition, type); far more is not a form from a PBX.
MAX_PART_HEADER = 4096


def is_form(content_type: str | None) -> bool:
    return (content_type or "").split(";", 1)[0].strip().lower() == FORM


class CallForm:
    """The parts of a call's form, read from `chunks` as the recording is asked for."""

    def __init__(self, content_type: str, chunks: Iterable[bytes], transcript_limit: int) -> None:
        boundary = parse_options_header(content_type)[1].get("boundary")
        if not boundary:
            raise MalformedRequest("a multipart/form-data body needs its boundary")
        parser = PushMultipartParser(
            boundary, max_header_size=MAX_PART_HEADER, max_segment_count=3, strict=True
        )
        self._events = _events(parser, chunks)
        self.transcript: SentTranscript | None = None
        self.filename: str | None = None
        self._limit = transcript_limit
        self._read_to_recording()

    def recording(self) -> Iterator[bytes]:
        """The recording's bytes as they arrive, then the form's end is checked."""
        for event in self._events:
            if event is None:
                break
            if isinstance(event, MultipartSegment):  # not emitted inside a part
                raise MalformedRequest("the form's recording part did not end")
            yield bytes(event)
        for event in self._events:
            if isinstance(event, MultipartSegment):
                raise InvalidInput(
                    f"the recording is the form's last part, not {event.name!r} after it",
                    field=event.name,
                )

    def _read_to_recording(self) -> None:
        for event in self._events:
            if not isinstance(event, MultipartSegment):
                continue  # the parser emits a part's header first; nothing else comes here
            if event.name == RECORDING:
                self.filename = event.filename or None
                return
            if event.name != TRANSCRIPT or self.transcript is not None:
                raise InvalidInput(
                    "a call's form has a transcript part, then a recording part, and no other",
                    field=event.name,
                )
            body = self._part_body()
            self.transcript = SentTranscript(body, media_type_of(event.content_type, body))
        raise InvalidInput("the form has no recording part", field=RECORDING)

    def _part_body(self) -> bytes:
        body = bytearray()
        for event in self._events:
            if event is None:
                return bytes(body)
            if isinstance(event, MultipartSegment):
                raise MalformedRequest("the form's transcript part did not end")
            body += event
            if len(body) > self._limit:
                raise PayloadTooLarge(f"the transcript is larger than {self._limit} bytes")
        raise MalformedRequest("the form ended inside its transcript part")


def _events(
    parser: PushMultipartParser, chunks: Iterable[bytes]
) -> Iterator[MultipartSegment | bytes | bytearray | None]:
    """The parser's events over every chunk, then over the end of input (which checks that the
    form was closed)."""
    try:
        for chunk in chunks:
            if chunk:
                yield from parser.parse(chunk)
        yield from parser.parse(b"")
    except MultipartError as error:  # malformed, or past a limit
        raise MalformedRequest(
            f"the body is not a whole multipart/form-data form: {error}"
        ) from None
