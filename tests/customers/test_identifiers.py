"""Tests of identifier normalisation: the exact forms the blind indexes are built on."""

from __future__ import annotations

import calendar

import phonenumbers
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from archive.customers.identifiers import (
    MAX_NAME_LENGTH,
    Identifier,
    IdentifierKind,
    display_name,
    guess_kind,
    name_tokens,
    normalise_address,
    normalise_email,
    normalise_name,
    normalise_national_id,
    normalise_phone,
    parse_identifier,
)
from archive.errors import InvalidInput

pytestmark = pytest.mark.fast

# The published algorithm, written out here as an oracle independent of the code under test:
# the nine digits DDMMYYZZZ taken as one number, modulo 31, index this alphabet.
CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def identity_code(date: str, sign: str, individual: str) -> str:
    return f"{date}{sign}{individual}{CHECK_CHARACTERS[int(date + individual) % 31]}"


# --- e-mail ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("matti.virtanen@example.fi", "matti.virtanen@example.fi"),
        ("  Matti.Virtanen@Example.FI \n", "matti.virtanen@example.fi"),
        ("ASIAKASPALVELU@YRITYS.FI", "asiakaspalvelu@yritys.fi"),
        ("first+tag@sub.example.co.uk", "first+tag@sub.example.co.uk"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("a!#$%&'*+/=?^_`{|}~-z@example.com", "a!#$%&'*+/=?^_`{|}~-z@example.com"),
        ("x@bücher.example", "x@xn--bcher-kva.example"),
        ("x@BÜCHER.example", "x@xn--bcher-kva.example"),
        ("x@xn--bcher-kva.example", "x@xn--bcher-kva.example"),
        ("Åsa.Ström@example.se", "åsa.ström@example.se"),
        ("STRASSE@example.de", "strasse@example.de"),
        ("Straße@example.de", "strasse@example.de"),
        ("user@例え.テスト", "user@xn--r8jz45g.xn--zckzah"),
        ("a@b.co", "a@b.co"),
    ],
)
def test_valid_emails_are_canonicalised(raw: str, canonical: str) -> None:
    assert normalise_email(raw) == canonical


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "exactly one @"),
        ("matti.example.fi", "exactly one @"),
        ("matti@@example.fi", "exactly one @"),
        ("matti@virtanen@example.fi", "exactly one @"),
        ("@example.fi", "before @ is empty"),
        ("matti@", "domain is empty"),
        ("matti@localhost", "no dot"),
        ("matti@example..fi", "not a valid domain"),
        ("matti@example.fi.", "empty label"),
        ("matti@.example.fi", "not a valid domain"),
        ("matti virtanen@example.fi", "spaces"),
        ("matti@exa mple.fi", "spaces"),
        (".matti@example.fi", "characters not allowed"),
        ("matti.@example.fi", "characters not allowed"),
        ("matti..virtanen@example.fi", "characters not allowed"),
        ('"matti virtanen"@example.fi', "spaces"),
        ('"matti"@example.fi', "characters not allowed"),
        ("matti(comment)@example.fi", "characters not allowed"),
        ("matti@exa_mple.fi", "not a valid domain"),
        ("matti@-example.fi", "not a valid domain"),
        ("matti@[192.0.2.1]", "not a valid domain"),
        ("matti@192.0.2.1", "not an address"),
        ("matti\x00@example.fi", "control"),
        ("m" * 65 + "@example.fi", "64 octets"),
        ("ä" * 33 + "@example.fi", "64 octets"),
        ("matti@" + "a" * 64 + ".fi", "not a valid domain"),
        ("m" * 64 + "@" + ".".join(["a" * 60] * 4) + ".fi", "254 octets"),
    ],
)
def test_invalid_emails_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason) as caught:
        normalise_email(raw)
    assert caught.value.field == "email"
    assert caught.value.detail.startswith("email: ")


def test_longest_allowed_email_is_accepted() -> None:
    local = "m" * 64
    domain = ".".join(["a" * 63, "b" * 63, "c" * 58, "fi"])
    address = f"{local}@{domain}"
    assert len(address) == 254
    assert normalise_email(address) == address


def test_email_error_does_not_echo_the_address() -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_email("matti.virtanen@exa_mple.fi")
    assert "virtanen" not in caught.value.detail
    assert "exa_mple" not in caught.value.detail


@given(st.emails())
def test_email_normalisation_is_idempotent(raw: str) -> None:
    canonical = normalise_email(raw)
    assert normalise_email(canonical) == canonical


