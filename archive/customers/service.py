"""Customers: find by any identifier through blind indexes, create, link, and show decrypted."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import BindParameter, ColumnElement, LargeBinary, Select, String, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from archive.access.viewer import SYSTEM, Viewer
from archive.crypto.fields import blind_index, decrypt_field, encrypt_field
from archive.customers.identifiers import (
    IdentifierKind,
    display_name,
    guess_kind,
    name_tokens,
    normalise_address,
    normalise_email,
    normalise_name,
    normalise_national_id,
    normalise_phone,
)
from archive.customers.matching import SHARED_KINDS, Attachment, Brought, Matches, decide
from archive.customers.models import Customer, CustomerIdentifier, NameToken
from archive.customers.restriction import Restriction, visible_to
from archive.errors import Conflict, InvalidInput, NotFound
from archive.keys.rows import issue_key, open_key
from archive.runtime import Runtime

MAX_RESULTS = 50
# Ids in one IN (...) list: well inside SQLite's and PostgreSQL's limits on parameters.
ID_CHUNK = 500


MAX_IDENTIFIERS_OF_A_KIND = 20


@dataclass(frozen=True)
class IdentifierInput:
    """An identifier as given, before normalisation."""

    kind: IdentifierKind
    raw: str


@dataclass(frozen=True)
class CleanIdentifier:
    kind: IdentifierKind
    stored: str  # what is encrypted for display
    indexed: str  # what the blind index is computed over
    temporary: bool = False


@dataclass(frozen=True)
class CustomerView:
    """A customer with identifiers decrypted, for callers allowed to see them."""

    id: uuid.UUID
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    national_ids: list[str] = field(default_factory=list)
    temporary_national_id: bool = False
    names: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)


def lookup_query(
    kind: IdentifierKind | str | BindParameter[str], digest: bytes | BindParameter[bytes]
) -> Select[uuid.UUID]:
    """Customers with an identifier of `kind` whose blind index is `digest` (each a value, or a
    parameter of a statement built once): one index probe (`ix_customer_identifiers_lookup`),
    however many customers there are.

    In the order the identifiers were added, as a bulk import reads them: the first of several
    customers sharing an address is the one a contact goes to. An index returns equal keys in
    the order of their rows on disk, which is not that once deleted rows' space is reused.
    """
    return (
        select(CustomerIdentifier.customer_id)
        .where(
            CustomerIdentifier.kind == (kind if isinstance(kind, BindParameter) else str(kind)),
            CustomerIdentifier.blind_index == digest,
        )
        .order_by(CustomerIdentifier.id)
        .limit(MAX_RESULTS)
    )


def _loading(*conditions: ColumnElement[bool]) -> Select[Customer]:
    """The customers meeting `conditions`, their identifiers joined, oldest first."""
    return (
        select(Customer)
        .where(*conditions)
        # Joined, not a second statement: a search finds a customer or a few.
        .options(joinedload(Customer.identifiers))
        .order_by(Customer.created_at)
    )


@cache
def _by_blind_index(sees_restricted: bool) -> Select[Customer]:
    """The customers of an identifier's blind index (parameters `kind` and `digest`) that a
    viewer who does, or does not, see restricted customers may see. The probe runs inside the
    statement that loads them, one round trip where an agent's every find used to take two;
    built once, SQLAlchemy finds the compiled form without building and keying it again."""
    probe = lookup_query(bindparam("kind", type_=String), bindparam("digest", type_=LargeBinary))
    return _loading(Customer.id.in_(probe), visible_to(sees_restricted, Customer.id))


class CustomerService:
    def __init__(self, session: Session, runtime: Runtime, viewer: Viewer = SYSTEM) -> None:
        self.session = session
        self.runtime = runtime
        self.viewer = viewer
        self.restriction = Restriction(session, viewer)
        self._index_key = runtime.keys.blind_index_key

    # --- normalisation -------------------------------------------------------------------

    def clean(self, given: IdentifierInput) -> CleanIdentifier:
        kind, raw = given.kind, given.raw
        if not isinstance(raw, str):
            raise InvalidInput(f"{kind}: must be a string", field=str(kind))
        if kind is IdentifierKind.EMAIL:
            value = normalise_email(raw)
            return CleanIdentifier(kind, value, value)
        if kind is IdentifierKind.PHONE:
            value = normalise_phone(raw, self.runtime.settings.phone_region)
            return CleanIdentifier(kind, value, value)
        if kind is IdentifierKind.NATIONAL_ID:
            value, temporary = normalise_national_id(raw)
            return CleanIdentifier(kind, value, value, temporary)
        if kind is IdentifierKind.NAME:
            return CleanIdentifier(kind, display_name(raw), normalise_name(raw))
        return CleanIdentifier(kind, normalise_address(raw), normalise_address(raw))

    def _digest(self, kind: IdentifierKind | str, normalised: str) -> bytes:
        return blind_index(self._index_key, str(kind), normalised)

    # --- lookup ---------------------------------------------------------------------------

    def find(self, kind: IdentifierKind, raw: str) -> list[Customer]:
        """Customers whose identifier of `kind` equals `raw` once normalised.

        A name matches either in full or by any of its words.
        """
        clean = self.clean(IdentifierInput(kind, raw))
        if kind is IdentifierKind.ADDRESS:
            raise InvalidInput("customers cannot be searched by address", field="address")
        digest = self._digest(kind, clean.indexed)
        if kind is IdentifierKind.NAME:
            ids = set(self._ids_by_digest(kind, digest)) | self._ids_by_name_tokens(
                name_tokens(raw)
            )
            return self._load(Customer.id.in_(list(ids)[:MAX_RESULTS])) if ids else []
        found = self.session.scalars(
            _by_blind_index(self.viewer.sees_restricted), {"kind": str(kind), "digest": digest}
        )
        return list(found.unique())

    def search(self, query: str) -> list[Customer]:
        """One search box: guess what the query is, then find by it."""
        return self.find(guess_kind(query), query)

    def _ids_by_digest(self, kind: IdentifierKind | str, digest: bytes) -> Sequence[uuid.UUID]:
        return self.session.scalars(lookup_query(kind, digest)).all()

    def _ids_by_name_tokens(self, tokens: list[str]) -> set[uuid.UUID]:
        """Customers having every given word somewhere in a name."""
        found: set[uuid.UUID] | None = None
        for token in tokens:
            digest = self._digest("name_token", token)
            ids = set(
                self.session.scalars(
                    select(NameToken.customer_id).where(NameToken.digest == digest).limit(1000)
                )
            )
            found = ids if found is None else found & ids
        return found or set()

    def _load(self, which: ColumnElement[bool]) -> list[Customer]:
        query = _loading(which, self.restriction.visible(Customer.id))
        return list(self.session.scalars(query).unique())

    def visible(self, ids: Iterable[uuid.UUID]) -> list[Customer]:
        """These customers, leaving out the unknown and those hidden from the viewer."""
        wanted = sorted(set(ids))
        found: list[Customer] = []
        for start in range(0, len(wanted), ID_CHUNK):
            query = (
                select(Customer)
                .where(
                    Customer.id.in_(wanted[start : start + ID_CHUNK]),
                    self.restriction.visible(Customer.id),
                )
                .options(selectinload(Customer.identifiers))
            )
            found.extend(self.session.scalars(query))
        return found

    def get(self, customer_id: uuid.UUID) -> Customer:
        """The customer; a restricted one is not found by those who may not see it."""
        customer = self.session.get(Customer, customer_id)
        if customer is None or self.restriction.hides(customer.id):
            raise NotFound(f"no customer {customer_id}")
        return customer

    def restrict(self, customer: Customer) -> None:
        customer.restricted_at = customer.restricted_at or self.runtime.clock.now()
        customer.updated_at = self.runtime.clock.now()

    def lift_restriction(self, customer: Customer) -> None:
        customer.restricted_at = None
        customer.updated_at = self.runtime.clock.now()

    # --- creation and linking -----------------------------------------------------------------

    def find_or_create(self, given: Sequence[IdentifierInput]) -> Customer | None:
        """The customer these identifiers point at, created if none does; None when none given."""
        attached = self.attach(given)
        return attached.customer if attached is not None else None

    def attach(self, given: Sequence[IdentifierInput]) -> Attachment | None:
        """The customer a contact carrying these identifiers belongs to (`matching.decide`),
        created if needed; None when it carries no identity code, e-mail or phone.

        Two concurrent ingests of a new customer meet at a unique index (an identity code, or
        the first claim of an e-mail or phone): the loser reads again and finds the winner.
        """
        cleaned = [self.clean(g) for g in given]
        code = next((c for c in cleaned if c.kind is IdentifierKind.NATIONAL_ID), None)
        if code is None and not any(c.kind in SHARED_KINDS for c in cleaned):
            return None
        brought = tuple(
            Brought(str(c.kind), self._digest(c.kind, c.indexed), c.stored) for c in cleaned
        )
        for _attempt in range(3):
            try:
                with self.session.begin_nested():
                    matches = self._matches(cleaned)
                    decision = decide(has_code=code is not None, matches=matches)
                    customer = self._locked(decision.customer_id) or self.create()
                    if decision.adds_identifiers:
                        # What is claimed follows what the match saw: a value another ingest
                        # claims meanwhile is a unique violation, and the retry finds it.
                        self._add_missing(customer, cleaned, owned=matches.owned)
                return Attachment(
                    customer, decision.uncertain, decision.candidates, decision.by_code, brought
                )
            except IntegrityError:
                continue
        raise InvalidInput("identifiers are being changed concurrently; try again")

    def _matches(self, cleaned: Sequence[CleanIdentifier]) -> Matches:
        code_owner = None
        counts: dict[uuid.UUID, int] = {}
        owned: set[tuple[str, bytes]] = set()
        for c in cleaned:
            digest = self._digest(c.kind, c.indexed)
            ids = self._ids_by_digest(c.kind, digest)
            if ids:
                owned.add((str(c.kind), digest))
            if c.kind is IdentifierKind.NATIONAL_ID:
                code_owner = ids[0] if ids else None
            elif c.kind in SHARED_KINDS:
                for customer_id in ids:
                    counts[customer_id] = counts.get(customer_id, 0) + 1
        # Most matches first; among equals the order found (e-mail before phone, as given).
        named = sorted(counts, key=lambda customer_id: -counts[customer_id])
        coded = self.coded([*named, *filter(None, [code_owner])])
        return Matches(code_owner, named, coded, frozenset(owned))

    def coded(self, ids: Sequence[uuid.UUID]) -> frozenset[uuid.UUID]:
        """Which of these customers hold an identity code."""
        if not ids:
            return frozenset()
        return frozenset(
            self.session.scalars(
                select(CustomerIdentifier.customer_id).where(
                    CustomerIdentifier.customer_id.in_(ids),
                    CustomerIdentifier.kind == str(IdentifierKind.NATIONAL_ID),
                )
            )
        )

    def _locked(self, customer_id: uuid.UUID | None) -> Customer | None:
        if customer_id is None:
            return None
        # Share-locked until the ingest commits, so the expiry sweep cannot remove the customer
        # in between (None if it just did: a new customer is created instead).
        return self.session.get(
            Customer, customer_id, with_for_update={"read": True, "key_share": True}
        )

    def create(self) -> Customer:
        """A new customer with no identifiers yet."""
        now = self.runtime.clock.now()
        customer = Customer(id=uuid.uuid4(), created_at=now, updated_at=now)
        issue_key(customer, self.runtime.keys.keyring)
        self.session.add(customer)
        self.session.flush()
        return customer

    def rectify(self, customer: Customer, kind: str, values: Sequence[str]) -> None:
        """Replace every identifier of one kind with the corrected values (data-subject
        rectification); each is validated, and the blind indexes follow the new values."""
        try:
            which = IdentifierKind(kind)
        except ValueError:
            allowed = ", ".join(k.value for k in IdentifierKind)
            raise InvalidInput(f"kind: one of {allowed}", field="kind") from None
        if len(values) > MAX_IDENTIFIERS_OF_A_KIND:
            raise InvalidInput(f"values: at most {MAX_IDENTIFIERS_OF_A_KIND}", field="values")
        cleaned = [self.clean(IdentifierInput(which, value)) for value in values]
        digests = {self._digest(c.kind, c.indexed) for c in cleaned}
        # An identity code names one person; an e-mail address or phone may be shared.
        for digest in digests if which is IdentifierKind.NATIONAL_ID else ():
            owners = set(self._ids_by_digest(which, digest)) - {customer.id}
            if owners:
                raise Conflict(
                    f"{which}: another customer has this value; merge the two customers instead",
                    field=str(which),
                )
        customer.identifiers = [row for row in customer.identifiers if row.kind != which]
        self.session.flush()  # the old rows, their blind indexes and name tokens are gone
        data_key = open_key(customer, self.runtime.keys.keyring)
        seen: set[bytes] = set()
        for c in cleaned:
            digest = self._digest(c.kind, c.indexed)
            if digest not in seen:
                self._add_identifier(customer, c, digest, data_key)
                seen.add(digest)
        customer.updated_at = self.runtime.clock.now()
        self.session.flush()

    def add_identifiers(self, customer: Customer, given: Sequence[IdentifierInput]) -> None:
        """Give the customer these identifiers too (those it has already are skipped)."""
        self._add_missing(customer, [self.clean(g) for g in given])

    def _add_missing(
        self,
        customer: Customer,
        cleaned: Sequence[CleanIdentifier],
        *,
        owned: frozenset[tuple[str, bytes]] | None = None,
    ) -> None:
        """Add what the customer lacks. `owned`: the values other customers held when the
        caller looked (else looked up now), which decides what the new rows claim."""
        have = {(i.kind, i.blind_index) for i in customer.identifiers}
        data_key: bytes | None = None
        for c in cleaned:
            digest = self._digest(c.kind, c.indexed)
            key = (str(c.kind), digest)
            if key in have:
                continue
            held = key in owned if owned is not None else bool(self._ids_by_digest(c.kind, digest))
            if c.kind is IdentifierKind.NATIONAL_ID and held:
                continue  # another person's code: merging is a deliberate act, never a side effect
            data_key = data_key or open_key(customer, self.runtime.keys.keyring)
            self._add_identifier(customer, c, digest, data_key, claim=not held)
            have.add(key)
        if data_key is not None:
            customer.updated_at = self.runtime.clock.now()
            self.session.flush()

    def _add_identifier(
        self,
        customer: Customer,
        c: CleanIdentifier,
        digest: bytes,
        data_key: bytes,
        *,
        claim: bool | None = None,
    ) -> None:
        """A new identifier row; `claim`: whether it is the value's first holder (None: look)."""
        if claim is None:
            claim = not self._ids_by_digest(c.kind, digest)
        claimed = c.kind is IdentifierKind.NATIONAL_ID or (c.kind in SHARED_KINDS and claim)
        row = CustomerIdentifier(
            kind=str(c.kind),
            blind_index=digest,
            unique_index=digest if claimed else None,
            temporary=c.temporary,
            created_at=self.runtime.clock.now(),
            ciphertext=b"",
        )
        customer.identifiers.append(row)
        self.session.flush()  # the row id binds the ciphertext to this identifier
        row.ciphertext = encrypt_field(data_key, c.stored, _identifier_context(customer, row))
        if c.kind is IdentifierKind.NAME:
            for token in name_tokens(c.stored):
                row.tokens.append(
                    NameToken(customer_id=customer.id, digest=self._digest("name_token", token))
                )

    # --- display --------------------------------------------------------------------------

    def view(self, customer: Customer) -> CustomerView:
        data_key = open_key(customer, self.runtime.keys.keyring)
        result = CustomerView(id=customer.id)
        lists = {
            IdentifierKind.EMAIL: result.emails,
            IdentifierKind.PHONE: result.phones,
            IdentifierKind.NATIONAL_ID: result.national_ids,
            IdentifierKind.NAME: result.names,
            IdentifierKind.ADDRESS: result.addresses,
        }
        temporary = False
        for row in customer.identifiers:
            value = decrypt_field(data_key, row.ciphertext, _identifier_context(customer, row))
            lists[IdentifierKind(row.kind)].append(value)
            temporary = temporary or row.temporary
        return CustomerView(**{**result.__dict__, "temporary_national_id": temporary})


def _identifier_context(customer: Customer, row: CustomerIdentifier) -> str:
    return f"customer_identifiers:{customer.id}:{row.id}:{row.kind}"
