"""`archive requests`: the privacy officer's data-subject requests, at the console.

The same service functions as the API's; every change is recorded in the audit trail with the
console operator as the actor.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy.orm import Session

from archive.access.viewer import SYSTEM
from archive.audit import AuditAction
from archive.audit.models import check_purpose
from archive.cli.context import Context, pass_context
from archive.cli.users import audited, operator
from archive.customers.models import Customer
from archive.customers.service import CustomerService
from archive.errors import InvalidInput, NotFound
from archive.lifecycle.erasure import erase
from archive.privacy.cases import CaseService, CaseView
from archive.privacy.exports import ExportService, build, read_bundle
from archive.privacy.models import PrivacyCase, RequestKind
from archive.runtime import Runtime

KINDS = [kind.value for kind in RequestKind]


@click.group("requests")
def requests_group() -> None:
    """Data-subject requests (access, portability, rectification, erasure, restriction,
    objection): each a case that is due one month after receipt."""


@requests_group.command("list")
@click.option("--all", "include_closed", is_flag=True, help="Closed cases too.")
@pass_context
def list_requests(ctx: Context, include_closed: bool) -> None:
    """Cases by due date, with the days left; overdue ones are flagged."""
    runtime = ctx.runtime
    with runtime.session() as session:
        views = CaseService(session, runtime, SYSTEM, operator()).queue(
            include_closed=include_closed
        )
        if not views:
            click.echo("no open requests" if not include_closed else "no requests")
        for view in views:
            click.secho(_line(view), fg="red" if view.overdue else None)


@requests_group.command("open")
@click.argument("customer")
@click.option("--kind", type=click.Choice(KINDS), required=True, help="What is asked for.")
@click.option(
    "--received",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S%z"]),
    help="When the request arrived (default: now); the case is due one month later.",
)
@click.option("--note", help="Anything the case should remember; stored encrypted.")
@pass_context
def open_request(
    ctx: Context, customer: str, kind: str, received: datetime | None, note: str | None
) -> None:
    """Open a case for CUSTOMER: an id, or any identifier (e-mail, phone, identity code, name)."""
    runtime = ctx.runtime
    with runtime.session() as session:
        found = _customer(session, runtime, customer)
        cases = CaseService(session, runtime, SYSTEM, operator())
        case = cases.open(found.id, kind, received_at=_aware(received), notes=note)
        audited(session, runtime, AuditAction.CASE_OPEN, "case", case.id, found.id)
        session.commit()
        click.echo(f"opened {case.kind} case {case.id}, due {case.due_at:%Y-%m-%d}")


@requests_group.command("show")
@click.argument("case_id", type=click.UUID)
@pass_context
def show_request(ctx: Context, case_id: uuid.UUID) -> None:
    """One case: its dates, identity verification, notes, and export bundles."""
    runtime = ctx.runtime
    with runtime.session() as session:
        cases = CaseService(session, runtime, SYSTEM, operator())
        case = cases.get(case_id)
        view = cases.view(case)
        audited(session, runtime, AuditAction.CASE_READ, "case", case.id)
        session.commit()
        click.echo(_line(view))
        click.echo(f"customer      {case.customer_id or '(erased)'}")
        click.echo(f"received      {case.received_at:%Y-%m-%d %H:%M} UTC")
        if case.extended:
            click.echo(f"extended      because: {view.extension_reason}")
        if case.identity_verified_at:
            click.echo(
                f"identity      {case.identity_method}, by {case.identity_verified_by} "
                f"on {case.identity_verified_at:%Y-%m-%d}"
            )
        if view.notes:
            click.echo("notes")
            for note in view.notes.splitlines():
                click.echo(f"  {note}")
        for bundle in ExportService(session, runtime, operator()).of_case(case.id):
            done = f"{bundle.contacts_done}/{bundle.contacts_total} contacts"
            click.echo(f"export        {bundle.id}  {bundle.state}  {done}")


@requests_group.command("verify")
@click.argument("case_id", type=click.UUID)
@click.option(
    "--method",
    type=click.Choice(["strong_electronic", "in_person", "known_channel", "other"]),
    required=True,
    help="How the requester proved who they are.",
)
@click.option("--note", help="Details (required with --method other).")
@pass_context
def verify_request(ctx: Context, case_id: uuid.UUID, method: str, note: str | None) -> None:
    """Record that the requester's identity was verified, and how; the operator verified it."""
    _change(
        ctx.runtime,
        case_id,
        AuditAction.CASE_IDENTITY_VERIFY,
        lambda cases, case: cases.verify_identity(case, method, note=note),
        "identity verified",
    )


