"""`archive requests`: the privacy officer's data-subject requests, at the console.

The same use cases as the API's and the pages'; every change is recorded in the audit trail with
the console operator as the actor.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import click

from archive.audit.models import check_purpose
from archive.cli.context import Context, pass_context
from archive.cli.users import console_actor
from archive.errors import InvalidInput
from archive.lifecycle.use_cases import erase_case
from archive.privacy import use_cases
from archive.privacy.cases import CaseView
from archive.privacy.models import PrivacyCase, RequestKind

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
        views = use_cases.case_queue(
            session, runtime, console_actor(), include_closed=include_closed
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
    actor = console_actor()
    with runtime.session() as session:
        found = use_cases.find_customer(session, runtime, actor, customer)
        case = use_cases.open_case(
            session, runtime, actor, found.id, kind, received_at=_aware(received), notes=note
        ).case
        click.echo(f"opened {case.kind} case {case.id}, due {case.due_at:%Y-%m-%d}")


@requests_group.command("show")
@click.argument("case_id", type=click.UUID)
@pass_context
def show_request(ctx: Context, case_id: uuid.UUID) -> None:
    """One case: its dates, identity verification, notes, and export bundles."""
    runtime = ctx.runtime
    actor = console_actor()
    with runtime.session() as session:
        view = use_cases.read_case(session, runtime, actor, case_id)
        case = view.case
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
        for bundle in use_cases.case_exports(session, runtime, actor, case.id):
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
    with ctx.runtime.session() as session:
        use_cases.verify_identity(session, ctx.runtime, console_actor(), case_id, method, note=note)
    click.echo(f"case {case_id}: identity verified")


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
    with ctx.runtime.session() as session:
        use_cases.extend_case(session, ctx.runtime, console_actor(), case_id, moment, reason)
    click.echo(f"case {case_id}: due {moment:%Y-%m-%d}")


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
    with ctx.runtime.session() as session:
        use_cases.rectify(session, ctx.runtime, console_actor(), case_id, kind, list(values))
    click.echo(f"{kind} corrected")


@requests_group.command("object")
@click.argument("case_id", type=click.UUID)
@click.option("--upheld/--not-upheld", required=True, help="The decision on the objection.")
@click.option("--note", help="Why (recorded, encrypted).")
@pass_context
def decide_objection(ctx: Context, case_id: uuid.UUID, upheld: bool, note: str | None) -> None:
    """Decide an objection; upheld, the customer's contacts leave quality projects."""
    with ctx.runtime.session() as session:
        use_cases.decide_objection(
            session, ctx.runtime, console_actor(), case_id, upheld=upheld, note=note
        )
    click.echo(f"case {case_id}: objection {'upheld' if upheld else 'not upheld'}")


@requests_group.command("close")
@click.argument("case_id", type=click.UUID)
@click.option("--status", type=click.Choice(["completed", "rejected"]), required=True)
@click.option("--note", help="Why (recorded, encrypted).")
@pass_context
def close_request(ctx: Context, case_id: uuid.UUID, status: str, note: str | None) -> None:
    """Close a case as completed (the requester verified) or rejected."""
    with ctx.runtime.session() as session:
        use_cases.close_case(session, ctx.runtime, console_actor(), case_id, status, note=note)
    click.echo(f"case {case_id}: {status}")


@requests_group.command("erase")
@click.argument("case_id", type=click.UUID)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def erase_request(ctx: Context, case_id: uuid.UUID, yes: bool) -> None:
    """Erase the customer of a verified erasure case; what holds keep is withheld until they end."""
    if not yes:
        click.confirm("Erase everything about this customer that no hold keeps?", abort=True)
    with ctx.runtime.session() as session:
        result = erase_case(session, ctx.runtime, console_actor(), case_id)
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
    actor = console_actor()
    with runtime.session() as session:
        bundle_id = use_cases.request_export(
            session, runtime, actor, case_id, in_background=False
        ).id
    click.echo(f"building bundle {bundle_id} ...")
    with runtime.session() as session:
        download = use_cases.build_and_download(session, runtime, actor, bundle_id)
    _write_private(out, download.chunks)
    built = download.bundle
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
    actor = console_actor()
    with runtime.session() as session:
        found = use_cases.find_customer(session, runtime, actor, customer)
        use_cases.restrict_customer(
            session, runtime, actor, found.id, restrict=not lift, reason=reason
        )
    click.echo(f"customer {found.id} {'no longer restricted' if lift else 'restricted'}")


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