@given(st.emails())
def test_email_case_does_not_change_the_canonical_form(raw: str) -> None:
    assert normalise_email(raw.upper()) == normalise_email(raw.lower())


# --- phone ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "region", "canonical"),
    [
        ("040 123 4567", "FI", "+358401234567"),
        ("040-123 4567", "FI", "+358401234567"),
        ("0401234567", "FI", "+358401234567"),
        ("+358 40 123 4567", "FI", "+358401234567"),
        ("00358 40 123 4567", "FI", "+358401234567"),
        ("(09) 1234 5678", "FI", "+358912345678"),
        ("09-123 4567", "FI", "+35891234567"),
        ("050 987 6543", "FI", "+358509876543"),
        ("+46 8 123 456 78", "FI", "+46812345678"),
        ("08-123 456 78", "SE", "+46812345678"),
        ("070-123 45 67", "SE", "+46701234567"),
        ("+1 (202) 555-0143", "FI", "+12025550143"),
        ("+44 20 7946 0958", "FI", "+442079460958"),
        ("+49 30 901820", "FI", "+4930901820"),
        ("+39 06 1234 5678", "FI", "+390612345678"),
        ("040.123.4567", "FI", "+358401234567"),
        ("040/123 4567", "FI", "+358401234567"),
        ("040 \u2013 123 4567", "FI", "+358401234567"),
        ("\uff10\uff14\uff10 \uff11\uff12\uff13 \uff14\uff15\uff16\uff17", "FI", "+358401234567"),
    ],
)
def test_valid_phone_numbers_become_e164(raw: str, region: str, canonical: str) -> None:
    assert normalise_phone(raw, region) == canonical


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "not a phone number"),
        ("040", "not a valid number"),
        ("12345", "not a valid number"),
        ("+358 1", "not a phone number"),
        ("+999 40 123 4567", "not a valid number"),
        ("040 123 4567 1234 5678", "not a valid number"),
        ("040 ABC 4567", "only digits"),
        ("1-800-FLOWERS", "only digits"),
        ("+358 40 123 4567 ext. 12", "only digits"),
        ("040#1234567", "only digits"),
        ("phone", "only digits"),
    ],
)
def test_invalid_phone_numbers_are_refused(raw: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason) as caught:
        normalise_phone(raw)
    assert caught.value.field == "phone"


def test_phone_error_does_not_echo_the_number() -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_phone("040 123")
    assert "123" not in caught.value.detail


@st.composite
def valid_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """A region and a valid number written in that region's national format."""
    region = draw(st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)))
    example = phonenumbers.example_number(region)
    assume(example is not None)
    assert example is not None
    national = str(example.national_number)
    tail = draw(st.text(alphabet="0123456789", min_size=2, max_size=2))
    candidate = phonenumbers.parse(national[:-2] + tail, region)
    assume(phonenumbers.is_valid_number(candidate))
    written = phonenumbers.format_number(candidate, phonenumbers.PhoneNumberFormat.NATIONAL)
    return region, written


@given(valid_numbers())
def test_phone_normalisation_is_idempotent(case: tuple[str, str]) -> None:
    region, written = case
    canonical = normalise_phone(written, region)
    assert canonical.startswith("+")
    assert canonical[1:].isdigit()
    assert normalise_phone(canonical, region) == canonical
    # An E.164 number does not depend on the default region.
    assert normalise_phone(canonical, "FI") == canonical


# --- personal identity code -----------------------------------------------------------------

CENTURIES = [("+", "1800"), *[(s, "1900") for s in "-YXWVU"], *[(s, "2000") for s in "ABCDEF"]]


@pytest.mark.parametrize(("sign", "century"), CENTURIES)
def test_every_century_sign_is_accepted_and_read(sign: str, century: str) -> None:
    code = identity_code("131052", sign, "308")
    assert normalise_national_id(code) == (code, False)
    # 29 February of year 00 exists only in a leap century year: 2000, not 1800 or 1900.
    leap_day = identity_code("290200", sign, "123")
    if calendar.isleap(int(century)):
        assert normalise_national_id(leap_day) == (leap_day, False)
    else:
        with pytest.raises(InvalidInput, match="birth date"):
            normalise_national_id(leap_day)


@pytest.mark.parametrize("individual", ["900", "950", "999"])
def test_temporary_codes_are_accepted_and_flagged(individual: str) -> None:
    code = identity_code("010190", "-", individual)
    assert normalise_national_id(code) == (code, True)


