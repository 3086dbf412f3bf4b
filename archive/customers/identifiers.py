"""Normalising customer identifiers to the exact canonical form that blind indexes are built on."""

from __future__ import annotations

import re
import unicodedata
from contextlib import suppress
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from itertools import groupby

import idna
import phonenumbers
from stdnum.exceptions import InvalidChecksum, InvalidComponent, ValidationError
from stdnum.fi import hetu

from archive.errors import InvalidInput


class IdentifierKind(StrEnum):
    """The kinds of identifier a customer can be looked up by."""

    EMAIL = "email"
    PHONE = "phone"
    NATIONAL_ID = "national_id"
    NAME = "name"
    ADDRESS = "address"


@dataclass(frozen=True)
class Identifier:
    """One identifier in canonical form; `temporary` marks a temporary identity code."""

    kind: IdentifierKind
    value: str
    temporary: bool = False


# RFC 5321 §4.5.3.1: local part 64 octets and a 256-octet path that includes the two angle
# brackets, which leaves 254 octets for the address. The IDNA encoder enforces DNS's own
# limits on the domain (63-octet labels, 253 octets in all), which are within RFC 5321's.
MAX_EMAIL_LOCAL_OCTETS = 64
MAX_EMAIL_OCTETS = 254
MAX_NAME_LENGTH = 200
MAX_ADDRESS_LENGTH = 1000

# RFC 5322 atext, plus any non-ASCII character for internationalised addresses (RFC 6532).
_LOCAL_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]+")
_PHONE_PUNCTUATION = frozenset("+-()./\u2010\u2011\u2012\u2013\u2014")
_BREAKS = frozenset("\t\n\r")
# Unassigned code points are refused too: a later Unicode version may give them case or
# normalisation mappings, which would silently change the canonical form of a stored value.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn"})


def _fold(text: str) -> str:
    """Case-fold so that the result is NFC and folding it again changes nothing.

    Folding an NFD string and recomposing is Unicode's canonical caseless form (D145); folding
    an NFC string directly is not stable for characters such as U+0345.
    """
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).casefold())


def _reject_controls(text: str, field: str) -> None:
    """Refuse control, surrogate, private-use and unassigned characters, but not tabs or breaks."""
    for char in text:
        if char not in _BREAKS and unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise InvalidInput(f"{field}: contains control or unassigned characters", field=field)


def normalise_email(raw: str) -> str:
    """Return the canonical e-mail address: folded local part, ASCII (A-label) domain.

    The whole address is case-insensitive here. RFC 5321 lets a server treat local parts as
    case-sensitive, but real mail systems do not, and an agent typing "Matti.Virtanen@" must
    find "matti.virtanen@". The domain is converted to its IDNA A-label form so that a
    unicode spelling and its punycode spelling index the same; IDNA's own mapping does the
    domain's case folding, because Python's casefold would turn "ß" into "ss", a different
    domain under IDNA 2008.
    """
    address = unicodedata.normalize("NFC", raw.strip())
    _reject_controls(address, "email")
    if any(char.isspace() for char in address):
        raise InvalidInput("email: contains spaces", field="email")
    local, at, domain = address.rpartition("@")
    if not at or "@" in local:
        raise InvalidInput("email: must contain exactly one @", field="email")
    if not local:
        raise InvalidInput("email: the part before @ is empty", field="email")
    local = _fold(local)
    if not all(_LOCAL_ATOM.fullmatch(atom) for atom in local.split(".")):
        raise InvalidInput("email: the part before @ has characters not allowed", field="email")
    if len(local.encode()) > MAX_EMAIL_LOCAL_OCTETS:
        raise InvalidInput("email: the part before @ is longer than 64 octets", field="email")
    domain = _email_domain(domain)
    canonical = f"{local}@{domain}"
    if len(canonical.encode()) > MAX_EMAIL_OCTETS:
        raise InvalidInput("email: longer than 254 octets", field="email")
    return canonical


@lru_cache(maxsize=4096)
def _email_domain(domain: str) -> str:
    # Cached: a few domains carry most addresses, and IDNA encoding is the costly step.
    if not domain:
        raise InvalidInput("email: the domain is empty", field="email")
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as error:
        # The library's message quotes the offending label, so it is not passed on.
        raise InvalidInput("email: the domain is not a valid domain name", field="email") from error
    labels = ascii_domain.split(".")
    if len(labels) < 2:
        raise InvalidInput("email: the domain has no dot", field="email")
    if "" in labels:
        raise InvalidInput("email: the domain has an empty label", field="email")
    if labels[-1].isdigit():
        raise InvalidInput("email: the domain must be a name, not an address", field="email")
    return ascii_domain


