"""Turning an e-mail's bytes into text by the charset it declares, falling back when it lies."""

from __future__ import annotations

import codecs

from archive.contacts.email_defects import Defect, Defects

LONGEST_NAME = 40
# Python knows these names, but they are no charset a mail program writes: "undefined" fails
# on every byte, and punycode and IDNA decode in time that grows with the square of the input.
NOT_CHARSETS = frozenset({"undefined", "punycode", "idna"})
# A declared ASCII that meets 8-bit bytes is a mail program's default, not a statement.
ASCII = frozenset({"ascii"})


def codec_of(charset: str) -> str | None:
    """The codec Python decodes `charset` with, or None if it is no text charset we know."""
    name = charset.strip().strip("\"'").lower()
    if not name or len(name) > LONGEST_NAME or not name.isascii():
        return None
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        return None
    # Codecs such as base64 or zlib turn bytes into bytes; they are not charsets.
    if not info._is_text_encoding or info.name in NOT_CHARSETS:
        return None
    return info.name


def decode(data: bytes, charset: str | None, defects: Defects, *, final: bool = True) -> str:
    """`data` as text in `charset`; unknown or wrong charsets fall back and are defects.

    With `final` false the data was cut at a limit: a character cut in two at the end is
    dropped rather than shown as a replacement character (and taken for a wrong charset).
    """
    codec = codec_of(charset) if charset else None
    if charset and codec is None:
        defects.add(Defect.UNKNOWN_CHARSET)
    if codec is not None:
        try:
            return _decode(data, codec, "strict", final)
        except UnicodeError:
            defects.add(Defect.WRONG_CHARSET)
        except (ValueError, TypeError, LookupError):
            defects.add(Defect.UNKNOWN_CHARSET)
            codec = None
        if codec is not None and codec not in ASCII:
            try:
                return _decode(data, codec, "replace", final)
            except (ValueError, TypeError, LookupError):
                defects.add(Defect.UNKNOWN_CHARSET)
    try:
        return _decode(data, "utf-8", "strict", final)
    except UnicodeError:
        if not charset:
            defects.add(Defect.UNDECLARED_8BIT)
        # Latin-1 maps every byte, so old Nordic mail stays readable rather than replaced.
        return data.decode("latin-1")


def _decode(data: bytes, codec: str, errors: str, final: bool) -> str:
    if final:
        return data.decode(codec, errors)
    return codecs.getincrementaldecoder(codec)(errors).decode(data, final=False)


def clean_text(value: str) -> str:
    """Text without lone surrogates, which no JSON encoder or database accepts.

    Codecs such as unicode_escape can produce them from a few backslashes.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", errors="replace").decode("utf-8")
    return value
