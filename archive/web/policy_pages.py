"""The pages of the retention policy: the policy in force, and a preview of a change's effect.

Everyone holding POLICY_READ sees the policy in force, as the API's `show` returns it, as a
table in words (and as the file `archive policy` reads). Those holding POLICY_MANAGE change it
through a form of its rules, which becomes the TOML the API and `archive policy` accept, see
what the API's `diff` says it would change (nothing changes yet), then apply it through the
same use case as the API, which records the change and re-times stored contacts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect
from sqlalchemy.orm import Session

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import actor_of
from archive.errors import ArchiveError
from archive.retention import use_cases
from archive.retention.policy import CHANNELS, HoldReason, Policy, PolicyError
from archive.retention.schemas import MAX_POLICY_BYTES, policy_out, proposed_policy
from archive.retention.service import PolicyDiff
from archive.runtime import Runtime
from archive.web.formats import in_words
from archive.web.forms import Form, refusal_status
from archive.web.i18n import language_of
from archive.web.pages import render
from archive.web.policy_form import (
    BLANK_CATEGORIES,
    UNIT_WORDS,
    UNITS,
    PolicyForm,
    is_form,
)

AnyRequest = Request[Any, Any, Any]
READ = requires(Permission.POLICY_READ)
MANAGE = requires(Permission.POLICY_MANAGE)
VERSION_FIELD = 80


@dataclass(frozen=True)
class RuleChange:
    """One rule a proposal changes: `kind` is name, retention, category or cap."""

    kind: str
    subject: str  # the channel or hold reason (empty for the name)
    category: str | None
    before: str | None  # None: the rule is new
    after: str | None  # None: the rule is dropped


def rule_changes(current: Policy, proposed: Policy) -> list[RuleChange]:
    """The rules that differ between two policies, in the order a policy file lists them."""
    changes: list[RuleChange] = []
    if current.name != proposed.name:
        changes.append(RuleChange("name", "", None, current.name, proposed.name))
    for channel in CHANNELS:
        old, new = current.channels[channel], proposed.channels[channel]
        if str(old.retention) != str(new.retention):
            changes.append(
                RuleChange("retention", channel, None, str(old.retention), str(new.retention))
            )
        for category in sorted(set(old.categories) | set(new.categories)):
            before, after = old.categories.get(category), new.categories.get(category)
            if str(before) != str(after):
                changes.append(
                    RuleChange(
                        "category",
                        channel,
                        category,
                        None if before is None else str(before),
                        None if after is None else str(after),
                    )
                )
    for reason in HoldReason:
        before_cap, after_cap = current.cap_for(reason), proposed.cap_for(reason)
        if str(before_cap) != str(after_cap):
            changes.append(RuleChange("cap", str(reason), None, _cap(before_cap), _cap(after_cap)))
    return changes


def _cap(cap: object) -> str:
    return "none" if cap is None else str(cap)


def _document(data: dict[str, str]) -> str:
    if is_form(data):
        return PolicyForm.read(data).document()
    # One character over the limit is enough for the API's own check to refuse it.
    return str(data.get("document", ""))[: MAX_POLICY_BYTES + 1]


class PolicyPages(Controller):
    path = "/policy"

    @get("/", opt=READ, sync_to_thread=True)
    def show(
        self,
        request: AnyRequest,
        session: SessionDep,
        runtime: RuntimeDep,
        applied: FromQuery[str | None] = None,
    ) -> Any:
        """The policy in force: each channel's retention, category rules and hold caps."""
        return _page(request, session, runtime, applied=applied is not None)

    @post("/diff", opt=MANAGE, sync_to_thread=True, status_code=200)
    def diff(
        self, request: AnyRequest, data: Form, session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        """What a proposed policy would change; nothing is applied."""
        document = _document(data)
        # A refused form comes back as it was sent, for the administrator to correct.
        sent = PolicyForm.read(data) if is_form(data) else None
        actor = actor_of(request, Permission.POLICY_MANAGE)
        try:
            proposed = proposed_policy(document)
            result = use_cases.preview_policy(session, runtime, actor, proposed)
        except ArchiveError as error:
            return _page(request, session, runtime, document=document, form=sent, error=error)
        return _page(request, session, runtime, document=document, proposed=proposed, result=result)

    @post("/apply", opt=MANAGE, sync_to_thread=True, status_code=200)
    def apply(
        self, request: AnyRequest, data: Form, session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        """Make the previewed policy the one in force; stored contacts are re-timed."""
        document = _document(data)
        previewed = str(data.get("current", ""))[:VERSION_FIELD]
        proposed: Policy | None = None
        actor = actor_of(request, Permission.POLICY_MANAGE)
        try:
            proposed = proposed_policy(document)
            # The preview compared against the policy then in force; another change since
            # would make what the administrator saw untrue, and is refused.
            use_cases.apply_policy(session, runtime, actor, proposed, previewed=previewed)
        except ArchiveError as error:
            # The form keeps the proposal, to be previewed again against the policy now in force.
            form = PolicyForm.of(proposed) if proposed else None
            return _page(request, session, runtime, document=document, form=form, error=error)
        return Redirect("/policy?applied=1", status_code=303)


def _page(
    request: AnyRequest,
    session: Session,
    runtime: Runtime,
    *,
    document: str | None = None,
    form: PolicyForm | None = None,
    proposed: Policy | None = None,
    result: PolicyDiff | None = None,
    error: ArchiveError | None = None,
    applied: bool = False,
) -> Any:
    status = refusal_status(session, error) if error else 200
    in_force = use_cases.policy_in_force(
        session, runtime, actor_of(request, Permission.POLICY_READ)
    )
    current, shown = in_force.policy, policy_out(in_force)
    if form is None:
        form = PolicyForm.of(proposed or current)
    return render(
        request,
        "policy_show.html",
        status_code=status,
        policy=current,
        record=shown,
        channels=CHANNELS,
        reasons=[str(reason) for reason in HoldReason],
        document=shown.document if document is None else document,
        proposed=proposed,
        changes=rule_changes(current, proposed) if proposed else [],
        result=result,
        applied=applied,
        error=error.detail if error else None,
        problems=error.problems if isinstance(error, PolicyError) else [],
        form=form,
        blank_categories=BLANK_CATEGORIES,
        units=UNITS,
        unit_words=UNIT_WORDS,
        period=lambda duration: in_words(duration, language_of(request)),
    )
