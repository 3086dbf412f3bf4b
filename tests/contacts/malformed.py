"""Malformed e-mails made to order: a small grammar whose choices each add a known defect.

A message is an opening, a header block (sender, subject, Message-ID, date, one more flaw),
a separator and a body with maybe an attachment, each written well or in one of several
broken ways, with one kind of line end throughout (or a mix). `Shape` names one choice for
each; `build` writes it out, and `expected_defects` says which defect codes the archive must
report for it whatever the other choices are. `spread(count)` picks shapes that use every
choice and mix them; `shapes()` lets hypothesis draw any combination.
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, fields
from typing import Any

from hypothesis import strategies as st

LINE_ENDS = {"crlf": b"\r\n", "lf": b"\n", "cr": b"\r"}

CHOICES: dict[str, tuple[str, ...]] = {
    "line_end": ("crlf", "lf", "cr", "mixed"),
    "opening": ("none", "mbox", "stray"),
    "sender": ("plain", "named", "encoded", "eight_bit", "obsolete", "group", "junk", "none"),
    "subject": ("plain", "encoded", "split_utf8", "bad_word", "unknown_charset", "latin1", "none"),
    "message_id": ("plain", "comment", "spaced", "bare", "obsolete", "none"),
    "date": ("plain", "zoneless", "junk", "none"),
    "flaw": ("none", "space_before_colon", "broken_fold", "duplicate", "long_line"),
    "separator": ("blank", "none"),
    "body": (
        "text", "latin1_undeclared", "wrong_charset", "unknown_charset", "qp_bad", "base64",
        "base64_bad", "unknown_encoding", "multipart", "no_boundary", "boundary_not_found",
        "not_closed", "nested", "rfc822", "bad_content_type",
    ),
    "attachment": ("none", "base64", "base64_bad", "rfc2231_name", "encoded_name"),
}  # fmt: skip
MULTIPART_BODIES = ("multipart", "not_closed", "nested", "rfc822")


@dataclass(frozen=True)
class Shape:
    number: int = 0  # makes each message's bytes and Message-ID its own
    line_end: str = "crlf"
    opening: str = "none"
    sender: str = "plain"
    subject: str = "plain"
    message_id: str = "plain"
    date: str = "plain"
    flaw: str = "none"
    separator: str = "blank"
    body: str = "text"
    attachment: str = "none"


def spread(count: int) -> list[Shape]:
    """`count` shapes that take each choice in turn, at different strides so they mix."""
    strides = (1, 3, 5, 7, 11, 13, 17, 19, 23, 29)
    shapes = []
    for number in range(count):
        picked = {
            name: values[(number * stride + offset) % len(values)]
            for offset, (stride, (name, values)) in enumerate(
                zip(strides, CHOICES.items(), strict=True)
            )
        }
        shapes.append(Shape(number=number, **picked))
    return shapes


def shapes() -> st.SearchStrategy[Shape]:
    choices: dict[str, Any] = {name: st.sampled_from(values) for name, values in CHOICES.items()}
    return st.builds(Shape, number=st.integers(0, 10**6), **choices)


def expected_defects(shape: Shape) -> set[str]:
    """Defect codes the archive must find in `build(shape)`, whatever else the shape holds."""
    expected = {
        "bare-cr": shape.line_end == "cr",
        "stray-line": shape.opening == "stray",
        "missing-from": shape.sender == "none",
        "missing-message-id": shape.message_id == "none",
        "bad-message-id": shape.message_id in ("spaced", "bare"),
        "missing-date": shape.date == "none",
        "bad-date": shape.date == "junk",
        "space-before-colon": shape.flaw == "space_before_colon",
        "broken-fold": shape.flaw == "broken_fold",
        "duplicate-field": shape.flaw == "duplicate",
        "long-line": shape.flaw == "long_line",
        "no-blank-line": shape.separator == "none",
        "bad-encoded-word": shape.subject == "bad_word",
        "unknown-charset": shape.subject == "unknown_charset" or shape.body == "unknown_charset",
        "undeclared-8bit": shape.body == "latin1_undeclared",
        "wrong-charset": shape.body == "wrong_charset",
        "bad-quoted-printable": shape.body == "qp_bad",
        "unknown-transfer-encoding": shape.body == "unknown_encoding",
        "no-boundary": shape.body == "no_boundary",
        "boundary-not-found": shape.body == "boundary_not_found",
        "boundary-not-closed": shape.body == "not_closed",
        "bad-content-type": shape.body == "bad_content_type",
        "bad-base64": shape.body == "base64_bad"
        or (shape.attachment == "base64_bad" and shape.body in MULTIPART_BODIES),
    }
    return {code for code, present in expected.items() if present}


def build(shape: Shape) -> bytes:
    lines = _opening(shape) + _headers(shape)
    body_headers, body = _body(shape)
    lines += body_headers
    if shape.separator == "blank":
        lines.append(b"")
    lines += body
    return _join(lines, shape.line_end)


def _join(lines: list[bytes], line_end: str) -> bytes:
    if line_end != "mixed":
        return LINE_ENDS[line_end].join(lines) + LINE_ENDS[line_end]
    ends = itertools.cycle((b"\r\n", b"\n", b"\r\n", b"\r"))
    return b"".join(line + end for line, end in zip(lines, ends, strict=False))


def _opening(shape: Shape) -> list[bytes]:
    return {
        "none": [],
        "mbox": [b"From MAILER-DAEMON Mon Mar  2 10:00:00 2026"],
        "stray": [b"this line is no header at all"],
    }[shape.opening]


def _headers(shape: Shape) -> list[bytes]:
    n = shape.number
    sender = {
        "plain": b"From: aino.virtanen@example.fi",
        "named": b'From: "Virtanen, Aino" <aino.virtanen@example.fi>',
        "encoded": b"From: =?utf-8?q?Aino_K=C3=A4rkk=C3=A4inen?= <aino@example.fi>",
        "eight_bit": "From: Jörg Ålund <jorg@example.fi>".encode("latin-1"),
        "obsolete": b"From: aino . virtanen @ example . fi (Aino)",
        "group": b"From: Asiakkaat: aino@example.fi, mikko@example.fi;",
        "junk": b"From: \x80\x81 <<<>>> ,,, (unclosed",
        "none": None,
    }[shape.sender]
    subject = {
        "plain": b"Subject: Lasku %d" % n,
        "encoded": b"Subject: =?iso-8859-1?q?R=E4kning_%d?=" % n,
        "split_utf8": b"Subject: =?utf-8?b?w6Q=?= =?utf-8?b?w7Y=?= %d" % n,
        "bad_word": b"Subject: =?utf-8?b?QUJD?= =?utf-8?b?Q?= %d" % n,
        "unknown_charset": b"Subject: =?x-klingon?q?tlhIngan?= %d" % n,
        "latin1": f"Subject: Räkning för maj {n}".encode("latin-1"),
        "none": None,
    }[shape.subject]
    message_id = {
        "plain": b"Message-ID: <%d.case@example.fi>" % n,
        "comment": b"Message-ID: (relay) <%d.case@example.fi> (copy)" % n,
        "spaced": b"Message-ID: <%d case@example.fi>" % n,
        "bare": b"Message-ID: %d.case@example.fi" % n,
        "obsolete": b"Message-ID: <%d . case @ example . fi>" % n,
        "none": None,
    }[shape.message_id]
    date = {
        "plain": b"Date: Mon, 02 Mar 2026 10:00:00 +0200",
        "zoneless": b"Date: Mon, 02 Mar 2026 10:00:00 -0000",
        "junk": b"Date: the day after tomorrow",
        "none": None,
    }[shape.date]
    lines = [line for line in (sender, subject, message_id, date) if line is not None]
    lines += [b"To: Asiakaspalvelu <asiakaspalvelu@example.org>", b"X-Case: %d" % n]
    flaw = {
        "none": [],
        "space_before_colon": [b"X-Mailer : Old Client 1.0"],
        "broken_fold": [b"X-Note: a note that goes on", b"and on without its indent"],
        "duplicate": [b"To: laskutus@example.org"],
        "long_line": [b"X-Long: " + b"x" * 1200],
    }[shape.flaw]
    # After the first field, so a broken fold has a field above it and one below.
    return lines[:1] + flaw + lines[1:] + [b"MIME-Version: 1.0"]


def _body(shape: Shape) -> tuple[list[bytes], list[bytes]]:
    """The body's own header lines (Content-Type and so on) and its lines."""
    n = shape.number
    text = [b"Hei, t\xc3\xa4m\xc3\xa4 on viesti %d." % n, b"Terveisin Aino"]
    latin = [b"Hej, tack f\xf6r ditt k\xf6p %d." % n]
    plain = b"Content-Type: text/plain; charset=utf-8"
    bodies: dict[str, tuple[list[bytes], list[bytes]]] = {
        "text": ([plain], text),
        "latin1_undeclared": ([b"Content-Type: text/plain"], latin),
        "wrong_charset": ([plain], latin),
        "unknown_charset": ([b"Content-Type: text/plain; charset=x-klingon"], text),
        "qp_bad": (
            [plain, b"Content-Transfer-Encoding: quoted-printable"],
            [b"Hei =E4 ja =ZZ ja =%d" % n],
        ),
        "base64": (
            [plain, b"Content-Transfer-Encoding: base64"],
            _base64(b"Hei, viesti %d.\n" % n),
        ),
        "base64_bad": (
            [plain, b"Content-Transfer-Encoding: base64"],
            [b"SGVp!!LCB2aWVzdGk*", b"QQ"],
        ),
        "unknown_encoding": ([plain, b"Content-Transfer-Encoding: x-gzip64"], text),
        "bad_content_type": ([b"Content-Type: text"], text),
        "no_boundary": ([b"Content-Type: multipart/mixed"], text),
        "boundary_not_found": (
            [b'Content-Type: multipart/mixed; boundary="nowhere%d"' % n],
            [b"--elsewhere", *text],
        ),
    }
    if shape.body in bodies:
        return bodies[shape.body]
    return _multipart(shape, text)