@pytest.mark.parametrize("individual", ["002", "500", "899"])
def test_ordinary_codes_are_not_temporary(individual: str) -> None:
    code = identity_code("010190", "-", individual)
    assert normalise_national_id(code) == (code, False)


def test_lowercase_and_spaced_input_is_canonicalised() -> None:
    code = identity_code("131052", "A", "308")
    assert code[-1].isalpha()
    assert normalise_national_id(f"  {code.lower()}\t") == (code, False)


def test_unicode_dash_is_read_as_the_hyphen_sign() -> None:
    assert normalise_national_id("131052\u2013308T") == ("131052-308T", False)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("131052-308U", "check character"),
        (identity_code("310252", "-", "308"), "birth date"),
        (identity_code("310452", "-", "308"), "birth date"),
        (identity_code("011352", "-", "308"), "birth date"),
        (identity_code("000152", "-", "308"), "birth date"),
        (identity_code("131052", "-", "001"), "never issued"),
        (identity_code("131052", "-", "000"), "never issued"),
        ("131052G308T", "century sign"),
        ("131052*308T", "century sign"),
        ("131052-308", "11 characters"),
        ("131052-308TT", "11 characters"),
        ("", "11 characters"),
        ("1310X2-308T", "form"),
        ("131052-3O8T", "form"),
        ("131052-308G", "form"),
        ("\u0661\u0663\u0661\u0660\u0665\u0662-308T", "form"),
    ],
)
def test_invalid_identity_codes_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason) as caught:
        normalise_national_id(raw)
    assert caught.value.field == "national_id"
    assert not raw or raw not in caught.value.detail


@st.composite
def identity_codes(draw: st.DrawFn) -> str:
    sign = draw(st.sampled_from([sign for sign, _ in CENTURIES]))
    day = draw(st.integers(1, 28))
    month = draw(st.integers(1, 12))
    year = draw(st.integers(0, 99))
    individual = draw(st.integers(2, 999))
    return identity_code(f"{day:02}{month:02}{year:02}", sign, f"{individual:03}")


@given(identity_codes(), st.booleans())
def test_identity_code_normalisation_is_idempotent(code: str, lower: bool) -> None:
    canonical, temporary = normalise_national_id(code.lower() if lower else code)
    assert canonical == code
    assert temporary == (int(code[7:10]) >= 900)
    assert normalise_national_id(canonical) == (canonical, temporary)


# --- names and addresses --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown", "indexed"),
    [
        ("Matti Virtanen", "Matti Virtanen", "matti virtanen"),
        ("  Matti \t  Virtanen\n", "Matti Virtanen", "matti virtanen"),
        ("Åsa Öhman-Ääritalo", "Åsa Öhman-Ääritalo", "åsa öhman-ääritalo"),
        ("A\u030asa", "Åsa", "åsa"),
        ("Anna-Liisa Jääskeläinen", "Anna-Liisa Jääskeläinen", "anna-liisa jääskeläinen"),
        ("Hans Straße", "Hans Straße", "hans strasse"),
        ("Matti\u00a0Virtanen", "Matti Virtanen", "matti virtanen"),
    ],
)
def test_names_are_normalised(raw: str, shown: str, indexed: str) -> None:
    assert display_name(raw) == shown
    assert normalise_name(raw) == indexed


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("  \t\n ", "empty"),
        ("Matti\x00Virtanen", "control"),
        ("Matti\x1bVirtanen", "control"),
        ("Matti\ue000", "control"),
        ("x" * (MAX_NAME_LENGTH + 1), "longer than"),
        ("ß" * (MAX_NAME_LENGTH // 2 + 1), "longer than"),
    ],
)
def test_bad_names_are_refused(raw: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason) as caught:
        normalise_name(raw)
    assert caught.value.field == "name"


@pytest.mark.parametrize(
    ("raw", "tokens"),
    [
        ("Matti Virtanen", ["matti", "virtanen"]),
        ("  Anna-Liisa   Virtanen-Åström ", ["anna", "liisa", "virtanen", "åström"]),
        ("Matti J. Virtanen", ["matti", "virtanen"]),
        ("Virtanen Virtanen", ["virtanen"]),
        ("O'Brien 2nd", ["brien", "nd"]),
        ("Jääskeläinen", ["jääskeläinen"]),
    ],
)
def test_name_tokens(raw: str, tokens: list[str]) -> None:
    assert name_tokens(raw) == tokens