@requests_group.command("extend")
@click.argument("case_id", type=click.UUID)
@click.option(
    "--until", type=click.DateTime(formats=["%Y-%m-%d"]), required=True, help="The new due date."
)
@click.option("--reason", required=True, help="Why more time is needed (recorded).")
@pass_context
def extend_request(ctx: Context, case_id: uuid.UUID, until: datetime, reason: str) -> None:
    """Extend the due date, to at most three months from receipt in all."""
    moment = _aware(until)
    assert moment is not None
    _change(
        ctx.runtime,
        case_id,
        AuditAction.CASE_EXTEND,
        lambda cases, case: cases.extend(case, moment, reason),
        f"due {moment:%Y-%m-%d}",
    )


@requests_group.command("rectify")
@click.argument("case_id", type=click.UUID)
@click.option(
    "--kind",
    type=click.Choice(["email", "phone", "national_id", "name", "address"]),
    required=True,
    help="Which identifier is corrected.",
)
@click.argument("values", nargs=-1, required=True)
@pass_context
def rectify_request(ctx: Context, case_id: uuid.UUID, kind: str, values: tuple[str, ...]) -> None:
    """Replace every identifier of one kind with VALUES (validated; the trail records only the
    kind that changed)."""
    runtime = ctx.runtime
    with runtime.session() as session:
        cases = CaseService(session, runtime, SYSTEM, operator())
        case = cases.get(case_id)
        cases.rectify(case, kind, list(values))
        targets = (case.id, case.customer_id, kind)
        audited(session, runtime, AuditAction.CUSTOMER_RECTIFY, "customer", *targets)
        session.commit()
    click.echo(f"{kind} corrected")


@requests_group.command("object")
@click.argument("case_id", type=click.UUID)
@click.option("--upheld/--not-upheld", required=True, help="The decision on the objection.")
@click.option("--note", help="Why (recorded, encrypted).")
@pass_context
def decide_objection(ctx: Context, case_id: uuid.UUID, upheld: bool, note: str | None) -> None:
    """Decide an objection; upheld, the customer's contacts leave quality projects."""
    _change(
        ctx.runtime,
        case_id,
        AuditAction.CASE_CLOSE,
        lambda cases, case: cases.decide_objection(case, upheld=upheld, note=note),
        "objection upheld" if upheld else "objection not upheld",
    )


@requests_group.command("close")
@click.argument("case_id", type=click.UUID)
@click.option("--status", type=click.Choice(["completed", "rejected"]), required=True)
@click.option("--note", help="Why (recorded, encrypted).")
@pass_context
def close_request(ctx: Context, case_id: uuid.UUID, status: str, note: str | None) -> None:
    """Close a case as completed (the requester verified) or rejected."""
    _change(
        ctx.runtime,
        case_id,
        AuditAction.CASE_CLOSE,
        lambda cases, case: cases.close(case, status, note=note),
        status,
    )


@requests_group.command("erase")
@click.argument("case_id", type=click.UUID)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def erase_request(ctx: Context, case_id: uuid.UUID, yes: bool) -> None:
    """Erase the customer of a verified erasure case; what holds keep is withheld until they end."""
    if not yes:
        click.confirm("Erase everything about this customer that no hold keeps?", abort=True)
    result = erase(ctx.runtime, case_id, actor=operator())
    document = result.certificate.document
    click.echo(f"certificate {result.certificate.id} ({len(document)} bytes, signed)")
    if result.certificate.complete:
        click.echo("erased completely; the case is closed")
        return
    click.echo(
        f"erased partially; {len(result.withheld)} contacts withheld under holds "
        "or awaiting an identity review:"
    )
    for withheld in result.withheld:
        open_ended = "until released" if withheld.hold_id else "until reviewed"
        until = f"{withheld.until:%Y-%m-%d}" if withheld.until else open_ended
        click.echo(f"  {withheld.contact_id}  {withheld.channel}  {withheld.reason}  {until}")
    click.echo("they are erased when their holds end, and the case then closes")


