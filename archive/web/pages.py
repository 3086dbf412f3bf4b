"""Rendering a page: the layout's context (who, what they may do, language) and its headers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.response import Template
from litestar.utils.scope.state import ScopeState

from archive.access.permissions import Permission, granting_role
from archive.accounts.service import Principal
from archive.web.i18n import LANGUAGES, language_of, words

# Pages load only the archive's own scripts, styles and media; e-mail HTML lives in a frame
# of its own origin-less sandbox (see `email_frame`), the only thing they may frame.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; frame-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {"Content-Security-Policy": PAGE_CSP, "Cache-Control": "private, no-store"}


@dataclass(frozen=True)
class NavItem:
    permission: Permission
    label: str
    href: str


# The navigation, in order; an item shows only to roles holding its permission.
NAVIGATION = (
    NavItem(Permission.CONTACTS_LIST, "Your contacts", "/start"),
    NavItem(Permission.CUSTOMERS_SEARCH, "Find a customer", "/customers"),
    NavItem(Permission.CONTACTS_CONTENT_READ, "Search contacts", "/search"),
    NavItem(Permission.HOLDS_READ, "Holds", "/holds"),
    NavItem(Permission.PRIVACY_CASES, "Privacy requests", "/privacy"),
    NavItem(Permission.IDENTITY_REVIEW, "Identity reviews", "/privacy/identity"),
    NavItem(Permission.AUDIT_READ, "Audit trail", "/audit"),
    NavItem(Permission.DELETIONS_READ, "Deletions", "/audit/deletions"),
    # The auditor's view of the requests that wait for a second administrator.
    NavItem(Permission.AUDIT_READ, "Approvals", "/audit/approvals"),
    NavItem(Permission.USERS_MANAGE, "Users", "/admin/users"),
    NavItem(Permission.USERS_MANAGE, "Approvals", "/admin/approvals"),
    NavItem(Permission.USERS_MANAGE, "Group mapping", "/admin/sso-groups"),
    NavItem(Permission.CONNECTORS_READ, "Connectors", "/admin/connectors"),
    NavItem(Permission.POLICY_READ, "Retention policy", "/policy"),
)


def user_of(request: Request[Any, Any, Any]) -> Principal | None:
    # `request.user` raises on public routes, where authentication did not run.
    user = request.scope.get("user")
    return user if isinstance(user, Principal) else None


def may(user: Principal | None, permission: Permission) -> bool:
    return user is not None and granting_role(user.roles, permission) is not None


def csrf_token_of(request: Request[Any, Any, Any]) -> str:
    """The token a form must repeat (set by the CSRF middleware on every browser request)."""
    token = ScopeState.from_scope(request.scope).csrf_token
    return token if isinstance(token, str) else ""


def current_item(nav: list[NavItem], path: str) -> NavItem | None:
    """The item a page belongs to: the longest href that is the path or a parent of it."""
    matching = [i for i in nav if path == i.href or path.startswith(i.href.rstrip("/") + "/")]
    return max(matching, key=lambda item: len(item.href), default=None)


def _login_ways(request: Request[Any, Any, Any]) -> dict[str, bool]:
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None:
        return {"sso_login": False, "local_login": True}
    settings = runtime.settings
    return {"sso_login": bool(settings.oidc_issuer), "local_login": settings.local_login}


def render(
    request: Request[Any, Any, Any],
    template: str,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """A page in the user's language with the layout's context; never cached."""
    user = user_of(request)
    language = language_of(request)
    nav = [item for item in NAVIGATION if may(user, item.permission)]
    layout = {
        "user": user,
        "nav": nav,
        "current": current_item(nav, request.url.path),
        "may": lambda permission: may(user, permission),
        "Permission": Permission,
        # `_()`, `{% trans %}` and `ngettext()` in the page's language.
        **words(language).for_templates(),
        "language": language,
        "languages": LANGUAGES,
        "csrf_token": csrf_token_of(request),
        "path": request.url.path,
        # The ways to log in: the login page offers single sign-on first when it is set up.
        **_login_ways(request),
    }
    # A page's own value under a layout's name would be silently replaced by the layout's.
    if clash := layout.keys() & context.keys():
        raise TypeError(f"{template}: {sorted(clash)} are the layout's names")
    context.update(layout)
    return Template(
        template_name=template,
        context=context,
        status_code=status_code,
        headers=PAGE_HEADERS,
        media_type="text/html",
    )