def normalise_phone(raw: str, default_region: str = "FI") -> str:
    """Return the number in E.164 form, reading national numbers as in `default_region`.

    Letters are refused rather than read as a keypad spelling or an extension: neither
    identifies a person, and "040 ABC 4567" is far more likely a typing slip.
    """
    text = raw.strip()
    for char in text:
        if not (char.isdecimal() or char.isspace() or char in _PHONE_PUNCTUATION):
            raise InvalidInput("phone: may hold only digits, spaces and + - ( ) . /", field="phone")
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as error:
        raise InvalidInput("phone: not a phone number", field="phone") from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput("phone: not a valid number for its country", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_national_id(raw: str) -> tuple[str, bool]:
    """Return a Finnish personal identity code (upper case, stripped) and whether it is temporary.

    Individual numbers 900-999 are temporary codes given to people not (yet) in the population
    register; they are real identifiers of a customer and are accepted.
    """
    code = hetu.compact(raw)
    if not code.isascii():
        raise InvalidInput("national_id: not in the form DDMMYYCZZZQ", field="national_id")
    try:
        hetu.validate(code, allow_temporary=True)
    except InvalidChecksum as error:
        raise InvalidInput(
            "national_id: check character does not match", field="national_id"
        ) from error
    except InvalidComponent as error:
        raise InvalidInput(_component_reason(code), field="national_id") from error
    except ValidationError as error:
        raise InvalidInput(_format_reason(code), field="national_id") from error
    return code, 900 <= int(code[7:10]) <= 999


def _component_reason(code: str) -> str:
    # stdnum reports a bad date and a never-issued individual number alike.
    if int(code[7:10]) < 2:
        return "national_id: individual numbers 000 and 001 are never issued"
    return "national_id: the birth date does not exist"


def _format_reason(code: str) -> str:
    if len(code) != 11:
        return "national_id: must be 11 characters"
    if code[6] not in "+-YXWVUABCDEF":
        return "national_id: unknown century sign"
    return "national_id: not in the form DDMMYYCZZZQ"


def display_name(raw: str) -> str:
    """Return the name as it is stored for display: NFC, single spaces, original case."""
    _reject_controls(raw, "name")
    name = " ".join(unicodedata.normalize("NFC", raw).split())
    if not name:
        raise InvalidInput("name: is empty", field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"name: longer than {MAX_NAME_LENGTH} characters", field="name")
    return name


def normalise_name(raw: str) -> str:
    """Return the case-folded name that the whole-name index is built on."""
    name = _fold(display_name(raw))
    # Folding can lengthen a name ("ß" -> "ss"); the limit applies to what is indexed too.
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"name: longer than {MAX_NAME_LENGTH} characters", field="name")
    return name


def name_tokens(raw: str) -> list[str]:
    """Return the distinct folded words of a name, in order, for token lookup.

    Any non-letter separates words, so "Anna-Liisa" gives "anna" and "liisa"; one-letter
    words (initials) are dropped because they would match nearly everyone.
    """
    runs = groupby(normalise_name(raw), key=_is_letter)
    words = ("".join(chars) for is_word, chars in runs if is_word)
    return list(dict.fromkeys(word for word in words if len(word) > 1))


def _is_letter(char: str) -> bool:
    # Marks count as letters so that a decomposed accent does not split a word.
    return unicodedata.category(char)[0] in "LM"


def normalise_address(raw: str) -> str:
    """Return a postal address as NFC lines, trimmed, single-spaced, with blank lines dropped."""
    _reject_controls(raw, "address")
    text = unicodedata.normalize("NFC", raw)
    lines = (" ".join(line.split()) for line in text.splitlines())
    address = "\n".join(line for line in lines if line)
    if not address:
        raise InvalidInput("address: is empty", field="address")
    if len(address) > MAX_ADDRESS_LENGTH:
        raise InvalidInput(f"address: longer than {MAX_ADDRESS_LENGTH} characters", field="address")
    return address


def parse_identifier(kind: IdentifierKind | str, raw: str) -> Identifier:
    """Return the canonical identifier of the given kind, or raise InvalidInput."""
    try:
        known = IdentifierKind(kind)
    except ValueError as error:
        raise InvalidInput("kind: unknown identifier kind", field="kind") from error
    if known is IdentifierKind.NATIONAL_ID:
        code, temporary = normalise_national_id(raw)
        return Identifier(known, code, temporary)
    normalise = {
        IdentifierKind.EMAIL: normalise_email,
        IdentifierKind.PHONE: normalise_phone,
        IdentifierKind.NAME: normalise_name,
        IdentifierKind.ADDRESS: normalise_address,
    }[known]
    return Identifier(known, normalise(raw))


def guess_kind(query: str) -> IdentifierKind:
    """Guess what a single search box holds; a name is the fallback.

    A phone number here means only digits and phone punctuation, with at least six digits,
    so that a short customer number or a street address is not taken for one.
    """
    text = query.strip()
    if "@" in text:
        return IdentifierKind.EMAIL
    with suppress(InvalidInput):
        normalise_national_id(text)
        return IdentifierKind.NATIONAL_ID
    digits = sum(char.isdecimal() for char in text)
    phone_like = all(
        char.isdecimal() or char.isspace() or char in _PHONE_PUNCTUATION for char in text
    )
    if phone_like and digits >= 6:
        return IdentifierKind.PHONE
    return IdentifierKind.NAME