@requests_group.command("export")
@click.argument("case_id", type=click.UUID)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="Where to write the ZIP (must not exist).",
)
@pass_context
def export_request(ctx: Context, case_id: uuid.UUID, out: Path) -> None:
    """Build the export bundle of an access or portability case now and write it to --out."""
    runtime = ctx.runtime
    if out.exists():
        raise click.UsageError(f"{out} exists; choose another file")
    with runtime.session() as session:
        case = CaseService(session, runtime, SYSTEM, operator()).get(case_id)
        bundle = ExportService(session, runtime, operator()).request(case)
        audited(session, runtime, AuditAction.EXPORT_REQUEST, "case", case.id, bundle.id)
        session.commit()
    click.echo(f"building bundle {bundle.id} ...")
    built = build(runtime, bundle.id)
    _write_private(out, read_bundle(runtime, built))
    with runtime.session() as session:
        audited(session, runtime, AuditAction.EXPORT_DOWNLOAD, "case", case_id, built.id)
        session.commit()
    sha = built.sha256.hex() if built.sha256 else ""
    click.echo(f"wrote {out}: {built.files} files, {built.size} bytes, sha256 {sha}")


@requests_group.command("restrict")
@click.argument("customer")
@click.option("--reason", required=True, help="The case or ticket, and why (no personal data).")
@click.option("--lift", is_flag=True, help="Lift the restriction instead.")
@pass_context
def restrict_customer(ctx: Context, customer: str, reason: str, lift: bool) -> None:
    """Restrict processing of CUSTOMER's data (hidden from agents and quality), or --lift it."""
    runtime = ctx.runtime
    purpose = check_purpose(reason)
    if purpose is None:
        raise InvalidInput("reason: say why", field="reason")
    with runtime.session() as session:
        found = _customer(session, runtime, customer)
        service = CustomerService(session, runtime, SYSTEM)
        if lift:
            service.lift_restriction(found)
        else:
            service.restrict(found)
        action = AuditAction.CUSTOMER_UNRESTRICT if lift else AuditAction.CUSTOMER_RESTRICT
        audited(session, runtime, action, "customer", found.id, purpose=purpose)
        session.commit()
    click.echo(f"customer {found.id} {'no longer restricted' if lift else 'restricted'}")


def _change(
    runtime: Runtime,
    case_id: uuid.UUID,
    action: AuditAction,
    step: Callable[[CaseService, PrivacyCase], object],
    done: str,
) -> None:
    with runtime.session() as session:
        cases = CaseService(session, runtime, SYSTEM, operator())
        case = cases.get(case_id)
        step(cases, case)
        audited(session, runtime, action, "case", case.id)
        session.commit()
    click.echo(f"case {case_id}: {done}")


def _customer(session: Session, runtime: Runtime, query: str) -> Customer:
    """A customer by id, or by exactly one match of an identifier."""
    service = CustomerService(session, runtime, SYSTEM)
    with contextlib.suppress(ValueError):
        return service.get(uuid.UUID(query))
    found = service.search(query)
    if not found:
        raise NotFound("no customer has that identifier")
    if len(found) > 1:
        ids = ", ".join(str(c.id) for c in found)
        raise InvalidInput(f"{len(found)} customers match; give one of their ids: {ids}")
    return found[0]


def _write_private(path: Path, chunks: Iterable[bytes]) -> None:
    """Write to a new file only its owner can read, whole or not at all."""
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            for chunk in chunks:
                file.write(chunk)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _line(view: CaseView) -> str:
    case: PrivacyCase = view.case
    verified = "verified" if case.identity_verified_at else "identity not verified"
    when = f"OVERDUE by {-view.days_left} days" if view.overdue else f"{view.days_left} days left"
    return (
        f"{case.id}  {case.kind:<13} {case.status:<9} due {case.due_at:%Y-%m-%d}  "
        f"{when:<22} {verified}"
    )


def _aware(moment: datetime | None) -> datetime | None:
    """Dates typed at the console are UTC unless they say otherwise."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
