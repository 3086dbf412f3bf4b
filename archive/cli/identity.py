"""`archive identity`: contacts whose customer is uncertain, and splitting a customer, at the
console.

The same use cases as the API's and the privacy pages', recorded in the audit trail with the
console operator as the actor.
"""

from __future__ import annotations

import uuid

import click

from archive.cli.context import Context, pass_context
from archive.cli.users import console_actor
from archive.customers import use_cases
from archive.customers.reviews import ReviewItem
from archive.customers.split import Split


@click.group("identity")
def identity_group() -> None:
    """Contacts a shared phone or mailbox could not place with certainty, and splits: moving
    contacts that are another person's to a customer of their own."""


@identity_group.command("reviews")
@click.option("--resolved", is_flag=True, help="The latest resolved reviews instead.")
@click.option("--customer", type=click.UUID, help="Only this customer's contacts.")
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True)
@pass_context
def list_reviews(ctx: Context, resolved: bool, customer: uuid.UUID | None, limit: int) -> None:
    """Open reviews, oldest first: the contact, where it is attached, why, the other customers."""
    runtime = ctx.runtime
    with runtime.session() as session:
        found = use_cases.review_queue(
            session, runtime, console_actor(), resolved=resolved, limit=limit, customer=customer
        )
    if not found:
        click.echo("no resolved reviews" if resolved else "no open reviews")
    for item in found:
        click.echo(_line(item))


@identity_group.command("confirm")
@click.argument("review_id", type=click.UUID)
@pass_context
def confirm(ctx: Context, review_id: uuid.UUID) -> None:
    """The contact is the customer's it is attached to; what it brought joins the customer."""
    runtime = ctx.runtime
    with runtime.session() as session:
        done = use_cases.confirm(session, runtime, console_actor(), review_id)
    click.echo(f"confirmed: contact {done.contact_id} is customer {done.customer_id}'s")


@identity_group.command("move")
@click.argument("review_id", type=click.UUID)
@click.option("--to", "into", type=click.UUID, help="The customer it belongs to (else: a new one).")
@pass_context
def move(ctx: Context, review_id: uuid.UUID, into: uuid.UUID | None) -> None:
    """The contact is another person's: move it (and what it brought) to them, or to a new
    customer of its own."""
    runtime = ctx.runtime
    with runtime.session() as session:
        done = use_cases.move(session, runtime, console_actor(), review_id, into)
    _report(done)


@identity_group.command("split")
@click.argument("customer_id", type=click.UUID)
@click.option("--contact", "contacts", type=click.UUID, multiple=True, required=True)
@click.option("--into", type=click.UUID, help="The customer they go to (else: a new one).")
@pass_context
def split(
    ctx: Context, customer_id: uuid.UUID, contacts: tuple[uuid.UUID, ...], into: uuid.UUID | None
) -> None:
    """Move contacts of CUSTOMER_ID that are another person's, with the identifiers they
    brought, to a new customer or to --into."""
    runtime = ctx.runtime
    with runtime.session() as session:
        done = use_cases.split_customer(
            session, runtime, console_actor(), customer_id, list(contacts), into
        )
    _report(done)


def _line(item: ReviewItem) -> str:
    others = ", ".join(str(c) for c in item.candidates) or "-"
    done = f"  {item.resolution} by {item.resolved_by}" if item.resolution else ""
    return (
        f"{item.id}  {item.opened_at:%Y-%m-%d}  {item.channel:5} contact {item.contact_id}  "
        f"customer {item.customer_id}  {item.reason} ({item.attached_by})  others: {others}{done}"
    )


def _report(done: Split) -> None:
    click.echo(
        f"moved {len(done.contacts)} contact(s) from customer {done.source.id} "
        f"to customer {done.target.id}"
    )
    click.echo(
        f"identifiers: {done.identifiers_moved} moved, {done.identifiers_copied} copied; "
        f"holds placed: {len(done.holds)}; tickets moved: {len(done.tickets)}"
    )
