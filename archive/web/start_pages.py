"""Where each role lands (after logging in, and on `/`), and the agents' start page.

Each role starts where its work is: the privacy officer on the request queue, the quality team
on holds, the auditor on the trail, the administrator on users; agents on a page of their own
newest contacts and of what others did since on the tickets of those contacts.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Redirect

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.accounts.models import Role
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import actor_of
from archive.contacts import use_cases
from archive.web.customer_names import labels
from archive.web.pages import render, user_of

AnyRequest = Request[Any, Any, Any]
RECENT = 15  # rows in each list: a day's work for most agents, and a screen's worth

# The first of a user's roles in this order decides. Privacy and quality also hold the agents'
# permissions, so their own work is looked for first.
LANDING = (
    (Role.PRIVACY, "/privacy"),
    (Role.QUALITY, "/holds"),
    (Role.AGENT, "/start"),
    (Role.AUDITOR, "/audit"),
    (Role.ADMIN, "/admin/users"),
)


class StartPages(Controller):
    path = "/"

    @get("/", opt=requires(Permission.SELF), sync_to_thread=False)
    def start(self, request: AnyRequest) -> Any:
        user = user_of(request)
        roles = user.roles if user is not None else frozenset()
        for role, target in LANDING:
            if role in roles:
                return Redirect(target, status_code=303)
        # A role with no page of its own yet (or none at all): who they are and what they hold.
        return render(request, "start.html")

    @get("/start", opt=requires(Permission.CONTACTS_LIST), sync_to_thread=True)
    def agent_start(self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep) -> Any:
        """The agent's newest contacts, and others' newest on the tickets of those contacts.

        In the navigation of everyone who lists contacts, so that a privacy officer or quality
        lead who also serves customers reaches it too. The lists are metadata reads, recorded as
        the customer's timeline records them, and leave out restricted customers' contacts.
        """
        actor = actor_of(request, Permission.CONTACTS_LIST)
        found = use_cases.agent_start(session, runtime, actor, limit=RECENT)
        return render(
            request,
            "agent_start.html",
            own=found.own,
            others=found.others,
            names=labels(found.customers),
            agent_names=found.agents,
        )