def test_a_surname_token_finds_the_full_name() -> None:
    assert name_tokens("virtanen")[0] in name_tokens("Matti Virtanen")
    assert name_tokens("ÅSTRÖM") == name_tokens("åström")


name_text = st.text(
    st.characters(exclude_categories=("Cc", "Cs", "Co", "Cn")), min_size=1, max_size=60
).filter(str.strip)


@given(name_text)
def test_name_normalisation_is_idempotent(raw: str) -> None:
    canonical = normalise_name(raw)
    assert normalise_name(canonical) == canonical
    assert display_name(display_name(raw)) == display_name(raw)
    assert name_tokens(canonical) == name_tokens(raw)
    assert all(len(token) > 1 for token in name_tokens(raw))


def test_addresses_keep_lines_and_case() -> None:
    raw = "  Mannerheimintie   1 A 2 \r\n\n   00100  HELSINKI\n  Finland  "
    assert normalise_address(raw) == "Mannerheimintie 1 A 2\n00100 HELSINKI\nFinland"


@pytest.mark.parametrize(
    ("raw", "reason"), [("", "empty"), ("\n \n", "empty"), ("a\x07b", "control")]
)
def test_bad_addresses_are_refused(raw: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        normalise_address(raw)


@given(st.text(st.characters(exclude_categories=("Cc", "Cs", "Co", "Cn")) | st.just("\n")))
def test_address_normalisation_is_idempotent(raw: str) -> None:
    assume(raw.strip())
    canonical = normalise_address(raw)
    assert normalise_address(canonical) == canonical


# --- dispatch and guessing ------------------------------------------------------------------


def test_parse_identifier_dispatches_on_kind() -> None:
    temporary = identity_code("010190", "-", "901")
    assert parse_identifier("email", "A@Example.FI") == Identifier(
        IdentifierKind.EMAIL, "a@example.fi"
    )
    assert parse_identifier(IdentifierKind.PHONE, "040 123 4567").value == "+358401234567"
    assert parse_identifier("national_id", temporary.lower()) == Identifier(
        IdentifierKind.NATIONAL_ID, temporary, temporary=True
    )
    assert parse_identifier("name", " Matti  Virtanen ").value == "matti virtanen"
    assert parse_identifier("address", "Katu 1\n00100 Helsinki").value == "Katu 1\n00100 Helsinki"


@pytest.mark.parametrize("kind", ["passport", "EMAIL", ""])
def test_unknown_kind_is_refused(kind: str) -> None:
    with pytest.raises(InvalidInput, match="kind") as caught:
        parse_identifier(kind, "x")
    assert caught.value.field == "kind"


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("matti@example.fi", IdentifierKind.EMAIL),
        ("not-an-email@", IdentifierKind.EMAIL),
        ("131052-308T", IdentifierKind.NATIONAL_ID),
        (" 131052-308t ", IdentifierKind.NATIONAL_ID),
        (identity_code("010190", "-", "950"), IdentifierKind.NATIONAL_ID),
        ("131052-308U", IdentifierKind.NAME),
        ("040 123 4567", IdentifierKind.PHONE),
        ("+358 40 123 4567", IdentifierKind.PHONE),
        ("(09) 123-456", IdentifierKind.PHONE),
        ("12345", IdentifierKind.NAME),
        ("Matti Virtanen", IdentifierKind.NAME),
        ("Mannerheimintie 12345678", IdentifierKind.NAME),
        ("virtanen", IdentifierKind.NAME),
    ],
)
def test_guess_kind(query: str, kind: IdentifierKind) -> None:
    assert guess_kind(query) is kind


def outcome(kind: IdentifierKind, raw: str) -> Identifier | InvalidInput:
    try:
        return parse_identifier(kind, raw)
    except InvalidInput as error:
        return error


@pytest.mark.parametrize("kind", list(IdentifierKind))
@given(raw=st.text(max_size=300))
def test_any_text_is_normalised_or_refused_cleanly(kind: IdentifierKind, raw: str) -> None:
    # Bad input must end as InvalidInput, never as another exception (a 500 at the edge).
    result = outcome(kind, raw)
    if isinstance(result, InvalidInput):
        assert result.field == kind.value
        assert result.detail.startswith(f"{kind.value}: ")
    else:
        assert parse_identifier(kind, result.value) == result
    assert isinstance(guess_kind(raw), IdentifierKind)
