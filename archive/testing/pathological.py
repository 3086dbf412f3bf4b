"""Messages made as hard to read as their size allows, for the bound test and the benchmark.

Each shape takes a size in bytes and fills it: the first five are the ones that made the
standard library's parser slow or hungry (thousands of encoded words, tens of thousands of
headers, ten thousand parts, nesting thousands deep, one header line of megabytes); the rest
are what else a sender can fill a message with. The counts grow with the size, so time and
memory can be plotted against it.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

MIB = 1 << 20


def _head(size: int, name: bytes) -> bytes:
    return (
        b"From: Aino Virtanen <aino.virtanen@example.fi>\r\n"
        b"To: Asiakaspalvelu <asiakaspalvelu@example.org>\r\n"
        b"Date: Mon, 02 Mar 2026 10:00:00 +0200\r\n"
        b"Message-ID: <%s.%d@example.fi>\r\nMIME-Version: 1.0\r\n" % (name, size)
    )


def encoded_words(size: int) -> bytes:
    """A Subject of RFC 2047 words, some 20,000 a MiB."""
    word = b" =?utf-8?q?Hyv=C3=A4=C3=A4?="
    head = _head(size, b"words") + b"Subject:"
    tail = b"\r\n\r\nHei\r\n"
    return head + word * ((size - len(head) - len(tail)) // len(word)) + tail


def many_headers(size: int) -> bytes:
    """A header field every 512 bytes: 51,200 of them in 25 MiB."""
    head = _head(size, b"headers")
    count = (size - len(head) - 7) // 512
    fields = [b"X-Filler-%07d: %s\r\n" % (n, b"a" * (512 - 21)) for n in range(count)]
    return head + b"".join(fields) + b"\r\nHei\r\n"


def many_parts(size: int) -> bytes:
    """A part every 2,600 bytes: some 10,000 parts in 25 MiB."""
    head = _head(size, b"parts") + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    part = b"--b\r\nContent-Type: text/plain\r\n\r\n" + b"x" * (2600 - 34) + b"\r\n"
    return head + part * ((size - len(head) - 7) // len(part)) + b"--b--\r\n"


def deep_nesting(size: int) -> bytes:
    """Multiparts nested one in another, a level every 5,000 bytes (5,242 deep in 25 MiB)."""
    levels = [_head(size, b"nesting")]
    for level in range(size // 5000):
        levels.append(
            b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
        )
    nested = b"".join(levels) + b"Content-Type: text/plain\r\n\r\n"
    return nested + b"x" * max(size - len(nested), 0)


def long_header_line(size: int) -> bytes:
    """One header line a fifth of the message long (5 MiB in 25 MiB); the rest is its body."""
    head = _head(size, b"line") + b"X-Long: " + b"x" * (size // 5) + b"\r\n\r\n"
    return head + b"y" * max(size - len(head), 0)


def short_headers(size: int) -> bytes:
    """Header fields of six bytes each: four million of them in 25 MiB."""
    head = _head(size, b"short")
    return head + b"X: y\r\n" * ((size - len(head) - 7) // 6) + b"\r\nHei\r\n"


def obsolete_headers(size: int) -> bytes:
    """Short fields with white space before the colon, each one a defect to count."""
    head = _head(size, b"obsolete")
    return head + b"X : y\r\n" * ((size - len(head) - 7) // 7) + b"\r\nHei\r\n"


def attachment(size: int) -> bytes:
    """A short text and one base64 attachment that fills the rest."""
    head = _head(size, b"attachment") + (
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nLiitteena.\r\n--b\r\n"
        b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    )
    block = hashlib.sha512(b"seed").digest() * 16384  # 1 MiB that does not compress
    # base64.encodebytes writes 57 bytes as a line of 76 letters and a line end.
    data = (block * (size // len(block) + 1))[: max(size - len(head) - 7, 0) // 77 * 57]
    return head + base64.encodebytes(data) + b"--b--\r\n"


def html_tags(size: int) -> bytes:
    """An HTML body of nested tags and nothing else."""
    head = _head(size, b"html") + b"Content-Type: text/html; charset=utf-8\r\n\r\n"
    return head + b"<div><b>x" * ((size - len(head)) // 9)


SHAPES: dict[str, Callable[[int], bytes]] = {
    "encoded-words": encoded_words,
    "headers": many_headers,
    "parts": many_parts,
    "nesting": deep_nesting,
    "long-line": long_header_line,
    "short-headers": short_headers,
    "obsolete-headers": obsolete_headers,
    "attachment": attachment,
    "html": html_tags,
}
# The shapes the issue names: what the bound test holds to its limits.
NAMED_IN_THE_ISSUE = ("encoded-words", "headers", "parts", "nesting", "long-line")