def _multipart(shape: Shape, text: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    outer = b"outer-%d" % shape.number
    inner = b"inner-%d" % shape.number
    lines = [b"preamble", b"--" + outer, b"Content-Type: text/plain; charset=utf-8", b"", *text]
    if shape.body == "nested":
        lines += [b"--" + outer, b'Content-Type: multipart/alternative; boundary="%s"' % inner]
        lines += [b"", b"--" + inner, b"Content-Type: text/plain", b"", b"inner text"]
        lines += [b"--" + inner, b"Content-Type: text/html", b"", b"<p>inner <b>html</b></p>"]
        lines += [b"--" + inner + b"--"]
    if shape.body == "rfc822":
        lines += [b"--" + outer, b"Content-Type: message/rfc822", b""]
        lines += [b"From: kauppa@example.com", b"Subject: Tilaus", b"", b"Kiitos tilauksesta."]
    lines += _attachment(shape, outer)
    if shape.body != "not_closed":
        lines += [b"--" + outer + b"--", b"epilogue"]
    return [b'Content-Type: multipart/mixed; boundary="%s"' % outer], lines


def _attachment(shape: Shape, boundary: bytes) -> list[bytes]:
    pdf = b"%%PDF-1.4 case %d\n%%%%EOF\n" % shape.number
    disposition = {
        "none": None,
        "base64": b'Content-Disposition: attachment; filename="lasku.pdf"',
        "base64_bad": b'Content-Disposition: attachment; filename="rikki.pdf"',
        "rfc2231_name": b"Content-Disposition: attachment; filename*=utf-8''r%C3%A4kning.pdf",
        "encoded_name": b'Content-Disposition: attachment; filename="=?utf-8?q?k=C3=B6p.pdf?="',
    }[shape.attachment]
    if disposition is None:
        return []
    data = [b"JVBER!!i0x*", b"Q"] if shape.attachment == "base64_bad" else _base64(pdf)
    head = [b"Content-Type: application/pdf", b"Content-Transfer-Encoding: base64", disposition]
    return [b"--" + boundary, *head, b"", *data]


def _base64(data: bytes) -> list[bytes]:
    return base64.encodebytes(data).splitlines()


def describe(shape: Shape) -> str:
    return ",".join(f"{f.name}={getattr(shape, f.name)}" for f in fields(shape))
